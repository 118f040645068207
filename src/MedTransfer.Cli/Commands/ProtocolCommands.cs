using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Pipeline.Sharding;
using MedTransfer.Pipeline.Sweeps;
using Spectre.Console;

namespace MedTransfer.Cli.Commands;

/// <summary>`medtransfer protocol validate|show|plan|merge`: experiment protocols and their sweeps.</summary>
internal static class ProtocolCommands
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create(IAnsiConsole console, TextWriter output, TextWriter error)
    {
        var command = new Command("protocol", "Experiment protocols (YAML; schema in protocols/README.md): validate, show resolved, plan and merge sweeps.");
        command.Subcommands.Add(Validate(output, error));
        command.Subcommands.Add(Show(output, error));
        command.Subcommands.Add(Plan(output, error));
        command.Subcommands.Add(Merge(console, output, error));
        return command;
    }

    private static Argument<FileInfo> FileArgument() => new("FILE") { Description = "The protocol YAML file." };

    private static Command Validate(TextWriter output, TextWriter error)
    {
        var file = FileArgument();
        var json = new Option<bool>("--json") { Description = "Print {valid, hash, errors:[{file, line, column, field, message}]} as JSON." };
        var noFiles = new Option<bool>("--no-file-checks") { Description = "Do not check that data sources and label files exist (e.g. for a template or another machine's paths)." };
        var command = new Command("validate", "Check a protocol against the schema: unknown keys, types, ranges, method names, files and sites; every problem with its line and field.") { file, json, noFiles };
        command.SetAction(parse =>
        {
            FileInfo path = parse.GetValue(file)!;
            try
            {
                ExperimentProtocol protocol = ProtocolLoader.Load(path.FullName, new ProtocolLoadOptions { CheckFiles = !parse.GetValue(noFiles) });
                string hash = protocol.ComputeHash();
                if (parse.GetValue(json))
                {
                    output.WriteLine(JsonSerializer.Serialize(new { valid = true, name = protocol.Name, hash, errors = Array.Empty<object>() }, s_json));
                }
                else
                {
                    output.WriteLine($"{path.Name}: valid protocol '{protocol.Name}' (sha256 {hash})");
                }

                return CliApp.ExitCodes.Success;
            }
            catch (ProtocolException ex)
            {
                if (parse.GetValue(json))
                {
                    output.WriteLine(JsonSerializer.Serialize(new
                    {
                        valid = false,
                        errors = ex.Errors.Select(e => new { file = e.File, line = e.Line, column = e.Column, field = e.Field, message = e.Message }),
                    }, s_json));
                }
                else
                {
                    foreach (ProtocolError e in ex.Errors)
                    {
                        error.WriteLine($"error: {e}");
                    }
                }

                return CliApp.ExitCodes.Failure;
            }
        });
        return command;
    }

    private static Command Show(TextWriter output, TextWriter error)
    {
        var file = FileArgument();
        var json = new Option<bool>("--json") { Description = "Print {hash, protocol} as JSON instead of YAML." };
        var command = new Command("show", "Print the resolved protocol with every default filled in, and its hash (SHA-256 of the canonical JSON) that runs record.") { file, json };
        command.SetAction(parse => Guard(error, () =>
        {
            ExperimentProtocol protocol = ProtocolLoader.Load(parse.GetValue(file)!.FullName);
            string hash = protocol.ComputeHash();
            if (parse.GetValue(json))
            {
                output.WriteLine(new JsonObject { ["hash"] = hash, ["protocol"] = ProtocolSerializer.ToTree(protocol) }.ToJsonString(s_json));
            }
            else
            {
                output.WriteLine($"# protocol hash (sha256 of the canonical JSON): {hash}");
                output.Write(ProtocolSerializer.ToYaml(protocol));
            }

            return CliApp.ExitCodes.Success;
        }));
        return command;
    }

    private static Command Plan(TextWriter output, TextWriter error)
    {
        var file = FileArgument();
        var shard = new Option<string?>("--shard") { Description = "Only this shard's items: i/n with 1 ≤ i ≤ n (Slurm: $SLURM_ARRAY_TASK_ID/N; Kubernetes: $((JOB_COMPLETION_INDEX+1))/N)." };
        var byHash = new Option<bool>("--hash-sharding") { Description = "Assign items to shards by a hash of their id (stable when items are added) instead of the balanced round-robin." };
        var json = new Option<bool>("--json") { Description = "Print the items as JSON (id, method, baseline, seed, resultFile)." };
        var command = new Command("plan", "Expand a protocol into work items ((baselines + methods) × seeds) with stable ids; --shard picks one shard's share.") { file, shard, byHash, json };
        command.SetAction(parse => Guard(error, () =>
        {
            ExperimentProtocol protocol = ProtocolLoader.Load(parse.GetValue(file)!.FullName);
            SweepPlan plan = SweepPlan.Expand(protocol);
            ShardSpec spec = parse.GetValue(shard) is { } text ? ShardSpec.Parse(text) : ShardSpec.All;
            IReadOnlyList<WorkItem> items = plan.ForShard(spec, parse.GetValue(byHash) ? SweepSharding.Hash : SweepSharding.Balanced);
            if (parse.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(new
                {
                    protocol = plan.ProtocolName,
                    protocolHash = plan.ProtocolHash,
                    shard = spec.ToString(),
                    total = plan.Items.Count,
                    items = items.Select(i => new { id = i.Id, method = i.MethodName, baseline = i.IsBaseline, seed = i.Seed, resultFile = i.ResultFileName }),
                }, s_json));
            }
            else
            {
                output.WriteLine($"{plan.ProtocolName}: shard {spec} runs {items.Count} of {plan.Items.Count} items (protocol sha256 {plan.ProtocolHash})");
                foreach (WorkItem item in items)
                {
                    output.WriteLine(item.Id);
                }
            }

            return CliApp.ExitCodes.Success;
        }));
        return command;
    }

    private static Command Merge(IAnsiConsole console, TextWriter output, TextWriter error)
    {
        var file = FileArgument();
        var folders = new Argument<DirectoryInfo[]>("DIR") { Description = "Shard output folders holding *.result.json files (searched recursively).", Arity = ArgumentArity.OneOrMore };
        var outFile = new Option<FileInfo>("--out") { Description = "The merged JSON to write.", Required = true };
        var json = new Option<bool>("--json") { Description = "Print {complete, merged, missing, duplicates, problems} as JSON." };
        var command = new Command("merge", "Combine per-item results from shard folders into one document (items in plan order, mean ± sd per method); idempotent; duplicates, conflicts and missing items are reported.") { file, folders, outFile, json };
        command.SetAction(parse => Guard(error, () =>
        {
            ExperimentProtocol protocol = ProtocolLoader.Load(parse.GetValue(file)!.FullName);
            SweepPlan plan = SweepPlan.Expand(protocol);
            SweepMergeResult merged = SweepResults.Merge(plan, parse.GetValue(folders)!.Select(d => d.FullName));
            string target = parse.GetValue(outFile)!.FullName;
            if (merged.Json is not null)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                string temp = target + ".tmp";
                File.WriteAllText(temp, merged.Json);
                File.Move(temp, target, overwrite: true);
            }

            if (parse.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(new
                {
                    complete = merged.IsComplete,
                    planned = plan.Items.Count,
                    merged = merged.Merged,
                    missing = merged.Missing,
                    duplicates = merged.Duplicates,
                    problems = merged.Problems.Select(p => new { file = p.File, problem = p.Problem }),
                    output = merged.Json is null ? null : target,
                }, s_json));
            }
            else
            {
                foreach (SweepFileProblem p in merged.Problems)
                {
                    error.WriteLine($"error: {p.File}: {p.Problem}");
                }

                console.MarkupLine(Markup.Escape($"{merged.Merged} of {plan.Items.Count} items merged; {merged.Missing.Count} missing; {merged.Duplicates.Count} identical duplicate(s)."));
                foreach (string id in merged.Missing)
                {
                    console.MarkupLine(Markup.Escape($"missing: {id}"));
                }

                console.MarkupLine(merged.Json is null ? "[red]Nothing written:[/] fix the problems above." : Markup.Escape($"Merged: {target}"));
            }

            return merged.IsComplete ? CliApp.ExitCodes.Success : CliApp.ExitCodes.Failure;
        }));
        return command;
    }

    private static int Guard(TextWriter error, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (ProtocolException ex)
        {
            foreach (ProtocolError e in ex.Errors)
            {
                error.WriteLine($"error: {e}");
            }

            return CliApp.ExitCodes.Failure;
        }
        catch (FormatException ex)
        {
            error.WriteLine($"error: {ex.Message}");
            return CliApp.ExitCodes.Usage;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {ex.Message}");
            return CliApp.ExitCodes.Failure;
        }
    }
}
