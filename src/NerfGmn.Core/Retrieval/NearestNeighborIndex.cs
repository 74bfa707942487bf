namespace NerfGmn.Retrieval;

public enum DistanceMetric { Cosine, Euclidean }

/// <summary>
/// Exact k-nearest-neighbour search over a gallery of embeddings (brute force: galleries here are thousands of
/// rows). Cosine distance is 1 − cos, as scikit-learn's <c>NearestNeighbors(metric="cosine")</c> used by gmnerf.
/// Sums in double so every caller (row mapper, bulk evaluation) gets the same numbers.
/// </summary>
public sealed class NearestNeighborIndex
{
    readonly float[][] _gallery;
    readonly double[] _norms;

    public DistanceMetric Metric { get; }
    public int Count => _gallery.Length;
    public int Dimension { get; }

    public NearestNeighborIndex(IReadOnlyList<float[]> gallery, DistanceMetric metric)
    {
        if (gallery.Count == 0) throw new ArgumentException("the gallery is empty");
        Dimension = gallery[0].Length;
        for (int i = 0; i < gallery.Count; i++)
            if (gallery[i].Length != Dimension) throw new ArgumentException($"gallery row {i} has {gallery[i].Length} values, row 0 has {Dimension}");
        _gallery = gallery.ToArray();
        _norms = _gallery.Select(g => Math.Sqrt(Dot(g, g))).ToArray();
        Metric = metric;
    }

    /// <summary>Indices of the <paramref name="k"/> nearest gallery rows (nearest first; ties by lower index) and their distances.</summary>
    public (int[] Indices, float[] Distances) Query(ReadOnlySpan<float> query, int k)
    {
        if (query.Length != Dimension) throw new ArgumentException($"query has {query.Length} values, the gallery {Dimension}");
        k = Math.Min(k, Count);
        var d = new double[Count];
        double qn = Math.Sqrt(Dot(query, query));
        for (int i = 0; i < Count; i++)
        {
            if (Metric == DistanceMetric.Cosine)
            {
                double denom = qn * _norms[i];
                d[i] = denom == 0 ? 1 : 1 - Dot(query, _gallery[i]) / denom;
            }
            else
            {
                double s = 0;
                var g = _gallery[i];
                for (int j = 0; j < g.Length; j++) { double t = (double)query[j] - g[j]; s += t * t; }
                d[i] = Math.Sqrt(s);
            }
        }
        var order = Enumerable.Range(0, Count).OrderBy(i => d[i]).ThenBy(i => i).Take(k).ToArray();
        return (order, order.Select(i => (float)d[i]).ToArray());
    }

    static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int j = 0; j < a.Length; j++) s += (double)a[j] * b[j];
        return s;
    }

    /// <summary>Majority label of the neighbours; a tie goes to the label whose nearest member is nearer.</summary>
    public static string Vote(IReadOnlyList<string> neighbourLabels) =>
        neighbourLabels.Select((l, rank) => (l, rank)).GroupBy(x => x.l)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Min(x => x.rank)).First().Key;
}
