using ScottPlot;

namespace NerfGmn.Reporting;

/// <summary>A PNG of embeddings in their first two principal components: colour = class, marker = architecture.</summary>
public static class EmbeddingPlot
{
    public static void Write(string pngPath, IReadOnlyList<float[]> embeddings, IReadOnlyList<string> classes, IReadOnlyList<string> archs, string title)
    {
        var xy = Pca.Project(embeddings);
        var plot = new Plot();
        var classNames = classes.Distinct().OrderBy(c => c, StringComparer.Ordinal).ToArray();
        var archNames = archs.Distinct().OrderBy(a => a, StringComparer.Ordinal).ToArray();
        MarkerShape[] shapes = [MarkerShape.FilledCircle, MarkerShape.FilledSquare, MarkerShape.FilledTriangleUp, MarkerShape.FilledDiamond,
            MarkerShape.Cross, MarkerShape.Asterisk, MarkerShape.OpenCircle, MarkerShape.OpenSquare, MarkerShape.FilledTriangleDown];
        var palette = new ScottPlot.Palettes.Category20();
        for (int c = 0; c < classNames.Length; c++)
            for (int a = 0; a < archNames.Length; a++)
            {
                var idx = Enumerable.Range(0, xy.Length).Where(i => classes[i] == classNames[c] && archs[i] == archNames[a]).ToArray();
                if (idx.Length == 0) continue;
                var s = plot.Add.ScatterPoints(idx.Select(i => xy[i][0]).ToArray(), idx.Select(i => xy[i][1]).ToArray());
                s.Color = palette.GetColor(c);
                s.MarkerShape = shapes[a % shapes.Length];
                s.MarkerSize = 9;
                if (a == 0) s.LegendText = classNames[c];
            }
        // One legend entry per architecture, in grey, for the marker key.
        for (int a = 0; a < archNames.Length; a++)
        {
            var key = plot.Add.ScatterPoints(new[] { double.NaN }, new[] { double.NaN });
            key.Color = Colors.Gray;
            key.MarkerShape = shapes[a % shapes.Length];
            key.MarkerSize = 9;
            key.LegendText = archNames[a];
        }
        plot.Title(title);
        plot.XLabel("PC 1");
        plot.YLabel("PC 2");
        plot.ShowLegend(Edge.Right);
        IO.AtomicFile.Write(pngPath, tmp => plot.SavePng(tmp, 1100, 750), ".png");
    }
}
