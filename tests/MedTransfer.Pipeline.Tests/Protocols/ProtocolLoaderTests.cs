using FsCheck.Xunit;
using MedTransfer.Imaging.Index;
using MedTransfer.Imaging.Normalization;
using MedTransfer.Pipeline.Protocols;
using MedTransfer.Testing;

namespace MedTransfer.Pipeline.Tests.Protocols;

/// <summary>Protocol YAML: the shipped files, the schema's errors (line and field named) and the hash.</summary>
public sealed class ProtocolLoaderTests : IDisposable
{
    private static readonly string s_protocols = Path.Combine(TestPaths.RepoRoot, "protocols");

    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-protocols");

    public ProtocolLoaderTests()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "images"));
        File.WriteAllText(Path.Combine(_dir, "labels.csv"), "id,label,site\n");
        File.WriteAllText(Path.Combine(_dir, "empty.csv"), string.Empty);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("cxr-site-shift.yaml", ProtocolModality.Xray)]
    [InlineData("mri-contrast-shift.yaml", ProtocolModality.Mri)]
    [InlineData("method-comparison-sweep.yaml", ProtocolModality.Xray)]
    public void Load_ShippedProtocol_ValidatesAgainstTheSampleData(string file, ProtocolModality modality)
    {
        ExperimentProtocol p = ProtocolLoader.Load(Path.Combine(s_protocols, file));

        Assert.Equal(modality, p.Data.Modality);
        Assert.All(p.Data.Sources, s => Assert.True(Directory.Exists(s.FullPath), s.Path));
        Assert.Equal(DataSourceKind.Folder, p.Data.Sources[0].Kind);
        Assert.True(File.Exists(p.Data.Labels!.FullPath));
        Assert.Contains(TrainingMethod.SourceOnly, p.Baselines);
    }

    [Fact]
    public void Load_Template_ValidatesWithoutFileChecksAndNamesBothMissingPathsWithThem()
    {
        string template = Path.Combine(s_protocols, "template-dicom-folder.yaml");

        ExperimentProtocol p = ProtocolLoader.Load(template, new ProtocolLoadOptions { CheckFiles = false });
        var ex = Assert.Throws<ProtocolException>(() => ProtocolLoader.Load(template));

        Assert.Equal(SiteSource.DicomTag, p.Data.Site.Source);
        Assert.Equal(LabelKey.Path, p.Data.Labels!.Key);
        Assert.Equal(["data.source", "data.labels"], ex.Errors.Select(e => e.Field));
        Assert.All(ex.Errors, e => Assert.True(e.Line > 0));
    }

    [Fact]
    public void ToIndexOptions_DefaultChestProtocol_MatchesTheReadmeIngestCommand()
    {
        DatasetIndexOptions options = ProtocolLoader.Load(Path.Combine(s_protocols, "cxr-site-shift.yaml")).Data.ToIndexOptions();

        Assert.Equal("folder:1", options.Site.ToString());
        Assert.Equal(LabelKey.Id, options.Labels!.Key);
        Assert.Equal("label", options.Labels.LabelColumn);
        Assert.Equal(Path.Combine(TestPaths.RepoRoot, "sample-data", "manifest.csv"), options.Labels.CsvPath);
    }

    [Fact]
    public void Load_DefaultChestProtocol_IsCpuSized()
    {
        ExperimentProtocol p = ProtocolLoader.Load(Path.Combine(s_protocols, "cxr-site-shift.yaml"));

        Assert.Equal(3, p.Seeds.Count);
        Assert.InRange(p.Preprocessing.InputSize, 64, 128);
        Assert.InRange(p.Training.Iterations!.Value, 100, 500);
        Assert.InRange(p.Adaptation.Methods.Count, 2, 3);
        Assert.Equal(["A", "B"], p.Data.SourceSites);
        Assert.Equal(["C"], p.Data.TargetSites);
        Assert.Contains("CPU-sized", File.ReadAllText(Path.Combine(s_protocols, "cxr-site-shift.yaml")), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MinimalProtocol_FillsEveryDefault()
    {
        ExperimentProtocol p = Parse(Minimal());

        Assert.Equal([1], p.Seeds);
        Assert.Equal([TrainingMethod.SourceOnly], p.Baselines);
        Assert.Empty(p.Adaptation.Methods);
        Assert.Equal(SelectionRule.SourceVal, p.Selection);
        Assert.Equal(new XrayRecipe(), p.Preprocessing.Xray);
        Assert.Null(p.Preprocessing.Mri);
        Assert.Equal(1000, p.Training.Iterations);
        Assert.Null(p.Training.EarlyStopping);
        Assert.Equal(0.7, p.Data.Split.Train);
        Assert.Equal(SiteSource.FolderLevel, p.Data.Site.Source);
        Assert.Equal("auto", p.Device);
        Assert.Equal(Path.Combine(_dir, "images"), p.Data.Sources[0].FullPath);
    }

    [Fact]
    public void Parse_MethodSettings_OverrideTheDefaultsOfThatMethodOnly()
    {
        ExperimentProtocol p = Parse(Minimal() + """
            adaptation:
              methods: [dann, mcc, dan]
              trade_off: 0.5
              dann: {discriminator_width: 512}
              mcc: {temperature: 3, trade_off: 2}
              dan: {kernel_alphas: [1, 2]}
            """);

        MethodSpec[] m = [.. p.Adaptation.Methods];
        Assert.Equal([TrainingMethod.Dann, TrainingMethod.Mcc, TrainingMethod.Dan], m.Select(x => x.Method));
        Assert.Equal((512, 0.5), (m[0].DiscriminatorWidth, m[0].TradeOff));
        Assert.Equal((3.0, 2.0), (m[1].Temperature, m[1].TradeOff));
        Assert.Equal([1.0, 2.0], m[2].KernelAlphas);
    }

    [Theory]
    [InlineData("trainin:\n  lr: 0.1\n", 8, "trainin", "did you mean 'training'")]
    [InlineData("training:\n  lr: 0.1\n  momentun: 0.9\n", 10, "training.momentun", "unknown key 'momentun' (did you mean 'momentum'?)")]
    [InlineData("training:\n  lr: fast\n", 9, "training.lr", "expected a finite number")]
    [InlineData("training:\n  lr: \"0.01\"\n", 9, "training.lr", "expected a finite number")]
    [InlineData("training:\n  batch_size: 0\n", 9, "training.batch_size", "0 is out of range: expected 2 to 4096")]
    [InlineData("training:\n  lr: -1\n", 9, "training.lr", "expected a value in (0, 10]")]
    [InlineData("training: {iterations: 10, epochs: 2}\n", 8, "training.epochs", "not both")]
    [InlineData("report: {html: yes}\n", 8, "report.html", "expected true or false")]
    [InlineData("selection: best\n", 8, "selection", "'best' is not known; expected one of: source-val, im, snd, entropy, bnm, dev, ensv, oracle")]
    [InlineData("adaptation:\n  methods: [dann, fancy]\n", 9, "adaptation.methods[1]", "'fancy' is not known")]
    [InlineData("adaptation:\n  methods: [source-only]\n", 9, "adaptation.methods[0]", "is a baseline")]
    [InlineData("adaptation:\n  methods: [dann]\nbaselines: [target-only]\n", 10, "baselines", "include source-only")]
    [InlineData("adaptation:\n  methods: [dann]\n  coral: {trade_off: 1}\n", 10, "adaptation.coral", "not in adaptation.methods")]
    [InlineData("adaptation:\n  methods: [mcc]\n  mcc: {discriminator_width: 8}\n", 10, "adaptation.mcc.discriminator_width", "unknown key")]
    [InlineData("seeds: [1, 2, 1]\n", 8, "seeds[2]", "listed twice")]
    [InlineData("schema: 2\n", 8, "schema", "reads schema 1 only")]
    [InlineData("adaptation:\n  methods: [adabn]\n  adabn: {trade_off: 1}\n", 10, "adaptation.adabn.trade_off", "adaptation.adabn takes no settings")]
    [InlineData("training:\n  early_stopping: true\n", 9, "training.early_stopping", "expected a mapping of signal, patience, every")]
    [InlineData("device: gpu\n", 8, "device", "expected auto, cpu, cuda or cuda:N")]
    [InlineData("preprocessing:\n  mri: {size: 64}\n", 9, "preprocessing.mri", "only preprocessing.xray applies")]
    [InlineData("preprocessing:\n  xray: {clip: [99, 1]}\n", 9, "preprocessing.xray.clip", "below the high one")]
    [InlineData("evaluation: {ci: 1.5}\n", 8, "evaluation.ci", "out of range")]
    public void Parse_OneProblem_GivesOneErrorNamingLineAndField(string extra, int line, string field, string message)
    {
        var ex = Assert.Throws<ProtocolException>(() => Parse(Minimal() + extra));

        ProtocolError e = Assert.Single(ex.Errors);
        Assert.Equal((line, field), (e.Line, e.Field));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.StartsWith($"test.yaml:{line}:", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("target_sites: [B]", "target_sites: [A]", "data.target_sites", "both a source and a target site")]
    [InlineData("target_sites: [B]", "target_sites: []", "data.target_sites", "at least one site")]
    [InlineData("target_sites: [B]", "target_sites: [B, B]", "data.target_sites", "listed twice")]
    [InlineData("target_sites: [B]", "target_sites: [B]\n  site: floor:2", "data.site", "not a site rule")]
    [InlineData("labels: labels.csv", "labels: missing.csv", "data.labels", "no such file: 'missing.csv'")]
    [InlineData("labels: labels.csv", "labels: images", "data.labels", "is a folder")]
    [InlineData("source: images", "source: [images, nowhere]", "data.source[1]", "no such file or folder: 'nowhere'")]
    [InlineData("source: images", "source: labels.csv\n  label_key: id", "data.labels", null)]
    [InlineData("modality: xray", "modality: ct", "data.modality", "'ct' is not known")]
    [InlineData("labels: labels.csv", "labels: labels.csv\n  label_column: finding", "data.label_column", "no 'finding' column")]
    [InlineData("labels: labels.csv", "labels: labels.csv\n  label_key: sop", "data.label_key", "no 'sop' key column")]
    [InlineData("labels: labels.csv", "labels: labels.csv\n  site: column:hospital", "data.site", "no 'hospital' column")]
    [InlineData("labels: labels.csv", "labels: empty.csv", "data.labels", "is empty")]
    [InlineData("target_sites: [B]", "target_sites: [B]\n  split: {train: 0.5, val: 0.1, test: 0.1}", "data.split", "must be 1")]
    [InlineData("target_sites: [B]", "target_sites: [B]\n  split: {by: image}", "data.split.by", "only 'patient'")]
    public void Parse_BadData_NamesTheDataField(string from, string to, string field, string? message)
    {
        string yaml = Minimal().Replace(from, to, StringComparison.Ordinal);

        if (message is null)
        {
            // A manifest source with labels keyed by id is valid: the control for the rows around it.
            Assert.Equal(DataSourceKind.Manifest, Parse(yaml).Data.Sources[0].Kind);
            return;
        }

        var ex = Assert.Throws<ProtocolException>(() => Parse(yaml));

        ProtocolError e = Assert.Single(ex.Errors);
        Assert.Equal(field, e.Field);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.True(e.Line is >= 3 and <= 8, e.ToString());
    }

    [Fact]
    public void Parse_SeveralProblems_ReportsEachOnceInFileOrder()
    {
        var ex = Assert.Throws<ProtocolException>(() => Parse(Minimal() + "training:\n  lr: x\n  batch: 3\nselection: none\n"));

        Assert.Equal(["training.lr", "training.batch", "selection"], ex.Errors.Select(e => e.Field));
        Assert.Equal([9, 10, 11], ex.Errors.Select(e => e.Line));
    }

    [Fact]
    public void Parse_DuplicateKey_IsAnErrorAtItsLine()
    {
        var ex = Assert.Throws<ProtocolException>(() => Parse(Minimal() + "device: cpu\ndevice: cuda\n"));

        ProtocolError e = Assert.Single(ex.Errors);
        Assert.Equal(9, e.Line);
    }

    [Theory]
    [InlineData("name: [unclosed\n")]
    [InlineData("name: a\n  bad indent: - x\n")]
    public void Parse_InvalidYaml_IsOneErrorWithALine(string yaml)
    {
        var ex = Assert.Throws<ProtocolException>(() => Parse(yaml));

        Assert.Single(ex.Errors);
        Assert.Contains("not valid YAML", ex.Errors[0].Message, StringComparison.Ordinal);
        Assert.True(ex.Errors[0].Line >= 1);
    }

    [Theory]
    [InlineData(100_000)]
    [InlineData(ProtocolLoader.MaxNesting + 1)]
    public void Parse_HostileNesting_IsRefusedBeforeBuildingTheTree(int depth)
    {
        string yaml = "name: " + new string('[', depth) + new string(']', depth) + "\n";

        var ex = Assert.Throws<ProtocolException>(() => Parse(yaml));

        Assert.Contains("nested deeper than", Assert.Single(ex.Errors).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("# only a comment\n")]
    [InlineData("- a list\n")]
    [InlineData("just text")]
    public void Parse_NotAProtocol_IsATypedError(string yaml) =>
        Assert.Throws<ProtocolException>(() => Parse(yaml));

    [Fact]
    public void Parse_MissingRequiredFields_NamesEach()
    {
        var ex = Assert.Throws<ProtocolException>(() => Parse("description: nothing else\n"));

        Assert.Equal(["name", "data"], ex.Errors.Select(e => e.Field));
    }

    [Fact]
    public void Load_MissingOrHugeFile_IsATypedError()
    {
        string huge = Path.Combine(_dir, "huge.yaml");
        File.WriteAllText(huge, "# " + new string('x', ProtocolLoader.MaxFileBytes));

        Assert.Contains("no such protocol file", Assert.Throws<ProtocolException>(() => ProtocolLoader.Load(Path.Combine(_dir, "none.yaml"))).Message, StringComparison.Ordinal);
        Assert.Contains("at most", Assert.Throws<ProtocolException>(() => ProtocolLoader.Load(huge)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Hash_IgnoresCommentsKeyOrderAndSpelledOutDefaults_ButNotValues()
    {
        string a = Minimal() + "training: {lr: 0.01, batch_size: 32}\n";
        string b = "# a comment\n" + Minimal() + "training:\n  batch_size: 32   # same\n  lr: 0.010\n  momentum: 0.9\n";
        string c = Minimal() + "training: {lr: 0.02, batch_size: 32}\n";

        Assert.Equal(Parse(a).ComputeHash(), Parse(b).ComputeHash());
        Assert.NotEqual(Parse(a).ComputeHash(), Parse(c).ComputeHash());
        Assert.Matches("^[0-9a-f]{64}$", Parse(a).ComputeHash());
    }

    [Theory]
    [InlineData("cxr-site-shift.yaml")]
    [InlineData("mri-contrast-shift.yaml")]
    [InlineData("method-comparison-sweep.yaml")]
    [InlineData("template-dicom-folder.yaml")]
    public void ToYaml_LoadsBackToTheSameProtocolAndHash(string file)
    {
        var noFiles = new ProtocolLoadOptions { CheckFiles = false };
        ExperimentProtocol p = ProtocolLoader.Load(Path.Combine(s_protocols, file), noFiles);

        ExperimentProtocol again = ProtocolLoader.Parse(ProtocolSerializer.ToYaml(p), s_protocols, file, noFiles);

        Assert.Equal(p.ComputeHash(), again.ComputeHash());
        Assert.Equal(ProtocolSerializer.ToCanonicalJson(p), ProtocolSerializer.ToCanonicalJson(again));
    }

    [Theory]
    [InlineData("a: b")]
    [InlineData("'single' and \"double\"")]
    [InlineData("line1\nline2\r\n")]
    [InlineData("tab\there")]
    [InlineData("\u2028\u0085\u007f\u0000")]
    [InlineData("# not a comment")]
    [InlineData("- not a list")]
    [InlineData("null")]
    [InlineData("1.5")]
    [InlineData("é ü 中文 ☃")]
    [InlineData("  leading and trailing  ")]
    [InlineData("back\\slash")]
    public void ToYaml_TrickyText_RoundTripsExactly(string text) => Assert.True(ToYaml_AnyTextValue_RoundTripsExactly(text));

    [Property(MaxTest = 100)]
    public bool ToYaml_AnyTextValue_RoundTripsExactly(string? text)
    {
        string value = text ?? string.Empty;
        if (value.Any(char.IsSurrogate))
        {
            return true; // lone surrogates are not text a YAML file can hold
        }

        ExperimentProtocol p = Parse(Minimal()) with { Description = value, Report = new ReportSpec { Limitations = [value + "x"] } };

        ExperimentProtocol again = ProtocolLoader.Parse(ProtocolSerializer.ToYaml(p), _dir, "test.yaml");

        return again.Description == value && again.Report.Limitations[0] == value + "x" && again.ComputeHash() == p.ComputeHash();
    }

    [Fact]
    public void CanonicalJson_HasSortedKeysAndNoWhitespace()
    {
        string json = ProtocolSerializer.ToCanonicalJson(Parse(Minimal()));

        Assert.StartsWith("{\"adaptation\":{", json, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", json, StringComparison.Ordinal);
        Assert.DoesNotContain(_dir, json, StringComparison.Ordinal);
    }

    private static string Minimal() => """
        name: test-protocol
        data:
          modality: xray
          source: images
          labels: labels.csv
          source_sites: [A]
          target_sites: [B]

        """.Replace("\r\n", "\n", StringComparison.Ordinal);

    private ExperimentProtocol Parse(string yaml) => ProtocolLoader.Parse(yaml, _dir, "test.yaml");
}
