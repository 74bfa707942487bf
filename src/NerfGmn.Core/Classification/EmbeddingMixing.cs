using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Classification;

/// <summary>
/// The classifier's <c>interpolate</c> augmentation (nf2vec/gmnerf): for each sample whose class occurs more than
/// twice in the batch, pick a same-class partner (possibly itself), draw t ~ U(0,1) and r ~ U(0,1)^D, and append a
/// copy taking the partner's value wherever r ≥ t. Partners and t are drawn per sample; the masks are one tensor op.
/// </summary>
public static class EmbeddingMixing
{
    /// <param name="x">Batch embeddings [B, D].</param>
    /// <param name="y">Class index of each row.</param>
    /// <returns>The batch with the mixed rows appended, and their labels.</returns>
    public static (Tensor X, long[] Y) Augment(Tensor x, IReadOnlyList<long> y, Random rng, Generator gen)
    {
        var byClass = Enumerable.Range(0, y.Count).GroupBy(i => y[i]).ToDictionary(g => g.Key, g => g.ToArray());
        var mixed = Enumerable.Range(0, y.Count).Where(i => byClass[y[i]].Length > 2).ToArray();
        if (mixed.Length == 0) return (x.alias(), y.ToArray());
        var partners = mixed.Select(i => (long)byClass[y[i]][rng.Next(byClass[y[i]].Length)]).ToArray();
        var t = tensor(mixed.Select(_ => (float)rng.NextDouble()).ToArray(), device: x.device).to_type(x.dtype).unsqueeze(1);
        var r = rand([mixed.Length, x.shape[1]], generator: gen, dtype: x.dtype, device: CPU).to(x.device);   // the generator is a CPU one
        var own = x.index_select(0, tensor(mixed.Select(i => (long)i).ToArray(), device: x.device));
        var other = x.index_select(0, tensor(partners, device: x.device));
        var appended = where(r.ge(t), other, own);
        return (cat([x, appended], 0), y.Concat(mixed.Select(i => y[i])).ToArray());
    }
}
