using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Pipeline.Runs;
using MedTransfer.Training.Onnx;
using MedTransfer.Training.Runtime;
using Spectre.Console;

namespace MedTransfer.Cli.Commands;

/// <summary>`medtransfer rank PROTOCOL`: transferability of candidate backbones and cuts on the protocol's data, before training.</summary>
internal static class RankCommand
{
    public static Command Create(IAnsiConsole console, TextWriter output, TextWriter error)
    {
        var protocolArg = new Argument<FileInfo>("PROTOCOL") { Description = "The experiment protocol (YAML) whose data, split and preprocessing are used." };
        var candidates = new Option<string[]>("--candidate")
        {
            Description = "A backbone to rank, optionally with cuts: resnet18-imagenet, path/to/model.onnx, or BACKBONE@stage3,stage4,head. " +
                "Repeat for several. Default: the protocol's backbone at stage3, stage4 and head.",
            AllowMultipleArgumentsPerToken = false,
        };
        var device = new Option<string?>("--device") { Description = "auto (default: the protocol's), cpu or cuda." };
        var keyFile = new Option<FileInfo?>("--key-file") { Description = "Pseudonym key naming unreadable files (default: $MEDTRANSFER_PSEUDONYM_KEY, else a key used only for this call)." };
        var json = new Option<bool>("--json") { Description = "Print the ranking as JSON." };
        var cacheDir = new Option<DirectoryInfo?>("--cache") { Description = "A feature cache to read and fill, e.g. a run's OUT/private/cache/ (default: none): images and frozen features found there are not computed again." };
        var command = new Command(
            "rank",
            "Evaluate before committing: index and normalize the protocol's images once, extract each candidate backbone's frozen " +
            "features at each cut (the activations just before the trainable_from stage, averaged over space; head = the pooled " +
            "features), and tabulate LogME, H-score, GBC and TransRate on the labelled source training images, the site probe and the " +
            "proxy A-distance between source and target, and the parameter count (the size-only baseline). Recommends the backbone " +
            "and trainable_from with the highest LogME, and says whether size alone agrees. Nothing is trained or written. Exit codes: " +
            "0 done, 1 failure, 2 usage error.");
        command.Arguments.Add(protocolArg);
        foreach (Option option in new Option[] { candidates, device, keyFile, json, cacheDir })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse =>
        {
            try
            {
                ExperimentProtocol protocol = ProtocolLoader.Load(parse.GetValue(protocolArg)!.FullName);
                IReadOnlyList<RankCandidate> list = Candidates(parse.GetValue(candidates) ?? [], protocol);
                bool quiet = parse.GetValue(json);
                RankOutcome outcome = BackboneRanking.Run(protocol, list, parse.GetValue(device), parse.GetValue(keyFile)?.FullName, new Relay(p =>
                {
                    if (!quiet && p.Stage is "rank" or "index")
                    {
                        console.MarkupLine(Markup.Escape($"{p.Stage}: {p.Detail}"));
                    }
                }), cacheDirectory: parse.GetValue(cacheDir)?.FullName);
                if (quiet)
                {
                    output.WriteLine(JsonSerializer.Serialize(outcome, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
                    return CliApp.ExitCodes.Success;
                }

                var table = new Table().AddColumns("Backbone", "Cut", "Dim", "Params", "LogME", "H-score", "GBC", "TransRate", "Site AUC", "A-dist", "#LogME", "#size");
                foreach (RankRow r in outcome.Rows)
                {
                    table.AddRow(Markup.Escape(Path.GetFileName(r.Backbone)), r.Cut, I(r.Features), string.Create(CultureInfo.InvariantCulture, $"{r.Parameters / 1e6:F1} M"), F(r.LogMe), F(r.HScore), F(r.Gbc), F(r.TransRate), F(r.SiteProbeAuc), F(r.ProxyADistance), I(r.LogMeRank), I(r.SizeRank));
                }

                console.Write(table);
                console.MarkupLine(Markup.Escape("Dim: feature width at the cut; Site AUC: site probe (macro AUROC); A-dist: proxy A-distance source vs target; #: rank (1 = best)."));
                console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"Recommended: model.backbone: {outcome.Recommended.Backbone}, trainable_from: {outcome.Recommended.Cut} (highest LogME on {outcome.SourceImages} labelled source images); the size-only baseline {(outcome.SizeAgrees ? "agrees" : "would pick another backbone")}.")));
                console.MarkupLine(Markup.Escape(outcome.Caveat));
                return CliApp.ExitCodes.Success;
            }
            catch (ProtocolException ex)
            {
                error.WriteLine($"error: {ex.Message}");
                return CliApp.ExitCodes.Usage;
            }
            catch (Exception ex) when (ex is ArgumentException or OnnxImportException)
            {
                error.WriteLine($"error: {ex.Message}");
                return CliApp.ExitCodes.Usage;
            }
            catch (Exception ex) when (ex is TorchUnavailableException or IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"error: {ex.Message}");
                return CliApp.ExitCodes.Failure;
            }
        });
        return command;
    }

    /// <summary>The --candidate values (relative ONNX paths from the current folder), else the protocol's model.candidates, else its backbone at the default cuts.</summary>
    internal static IReadOnlyList<RankCandidate> Candidates(IReadOnlyList<string> given, ExperimentProtocol protocol)
    {
        if (given.Count > 0)
        {
            return BackboneCandidates.Parse(given, Directory.GetCurrentDirectory());
        }

        if (protocol.Model.Candidates.Count > 0)
        {
            return protocol.Model.Candidates;
        }

        string own = protocol.Model.BackbonePath ?? ProtocolNames.Of(protocol.Model.Backbone);
        return [.. BackboneCandidates.DefaultCuts.Select(c => new RankCandidate(own, c))];
    }

    private static string F(double v) => double.IsNaN(v) ? "—" : v.ToString("F3", CultureInfo.InvariantCulture);

    private static string I(long v) => v.ToString(CultureInfo.InvariantCulture);

    private sealed class Relay(Action<RunProgress> report) : IProgress<RunProgress>
    {
        public void Report(RunProgress value) => report(value);
    }
}
