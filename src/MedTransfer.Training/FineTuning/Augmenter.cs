using MedTransfer.Training.Configuration;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MedTransfer.Training.FineTuning;

/// <summary>
/// Batch augmentation on N×C×S×S tensors in [0, 1]: a random affine warp (rotation, isotropic scale,
/// translation, optional horizontal flip; bilinear, zero padding like the recipe's letterbox), then
/// gamma, contrast, brightness and Gaussian noise, clamped to [0, 1]. All draws derive from
/// (seed, step), so a resumed run sees the same augmentations.
/// </summary>
internal sealed class Augmenter
{
    private const long Stream = 0xA06;
    private readonly AugmentationConfig _config;
    private readonly long _seed;

    public Augmenter(AugmentationConfig config, long seed)
    {
        _config = config;
        _seed = seed;
    }

    /// <summary>Augments <paramref name="batch"/> for step <paramref name="step"/>; <paramref name="part"/> tells apart batches of one step (source, target).</summary>
    public Tensor Apply(Tensor batch, long step, int part = 0)
    {
        if (!_config.Enabled)
        {
            return batch.alias();
        }

        using var scope = NewDisposeScope();
        var rng = new StableRandom(_seed, Stream + (16 * part), step);
        long n = batch.shape[0];
        var theta = new float[n * 6];
        var gamma = new float[n];
        var contrast = new float[n];
        var brightness = new float[n];
        for (int i = 0; i < n; i++)
        {
            double angle = rng.Symmetric(_config.RotationDegrees) * Math.PI / 180;
            double scale = 1 + rng.Symmetric(_config.Scale);
            double tx = rng.Symmetric(_config.Translate) * 2;
            double ty = rng.Symmetric(_config.Translate) * 2;
            double flip = _config.HorizontalFlip && rng.NextDouble() < 0.5 ? -1 : 1;

            // affine_grid maps output to input coordinates: the inverse of the intended warp.
            theta[(i * 6) + 0] = (float)(Math.Cos(angle) / scale * flip);
            theta[(i * 6) + 1] = (float)(-Math.Sin(angle) / scale);
            theta[(i * 6) + 2] = (float)tx;
            theta[(i * 6) + 3] = (float)(Math.Sin(angle) / scale * flip);
            theta[(i * 6) + 4] = (float)(Math.Cos(angle) / scale);
            theta[(i * 6) + 5] = (float)ty;
            gamma[i] = (float)Math.Exp(rng.Symmetric(_config.Gamma));
            contrast[i] = (float)(1 + rng.Symmetric(_config.Contrast));
            brightness[i] = (float)rng.Symmetric(_config.Brightness);
        }

        Device device = batch.device;
        Tensor grid = F.affine_grid(tensor(theta, [n, 2, 3], device: device), batch.shape, align_corners: false);
        Tensor x = F.grid_sample(batch, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Zeros, align_corners: false);
        x = x.clamp(0f, 1f).pow(tensor(gamma, [n, 1, 1, 1], device: device));
        Tensor mean = x.mean([1, 2, 3], keepdim: true);
        x = x.sub(mean).mul(tensor(contrast, [n, 1, 1, 1], device: device)).add(mean).add(tensor(brightness, [n, 1, 1, 1], device: device));
        if (_config.Noise > 0)
        {
            using var generator = new Generator((ulong)StableRandom.DeriveSeed(_seed, Stream + (16 * part) + 1, step));
            x = x.add(randn(batch.shape, generator: generator).to(device).mul(_config.Noise));
        }

        return x.clamp(0f, 1f).MoveToOuterDisposeScope();
    }
}
