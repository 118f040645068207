using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using MedTransfer.Imaging.Index;
using MedTransfer.Imaging.Splits;

namespace MedTransfer.Imaging.Tests.Splits;

public sealed class PatientSplitterTests
{
    /// <summary>Patients p with (label, site, sample count); sample ids unique.</summary>
    private static Manifest Cohort(IEnumerable<(string Patient, string Label, string Site, int Samples)> patients)
    {
        var rows = new List<ManifestRow>();
        foreach ((string patient, string label, string site, int samples) in patients)
        {
            for (int k = 0; k < samples; k++)
            {
                string id = patient + "-" + k.ToString(CultureInfo.InvariantCulture);
                rows.Add(new ManifestRow { Id = id, Path = id + ".dcm", Patient = patient, Label = label, Site = site, Sha256 = new string('0', 64) });
            }
        }

        return new Manifest(rows);
    }

    private static Manifest Standard(int patients = 100) => Cohort(Enumerable.Range(0, patients).Select(i =>
        (string.Create(CultureInfo.InvariantCulture, $"TEST-{i:D4}"), i % 3 == 0 ? "pos" : "neg", i % 2 == 0 ? "A" : "B", 1 + (i % 4))));

    private static Dictionary<string, Partition> ByPatient(Manifest manifest) =>
        manifest.Rows.GroupBy(r => r.Patient).ToDictionary(g => g.Key, g => g.First().Split);

    [Fact]
    public void Assign_NoPatientInTwoPartitions_Property()
    {
        Gen<(int Patients, int Seed, int[] Labels, int[] Counts)> gen =
            from n in Gen.Choose(1, 60)
            from seed in Gen.Choose(0, 1000)
            from labels in Gen.ArrayOf(Gen.Choose(0, 2), n)
            from counts in Gen.ArrayOf(Gen.Choose(1, 4), n)
            select (n, seed, labels, counts);

        Prop.ForAll(gen.ToArbitrary(), c =>
        {
            Manifest cohort = Cohort(Enumerable.Range(0, c.Patients).Select(i => ($"P{i}", $"L{c.Labels[i]}", "S", c.Counts[i])));
            Manifest split = PatientSplitter.Assign(cohort, new SplitOptions { Seed = (ulong)c.Seed });
            SplitCheck check = SplitValidator.Inspect(split);
            bool withinOne = split.Rows.GroupBy(r => r.Patient).GroupBy(g => g.First().Label).All(stratum =>
            {
                int n = stratum.Count();
                return new[] { (Partition.Train, 0.7), (Partition.Validation, 0.15), (Partition.Test, 0.15) }
                    .All(p => Math.Abs(stratum.Count(g => g.First().Split == p.Item1) - (n * p.Item2)) <= 1.0);
            });
            return check.IsValid && withinOne && split.Rows.All(r => r.Split != Partition.None);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Assign_FractionsPerStratum_WithinOnePatient()
    {
        Manifest split = PatientSplitter.Assign(Standard(), new SplitOptions { StratifyBySite = true });

        foreach (var stratum in split.Rows.GroupBy(r => r.Patient).GroupBy(g => (g.First().Label, g.First().Site)))
        {
            int n = stratum.Count();
            Assert.InRange(stratum.Count(g => g.First().Split == Partition.Train), (n * 0.7) - 1, (n * 0.7) + 1);
            Assert.InRange(stratum.Count(g => g.First().Split == Partition.Validation), (n * 0.15) - 1, (n * 0.15) + 1);
            Assert.InRange(stratum.Count(g => g.First().Split == Partition.Test), (n * 0.15) - 1, (n * 0.15) + 1);
        }
    }

    [Fact]
    public void Assign_SameSeed_SameSplit_DifferentSeed_DifferentSplit()
    {
        Manifest cohort = Standard();

        var a = ByPatient(PatientSplitter.Assign(cohort, new SplitOptions { Seed = 7 }));
        var b = ByPatient(PatientSplitter.Assign(cohort, new SplitOptions { Seed = 7 }));
        var c = ByPatient(PatientSplitter.Assign(cohort, new SplitOptions { Seed = 8 }));

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Assign_RowsInAnotherOrder_SameAssignment()
    {
        Manifest cohort = Standard();
        var reversed = new Manifest(cohort.Rows.Reverse());

        Assert.Equal(ByPatient(PatientSplitter.Assign(cohort, new SplitOptions())), ByPatient(PatientSplitter.Assign(reversed, new SplitOptions())));
    }

    [Fact]
    public void Check_PlantedLeak_ThrowsWithTheCountButNotThePatient()
    {
        Manifest split = PatientSplitter.Assign(Standard(), new SplitOptions());
        ManifestRow victim = split.Rows.First(r => r.Patient == "TEST-0003");
        Partition other = victim.Split == Partition.Train ? Partition.Test : Partition.Train;
        Manifest leaky = split.With(r => r.Id == victim.Id ? r with { Split = other } : r);

        var ex = Assert.Throws<SplitLeakageException>(() => SplitValidator.Check(leaky));

        Assert.Equal(1, ex.LeakedPatients);
        Assert.Equal(4, ex.LeakedSamples);
        Assert.DoesNotContain("TEST-", ex.Message, StringComparison.Ordinal);
        Assert.True(SplitValidator.Check(split).IsValid);
    }

    [Fact]
    public void Inspect_PartitionWithOneClass_Warns()
    {
        Manifest cohort = Cohort(Enumerable.Range(0, 10).Select(i => ($"TEST-{i}", i < 9 ? "neg" : "pos", "A", 1)));

        SplitCheck check = SplitValidator.Inspect(PatientSplitter.Assign(cohort, new SplitOptions()));

        Assert.Contains(check.Warnings, w => w.Contains("single class", StringComparison.Ordinal));
        Assert.DoesNotContain(check.Warnings, w => w.Contains("TEST-", StringComparison.Ordinal));
    }

    [Fact]
    public void Assign_SamplesWithoutPatient_AreTheirOwnPatientsAndWarned()
    {
        Manifest cohort = new(Enumerable.Range(0, 20).Select(i => new ManifestRow { Id = $"f-{i}", Path = $"{i}.png", Label = "x", Sha256 = new string('0', 64) }));

        Manifest split = PatientSplitter.Assign(cohort, new SplitOptions());
        SplitCheck check = SplitValidator.Check(split);

        Assert.Equal(14, split.Rows.Count(r => r.Split == Partition.Train));
        Assert.Contains(check.Warnings, w => w.Contains("no patient id", StringComparison.Ordinal));
    }

    [Fact]
    public void LeaveSiteOut_TargetSiteIsTheWholeTestSetAndNoPatientLeaks()
    {
        var rows = Standard().Rows.ToList();
        // One patient seen at both sites: all of their samples must go to test.
        rows.Add(rows.First(r => r.Patient == "TEST-0001") with { Id = "extra", Site = "A" });
        var cohort = new Manifest(rows);

        Manifest split = PatientSplitter.LeaveSiteOut(cohort, "A", new SplitOptions { Train = 0.8, Validation = 0.2, Test = 0 });

        Assert.All(split.Rows.Where(r => r.Site == "A"), r => Assert.Equal(Partition.Test, r.Split));
        Assert.All(split.Rows.Where(r => r.Patient == "TEST-0001"), r => Assert.Equal(Partition.Test, r.Split));
        Assert.Contains(split.Rows, r => r.Site == "B" && r.Split == Partition.Train);
        Assert.Contains(split.Rows, r => r.Site == "B" && r.Split == Partition.Validation);
        Assert.True(SplitValidator.Check(split).IsValid);
        Assert.Throws<ArgumentException>(() => PatientSplitter.LeaveSiteOut(cohort, "Z", new SplitOptions()));
    }

    [Theory]
    [InlineData("0.7,0.15")]
    [InlineData("0.7,0.2,0.2")]
    [InlineData("0.7;0.15;0.15")]
    [InlineData("-0.1,0.6,0.5")]
    public void ParseFractions_Invalid_Throws(string text) => Assert.Throws<ArgumentException>(() => SplitOptions.ParseFractions(text));

    [Fact]
    public void ParseFractions_Valid_ReadsInvariantNumbers()
    {
        SplitOptions options = SplitOptions.ParseFractions("0.6, 0.2, 0.2", 9);

        Assert.Equal((0.6, 0.2, 0.2, 9UL), (options.Train, options.Validation, options.Test, options.Seed));
    }

    [Theory]
    [InlineData(10, 7, 2, 1)]
    [InlineData(1, 1, 0, 0)]
    [InlineData(3, 2, 1, 0)]
    [InlineData(7, 5, 1, 1)]
    public void Apportion_LargestRemainder(int n, int train, int val, int test) =>
        Assert.Equal([train, val, test], PatientSplitter.Apportion(n, 0.7, 0.15, 0.15));
}
