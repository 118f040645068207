using MedTransfer.Dicom;
using MedTransfer.Imaging.Volumes;
using MedTransfer.Testing;

namespace MedTransfer.Imaging.Tests.Volumes;

/// <summary>
/// Philips MR intensities: floating-point values FP = (SV·RS + RI) / (RS·SS) by default, as dcm2niix writes them, or
/// display values DV = SV·RS + RI when asked; other vendors' images are never rescaled by a private slope.
/// </summary>
public sealed class PhilipsScalingTests : IDisposable
{
    private const double RescaleSlope = 2.5;
    private const double RescaleIntercept = -40;
    private const double ScaleSlope = 0.125;

    private static readonly double[] s_axial = [1, 0, 0, 0, 1, 0];

    private readonly string _dir = TestPaths.NewTempDirectory("medtransfer-philips");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Assemble_PhilipsByDefault_GivesFloatingPointValues()
    {
        List<SliceSpec> specs = Write("Philips Medical Systems", ScaleSlope);

        AssembledVolume result = Assemble(VolumeAssemblyOptions.Default);

        foreach ((SliceSpec s, int k) in specs.Select((s, k) => (s, k)))
        {
            Assert.Equal((float)(((s.Stored(1, 2) * RescaleSlope) + RescaleIntercept) / (RescaleSlope * ScaleSlope)), result.Volume[2, 1, k]);
        }

        Assert.Equal(new VolumeScaling(IntensityScale.PhilipsFloat, RescaleSlope, RescaleIntercept, ScaleSlope), result.Scaling);
    }

    [Fact]
    public void Assemble_PhilipsDisplayAsked_GivesTheModalityValues()
    {
        List<SliceSpec> specs = Write("Philips Healthcare", ScaleSlope);

        AssembledVolume result = Assemble(new VolumeAssemblyOptions { PhilipsScaling = PhilipsScaling.Display });

        Assert.Equal(specs[1].Expected(3, 4), result.Volume[4, 3, 1]);
        Assert.Equal(IntensityScale.PhilipsDisplay, result.Scaling.Scale);
        Assert.Equal(ScaleSlope, result.Scaling.PhilipsScaleSlope);
    }

    [Fact]
    public void Assemble_OtherVendorWithTheSamePrivateTag_KeepsTheModalityValues()
    {
        List<SliceSpec> specs = Write("SIEMENS", ScaleSlope);

        AssembledVolume result = Assemble(VolumeAssemblyOptions.Default);

        Assert.Equal(specs[0].Expected(0, 0), result.Volume[0, 0, 0]);
        Assert.Equal(VolumeScaling.Modality, result.Scaling);
    }

    [Fact]
    public void Assemble_PhilipsWithoutScaleSlope_KeepsTheModalityValues()
    {
        List<SliceSpec> specs = Write("Philips Medical Systems", scaleSlope: null);

        AssembledVolume result = Assemble(VolumeAssemblyOptions.Default);

        Assert.Equal(specs[2].Expected(1, 1), result.Volume[1, 1, 2]);
        Assert.Equal(IntensityScale.Modality, result.Scaling.Scale);
    }

    [Fact]
    public void Assemble_EnhancedPhilipsWithPerFrameScaleSlopes_DividesEachFrameByItsOwn()
    {
        List<SliceSpec> frames = SyntheticSeries.Stack([0, 0, 0], s_axial, [0, 2, 4], s => s with { Slope = RescaleSlope, Intercept = RescaleIntercept });
        string path = SyntheticSeries.WriteEnhanced(_dir, frames);
        double[] perFrame = [0.5, 0.25, 2];
        DicomFile file = DicomFile.Open(path);
        file.Dataset.Set(Tag.Manufacturer, DicomVR.LO, "Philips Medical Systems");
        IReadOnlyList<DicomDataset> items = file.Dataset.GetSequence(Tag.PerFrameFunctionalGroupsSequence);
        for (int f = 0; f < items.Count; f++)
        {
            var philips = new DicomDataset();
            philips.Set(new DicomTag(0x2005, 0x0010), DicomVR.LO, "Philips MR Imaging DD 001");
            philips.SetNumbers(new DicomTag(0x2005, 0x100E), DicomVR.FL, perFrame[f]);
            items[f].Set(new DicomTag(0x2005, 0x0014), DicomVR.LO, "Philips MR Imaging DD 005");
            items[f].SetSequence(new DicomTag(0x2005, 0x140F), [philips]);
        }

        file.Save(path);

        AssembledVolume result = Assemble(VolumeAssemblyOptions.Default);

        for (int k = 0; k < frames.Count; k++)
        {
            Assert.Equal((float)(frames[k].Expected(0, 1) / (RescaleSlope * perFrame[k])), result.Volume[1, 0, k]);
        }
    }

    private List<SliceSpec> Write(string manufacturer, double? scaleSlope)
    {
        List<SliceSpec> specs = SyntheticSeries.Stack([0, 0, 0], s_axial, [0, 2, 4], s => s with
        {
            Manufacturer = manufacturer,
            PhilipsScaleSlope = scaleSlope,
            Slope = RescaleSlope,
            Intercept = RescaleIntercept,
        });
        specs.ForEach(s => SyntheticSeries.Write(_dir, s));
        return specs;
    }

    private AssembledVolume Assemble(VolumeAssemblyOptions options)
    {
        SeriesScanResult scan = SeriesScanner.Scan(_dir);
        Assert.Empty(scan.Failures);
        return VolumeAssembler.Assemble(Assert.Single(Assert.Single(scan.Series).Stacks), options);
    }
}
