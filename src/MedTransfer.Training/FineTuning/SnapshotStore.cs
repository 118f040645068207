using System.Globalization;
using MedTransfer.Training.Checkpoints;
using MedTransfer.Training.Models;
using static TorchSharp.torch;

namespace MedTransfer.Training.FineTuning;

/// <summary>
/// The weights of a run's candidate checkpoints (only the tensors training can change), so that a selection rule
/// applied after training can restore the one it picks. With a checkpoint folder they are files
/// (<c>snapshot-NNNNNNNN.ckpt</c>, written atomically, so a resumed run still has its earlier candidates); without
/// one they are held in memory.
/// </summary>
public sealed class SnapshotStore : IDisposable
{
    private const string Prefix = "snapshot-";
    private readonly string? _directory;
    private readonly IReadOnlyList<string> _keys;
    private readonly string _configJson;
    private readonly SortedDictionary<long, Dictionary<string, Tensor>?> _steps = [];

    internal SnapshotStore(string? directory, IReadOnlyList<string> keys, string configJson)
    {
        _directory = directory;
        _keys = keys;
        _configJson = configJson;
    }

    /// <summary>The steps held, ascending.</summary>
    public IReadOnlyList<long> Steps => [.. _steps.Keys];

    /// <summary>Copies candidate <paramref name="step"/>'s weights into <paramref name="model"/>.</summary>
    /// <exception cref="ArgumentException">No candidate at that step.</exception>
    /// <exception cref="CheckpointException">The snapshot file is damaged.</exception>
    public void Restore(long step, TransferModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!_steps.TryGetValue(step, out Dictionary<string, Tensor>? state))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"No candidate checkpoint at step {step}."), nameof(step));
        }

        if (state is not null)
        {
            TrainableLayout.RestorePartial(model, _keys, state);
            return;
        }

        Checkpoint checkpoint = CheckpointFile.Load(PathOf(step));
        try
        {
            TrainableLayout.RestorePartial(model, _keys, checkpoint.Model);
        }
        finally
        {
            foreach (Tensor t in checkpoint.Model.Values)
            {
                t.Dispose();
            }
        }
    }

    /// <summary>
    /// Keeps every candidate as a checkpoint file in <paramref name="directory"/> (moved there when the store is
    /// file-backed, written when it is in memory) and returns the paths by step; the store is empty afterwards.
    /// </summary>
    public IReadOnlyDictionary<long, string> MoveTo(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        Directory.CreateDirectory(directory);
        var moved = new Dictionary<long, string>();
        foreach ((long step, Dictionary<string, Tensor>? state) in _steps)
        {
            string target = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"{Prefix}{step:D8}.ckpt"));
            if (state is null)
            {
                File.Move(PathOf(step), target, overwrite: true);
            }
            else
            {
                CheckpointFile.Save(target, step, _configJson, state, new Dictionary<string, Tensor>());
            }

            moved[step] = target;
        }

        Dispose();
        return moved;
    }

    /// <summary>Removes the snapshot files (after selection) and frees memory.</summary>
    public void Delete()
    {
        if (_directory is not null)
        {
            foreach (long step in _steps.Keys)
            {
                File.Delete(PathOf(step));
            }
        }

        Dispose();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (Dictionary<string, Tensor>? state in _steps.Values)
        {
            foreach (Tensor t in state?.Values ?? Enumerable.Empty<Tensor>())
            {
                t.Dispose();
            }
        }

        _steps.Clear();
    }

    internal void Save(long step, TrainableLayout layout)
    {
        Dictionary<string, Tensor> state = layout.CaptureState();
        if (_directory is null)
        {
            _steps[step] = state;
            return;
        }

        try
        {
            CheckpointFile.Save(PathOf(step), step, _configJson, state, new Dictionary<string, Tensor>());
            _steps[step] = null;
        }
        finally
        {
            foreach (Tensor t in state.Values)
            {
                t.Dispose();
            }
        }
    }

    /// <summary>After a resume from <paramref name="resumedStep"/>: picks up the snapshot files written up to that step; later ones are written again.</summary>
    internal void Reload(long resumedStep)
    {
        if (_directory is null || !Directory.Exists(_directory))
        {
            return;
        }

        foreach (string file in Directory.EnumerateFiles(_directory, Prefix + "*.ckpt"))
        {
            string digits = Path.GetFileNameWithoutExtension(file)[Prefix.Length..];
            if (long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long step))
            {
                if (step <= resumedStep)
                {
                    _steps[step] = null;
                }
                else
                {
                    File.Delete(file);
                }
            }
        }
    }

    private string PathOf(long step) => Path.Combine(_directory!, string.Create(CultureInfo.InvariantCulture, $"{Prefix}{step:D8}.ckpt"));
}
