using MedTransfer.Imaging.Resampling;

namespace MedTransfer.Imaging.Normalization;

/// <summary>Finds the region inside uniform borders; the rule is documented on <see cref="CollimationCrop"/>.</summary>
internal static class CollimationDetector
{
    internal static PixelRegion Detect(ImageF image, IntensityMap map, CollimationCrop options)
    {
        int maxRows = (int)(image.Height * options.MaxCropFraction);
        int maxCols = (int)(image.Width * options.MaxCropFraction);
        int top = 0;
        int bottom = image.Height;
        while (top < maxRows && IsBorder(image, map, options, 0, image.Width, top, 1, horizontal: true))
        {
            top++;
        }

        while (image.Height - bottom < maxRows && IsBorder(image, map, options, 0, image.Width, bottom - 1, 1, horizontal: true))
        {
            bottom--;
        }

        int left = 0;
        int right = image.Width;
        while (left < maxCols && IsBorder(image, map, options, top, bottom - top, left, 1, horizontal: false))
        {
            left++;
        }

        while (image.Width - right < maxCols && IsBorder(image, map, options, top, bottom - top, right - 1, 1, horizontal: false))
        {
            right--;
        }

        return new PixelRegion(left, top, right - left, bottom - top);
    }

    // A line: row `index` over columns [from, from + count) when horizontal, else column `index` over rows [from, from + count).
    private static bool IsBorder(ImageF image, IntensityMap map, CollimationCrop options, int from, int count, int index, int step, bool horizontal)
    {
        double sum = 0;
        double sumSquares = 0;
        for (int k = 0; k < count; k += step)
        {
            float raw = horizontal ? image.Pixels[(index * image.Width) + from + k] : image.Pixels[((from + k) * image.Width) + index];
            double v = map.Apply(raw);
            sum += v;
            sumSquares += v * v;
        }

        double mean = sum / count;
        double variance = Math.Max(0, (sumSquares / count) - (mean * mean));
        bool extreme = mean <= options.ExtremeMargin || mean >= 1 - options.ExtremeMargin;
        return extreme && Math.Sqrt(variance) < options.MaxStdDev;
    }
}
