using MedTransfer.Training.Data;

namespace MedTransfer.Training.Tests.FineTuning;

/// <summary>Small generated images: class 1 holds a bright disc somewhere, class 0 does not.</summary>
internal static class TinyImages
{
    public static ImageSet Create(int count, int size, int seed, string domain = "A", double contrast = 0.5)
    {
        var random = new Random(seed);
        var set = new ImageSet(size);
        for (int n = 0; n < count; n++)
        {
            int label = n % 2;
            var pixels = new float[size * size];
            double cx = size * (0.3 + (0.4 * random.NextDouble()));
            double cy = size * (0.3 + (0.4 * random.NextDouble()));
            double radius = size * 0.15;
            for (int y = 0; y < size; y++)
            {
                for (int x = 0; x < size; x++)
                {
                    double v = 0.3 + (0.1 * random.NextDouble());
                    if (label == 1 && ((x - cx) * (x - cx)) + ((y - cy) * (y - cy)) < radius * radius)
                    {
                        v += contrast;
                    }

                    pixels[(y * size) + x] = (float)Math.Clamp(v, 0, 1);
                }
            }

            set.Add($"{domain}-{n}", pixels, label, domain, $"p{n / 2}");
        }

        return set;
    }
}
