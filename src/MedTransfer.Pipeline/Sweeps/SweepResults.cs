using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MedTransfer.Pipeline.Protocols;

namespace MedTransfer.Pipeline.Sweeps;

/// <summary>A result file that cannot be merged, named by its path relative to the folder it was found in.</summary>
/// <param name="File">Relative path of the file ('/'-separated).</param>
/// <param name="Problem">What is wrong.</param>
public sealed record SweepFileProblem(string File, string Problem);

/// <summary>What <see cref="SweepResults.Merge"/> found.</summary>
/// <param name="Json">The merged document (canonical JSON, see <see cref="SweepResults.Merge"/>), or null when problems prevent merging.</param>
/// <param name="Merged">Items with a result.</param>
/// <param name="Missing">Ids of plan items without a result, in plan order.</param>
/// <param name="Duplicates">Ids that more than one file holds with identical content (harmless re-runs; merged once).</param>
/// <param name="Problems">Files that are not valid results, belong to another protocol version or an unknown item, or disagree with another file for the same item.</param>
public sealed record SweepMergeResult(string? Json, int Merged, IReadOnlyList<string> Missing, IReadOnlyList<string> Duplicates, IReadOnlyList<SweepFileProblem> Problems)
{
    /// <summary>True when every plan item has exactly one consistent result and no file has a problem.</summary>
    public bool IsComplete => Json is not null && Missing.Count == 0 && Problems.Count == 0;
}

/// <summary>
/// The per-item result files of a sweep and their merge. A result file is a JSON object named
/// <see cref="WorkItem.ResultFileName"/> holding at least <c>itemId</c> (the <see cref="WorkItem.Id"/>) and
/// <c>protocolHash</c>; its <c>metrics</c> object (name → number) is summarised as mean ± sd over seeds; anything
/// else is carried through unchanged.
/// </summary>
public static class SweepResults
{
    /// <summary>Every result file ends with this.</summary>
    public const string FileSuffix = ".result.json";

    /// <summary>Largest result file read (16 MiB).</summary>
    public const long MaxFileBytes = 16L << 20;

    /// <summary>
    /// Writes one item's result atomically (temporary file, then rename) into <paramref name="folder"/>; returns the path.
    /// </summary>
    /// <param name="folder">The shard's output folder.</param>
    /// <param name="plan">The plan (for the protocol hash).</param>
    /// <param name="item">The item.</param>
    /// <param name="metrics">Headline metrics (finite numbers), e.g. "auroc" → 0.83.</param>
    /// <param name="details">Anything else to keep (copied), or null.</param>
    public static string WriteItem(string folder, SweepPlan plan, WorkItem item, IReadOnlyDictionary<string, double> metrics, JsonObject? details = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(metrics);
        var metricTree = new JsonObject();
        foreach ((string name, double value) in metrics)
        {
            if (!double.IsFinite(value))
            {
                throw new ArgumentException($"Metric '{name}' is not a finite number.", nameof(metrics));
            }

            metricTree[name] = value;
        }

        JsonObject result = details is null ? [] : (JsonObject)details.DeepClone();
        result["itemId"] = item.Id;
        result["protocolHash"] = plan.ProtocolHash;
        result["method"] = item.MethodName;
        result["seed"] = item.Seed;
        result["metrics"] = metricTree;
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, item.ResultFileName);
        string temp = path + ".tmp";
        File.WriteAllText(temp, CanonicalJson.Write(result, indented: true));
        File.Move(temp, path, overwrite: true);
        return path;
    }

    /// <summary>
    /// Merges the result files found (recursively) under <paramref name="folders"/>. The merged document lists the
    /// items in plan order, each with its result (keys sorted), then per method the mean and sample standard deviation
    /// of every metric over the seeds present, the missing ids and the duplicate ids. It holds no paths, times or
    /// machine names, so the same result files give byte-identical output whatever the folder order, and merging
    /// again changes nothing.
    /// </summary>
    public static SweepMergeResult Merge(SweepPlan plan, IEnumerable<string> folders)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(folders);
        var problems = new List<SweepFileProblem>();
        var found = new Dictionary<string, List<(string File, string Canonical, JsonObject Tree)>>(StringComparer.Ordinal);
        var planIds = plan.Items.Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
        foreach (string folder in folders.Distinct(StringComparer.Ordinal))
        {
            if (!Directory.Exists(folder))
            {
                problems.Add(new SweepFileProblem(folder, "no such folder"));
                continue;
            }

            foreach (string path in Directory.EnumerateFiles(folder, "*" + FileSuffix, SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                string relative = Path.GetRelativePath(folder, path).Replace('\\', '/');
                JsonObject? tree = Read(path, relative, problems);
                if (tree is null)
                {
                    continue;
                }

                string? id = (tree["itemId"] as JsonValue)?.TryGetValue(out string? s) == true ? s : null;
                string? hash = (tree["protocolHash"] as JsonValue)?.TryGetValue(out string? h) == true ? h : null;
                if (id is null || hash is null)
                {
                    problems.Add(new SweepFileProblem(relative, "not a sweep result: itemId and protocolHash (strings) are required"));
                }
                else if (!string.Equals(hash, plan.ProtocolHash, StringComparison.Ordinal))
                {
                    problems.Add(new SweepFileProblem(relative, "written for another version of the protocol (its protocolHash differs): re-run it or merge with the protocol it was run with"));
                }
                else if (!planIds.Contains(id))
                {
                    problems.Add(new SweepFileProblem(relative, $"item '{id}' is not in the plan of protocol '{plan.ProtocolName}'"));
                }
                else
                {
                    if (!found.TryGetValue(id, out var list))
                    {
                        found[id] = list = [];
                    }

                    list.Add((relative, CanonicalJson.Write(tree, indented: false), tree));
                }
            }
        }

        var duplicates = new List<string>();
        foreach ((string id, var list) in found.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (list.Count < 2)
            {
                continue;
            }

            if (list.Select(e => e.Canonical).Distinct(StringComparer.Ordinal).Count() == 1)
            {
                duplicates.Add(id);
            }
            else
            {
                problems.Add(new SweepFileProblem(string.Join(", ", list.Select(e => e.File).Order(StringComparer.Ordinal)), $"item '{id}' has results that differ: keep one"));
            }
        }

        string[] missing = [.. plan.Items.Where(i => !found.ContainsKey(i.Id)).Select(i => i.Id)];
        problems.Sort((a, b) => string.CompareOrdinal(a.File + "\n" + a.Problem, b.File + "\n" + b.Problem));
        if (problems.Count > 0)
        {
            return new SweepMergeResult(null, found.Count, missing, duplicates, problems);
        }

        var items = new JsonArray();
        foreach (WorkItem item in plan.Items.Where(i => found.ContainsKey(i.Id)))
        {
            items.Add(new JsonObject
            {
                ["id"] = item.Id,
                ["method"] = item.MethodName,
                ["baseline"] = item.IsBaseline,
                ["seed"] = item.Seed,
                ["result"] = found[item.Id][0].Tree.DeepClone(),
            });
        }

        var merged = new JsonObject
        {
            ["protocol"] = plan.ProtocolName,
            ["protocolHash"] = plan.ProtocolHash,
            ["planned"] = plan.Items.Count,
            ["merged"] = found.Count,
            ["complete"] = missing.Length == 0,
            ["items"] = items,
            ["summary"] = Summary(plan, found),
            ["missing"] = new JsonArray([.. missing.Select(m => (JsonNode?)m)]),
            ["duplicates"] = new JsonArray([.. duplicates.Select(d => (JsonNode?)d)]),
        };
        return new SweepMergeResult(CanonicalJson.Write(merged, indented: true), found.Count, missing, duplicates, problems);
    }

    private static JsonObject? Read(string path, string relative, List<SweepFileProblem> problems)
    {
        try
        {
            if (new FileInfo(path).Length > MaxFileBytes)
            {
                problems.Add(new SweepFileProblem(relative, FormattableString.Invariant($"larger than {MaxFileBytes} bytes")));
                return null;
            }

            if (JsonNode.Parse(File.ReadAllText(path, Encoding.UTF8), documentOptions: new JsonDocumentOptions { MaxDepth = 64 }) is JsonObject tree)
            {
                return tree;
            }

            problems.Add(new SweepFileProblem(relative, "not a JSON object"));
        }
        catch (JsonException ex)
        {
            problems.Add(new SweepFileProblem(relative, string.Create(CultureInfo.InvariantCulture, $"not valid JSON (line {(ex.LineNumber ?? 0) + 1})")));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problems.Add(new SweepFileProblem(relative, "cannot be read (" + ex.GetType().Name + ")"));
        }

        return null;
    }

    private static JsonArray Summary(SweepPlan plan, Dictionary<string, List<(string File, string Canonical, JsonObject Tree)>> found)
    {
        var summary = new JsonArray();
        foreach (IGrouping<TrainingMethod, WorkItem> method in plan.Items.GroupBy(i => i.Method))
        {
            JsonObject[] results = [.. method.Where(i => found.ContainsKey(i.Id)).Select(i => found[i.Id][0].Tree)];
            var metrics = new SortedDictionary<string, List<double>>(StringComparer.Ordinal);
            foreach (JsonObject result in results)
            {
                if (result["metrics"] is not JsonObject m)
                {
                    continue;
                }

                foreach ((string name, JsonNode? value) in m)
                {
                    if (value is JsonValue v && v.GetValueKind() == JsonValueKind.Number && double.IsFinite(v.GetValue<double>()))
                    {
                        if (!metrics.TryGetValue(name, out List<double>? values))
                        {
                            metrics[name] = values = [];
                        }

                        values.Add(v.GetValue<double>());
                    }
                }
            }

            var stats = new JsonObject();
            foreach ((string name, List<double> values) in metrics)
            {
                double mean = values.Sum() / values.Count;
                stats[name] = new JsonObject
                {
                    ["n"] = values.Count,
                    ["mean"] = mean,
                    ["sd"] = values.Count < 2 ? null : Math.Sqrt(values.Sum(x => (x - mean) * (x - mean)) / (values.Count - 1)),
                };
            }

            summary.Add(new JsonObject
            {
                ["method"] = ProtocolNames.Of(method.Key),
                ["baseline"] = method.First().IsBaseline,
                ["seeds"] = results.Length,
                ["metrics"] = stats,
            });
        }

        return summary;
    }
}
