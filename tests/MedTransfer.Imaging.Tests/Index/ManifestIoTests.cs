using System.Text;
using FsCheck;
using FsCheck.Fluent;
using MedTransfer.Imaging.Index;
using MedTransfer.Testing;

namespace MedTransfer.Imaging.Tests.Index;

public sealed class ManifestIoTests
{
    private static readonly string _shaA = new('a', 64);
    private static readonly string _shaB = new('b', 64);

    internal static ManifestRow Row(string id, string sha, string patient = "TEST-001", string label = "pos", string site = "A") => new()
    {
        Id = id,
        Root = 0,
        Path = "site/" + id + ".dcm",
        Format = SampleFormat.Dicom,
        Patient = patient,
        Study = "1.2.3",
        Series = "1.2.3.4",
        Modality = "CR",
        Manufacturer = "ACME, Inc. \"X\"",
        Model = "Model 9\nrev 2",
        Site = site,
        Label = label,
        Sex = "F",
        AgeBand = "60-79",
        View = "PA",
        Width = 6,
        Height = 4,
        Depth = 1,
        SizeBytes = 1234,
        Sha256 = sha,
        Flags = QualityFlags.DuplicateSop | QualityFlags.MissingStudy,
        Split = Partition.Validation,
    };

    [Fact]
    public void Csv_RoundTrip_KeepsEveryFieldIncludingQuotesCommasAndNewlines()
    {
        var manifest = new Manifest([Row("1.2.1", _shaA), Row("1.2.2", _shaB) with { Flags = QualityFlags.None, Split = Partition.None, Root = 3 }]);

        string csv = ManifestCsv.ToCsv(manifest);
        Manifest back = ManifestCsv.Read(new StringReader(csv));

        Assert.StartsWith(string.Join(',', ManifestCsv.Columns) + "\r\n", csv, StringComparison.Ordinal);
        Assert.Equal(manifest.Rows, back.Rows);
        Assert.Equal(manifest.ManifestHash, back.ManifestHash);
    }

    [Fact]
    public void Json_RoundTrip_KeepsEveryFieldAndChecksTheHash()
    {
        var manifest = new Manifest([Row("1.2.1", _shaA), Row("1.2.2", _shaB) with { Split = Partition.Test }]);
        using var stream = new MemoryStream();

        ManifestJson.Write(manifest, stream);
        stream.Position = 0;
        Manifest back = ManifestJson.Read(stream);

        Assert.Equal(manifest.Rows, back.Rows);
    }

    [Fact]
    public void Json_EditedSha_FailsTheHashCheck()
    {
        var manifest = new Manifest([Row("1.2.1", _shaA)]);
        using var stream = new MemoryStream();
        ManifestJson.Write(manifest, stream);
        string text = Encoding.UTF8.GetString(stream.ToArray()).Replace(_shaA, _shaB, StringComparison.Ordinal);

        var ex = Assert.Throws<ManifestException>(() => ManifestJson.Read(new MemoryStream(Encoding.UTF8.GetBytes(text))));

        Assert.Equal("manifestHash", ex.Column);
    }

    [Fact]
    public void FileSaveLoad_CsvAndJson_RoundTripAtomically()
    {
        string dir = TestPaths.NewTempDirectory("medtransfer-manifest");
        try
        {
            var manifest = new Manifest([Row("1.2.1", _shaA)]);
            foreach (string name in new[] { "m.csv", "m.json" })
            {
                string path = Path.Combine(dir, name);
                ManifestFile.Save(manifest, path);
                ManifestFile.Save(manifest, path);
                Assert.Equal(manifest.Rows, ManifestFile.Load(path).Rows);
            }

            Assert.Equal(["m.csv", "m.json"], Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ManifestHash_IndependentOfRowOrderAndOfOtherColumns()
    {
        var a = new Manifest([Row("1.2.1", _shaA), Row("1.2.2", _shaB)]);
        var b = new Manifest([Row("1.2.2", _shaB, label: "neg"), Row("1.2.1", _shaA, patient: "TEST-999")]);
        var c = new Manifest([Row("1.2.1", _shaB), Row("1.2.2", _shaA)]);

        Assert.Equal(a.ManifestHash, b.ManifestHash);
        Assert.NotEqual(a.ManifestHash, c.ManifestHash);
        Assert.Matches("^[0-9a-f]{64}$", a.ManifestHash);
    }

    [Fact]
    public void Read_UnbalancedQuote_NamesTheLine()
    {
        string csv = ManifestCsv.ToCsv(new Manifest([Row("1.2.1", _shaA)]));
        string hostile = csv + "1.2.9,0,\"p/x.dcm,dicom\r\n";

        var ex = Assert.Throws<ManifestException>(() => ManifestCsv.Read(new StringReader(hostile)));

        Assert.Equal(4, ex.Line);
        Assert.Contains("line 4", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_UnknownColumn_NamesTheColumn()
    {
        string csv = ManifestCsv.ToCsv(new Manifest([Row("1.2.1", _shaA)])).Replace("age_band", "age", StringComparison.Ordinal);

        var ex = Assert.Throws<ManifestException>(() => ManifestCsv.Read(new StringReader(csv)));

        Assert.Equal((1, "age"), (ex.Line, ex.Column));
    }

    [Fact]
    public void Read_MissingColumn_NamesTheColumn()
    {
        string[] lines = ManifestCsv.ToCsv(new Manifest([Row("1.2.1", _shaA)])).Split("\r\n");
        string csv = string.Join("\r\n", lines.Select(l => l.Length == 0 ? l : string.Join(',', CsvFields(l)[..^1])));

        var ex = Assert.Throws<ManifestException>(() => ManifestCsv.Read(new StringReader(csv)));

        Assert.Equal("split", ex.Column);
    }

    [Theory]
    [InlineData("sha256", "zz")]
    [InlineData("width", "-3")]
    [InlineData("width", "1e3")]
    [InlineData("flags", "Bogus")]
    [InlineData("flags", "64")]
    [InlineData("split", "holdout")]
    [InlineData("format", "bmp")]
    [InlineData("path", "../../etc/passwd")]
    [InlineData("path", "/etc/passwd")]
    [InlineData("path", "a\\..\\b")]
    public void Read_BadValue_NamesLineAndColumnButNotTheValue(string column, string value)
    {
        string csv = ManifestCsv.ToCsv(new Manifest([Row("1.2.1", _shaA), Row("1.2.2", _shaB)]));
        string[] lines = csv.Split("\r\n");
        var header = lines[0].Split(',').ToList();
        string[] fields = CsvFields(lines[2]);
        fields[header.IndexOf(column)] = value;
        lines[2] = string.Join(',', fields.Select(f => f.Contains(',', StringComparison.Ordinal) || f.Contains('"', StringComparison.Ordinal) || f.Contains('\n', StringComparison.Ordinal) ? "\"" + f.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : f));

        var ex = Assert.Throws<ManifestException>(() => ManifestCsv.Read(new StringReader(string.Join("\r\n", lines))));

        Assert.Equal(column, ex.Column);
        Assert.Equal(4, ex.Line); // the first data row spans lines 2-3 (a quoted newline in the model name)
        Assert.DoesNotContain(value, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_WrongFieldCount_NamesTheLine()
    {
        string csv = ManifestCsv.ToCsv(new Manifest([Row("1.2.1", _shaA)])) + "only,three,fields\r\n";

        var ex = Assert.Throws<ManifestException>(() => ManifestCsv.Read(new StringReader(csv)));

        Assert.Equal(4, ex.Line);
    }

    [Fact]
    public void Read_RepeatedId_Throws()
    {
        string csv = ManifestCsv.ToCsv(new Manifest([Row("1.2.1", _shaA)]));
        string dup = csv + csv.Split("\r\n", 2)[1];

        Assert.Equal("id", Assert.Throws<ManifestException>(() => ManifestCsv.Read(new StringReader(dup))).Column);
    }

    [Fact]
    public void Read_Empty_Throws() => Assert.Throws<ManifestException>(() => ManifestCsv.Read(new StringReader(string.Empty)));

    [Fact]
    public void ResolvePath_InsideTheRoot_IsTheFullPath()
    {
        string root = Path.Combine(Path.GetTempPath(), "r");

        Assert.Equal(Path.Combine(root, "site", "1.2.1.dcm"), Manifest.ResolvePath(Row("1.2.1", _shaA), [root]));
        Assert.Throws<ArgumentException>(() => Manifest.ResolvePath(Row("1.2.1", _shaA) with { Root = 1 }, [root]));
    }

    [Fact]
    public void Csv_RoundTrip_ArbitraryText_Property()
    {
        Prop.ForAll(
            ArbMap.Default.ArbFor<NonNull<string>>(),
            ArbMap.Default.ArbFor<NonNull<string>>(),
            (patient, label) =>
            {
                string p = patient.Get.Replace("\0", string.Empty, StringComparison.Ordinal);
                string l = label.Get.Replace("\0", string.Empty, StringComparison.Ordinal);
                var manifest = new Manifest([Row("1.2.1", _shaA, patient: p, label: l)]);
                Manifest back = ManifestCsv.Read(new StringReader(ManifestCsv.ToCsv(manifest)));
                return back.Rows[0] == manifest.Rows[0];
            }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Read_ArbitraryText_ReturnsOrThrowsManifestExceptionOnly_Property()
    {
        string header = string.Join(',', ManifestCsv.Columns) + "\r\n";
        Prop.ForAll(
            ArbMap.Default.ArbFor<NonNull<string>>(),
            text =>
            {
                foreach (string input in new[] { text.Get, header + text.Get })
                {
                    try
                    {
                        ManifestCsv.Read(new StringReader(input));
                    }
                    catch (ManifestException)
                    {
                    }
                }
            }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void ReadJson_ArbitraryBytes_ThrowsManifestExceptionOnly_Property()
    {
        Prop.ForAll(
            ArbMap.Default.ArbFor<byte[]>(),
            bytes =>
            {
                try
                {
                    ManifestJson.Read(new MemoryStream(bytes));
                }
                catch (ManifestException)
                {
                }
            }).QuickCheckThrowOnFailure();
        foreach (string hostile in new[] { "[]", "{\"format\":\"medtransfer-manifest\",\"rows\":[1]}", "{\"format\":\"medtransfer-manifest\",\"rows\":[{\"id\":5}]}" })
        {
            Assert.Throws<ManifestException>(() => ManifestJson.Read(new MemoryStream(Encoding.UTF8.GetBytes(hostile))));
        }
    }

    private static string[] CsvFields(string line)
    {
        var fields = new List<string>();
        var current = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    current.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }

        fields.Add(current.ToString());
        return [.. fields];
    }
}
