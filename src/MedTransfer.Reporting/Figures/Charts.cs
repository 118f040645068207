using System.Globalization;
using MedTransfer.Evaluation.Metrics;
using ScottPlot;

namespace MedTransfer.Reporting.Figures;

/// <summary>A rendered figure: PNG bytes plus the alternative text the HTML report shows with it.</summary>
/// <param name="Name">File-safe name, e.g. "roc-by-site".</param>
/// <param name="Png">The image.</param>
/// <param name="AltText">What the figure shows, in words (accessibility, and for readers who print in grey).</param>
public sealed record Figure(string Name, byte[] Png, string AltText);

/// <summary>One curve of a ROC or PR plot.</summary>
/// <param name="Label">Legend text, e.g. "site-B (AUROC 0.91 [0.86, 0.95])".</param>
/// <param name="Scores">Scores.</param>
/// <param name="Labels">Binary labels.</param>
public sealed record CurveInput(string Label, IReadOnlyList<double> Scores, IReadOnlyList<int> Labels);

/// <summary>One row of a forest plot.</summary>
/// <param name="Label">Row label.</param>
/// <param name="Estimate">Point estimate and interval.</param>
public sealed record ForestRow(string Label, Estimate Estimate);

/// <summary>The report's figures (ScottPlot, PNG). Every chart has axis labels, a title and a legend where needed.</summary>
public static class Charts
{
    private const int Width = 720;
    private const int Height = 480;

    // One fixed palette so a site has the same colour in every figure of a report.
    private static readonly IPalette s_palette = new ScottPlot.Palettes.Category10();

    /// <summary>ROC curves (one per input) with the chance diagonal.</summary>
    public static Figure Roc(string name, string title, IReadOnlyList<CurveInput> curves)
    {
        ArgumentNullException.ThrowIfNull(curves);
        Plot plot = NewPlot(title, "False positive rate (1 − specificity)", "True positive rate (sensitivity)");
        var diagonal = plot.Add.Line(0, 0, 1, 1);
        diagonal.LineColor = Colors.Gray;
        diagonal.LinePattern = LinePattern.Dashed;
        AddCurves(plot, curves, RocPoints);
        plot.Axes.SetLimits(0, 1, 0, 1);
        plot.ShowLegend(Alignment.LowerRight);
        return Render(plot, name, $"{title}: ROC curves for {string.Join("; ", curves.Select(c => c.Label))}.");
    }

    /// <summary>Precision-recall curves (a curve's chance level is its prevalence, stated in the caption by the caller).</summary>
    public static Figure PrecisionRecall(string name, string title, IReadOnlyList<CurveInput> curves)
    {
        ArgumentNullException.ThrowIfNull(curves);
        Plot plot = NewPlot(title, "Recall (sensitivity)", "Precision (PPV)");
        AddCurves(plot, curves, PrPoints);
        plot.Axes.SetLimits(0, 1, 0, 1.02);
        plot.ShowLegend(Alignment.LowerLeft);
        return Render(plot, name, $"{title}: precision-recall curves for {string.Join("; ", curves.Select(c => c.Label))}.");
    }

    /// <summary>Reliability diagram: observed frequency against mean predicted probability per bin, bar widths by count.</summary>
    public static Figure Reliability(string name, string title, CalibrationResult calibration)
    {
        ArgumentNullException.ThrowIfNull(calibration);
        Plot plot = NewPlot(title, "Mean predicted probability", "Observed frequency");
        var diagonal = plot.Add.Line(0, 0, 1, 1);
        diagonal.LineColor = Colors.Gray;
        diagonal.LinePattern = LinePattern.Dashed;
        ReliabilityBin[] filled = [.. calibration.Bins.Where(b => b.Count > 0)];
        var points = plot.Add.Scatter(filled.Select(b => b.MeanConfidence).ToArray(), filled.Select(b => b.Accuracy).ToArray());
        points.LegendText = string.Create(CultureInfo.InvariantCulture, $"ECE {calibration.Ece:F3} ({calibration.Scheme})");
        points.MarkerSize = 8;
        plot.Axes.SetLimits(0, 1, 0, 1);
        plot.ShowLegend(Alignment.UpperLeft);
        return Render(plot, name, string.Create(CultureInfo.InvariantCulture, $"{title}: reliability diagram, ECE {calibration.Ece:F3}."));
    }

    /// <summary>Forest plot: one row per estimate with its interval, and a reference line (e.g. 0 for differences).</summary>
    public static Figure Forest(string name, string title, string axisLabel, IReadOnlyList<ForestRow> rows, double? reference = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        Plot plot = NewPlot(title, axisLabel, string.Empty);
        for (int i = 0; i < rows.Count; i++)
        {
            double y = rows.Count - 1 - i;
            Estimate e = rows[i].Estimate;
            var whisker = plot.Add.Line(e.Lower, y, e.Upper, y);
            whisker.LineWidth = 2;
            whisker.LineColor = Colors.Black;
            var point = plot.Add.Marker(e.Value, y);
            point.MarkerSize = 10;
            point.Color = Colors.Black;
        }

        if (reference is { } r)
        {
            var line = plot.Add.VerticalLine(r);
            line.LinePattern = LinePattern.Dashed;
            line.LineColor = Colors.Gray;
        }

        double[] positions = [.. Enumerable.Range(0, rows.Count).Select(i => (double)(rows.Count - 1 - i))];
        string[] labels = [.. rows.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Label}  {r.Estimate.Value:F3} [{r.Estimate.Lower:F3}, {r.Estimate.Upper:F3}]"))];
        plot.Axes.Left.SetTicks(positions, labels);
        plot.Axes.SetLimitsY(-0.8, rows.Count - 0.2);
        return Render(plot, name, $"{title}: " + string.Join("; ", labels) + ".", height: Math.Max(240, 80 + (40 * rows.Count)));
    }

    /// <summary>Bar chart of a proportion per category (e.g. prevalence per site).</summary>
    public static Figure Bars(string name, string title, string axisLabel, IReadOnlyDictionary<string, double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        Plot plot = NewPlot(title, string.Empty, axisLabel);
        string[] keys = [.. values.Keys];
        for (int i = 0; i < keys.Length; i++)
        {
            var bar = plot.Add.Bar(i, values[keys[i]]);
            bar.LegendText = string.Empty;
        }

        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, keys.Length).Select(i => (double)i)], keys);
        plot.Axes.SetLimitsY(0, Math.Max(1e-9, values.Values.Max() * 1.15));
        return Render(plot, name, $"{title}: " + string.Join("; ", keys.Select(k => string.Create(CultureInfo.InvariantCulture, $"{k} {values[k]:P1}"))) + ".");
    }

    /// <summary>2-D scatter of an embedding, one colour per group.</summary>
    public static Figure Embedding(string name, string title, IReadOnlyList<(double X, double Y)> points, IReadOnlyList<string> groups)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(groups);
        Plot plot = NewPlot(title, "Component 1", "Component 2");
        foreach (IGrouping<string, int> g in Enumerable.Range(0, points.Count).GroupBy(i => groups[i]).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var scatter = plot.Add.ScatterPoints(g.Select(i => points[i].X).ToArray(), g.Select(i => points[i].Y).ToArray());
            scatter.LegendText = g.Key;
            scatter.MarkerSize = 5;
        }

        plot.ShowLegend(Alignment.UpperRight);
        return Render(plot, name, $"{title}: 2-D embedding coloured by {string.Join(", ", groups.Distinct().Order(StringComparer.Ordinal))}.");
    }

    /// <summary>
    /// Line chart of one or more series against their index (x = 1, 2, …, e.g. training step). Non-finite values (NaN =
    /// not recorded) are left out; a series with no finite value is not drawn and the alternative text says so.
    /// </summary>
    /// <exception cref="ArgumentException">No series, or a series without a label.</exception>
    public static Figure Lines(string name, string title, string xLabel, string yLabel, IReadOnlyList<(string Label, IReadOnlyList<double> Y)> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0)
        {
            throw new ArgumentException("A line chart needs at least one series.", nameof(series));
        }

        Plot plot = NewPlot(title, xLabel, yLabel);
        var drawn = new List<string>();
        var empty = new List<string>();
        for (int i = 0; i < series.Count; i++)
        {
            (string label, IReadOnlyList<double> y) = series[i];
            if (string.IsNullOrWhiteSpace(label) || y is null)
            {
                throw new ArgumentException($"Series {i} has no label or no values.", nameof(series));
            }

            int[] kept = [.. Enumerable.Range(0, y.Count).Where(k => double.IsFinite(y[k]))];
            if (kept.Length == 0)
            {
                empty.Add(label);
                continue;
            }

            double[] xs = [.. kept.Select(k => k + 1.0)];
            double[] ys = [.. kept.Select(k => y[k])];
            var line = kept.Length == 1 ? plot.Add.ScatterPoints(xs, ys) : plot.Add.ScatterLine(xs, ys);
            line.LegendText = label;
            line.LineWidth = 2;
            line.MarkerSize = kept.Length == 1 ? 8 : 0;
            line.Color = s_palette.GetColor(i);
            drawn.Add(string.Create(CultureInfo.InvariantCulture, $"{label} ({kept.Length} points, last {ys[^1]:G4})"));
        }

        if (drawn.Count > 0)
        {
            // Below the axes: training curves fill the whole plot area, so a legend inside it would hide data.
            plot.ShowLegend(Edge.Bottom);
        }

        string alt = $"{title}: {yLabel} against {xLabel}" + (drawn.Count > 0 ? " for " + string.Join("; ", drawn) : string.Empty)
            + (empty.Count > 0 ? ". Not recorded: " + string.Join(", ", empty) : string.Empty) + ".";
        return Render(plot, name, alt);
    }

    /// <summary>
    /// Heat map of a rows × columns grid given row-major (row 0 drawn at the top, like an image), with a colour bar.
    /// NaN cells are drawn grey.
    /// </summary>
    /// <exception cref="ArgumentException">Non-positive dimensions or a value count other than rows × columns.</exception>
    public static Figure Heatmap(string name, string title, IReadOnlyList<double> values, int rows, int columns, string valueLabel)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (rows <= 0 || columns <= 0 || values.Count != rows * columns)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"A heat map of {rows} × {columns} cells needs {Math.Max(0, rows) * Math.Max(0, columns)} values, got {values.Count}."),
                nameof(values));
        }

        Plot plot = NewPlot(title, "Column", "Row");
        var grid = new double[rows, columns];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                grid[r, c] = values[(r * columns) + c];
            }
        }

        double[] finite = [.. values.Where(double.IsFinite)];
        if (finite.Length == 0)
        {
            // ScottPlot cannot derive a colour range from a grid without a finite value: say so in the figure instead.
            plot.Add.Text("No finite values", 0.5, 0.5);
            plot.Axes.SetLimits(0, 1, 0, 1);
        }
        else
        {
            var map = plot.Add.Heatmap(grid);
            if (finite.Min() == finite.Max())
            {
                // One value everywhere: give the colour scale a width (all cells take the lowest colour).
                map.ManualRange = new ScottPlot.Range(finite[0], finite[0] + 1);
            }

            map.Colormap = new ScottPlot.Colormaps.Viridis();
            map.NaNCellColor = Colors.Gray;
            var bar = plot.Add.ColorBar(map);
            bar.Label = valueLabel;
        }

        plot.Axes.Bottom.TickLabelStyle.IsVisible = false;
        plot.Axes.Left.TickLabelStyle.IsVisible = false;

        string range = finite.Length == 0
            ? "no finite values"
            : string.Create(CultureInfo.InvariantCulture, $"{valueLabel} from {finite.Min():G3} to {finite.Max():G3}, highest in row {ArgMax(values) / columns + 1}, column {ArgMax(values) % columns + 1}");
        return Render(plot, name, string.Create(CultureInfo.InvariantCulture, $"{title}: {rows} × {columns} heat map, {range}."));
    }

    /// <summary>ROC points (FPR, TPR) over all distinct thresholds, from (0, 0) to (1, 1).</summary>
    internal static (double[] Fpr, double[] Tpr) RocPoints(IReadOnlyList<double> scores, IReadOnlyList<int> labels)
    {
        int positives = labels.Sum();
        int negatives = labels.Count - positives;
        var fpr = new List<double> { 0 };
        var tpr = new List<double> { 0 };
        foreach ((int tp, int called) in Sweep(scores, labels))
        {
            fpr.Add(negatives == 0 ? 0 : (called - tp) / (double)negatives);
            tpr.Add(positives == 0 ? 0 : tp / (double)positives);
        }

        return ([.. fpr], [.. tpr]);
    }

    private static (double[] Recall, double[] Precision) PrPoints(IReadOnlyList<double> scores, IReadOnlyList<int> labels)
    {
        int positives = Math.Max(1, labels.Sum());
        var recall = new List<double>();
        var precision = new List<double>();
        foreach ((int tp, int called) in Sweep(scores, labels))
        {
            recall.Add(tp / (double)positives);
            precision.Add(tp / (double)called);
        }

        return ([.. recall], [.. precision]);
    }

    /// <summary>Cumulative true positives and calls at each distinct threshold, from the highest score down
    /// (tied scores cross the threshold together).</summary>
    private static IEnumerable<(int TruePositives, int Called)> Sweep(IReadOnlyList<double> scores, IReadOnlyList<int> labels)
    {
        int[] order = [.. Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i])];
        int tp = 0;
        int called = 0;
        int k = 0;
        while (k < order.Length)
        {
            double s = scores[order[k]];
            while (k < order.Length && scores[order[k]] == s)
            {
                tp += labels[order[k]];
                called++;
                k++;
            }

            yield return (tp, called);
        }
    }

    private static int ArgMax(IReadOnlyList<double> values)
    {
        int best = -1;
        for (int i = 0; i < values.Count; i++)
        {
            if (double.IsFinite(values[i]) && (best < 0 || values[i] > values[best]))
            {
                best = i;
            }
        }

        return Math.Max(best, 0);
    }

    private static void AddCurves(Plot plot, IReadOnlyList<CurveInput> curves, Func<IReadOnlyList<double>, IReadOnlyList<int>, (double[] X, double[] Y)> points)
    {
        for (int i = 0; i < curves.Count; i++)
        {
            (double[] x, double[] y) = points(curves[i].Scores, curves[i].Labels);
            var line = plot.Add.ScatterLine(x, y);
            line.LegendText = curves[i].Label;
            line.LineWidth = 2;
            line.Color = s_palette.GetColor(i);
        }
    }

    private static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        _ = FigureFonts.Available;
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        return plot;
    }

    private static Figure Render(Plot plot, string name, string alt, int width = Width, int height = Height) =>
        new(name, plot.GetImageBytes(width, height, ImageFormat.Png), alt);
}
