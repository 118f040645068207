using System.Globalization;
using MedTransfer.Dicom;
using MedTransfer.Dicom.Pixels;
using MedTransfer.Synthetic.Phantoms;
using MedTransfer.Synthetic.Randomness;

namespace MedTransfer.Synthetic.Output;

/// <summary>Renders one brain MRI series (axial or sagittal, one file per slice) with consistent geometry tags.</summary>
internal static class MriWriter
{
    public const string MrImageStorage = "1.2.840.10008.5.1.4.1.1.4";
    private const int BitsStored = 12;

    public static IReadOnlyList<ManifestRow> Write(MriPlan plan, SeededRandom root, int resolutionFactor, string outputDirectory, Action sliceDone)
    {
        SiteProfile profile = plan.Study.Patient.Site;
        MriProfile site = profile.Mri;
        PatientPlan patient = plan.Study.Patient;
        SeededRandom r = root.Derive("series/" + plan.RandomKey);
        BrainAnatomy anatomy = BrainAnatomy.Draw(root.Derive("head/" + patient.Id + "/" + plan.Study.Index.ToString(CultureInfo.InvariantCulture)), patient.Sex == "M", patient.Age, plan.Study.Label);
        var phantom = new BrainPhantom(anatomy, site.Weighting);
        int n = site.Matrix * resolutionFactor;
        double spacing = site.PixelSpacingMm / resolutionFactor;
        Geometry g = Geometry.For(site.Orientation, n, spacing, site.Slices, site.SpacingBetweenSlicesMm, r.Derive("geometry"));
        SeededRandom bias = r.Derive("bias");
        (double X, double Y, double Z) gradient = (bias.Normal(), bias.Normal(), bias.Normal());
        double curvature = bias.Normal();
        double gain = r.Derive("gain").NextDouble(2300.0, 3100.0);
        var module = new PixelModule(n, n, 1, 16, BitsStored, BitsStored - 1, 0, 0, "MONOCHROME2", 1);
        var rows = new List<ManifestRow>(site.Slices);
        for (int k = 0; k < site.Slices; k++)
        {
            SeededRandom noise = r.Derive("noise/" + k.ToString(CultureInfo.InvariantCulture));
            (double X, double Y, double Z) origin = g.Position(k);
            var stored = new ushort[n * n];
            for (int row = 0; row < n; row++)
            {
                for (int column = 0; column < n; column++)
                {
                    double px = origin.X + (column * spacing * g.Row.X) + (row * spacing * g.Column.X);
                    double py = origin.Y + (column * spacing * g.Row.Y) + (row * spacing * g.Column.Y);
                    double pz = origin.Z + (column * spacing * g.Row.Z) + (row * spacing * g.Column.Z);

                    // Partial volume: three samples across the slice thickness.
                    double signal = 0.0;
                    for (int s = -1; s <= 1; s++)
                    {
                        double t = s * site.SliceThicknessMm / 3.0;
                        signal += phantom.Signal(px + (t * g.Normal.X), py + (t * g.Normal.Y), pz + (t * g.Normal.Z));
                    }

                    signal /= 3.0;
                    double field = 1.0 + (site.BiasField * (((gradient.X * px) + (gradient.Y * py) + (gradient.Z * pz)) / 90.0))
                        + (site.BiasField * 0.5 * curvature * (((px * px) + (py * py) + (pz * pz)) / 8100.0));
                    signal *= Math.Max(0.2, field);
                    double re = signal + (site.NoiseSd * noise.Normal());
                    double im = site.NoiseSd * noise.Normal();
                    double magnitude = Math.Sqrt((re * re) + (im * im));
                    stored[(row * n) + column] = (ushort)Math.Clamp((int)Math.Round(magnitude * gain), 0, (1 << BitsStored) - 1);
                }
            }

            DicomDataset ds = Header(plan, profile, site, g, k, n, spacing, gain);
            TransferSyntax syntax = DicomOutput.SetPixels(ds, module, DicomOutput.ToBytes(stored), site.TransferSyntaxUid);
            DicomOutput.Save(ds, syntax, Path.Combine(outputDirectory, plan.RelativePaths[k]));
            rows.Add(ManifestRow.For(plan.Study, plan.SopUids[k], plan.RelativePaths[k], "MR", plan.Study.Label ? "lesion" : "none", k + 1, syntax.Uid));
            sliceDone();
        }

        return rows;
    }

    private static DicomDataset Header(MriPlan plan, SiteProfile profile, MriProfile site, Geometry g, int k, int n, double spacing, double gain)
    {
        DicomDataset ds = DicomOutput.Common(plan.Study, MrImageStorage, plan.SopUids[k], "MR", profile.Manufacturer, site.ModelName, site.StationName);
        bool t1 = site.Weighting == "T1";
        (double X, double Y, double Z) position = g.Position(k);
        ds.Set(Tag.ImageType, DicomVR.CS, "ORIGINAL", "PRIMARY", "M", "ND");
        ds.Set(Tag.StudyDescription, DicomVR.LO, "BRAIN");
        ds.Set(Tag.SeriesDescription, DicomVR.LO, site.Weighting + " " + (site.Orientation == "AXIAL" ? "AX" : "SAG"));
        ds.Set(Tag.BodyPartExamined, DicomVR.CS, "HEAD");
        ds.Set(Tag.ScanningSequence, DicomVR.CS, "SE");
        ds.Set(Tag.SequenceVariant, DicomVR.CS, "NONE");
        ds.Set(Tag.ScanOptions, DicomVR.CS, string.Empty);
        ds.Set(Tag.MRAcquisitionType, DicomVR.CS, "2D");
        ds.SetNumbers(Tag.SliceThickness, DicomVR.DS, site.SliceThicknessMm);
        ds.SetNumbers(Tag.RepetitionTime, DicomVR.DS, t1 ? 500 : 4000);
        ds.SetNumbers(Tag.EchoTime, DicomVR.DS, t1 ? 12 : 100);
        ds.SetNumbers(Tag.ImagingFrequency, DicomVR.DS, Math.Round(42.577478 * site.FieldStrengthT, 4));
        ds.Set(Tag.ImagedNucleus, DicomVR.SH, "1H");
        ds.SetNumbers(Tag.MagneticFieldStrength, DicomVR.DS, site.FieldStrengthT);
        ds.SetNumbers(Tag.SpacingBetweenSlices, DicomVR.DS, site.SpacingBetweenSlicesMm);
        ds.SetNumbers(Tag.EchoTrainLength, DicomVR.IS, t1 ? 1 : 8);
        ds.Set(Tag.PatientPosition, DicomVR.CS, "HFS");
        ds.SetNumbers(Tag.AcquisitionNumber, DicomVR.IS, 1);
        ds.SetNumbers(Tag.InstanceNumber, DicomVR.IS, k + 1);
        ds.SetNumbers(Tag.ImagePositionPatient, DicomVR.DS, position.X, position.Y, position.Z);
        ds.SetNumbers(Tag.ImageOrientationPatient, DicomVR.DS, g.Row.X, g.Row.Y, g.Row.Z, g.Column.X, g.Column.Y, g.Column.Z);
        ds.Set(Tag.FrameOfReferenceUID, DicomVR.UI, plan.Study.FrameOfReferenceUid);
        ds.Set(Tag.PositionReferenceIndicator, DicomVR.LO, string.Empty);
        ds.SetNumbers(Tag.SliceLocation, DicomVR.DS, Math.Round((position.X * g.Normal.X) + (position.Y * g.Normal.Y) + (position.Z * g.Normal.Z), 4));
        ds.SetNumbers(Tag.SamplesPerPixel, DicomVR.US, 1);
        ds.Set(Tag.PhotometricInterpretation, DicomVR.CS, "MONOCHROME2");
        ds.SetNumbers(Tag.Rows, DicomVR.US, n);
        ds.SetNumbers(Tag.Columns, DicomVR.US, n);
        ds.SetNumbers(Tag.PixelSpacing, DicomVR.DS, Math.Round(spacing, 6), Math.Round(spacing, 6));
        ds.SetNumbers(Tag.BitsAllocated, DicomVR.US, 16);
        ds.SetNumbers(Tag.BitsStored, DicomVR.US, BitsStored);
        ds.SetNumbers(Tag.HighBit, DicomVR.US, BitsStored - 1);
        ds.SetNumbers(Tag.PixelRepresentation, DicomVR.US, 0);
        ds.Set(Tag.BurnedInAnnotation, DicomVR.CS, "NO");
        ds.SetNumbers(Tag.WindowCenter, DicomVR.DS, Math.Round(gain * 0.5));
        ds.SetNumbers(Tag.WindowWidth, DicomVR.DS, Math.Round(gain));
        ds.Set(Tag.LossyImageCompression, DicomVR.CS, "00");
        return ds;
    }

    /// <summary>
    /// Slice geometry: unit row and column directions (ImageOrientationPatient), their cross product as the slice
    /// normal, and the first slice's top-left pixel placed so that the stack is centred on the head. Positions are
    /// rounded to 1/1000 mm once, on the first slice and the step, so every written value is exact in DS text.
    /// </summary>
    private sealed record Geometry((double X, double Y, double Z) Row, (double X, double Y, double Z) Column, (double X, double Y, double Z) Normal, (double X, double Y, double Z) First, double Step)
    {
        public static Geometry For(string orientation, int n, double spacing, int slices, double step, SeededRandom r)
        {
            (double X, double Y, double Z) row = orientation == "AXIAL" ? (1, 0, 0) : (0, 1, 0);
            (double X, double Y, double Z) column = orientation == "AXIAL" ? (0, 1, 0) : (0, 0, -1);
            (double X, double Y, double Z) normal = (
                (row.Y * column.Z) - (row.Z * column.Y),
                (row.Z * column.X) - (row.X * column.Z),
                (row.X * column.Y) - (row.Y * column.X));
            (double X, double Y, double Z) centre = (r.Normal(0.0, 2.0), r.Normal(0.0, 2.0), r.Normal(8.0, 3.0));
            double half = (n - 1) * spacing / 2.0;
            double depth = (slices - 1) * step / 2.0;
            (double X, double Y, double Z) first = (
                Math.Round(centre.X - (half * row.X) - (half * column.X) - (depth * normal.X), 3),
                Math.Round(centre.Y - (half * row.Y) - (half * column.Y) - (depth * normal.Y), 3),
                Math.Round(centre.Z - (half * row.Z) - (half * column.Z) - (depth * normal.Z), 3));
            return new Geometry(row, column, normal, first, step);
        }

        // Adding +0.0 turns a negative zero into a positive one, so no "-0" is ever written.
        public (double X, double Y, double Z) Position(int k) => (
            Math.Round(First.X + (k * Step * Normal.X), 3) + 0.0,
            Math.Round(First.Y + (k * Step * Normal.Y), 3) + 0.0,
            Math.Round(First.Z + (k * Step * Normal.Z), 3) + 0.0);
    }
}
