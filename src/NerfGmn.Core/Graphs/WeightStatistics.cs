namespace NerfGmn.Graphs;

/// <summary>
/// Per-entry standardisation of edge values (DWSNets <c>compute_statistics.py</c>, NFN <c>data_utils.py</c>; not in
/// gmnerf): every parameter of an architecture becomes (w − mean) / std, with mean and std of that entry over the
/// training split. NeRFs fitted from one shared initialisation differ from it by small amounts that the reference's
/// raw values bury under the initialisation itself; the z-score makes those differences the input.
/// A std is floored at a tenth of the RMS std of its (layer, edge type) group, so entries the fitting barely moved
/// are not blown up into noise. An architecture without statistics (an unseen variant such as MLP-32H) is
/// standardised per (layer, edge type) group over the graph's own values: the same scale, without the per-entry
/// reference point it has no training data for.
/// </summary>
public sealed class WeightStatistics
{
    readonly Dictionary<string, (float[] Mean, float[] Std)> _entries;

    public WeightStatistics(IReadOnlyDictionary<string, (float[] Mean, float[] Std)> entries)
    {
        _entries = new(entries, StringComparer.Ordinal);
        foreach (var (arch, (m, s)) in _entries)
            if (m.Length != s.Length) throw new ArgumentException($"statistics of '{arch}': {m.Length} means, {s.Length} stds");
    }

    /// <summary>Architecture name → (mean, std) per edge, in graph edge order.</summary>
    public IReadOnlyDictionary<string, (float[] Mean, float[] Std)> Entries => _entries;

    /// <summary>Statistics from graphs of one or more architectures (each graph is read once).</summary>
    public static WeightStatistics FromGraphs(IEnumerable<(string Arch, ParameterGraph Graph)> graphs)
    {
        var sums = new Dictionary<string, (double[] Sum, double[] Squares, int Count, ParameterGraph First)>(StringComparer.Ordinal);
        foreach (var (arch, g) in graphs)
        {
            if (!sums.TryGetValue(arch, out var acc))
                acc = (new double[g.EdgeCount], new double[g.EdgeCount], 0, g);
            if (acc.Sum.Length != g.EdgeCount)
                throw new ArgumentException($"'{arch}' graphs differ in size ({acc.Sum.Length} and {g.EdgeCount} edges): statistics need one shape per architecture");
            var a = g.EdgeAttr;
            for (int e = 0; e < g.EdgeCount; e++)
            {
                double v = a[6 * e];
                acc.Sum[e] += v;
                acc.Squares[e] += v * v;
            }
            sums[arch] = acc with { Count = acc.Count + 1 };
        }
        var entries = new Dictionary<string, (float[], float[])>(StringComparer.Ordinal);
        foreach (var (arch, (sum, squares, count, first)) in sums)
        {
            var mean = new float[sum.Length];
            var std = new float[sum.Length];
            for (int e = 0; e < sum.Length; e++)
            {
                double m = sum[e] / count;
                mean[e] = (float)m;
                std[e] = (float)Math.Sqrt(Math.Max(0, squares[e] / count - m * m));
            }
            FloorPerGroup(first, std);
            entries[arch] = (mean, std);
        }
        return new WeightStatistics(entries);
    }

    /// <summary>A graph's edge attributes with standardised values (a copy; the graph is not changed).</summary>
    public float[] Standardize(string architecture, ParameterGraph g)
    {
        var attr = (float[])g.EdgeAttr.Clone();
        if (_entries.TryGetValue(architecture, out var s))
        {
            if (s.Mean.Length != g.EdgeCount)
                throw new NerfFormatException(null, $"architecture '{architecture}' has {g.EdgeCount} parameters; the encoder's statistics for it have {s.Mean.Length}");
            for (int e = 0; e < g.EdgeCount; e++)
                attr[6 * e] = (attr[6 * e] - s.Mean[e]) / s.Std[e];
            return attr;
        }
        foreach (var group in Groups(g))
        {
            double sum = 0, squares = 0;
            foreach (int e in group) { double v = attr[6 * e]; sum += v; squares += v * v; }
            double m = sum / group.Count, sd = Math.Sqrt(Math.Max(0, squares / group.Count - m * m));
            float inv = sd > 1e-12 ? (float)(1 / sd) : 1f;
            foreach (int e in group) attr[6 * e] = (float)((attr[6 * e] - m) * inv);
        }
        return attr;
    }

    /// <summary>
    /// RMS of a standardised graph's edge values: about 1 or less for NeRFs like the training split's (the per-entry
    /// std is at least the spread the training NeRFs had), far more for a NeRF fitted from another initialisation.
    /// </summary>
    public static double RmsValue(ParameterGraph standardized)
    {
        double squares = 0;
        var a = standardized.EdgeAttr;
        for (int e = 0; e < standardized.EdgeCount; e++) squares += (double)a[6 * e] * a[6 * e];
        return Math.Sqrt(squares / Math.Max(1, standardized.EdgeCount));
    }

    /// <summary>Standardised RMS above which a NeRF is reported as far from the training NeRFs.</summary>
    public const double FarFromTrainingRms = 3;

    /// <summary>Edge ids grouped by (layer, edge type), in first-seen order.</summary>
    static IEnumerable<List<int>> Groups(ParameterGraph g)
    {
        var groups = new Dictionary<(float, float), List<int>>();
        var a = g.EdgeAttr;
        for (int e = 0; e < g.EdgeCount; e++)
        {
            var key = (a[6 * e + 1], a[6 * e + 2]);
            if (!groups.TryGetValue(key, out var list)) groups[key] = list = [];
            list.Add(e);
        }
        return groups.Values;
    }

    static void FloorPerGroup(ParameterGraph g, float[] std)
    {
        foreach (var group in Groups(g))
        {
            double squares = 0;
            foreach (int e in group) squares += (double)std[e] * std[e];
            float floor = (float)(0.1 * Math.Sqrt(squares / group.Count));
            if (!(floor > 1e-12f)) floor = 1f;          // nothing moved in this group: values pass as deviations from the mean
            foreach (int e in group) std[e] = Math.Max(std[e], floor);
        }
    }
}
