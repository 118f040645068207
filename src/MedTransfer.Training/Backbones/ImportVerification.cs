using System.Diagnostics;
using MedTransfer.Training.Onnx;
using static TorchSharp.torch;

namespace MedTransfer.Training.Backbones;

/// <summary>
/// Result of checking the imported ImageNet ResNet-18 against ONNX Runtime on the same inputs.
/// </summary>
/// <param name="Batch">Images compared.</param>
/// <param name="ImageSize">Side length (224, the graph's declared size).</param>
/// <param name="Seed">Seed of the random test images.</param>
/// <param name="PreprocessMaxAbsDiff">Max |Δ| of the preprocessed tensors (0–255 scale).</param>
/// <param name="FeatureMaxAbsDiff">Max |Δ| of the 512-d features.</param>
/// <param name="FeatureMeanAbsDiff">Mean |Δ| of the features.</param>
/// <param name="FeatureScale">Mean |feature| (for judging the differences).</param>
/// <param name="TorchMilliseconds">Time of our forward pass.</param>
/// <param name="OnnxRuntimeMilliseconds">Time of ONNX Runtime's two graphs.</param>
/// <param name="Tolerance">The acceptance threshold on <paramref name="FeatureMaxAbsDiff"/>.</param>
public sealed record ImportVerification(
    int Batch,
    int ImageSize,
    int Seed,
    double PreprocessMaxAbsDiff,
    double FeatureMaxAbsDiff,
    double FeatureMeanAbsDiff,
    double FeatureScale,
    double TorchMilliseconds,
    double OnnxRuntimeMilliseconds,
    double Tolerance)
{
    /// <summary>True when the features agree within <see cref="Tolerance"/>.</summary>
    public bool Passed => FeatureMaxAbsDiff <= Tolerance && PreprocessMaxAbsDiff <= Tolerance;

    /// <summary>
    /// Runs random images (uniform in [0, 1], seeded) through ONNX Runtime (ResNetPreprocess.onnx on
    /// the 0–255 image, then ResNet18.onnx) and through <see cref="Backbone"/>, on the CPU.
    /// </summary>
    public static ImportVerification Run(int batch = 4, int seed = 1, double tolerance = 1e-4)
    {
        const int size = 224;
        var random = new Random(seed);
        var image = new float[batch * 3 * size * size];
        for (int i = 0; i < image.Length; i++)
        {
            image[i] = (float)random.NextDouble();
        }

        long[] shape = [batch, 3, size, size];
        var ortWatch = Stopwatch.StartNew();
        float[] ortPrep;
        float[] ortFeatures;
        using (var prep = new OnnxRuntimeRunner(File.ReadAllBytes(PretrainedModels.ResNet18PreprocessPath)))
        using (var net = new OnnxRuntimeRunner(File.ReadAllBytes(PretrainedModels.ResNet18Path)))
        {
            ortPrep = new float[image.Length];
            ortFeatures = new float[batch * 512];
            int per = 3 * size * size;

            // The CNTK graphs declare batch 1: run image by image.
            for (int n = 0; n < batch; n++)
            {
                float[] one = image.AsSpan(n * per, per).ToArray();
                for (int i = 0; i < one.Length; i++)
                {
                    one[i] *= 255f;
                }

                float[] p = prep.Run(prep.InputNames[0], one, [1, 3, size, size]).Values.First().Values;
                p.CopyTo(ortPrep, n * per);
                float[] f = net.Run(net.InputNames[0], p, [1, 3, size, size]).Values.First().Values;
                f.CopyTo(ortFeatures, n * 512);
            }
        }

        ortWatch.Stop();
        using Backbone backbone = Backbone.Create(BackboneNames.ResNet18ImageNet, size);
        backbone.eval();
        using var scope = NewDisposeScope();
        using var guard = no_grad();
        Tensor x = tensor(image, shape);
        var torchWatch = Stopwatch.StartNew();
        Tensor ourPrep = backbone.Preprocess.forward(x);
        Tensor ourFeatures = backbone.forward(x);
        torchWatch.Stop();
        float[] prepValues = ourPrep.contiguous().data<float>().ToArray();
        float[] featureValues = ourFeatures.contiguous().data<float>().ToArray();
        double prepMax = 0;
        for (int i = 0; i < prepValues.Length; i++)
        {
            prepMax = Math.Max(prepMax, Math.Abs(prepValues[i] - ortPrep[i]));
        }

        double max = 0, sum = 0, scale = 0;
        for (int i = 0; i < featureValues.Length; i++)
        {
            double d = Math.Abs(featureValues[i] - ortFeatures[i]);
            max = Math.Max(max, d);
            sum += d;
            scale += Math.Abs(ortFeatures[i]);
        }

        return new ImportVerification(batch, size, seed, prepMax, max, sum / featureValues.Length, scale / featureValues.Length,
            torchWatch.Elapsed.TotalMilliseconds, ortWatch.Elapsed.TotalMilliseconds, tolerance);
    }
}
