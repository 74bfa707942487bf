namespace NerfGmn.Retrieval;

/// <summary>The retrieval and classification metrics of the evaluation protocol (spec: evaluation.md §2–§3).</summary>
public static class RetrievalMetrics
{
    /// <summary>
    /// gmnerf's cross-architecture instance retrieval: queries in one architecture, gallery = the same objects in
    /// another; a hit at k when the same object is among the k nearest (cosine). recall@k = hits / gallery size.
    /// </summary>
    public static IReadOnlyDictionary<int, double> InstanceRecall(IReadOnlyList<float[]> queries, IReadOnlyList<string> queryObjects,
        IReadOnlyList<float[]> gallery, IReadOnlyList<string> galleryObjects, params int[] ks)
    {
        if (queries.Count != queryObjects.Count || gallery.Count != galleryObjects.Count) throw new ArgumentException("embeddings and object ids differ in count");
        var index = new NearestNeighborIndex(gallery, DistanceMetric.Cosine);
        int kMax = ks.Max();
        var hits = ks.ToDictionary(k => k, _ => 0);
        for (int q = 0; q < queries.Count; q++)
        {
            var (idx, _) = index.Query(queries[q], kMax);
            foreach (var k in ks)
                if (idx.Take(k).Any(i => galleryObjects[i] == queryObjects[q])) hits[k]++;
        }
        return ks.ToDictionary(k => k, k => (double)hits[k] / gallery.Count);
    }

    /// <summary>
    /// Recall@1 of paired rows: the share of rows i of <paramref name="queries"/> whose nearest row of
    /// <paramref name="gallery"/> (cosine; ties to the lower index) is row i. <see cref="InstanceRecall"/> at k = 1 when
    /// row i of both is object i, as one tensor op.
    /// </summary>
    public static double PairedRecallAt1(TorchSharp.torch.Tensor queries, TorchSharp.torch.Tensor gallery)
    {
        if (queries.shape[0] != gallery.shape[0]) throw new ArgumentException($"{queries.shape[0]} queries but {gallery.shape[0]} gallery rows: rows must pair up");
        using var scope = TorchSharp.torch.NewDisposeScope();
        var cos = TorchSharp.torch.nn.functional.normalize(queries, dim: 1).matmul(TorchSharp.torch.nn.functional.normalize(gallery, dim: 1).t());
        var hits = cos.argmax(1).eq(TorchSharp.torch.arange(Runtime.ScalarArgs.S(queries.shape[0]), device: queries.device));
        return hits.to_type(TorchSharp.torch.ScalarType.Float64).mean().item<double>();
    }

    /// <summary>
    /// nf2vec's class retrieval: each embedding queries all the others (Euclidean, itself excluded); a hit at k when
    /// one of the k nearest has its class. recall@k = hits / queries.
    /// </summary>
    public static IReadOnlyDictionary<int, double> ClassRecall(IReadOnlyList<float[]> embeddings, IReadOnlyList<string> classes, params int[] ks)
    {
        if (embeddings.Count != classes.Count) throw new ArgumentException("embeddings and classes differ in count");
        var index = new NearestNeighborIndex(embeddings, DistanceMetric.Euclidean);
        int kMax = ks.Max();
        var hits = ks.ToDictionary(k => k, _ => 0);
        for (int q = 0; q < embeddings.Count; q++)
        {
            var (idx, _) = index.Query(embeddings[q], kMax + 1);
            var others = idx.Where(i => i != q).Take(kMax).ToArray();
            foreach (var k in ks)
                if (others.Take(k).Any(i => classes[i] == classes[q])) hits[k]++;
        }
        return ks.ToDictionary(k => k, k => (double)hits[k] / embeddings.Count);
    }

    /// <summary>Micro accuracy (fraction correct) and macro accuracy (mean of per-class recall).</summary>
    public static (double Micro, double Macro) Accuracy(IReadOnlyList<string> truth, IReadOnlyList<string> predicted)
    {
        if (truth.Count != predicted.Count) throw new ArgumentException("truth and predictions differ in count");
        if (truth.Count == 0) return (double.NaN, double.NaN);
        double micro = truth.Zip(predicted).Count(p => p.First == p.Second) / (double)truth.Count;
        double macro = truth.Select((t, i) => (t, ok: t == predicted[i])).GroupBy(x => x.t).Average(g => g.Count(x => x.ok) / (double)g.Count());
        return (micro, macro);
    }
}
