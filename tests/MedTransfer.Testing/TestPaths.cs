namespace MedTransfer.Testing;

/// <summary>Locates the repository and the read-only reference data in ../shared/data.</summary>
public static class TestPaths
{
    /// <summary>The repository root: the nearest ancestor of the test binary holding MedTransfer.sln.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>
    /// The folder ../shared/data/<paramref name="name"/> beside the repository, or null when it is absent
    /// (a fresh clone elsewhere has no ../shared). Tests skip with <see cref="MissingReason"/> then.
    /// </summary>
    public static string? SharedData(string name)
    {
        string candidate = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data", name));
        return Directory.Exists(candidate) ? candidate : null;
    }

    /// <summary>The skip reason used when a shared data folder is absent.</summary>
    public static string MissingReason(string name) =>
        $"reference data ../shared/data/{name} is not present next to this clone (it is never copied into the repository)";

    /// <summary>A fresh empty folder under the system temp folder; the caller deletes it.</summary>
    public static string NewTempDirectory(string prefix = "medtransfer-test")
    {
        string path = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    private static string FindRepoRoot()
    {
        DirectoryInfo? dir = new(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "MedTransfer.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("MedTransfer.sln not found above the test binaries.");
    }
}
