using System.Text.Json;
using System.Text.Json.Nodes;

namespace MedTransfer.Pipeline.Runs;

/// <summary>
/// What the consumers of a run folder (<c>diagnose --model RUN_DIR</c>, <c>report RUN_DIR/results.json</c>) check before
/// they use one of its files: the run finished (<see cref="RunFolder.RequireComplete"/>), and the file is the one the run
/// finished with (its SHA-256 is the one <see cref="RunFolder.CompleteFile"/> records). A killed re-run into a finished
/// folder removes the marker first, so the old model and results beside a new, unfinished run are never used.
/// </summary>
internal static class CompletedRun
{
    /// <summary>True when <paramref name="folder"/> is (or was started as) a run folder.</summary>
    public static bool IsRunFolder(string folder) =>
        File.Exists(Path.Combine(folder, RunFolder.StartedFile)) || File.Exists(Path.Combine(folder, RunFolder.CompleteFile));

    /// <summary>Checks that <paramref name="root"/> holds a complete run whose output <paramref name="relativePath"/> has the SHA-256 <paramref name="sha256"/>.</summary>
    /// <exception cref="RunFolderException">The run is incomplete, lists no such output, or the file differs from the one it finished with (<see cref="RunFolderError.Incomplete"/>).</exception>
    public static void RequireOutput(string root, string relativePath, string sha256)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(relativePath);
        ArgumentNullException.ThrowIfNull(sha256);
        RunFolder.RequireComplete(root);
        string? recorded = RecordedHash(Path.Combine(root, RunFolder.CompleteFile), relativePath);
        if (recorded is null)
        {
            throw new RunFolderException(RunFolderError.Incomplete, $"the run in {root} has no {relativePath} ({RunFolder.CompleteFile} does not list it; a shard's folder holds only items/).");
        }

        if (!string.Equals(recorded, sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new RunFolderException(RunFolderError.Incomplete, $"{relativePath} in {root} is not the file the run finished with (its SHA-256 differs from the one in {RunFolder.CompleteFile}): it was changed or replaced afterwards. Run the protocol again into that folder, or use a file by its own path.");
        }
    }

    private static string? RecordedHash(string marker, string relativePath)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(marker))?["outputs"]?[relativePath]?.GetValue<string>();
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or IOException)
        {
            return null;
        }
    }
}
