using static TorchSharp.torch;

namespace MedTransfer.Training.FineTuning;

/// <summary>Memory-format helpers (TorchSharp has no memory_format argument; permuted strides give the same layout).</summary>
internal static class MemoryFormat
{
    /// <summary>The same values with channels-last (NHWC) strides.</summary>
    public static Tensor ChannelsLast(Tensor x) => x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
}
