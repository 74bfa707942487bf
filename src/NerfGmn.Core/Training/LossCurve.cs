using System.Globalization;

namespace NerfGmn.Training;

/// <summary>
/// Draws the training log (<c>log.csv</c>) as a PNG: per-step loss, its moving average, and validation per epoch.
/// Rendering objectives log validation as −PSNR; that goes on its own right-hand axis in dB (on the loss axis, a
/// loss of 0.1 and −18 dB flatten each other into two lines). Contrastive runs put the validation pair R@1 there.
/// </summary>
public static class LossCurve
{
    public static void Write(string csvPath, string pngPath, bool validationIsPsnr = false)
    {
        var rows = File.ReadAllLines(csvPath).Skip(1).Select(l => l.Split(',')).ToArray();
        double Parse(string s) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN;
        var steps = rows.Where(r => r[5].Length > 0).Select(r => (Step: Parse(r[2]), Loss: Parse(r[5]))).ToArray();
        var vals = rows.Where(r => r[6].Length > 0).Select(r => (Step: Parse(r[2]), Loss: Parse(r[6]))).ToArray();
        var plot = new ScottPlot.Plot();
        if (steps.Length > 0)
        {
            var raw = plot.Add.Scatter(steps.Select(s => s.Step).ToArray(), steps.Select(s => s.Loss).ToArray());
            raw.LegendText = "train loss"; raw.MarkerSize = 0; raw.LineWidth = 1;
            int w = Math.Max(1, steps.Length / 20);
            var smooth = steps.Select((_, i) => steps.Skip(Math.Max(0, i - w + 1)).Take(Math.Min(w, i + 1)).Average(s => s.Loss)).ToArray();
            var avg = plot.Add.Scatter(steps.Select(s => s.Step).ToArray(), smooth);
            avg.LegendText = $"moving average ({w})"; avg.MarkerSize = 0; avg.LineWidth = 2;
        }
        if (vals.Length > 0)
        {
            var v = plot.Add.Scatter(vals.Select(s => s.Step).ToArray(), vals.Select(s => validationIsPsnr ? -s.Loss : s.Loss).ToArray());
            v.LegendText = validationIsPsnr ? "validation PSNR, pooled (right axis)" : "validation"; v.MarkerSize = 6;
            if (validationIsPsnr)
            {
                v.Axes.YAxis = plot.Axes.Right;
                plot.Axes.Right.Label.Text = "validation PSNR (dB)";
            }
        }
        // Later columns, absent in older logs, go dashed on the right-hand axis. Decoding runs: the per-NeRF median
        // render PSNR (10th column), the render target's measure, beside the pooled PSNR. Contrastive runs: the
        // validation pair R@1 (9th), which rises while the loss falls, so it takes the axis when PSNR does not.
        bool RightAxisColumn(int column, double scale, string legend)
        {
            var points = rows.Where(r => r.Length > column && r[column].Length > 0).Select(r => (Step: Parse(r[2]), Y: scale * Parse(r[column]))).ToArray();
            if (points.Length == 0) return false;
            var series = plot.Add.Scatter(points.Select(x => x.Step).ToArray(), points.Select(x => x.Y).ToArray());
            series.LegendText = legend; series.MarkerSize = 6; series.LinePattern = ScottPlot.LinePattern.Dashed;
            series.Axes.YAxis = plot.Axes.Right;
            return true;
        }
        if (validationIsPsnr) RightAxisColumn(9, 1, "validation renders, median per NeRF (dB, right axis)");
        else if (RightAxisColumn(8, 100, "validation pair R@1 % (right axis)")) plot.Axes.Right.Label.Text = "validation pair R@1 (%)";
        plot.XLabel("step");
        plot.YLabel("loss");
        // Below the plot: losses fall to the lower right and PSNR rises to the upper right, so no corner is free, and a
        // legend inside hides the latest validation points.
        plot.ShowLegend(ScottPlot.Edge.Bottom);
        IO.AtomicFile.Write(pngPath, tmp => plot.SavePng(tmp, 900, 500), ".png");
    }
}
