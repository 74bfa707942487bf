namespace NerfGmn.Classification;

/// <summary>
/// The classifier's <c>interpolate</c> augmentation (nf2vec/gmnerf): for each sample whose class occurs more than
/// twice in the batch, pick a same-class partner (possibly itself), draw t ~ U(0,1) and r ~ U(0,1)^D, and append a
/// copy taking the partner's value wherever r ≥ t.
/// </summary>
public static class EmbeddingMixing
{
    public static (float[][] X, int[] Y) Augment(IReadOnlyList<float[]> x, IReadOnlyList<int> y, Random rng)
    {
        var outX = new List<float[]>(x);
        var outY = new List<int>(y);
        var byClass = Enumerable.Range(0, y.Count).GroupBy(i => y[i]).ToDictionary(g => g.Key, g => g.ToArray());
        for (int i = 0; i < x.Count; i++)
        {
            var same = byClass[y[i]];
            if (same.Length <= 2) continue;
            int j = same[rng.Next(same.Length)];
            double t = rng.NextDouble();
            var mixed = (float[])x[i].Clone();
            for (int d = 0; d < mixed.Length; d++)
                if (rng.NextDouble() >= t) mixed[d] = x[j][d];
            outX.Add(mixed);
            outY.Add(y[i]);
        }
        return (outX.ToArray(), outY.ToArray());
    }
}
