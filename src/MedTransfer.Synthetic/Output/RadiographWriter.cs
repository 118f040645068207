using MedTransfer.Dicom;
using MedTransfer.Dicom.Pixels;
using MedTransfer.Synthetic.Phantoms;
using MedTransfer.Synthetic.Randomness;

namespace MedTransfer.Synthetic.Output;

/// <summary>Renders one chest phantom through a site's detector and writes it as a CR or DX file.</summary>
internal static class RadiographWriter
{
    public const string CrImageStorage = "1.2.840.10008.5.1.4.1.1.1";
    public const string DxForPresentation = "1.2.840.10008.5.1.4.1.1.1.1";

    public static ManifestRow Write(RadiographPlan plan, SeededRandom root, int resolutionFactor, string outputDirectory)
    {
        RadiographProfile site = plan.Study.Patient.Site.Radiograph;
        SeededRandom patientRandom = root.Derive("anatomy/" + plan.Study.Patient.Id);
        ChestAnatomy anatomy = ChestAnatomy.Draw(patientRandom, plan.Study.Patient.Sex == "M");
        SeededRandom r = root.Derive("image/" + plan.RandomKey);
        ChestView view = ChestPhantom.DrawView(r.Derive("view"), root.Derive("finding/" + plan.Study.Patient.Id), anatomy, plan.Finding);
        int size = site.Size * resolutionFactor;
        double spacing = site.PixelSpacingMm / resolutionFactor;
        double[] density = new ChestPhantom(anatomy, view).Render(size, size, spacing, r.Derive("texture"));
        ushort[] stored = Detector(density, size, spacing, site, plan.Shortcut, r.Derive("detector"));

        var module = new PixelModule(size, size, 1, 16, site.BitsStored, site.BitsStored - 1, 0, 0, site.Photometric, 1);
        DicomDataset ds = Header(plan, site, size, spacing);
        TransferSyntax syntax = DicomOutput.SetPixels(ds, module, DicomOutput.ToBytes(stored), site.TransferSyntaxUid);
        DicomOutput.Save(ds, syntax, Path.Combine(outputDirectory, plan.RelativePath));
        return ManifestRow.For(plan.Study, plan.SopUid, plan.RelativePath, site.Modality, plan.Finding.ToString().ToLowerInvariant(), 1, syntax.Uid);
    }

    /// <summary>
    /// The site's detector and processing: contrast and gamma (the LUT response), white, blotchy and line noise,
    /// the unexposed collimation border, burned-in markers, quantisation to the stored bits, MONOCHROME1 inversion.
    /// </summary>
    internal static ushort[] Detector(double[] density, int size, double spacing, RadiographProfile site, bool shortcut, SeededRandom r)
    {
        int max = (1 << site.BitsStored) - 1;
        var blotches = new SmoothField(r.Derive("correlated"), Math.Max(2, size / 5), Math.Max(2, size / 5));
        SeededRandom lines = r.Derive("lines");
        SeededRandom white = r.Derive("white");
        SeededRandom geometry = r.Derive("collimation");
        double left = site.Collimation * geometry.NextDouble(0.6, 1.4);
        double right = site.Collimation * geometry.NextDouble(0.6, 1.4);
        double top = site.Collimation * geometry.NextDouble(0.6, 1.4);
        double bottom = site.Collimation * geometry.NextDouble(0.6, 1.4);
        double tilt = site.Collimation > 0 ? geometry.Normal(0.0, 0.02) : 0.0;
        double exposure = geometry.Normal(0.0, 0.03);
        var v = new double[density.Length];
        for (int y = 0; y < size; y++)
        {
            double lineOffset = site.LineNoise > 0 ? site.LineNoise * lines.Normal() : 0.0;
            for (int x = 0; x < size; x++)
            {
                int at = (y * size) + x;
                double p = Math.Clamp((density[at] / 0.8) + exposure, 0.0, 1.0);
                double value = Math.Clamp(0.5 + (site.Contrast * (p - 0.5)), 0.0, 1.0);
                value = site.Gamma == 1.0 ? value : DeterministicMath.Pow(value, site.Gamma);
                if (site.Collimation > 0)
                {
                    double u = ((x + 0.5) / size) - 0.5;
                    double w = ((y + 0.5) / size) - 0.5;
                    double cu = u + (tilt * w) + 0.5;
                    double cw = w - (tilt * u) + 0.5;
                    if (cu < left || cu > 1.0 - right || cw < top || cw > 1.0 - bottom)
                    {
                        value = 0.92;
                    }
                }

                value += lineOffset;
                if (site.CorrelatedNoise > 0)
                {
                    value += site.CorrelatedNoise * blotches.Sample((x + 0.5) / size, (y + 0.5) / size);
                }

                value += site.WhiteNoise * white.Normal();
                v[at] = value;
            }
        }

        int scale = Math.Max(1, (int)Math.Round(3.0 / spacing));
        int margin = (int)Math.Ceiling((site.Collimation * 1.5 * size) + (4 * scale));
        if (site.Marker is { } marker)
        {
            BurnedInText.Draw(v, size, size, marker, size - margin - (BurnedInText.Width(marker) * scale), margin, scale, 1.0);
        }

        if (shortcut && site.ShortcutMarker is { } tag)
        {
            BurnedInText.Draw(v, size, size, tag, margin, margin, scale, 1.0);
        }

        var stored = new ushort[v.Length];
        bool invert = site.Photometric == "MONOCHROME1";
        for (int i = 0; i < v.Length; i++)
        {
            int s = (int)Math.Round(Math.Clamp(v[i], 0.0, 1.0) * max);
            stored[i] = (ushort)(invert ? max - s : s);
        }

        return stored;
    }

    private static DicomDataset Header(RadiographPlan plan, RadiographProfile site, int size, double spacing)
    {
        bool dx = site.Modality == "DX";
        SiteProfile profile = plan.Study.Patient.Site;
        DicomDataset ds = DicomOutput.Common(plan.Study, dx ? DxForPresentation : CrImageStorage, plan.SopUid, site.Modality, profile.Manufacturer, site.ModelName, site.StationName);
        string view = plan.Shortcut ? "AP" : "PA";
        ds.Set(Tag.ImageType, DicomVR.CS, "ORIGINAL", "PRIMARY");
        ds.Set(Tag.StudyDescription, DicomVR.LO, "CHEST");
        ds.Set(Tag.SeriesDescription, DicomVR.LO, "CHEST " + view);
        ds.Set(Tag.BodyPartExamined, DicomVR.CS, "CHEST");
        ds.Set(Tag.ViewPosition, DicomVR.CS, view);
        ds.Set(Tag.PatientOrientation, DicomVR.CS, "R", "F");
        ds.SetNumbers(Tag.InstanceNumber, DicomVR.IS, 1);
        ds.SetNumbers(Tag.KVP, DicomVR.DS, dx ? 120 : 110);
        ds.SetNumbers(Tag.ImagerPixelSpacing, DicomVR.DS, Round(spacing), Round(spacing));
        ds.SetNumbers(Tag.PixelSpacing, DicomVR.DS, Round(spacing), Round(spacing));
        ds.Set(Tag.PixelSpacingCalibrationType, DicomVR.CS, "GEOMETRY");
        if (dx)
        {
            ds.Set(Tag.PresentationIntentType, DicomVR.CS, "FOR PRESENTATION");
            ds.Set(Tag.DetectorType, DicomVR.CS, "SCINTILLATOR");
            ds.Set(Tag.PixelIntensityRelationship, DicomVR.CS, "LOG");
            ds.SetNumbers(Tag.PixelIntensityRelationshipSign, DicomVR.SS, 1);
        }

        int max = (1 << site.BitsStored) - 1;
        ds.SetNumbers(Tag.SamplesPerPixel, DicomVR.US, 1);
        ds.Set(Tag.PhotometricInterpretation, DicomVR.CS, site.Photometric);
        ds.SetNumbers(Tag.Rows, DicomVR.US, size);
        ds.SetNumbers(Tag.Columns, DicomVR.US, size);
        ds.SetNumbers(Tag.BitsAllocated, DicomVR.US, 16);
        ds.SetNumbers(Tag.BitsStored, DicomVR.US, site.BitsStored);
        ds.SetNumbers(Tag.HighBit, DicomVR.US, site.BitsStored - 1);
        ds.SetNumbers(Tag.PixelRepresentation, DicomVR.US, 0);
        ds.Set(Tag.BurnedInAnnotation, DicomVR.CS, site.Marker is not null || plan.Shortcut ? "YES" : "NO");
        ds.SetNumbers(Tag.WindowCenter, DicomVR.DS, Round((site.RescaleSlope * max / 2.0) + site.RescaleIntercept));
        ds.SetNumbers(Tag.WindowWidth, DicomVR.DS, Round(site.RescaleSlope * max));
        ds.SetNumbers(Tag.RescaleIntercept, DicomVR.DS, site.RescaleIntercept);
        ds.SetNumbers(Tag.RescaleSlope, DicomVR.DS, site.RescaleSlope);
        ds.Set(Tag.RescaleType, DicomVR.LO, "US");
        ds.Set(Tag.LossyImageCompression, DicomVR.CS, "00");
        return ds;
    }

    private static double Round(double value) => Math.Round(value, 6);
}
