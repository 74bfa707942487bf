namespace NerfGmn.Reporting;

/// <summary>
/// Principal components of a set of embeddings (centred; power iteration with deflation on the covariance), for
/// 2-D pictures. Deterministic: no random start, sign fixed so the largest loading is positive.
/// </summary>
public static class Pca
{
    public static double[][] Project(IReadOnlyList<float[]> x, int components = 2, int iterations = 200)
    {
        int n = x.Count, d = x[0].Length;
        var mean = new double[d];
        foreach (var r in x) for (int j = 0; j < d; j++) mean[j] += r[j] / (double)n;
        var c = x.Select(r => r.Select((v, j) => v - mean[j]).ToArray()).ToArray();
        var axes = new List<double[]>();
        for (int k = 0; k < components; k++)
        {
            var v = Enumerable.Range(0, d).Select(j => 1.0 + j % 7).ToArray();
            for (int it = 0; it < iterations; it++)
            {
                // w = Cᵀ C v, then remove earlier axes.
                var cv = c.Select(r => Dot(r, v)).ToArray();
                var w = new double[d];
                for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) w[j] += c[i][j] * cv[i];
                foreach (var a in axes) { double p = Dot(w, a); for (int j = 0; j < d; j++) w[j] -= p * a[j]; }
                double norm = Math.Sqrt(Dot(w, w));
                if (norm < 1e-300) break;
                for (int j = 0; j < d; j++) v[j] = w[j] / norm;
            }
            int big = Enumerable.Range(0, d).MaxBy(j => Math.Abs(v[j]));
            if (v[big] < 0) for (int j = 0; j < d; j++) v[j] = -v[j];
            axes.Add(v);
        }
        return c.Select(r => axes.Select(a => Dot(r, a)).ToArray()).ToArray();
    }

    static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int j = 0; j < a.Length; j++) s += a[j] * b[j];
        return s;
    }
}
