using NerfGmn.Runtime;
using static NerfGmn.Runtime.ScalarArgs;
using static TorchSharp.torch;

namespace NerfGmn.Retrieval;

/// <summary>Instance recall through a fitted linear map, and the ridge strength picked for it.</summary>
public sealed record LinearAlignmentResult(IReadOnlyDictionary<int, double> Recall, double Lambda, int TrainingObjects);

/// <summary>
/// A linear probe of cross-architecture alignment (not in the paper): ridge regression from architecture A's
/// embeddings to architecture B's, fitted on labelled objects embedded in both (the gallery split), then instance
/// retrieval of A's queries, mapped, among B's. Plain instance recall asks whether the encoder has put the two
/// architectures in one space; this asks whether it holds object information the two share at all, in any linear
/// arrangement — the untrained encoder scores at chance on the first and well above it on the second.
/// <para>Both sides are standardised per dimension with the fitting objects' statistics. λ is picked from
/// <see cref="Lambdas"/> on every fifth fitting object held out (best held-out R@1, ties to the larger λ), then the
/// map is refitted on all of them.</para>
/// </summary>
public static class LinearAlignment
{
    public static readonly double[] Lambdas = [1, 10, 100, 1_000, 10_000];

    /// <param name="fitA">Fitting objects' embeddings in A; row i is the same object as row i of <paramref name="fitB"/>.</param>
    /// <param name="queries">A's query embeddings, with their object ids.</param>
    /// <param name="gallery">B's query-split embeddings, with their object ids.</param>
    public static LinearAlignmentResult Run(IReadOnlyList<float[]> fitA, IReadOnlyList<float[]> fitB,
        IReadOnlyList<float[]> queries, IReadOnlyList<string> queryObjects, IReadOnlyList<float[]> gallery, IReadOnlyList<string> galleryObjects,
        params int[] ks)
    {
        if (fitA.Count != fitB.Count) throw new ArgumentException($"{fitA.Count} fitting embeddings in A but {fitB.Count} in B: rows must pair up");
        if (fitA.Count < 10) throw new ArgumentException($"{fitA.Count} fitting objects; a linear map needs at least 10 (every fifth is held out to pick λ)");
        using var scope = NewDisposeScope();
        var (xa, xb) = (Matrix(fitA), Matrix(fitB));
        var (ma, sa) = (xa.mean([0]), xa.std([0]).clamp_min(S(1e-12)));
        var (mb, sb) = (xb.mean([0]), xb.std([0]).clamp_min(S(1e-12)));
        Tensor Za(Tensor x) => x.Minus(ma).div(sa);
        Tensor Zb(Tensor x) => x.Minus(mb).div(sb);
        var (a, b) = (Za(xa), Zb(xb));

        var held = arange(S(a.shape[0])).remainder(S(5)).eq(S(0));
        var (fitRows, heldRows) = (held.logical_not().nonzero().squeeze(1), held.nonzero().squeeze(1));
        double bestLambda = Lambdas[0], bestRecall = double.NegativeInfinity;
        foreach (var lambda in Lambdas)
        {
            var w = Ridge(a.index_select(0, fitRows), b.index_select(0, fitRows), lambda);
            double r = RetrievalMetrics.PairedRecallAt1(a.index_select(0, heldRows).matmul(w), b.index_select(0, heldRows));
            if (r >= bestRecall) (bestRecall, bestLambda) = (r, lambda);
        }
        var map = Ridge(a, b, bestLambda);
        var mapped = TensorRows.ToRows(Za(Matrix(queries)).matmul(map));
        var target = TensorRows.ToRows(Zb(Matrix(gallery)));
        return new LinearAlignmentResult(RetrievalMetrics.InstanceRecall(mapped, queryObjects, target, galleryObjects, ks), bestLambda, fitA.Count);
    }

    /// <summary>argmin ‖XW − Y‖² + λ‖W‖².</summary>
    static Tensor Ridge(Tensor x, Tensor y, double lambda) =>
        linalg.solve(x.t().matmul(x).AddInPlace(eye(x.shape[1], dtype: x.dtype).mul_(S(lambda))), x.t().matmul(y));

    static Tensor Matrix(IReadOnlyList<float[]> rows) => TensorRows.FromRows(rows).to_type(ScalarType.Float64);
}
