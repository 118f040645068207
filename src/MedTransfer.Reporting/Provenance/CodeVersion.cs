using System.Reflection;

namespace MedTransfer.Reporting.Provenance;

/// <summary>
/// The code version recorded in every report (so a result can be traced to the code that produced it): the product version and, when the
/// build ran inside a git checkout, the commit id the SDK appends to the informational version
/// ("0.1.0+3f2c9a1…").
/// </summary>
/// <param name="Version">The semantic version, e.g. "0.1.0".</param>
/// <param name="Commit">The full git commit id, or null when the build had none.</param>
public sealed record CodeVersion(string Version, string? Commit)
{
    /// <summary>Reads the version of the assembly that holds <paramref name="anchor"/>.</summary>
    public static CodeVersion Of(Type anchor)
    {
        ArgumentNullException.ThrowIfNull(anchor);
        string? informational = anchor.Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        return Parse(informational ?? anchor.Assembly.GetName().Version?.ToString() ?? "0.0.0");
    }

    /// <summary>Splits "version+commit" (SemVer build metadata) into its parts.</summary>
    public static CodeVersion Parse(string informationalVersion)
    {
        ArgumentNullException.ThrowIfNull(informationalVersion);
        int plus = informationalVersion.IndexOf('+', StringComparison.Ordinal);
        if (plus < 0)
        {
            return new CodeVersion(informationalVersion, null);
        }

        string commit = informationalVersion[(plus + 1)..];
        bool isHex = commit.Length >= 7 && commit.All(Uri.IsHexDigit);
        return new CodeVersion(informationalVersion[..plus], isHex ? commit : null);
    }

    /// <summary>"0.1.0 (commit 3f2c9a1)" or "0.1.0 (no commit recorded)".</summary>
    public override string ToString() => Commit is null ? $"{Version} (no commit recorded)" : $"{Version} (commit {Commit[..Math.Min(12, Commit.Length)]})";
}
