using NerfGmn.Classification;
using NerfGmn.Datasets;
using NerfGmn.Encoder;

namespace NerfGmn.Retrieval;

/// <summary>What <see cref="EncoderEvaluation"/> measures on a dataset.</summary>
public sealed record EncoderEvaluationOptions
{
    /// <summary>The split whose NeRFs are queries (and, for instance retrieval, gallery).</summary>
    public string Split { get; init; } = "test";
    /// <summary>Architectures whose NeRFs of the split are queries; null = every architecture folder present.</summary>
    public IReadOnlyList<string>? Architectures { get; init; }
    /// <summary>Labelled gallery for kNN classification; null skips classification.</summary>
    public string? GallerySplit { get; init; } = "train";
    /// <summary>Architectures whose gallery NeRFs are embedded; null = the paper's three families present.</summary>
    public IReadOnlyList<string>? GalleryArchitectures { get; init; }
    /// <summary>Neighbours voting for a class in kNN classification.</summary>
    public int Neighbours { get; init; } = 1;
    public int[] Ks { get; init; } = [1, 5, 10];
    public int BatchSize { get; init; } = 8;
    /// <summary>
    /// Also run the paper's classification protocol (<see cref="Classification.ClassificationProtocol"/>): heads trained
    /// on the gallery split (the best epoch on <see cref="ValidationSplit"/>), tested on the query split.
    /// </summary>
    public bool ClassificationProtocol { get; init; }
    public string ValidationSplit { get; init; } = "val";
    public ClassifierHeadOptions Head { get; init; } = new();
}

/// <summary>Retrieval and classification quality of one encoder on one dataset (fractions in [0, 1]).</summary>
public sealed record EncoderEvaluationReport
{
    public required string Split { get; init; }
    /// <summary>NeRFs embedded per architecture of the query split.</summary>
    public required IReadOnlyDictionary<string, int> Nerfs { get; init; }
    /// <summary>nf2vec class retrieval within one architecture (Euclidean, query excluded): arch → k → recall.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyDictionary<int, double>> ClassRecall { get; init; }
    /// <summary>gmnerf cross-architecture instance retrieval: "query→gallery" → k → recall.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyDictionary<int, double>> InstanceRecall { get; init; }
    /// <summary>kNN classification against the gallery split (all gallery architectures pooled): arch → accuracy.</summary>
    public required IReadOnlyDictionary<string, double> KnnAccuracy { get; init; }
    /// <summary>Mean cosine similarity between embeddings of different objects in one architecture: close to 1 = collapsed.</summary>
    public required IReadOnlyDictionary<string, double> MeanCosineBetweenObjects { get; init; }
    public required double Seconds { get; init; }
    /// <summary>
    /// Instance retrieval through a linear map fitted on the gallery split's objects (<see cref="LinearAlignment"/>):
    /// "query→gallery" → result. Empty without a gallery, and inside <see cref="CenteredPerArchitecture"/> (the map
    /// standardises, so centring changes nothing).
    /// </summary>
    public IReadOnlyDictionary<string, LinearAlignmentResult> LinearMapInstanceRecall { get; init; } = new Dictionary<string, LinearAlignmentResult>();
    /// <summary>
    /// The same measures after subtracting each architecture's mean embedding (over that architecture's NeRFs in the
    /// split; gallery architectures by their own gallery mean). Not in the paper: it removes the per-architecture offset
    /// that dominates a briefly trained GMN's embeddings; the architecture is known from the weights, so any query set
    /// can be centred the same way. Null inside itself.
    /// </summary>
    public EncoderEvaluationReport? CenteredPerArchitecture { get; init; }
    /// <summary>The paper's classification protocol (train families × test families → accuracy); empty unless asked for.</summary>
    public IReadOnlyList<ProtocolCell> Classification { get; init; } = [];
}

/// <summary>
/// Measures an encoder the way the paper uses it: class retrieval per architecture, instance retrieval across
/// architectures (same object, other architecture) and kNN classification of every query architecture (unseen variants
/// included) against labelled embeddings of the gallery split. Also reports how spread the embeddings are, since a
/// barely trained GMN maps every NeRF of one architecture to nearly the same point.
/// </summary>
public static class EncoderEvaluation
{
    public static EncoderEvaluationReport Run(NerfEmbedder embedder, DatasetLayout data, EncoderEvaluationOptions? options = null,
        Action<string>? progress = null, CancellationToken cancel = default)
    {
        options ??= new EncoderEvaluationOptions();
        if (options.Neighbours < 1) throw new ArgumentException("neighbours must be at least 1");
        if (!File.Exists(data.SplitFile(options.Split))) throw new NerfFormatException(data.SplitFile(options.Split), $"split file '{options.Split}.txt' not found");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var queries = data.Entries(options.Split, options.Architectures);
        if (queries.Count == 0) throw new NerfFormatException(data.Root, $"no NeRFs listed in {options.Split}.txt");
        var queryEmb = Embed(embedder, queries, options, $"embedding {options.Split}", progress, cancel);

        IReadOnlyList<DatasetEntry>? gallery = null;
        float[][]? galleryEmb = null;
        if (options.GallerySplit is { } gallerySplit && File.Exists(data.SplitFile(gallerySplit)))
        {
            gallery = data.Entries(gallerySplit, options.GalleryArchitectures ?? DatasetLayout.Families);
            galleryEmb = gallery.Count > 0 ? Embed(embedder, gallery, options, $"embedding {gallerySplit}", progress, cancel) : null;
        }

        var raw = Measure(queries, queryEmb, gallery, galleryEmb, options);
        var centred = Measure(queries, CenterPerArchitecture(queries, queryEmb), gallery,
            galleryEmb is null ? null : CenterPerArchitecture(gallery!, galleryEmb), options);
        var linear = gallery is null || galleryEmb is null ? new Dictionary<string, LinearAlignmentResult>()
            : LinearMaps(queries, queryEmb, gallery, galleryEmb, options);
        IReadOnlyList<ProtocolCell> protocol = [];
        if (options.ClassificationProtocol)
        {
            if (gallery is null || galleryEmb is null) throw new ArgumentException($"the classification protocol trains on the gallery split ('{options.GallerySplit}'), which {data.Root} does not have");
            LabelledEmbeddings? val = null;
            if (File.Exists(data.SplitFile(options.ValidationSplit)))
            {
                var entries = data.Entries(options.ValidationSplit, options.GalleryArchitectures ?? DatasetLayout.Families);
                if (entries.Count > 0) val = new(entries, Embed(embedder, entries, options, $"embedding {options.ValidationSplit}", progress, cancel));
            }
            protocol = ClassificationProtocol.Run(new(gallery, galleryEmb), val, new(queries, queryEmb), options.Head, progress, cancel);
        }
        var seconds = Math.Round(sw.Elapsed.TotalSeconds, 1);
        return raw with { Seconds = seconds, LinearMapInstanceRecall = linear, CenteredPerArchitecture = centred with { Seconds = seconds }, Classification = protocol };
    }

    /// <summary>For every ordered pair of families in both splits: the linear probe fitted on the gallery objects the two share.</summary>
    static Dictionary<string, LinearAlignmentResult> LinearMaps(IReadOnlyList<DatasetEntry> queries, float[][] queryEmb,
        IReadOnlyList<DatasetEntry> gallery, float[][] galleryEmb, EncoderEvaluationOptions options)
    {
        static Dictionary<string, Dictionary<string, float[]>> ByArch(IReadOnlyList<DatasetEntry> es, float[][] z) =>
            es.Select((e, i) => (e, z: z[i])).GroupBy(x => x.e.Arch).ToDictionary(g => g.Key, g => g.ToDictionary(x => x.e.ObjectKey, x => x.z));
        var (q, g) = (ByArch(queries, queryEmb), ByArch(gallery, galleryEmb));
        var families = DatasetLayout.Families.Where(f => q.ContainsKey(f) && g.ContainsKey(f)).ToArray();
        var result = new Dictionary<string, LinearAlignmentResult>();
        foreach (var a in families)
            foreach (var b in families.Where(b => b != a))
            {
                var fit = g[a].Keys.Intersect(g[b].Keys).Order(StringComparer.Ordinal).ToList();
                var shared = q[a].Keys.Intersect(q[b].Keys).Order(StringComparer.Ordinal).ToList();
                if (fit.Count < 10 || shared.Count < 2) continue;
                result[$"{a}→{b}"] = LinearAlignment.Run(fit.Select(k => g[a][k]).ToList(), fit.Select(k => g[b][k]).ToList(),
                    shared.Select(k => q[a][k]).ToList(), shared, shared.Select(k => q[b][k]).ToList(), shared, options.Ks);
            }
        return result;
    }

    static EncoderEvaluationReport Measure(IReadOnlyList<DatasetEntry> queries, float[][] queryEmb, IReadOnlyList<DatasetEntry>? gallery,
        float[][]? galleryEmb, EncoderEvaluationOptions options)
    {
        var byArch = queries.Select((e, i) => (e, z: queryEmb[i])).GroupBy(x => x.e.Arch).ToDictionary(g => g.Key, g => g.ToList());
        var classRecall = byArch.ToDictionary(kv => kv.Key, kv => RetrievalMetrics.ClassRecall(
            kv.Value.Select(x => x.z).ToList(), kv.Value.Select(x => x.e.Class).ToList(), options.Ks));

        var instance = new Dictionary<string, IReadOnlyDictionary<int, double>>();
        var families = DatasetLayout.Families.Where(byArch.ContainsKey).ToArray();
        foreach (var q in byArch.Keys)
            foreach (var g in families.Where(g => g != q))
            {
                // Only objects present in both, so recall is over the same set of objects.
                var shared = byArch[q].Select(x => x.e.ObjectKey).Intersect(byArch[g].Select(x => x.e.ObjectKey)).ToHashSet();
                if (shared.Count < 2) continue;
                var qs = byArch[q].Where(x => shared.Contains(x.e.ObjectKey)).ToList();
                var gs = byArch[g].Where(x => shared.Contains(x.e.ObjectKey)).ToList();
                instance[$"{q}→{g}"] = RetrievalMetrics.InstanceRecall(qs.Select(x => x.z).ToList(), qs.Select(x => x.e.ObjectKey).ToList(),
                    gs.Select(x => x.z).ToList(), gs.Select(x => x.e.ObjectKey).ToList(), options.Ks);
            }

        var knn = new Dictionary<string, double>();
        if (gallery is { Count: > 0 } && galleryEmb is not null)
        {
            var index = new NearestNeighborIndex(galleryEmb, DistanceMetric.Cosine);
            foreach (var (arch, items) in byArch)
            {
                var predicted = items.Select(x => NearestNeighborIndex.Vote(index.Query(x.z, options.Neighbours).Indices.Select(i => gallery[i].Class).ToList())).ToList();
                knn[arch] = RetrievalMetrics.Accuracy(items.Select(x => x.e.Class).ToList(), predicted).Micro;
            }
        }

        var spread = byArch.ToDictionary(kv => kv.Key, kv => MeanCosine(kv.Value.Select(x => x.z).ToList()));
        return new EncoderEvaluationReport
        {
            Split = options.Split, Nerfs = byArch.ToDictionary(kv => kv.Key, kv => kv.Value.Count),
            ClassRecall = classRecall, InstanceRecall = instance, KnnAccuracy = knn, MeanCosineBetweenObjects = spread, Seconds = 0,
        };
    }

    /// <summary>Each embedding minus the mean embedding of its entry's architecture (order kept).</summary>
    static float[][] CenterPerArchitecture(IReadOnlyList<DatasetEntry> entries, float[][] z)
    {
        var result = new float[z.Length][];
        foreach (var group in Enumerable.Range(0, z.Length).GroupBy(i => entries[i].Arch))
            foreach (var (i, centred) in group.Zip(CenterEach(group.Select(i => z[i]).ToList())))
                result[i] = centred;
        return result;
    }

    /// <summary>The vectors minus their mean.</summary>
    public static float[][] CenterEach(IReadOnlyList<float[]> z) => z.Count == 0 ? [] : Subtract(z, Mean(z));

    /// <summary>The mean vector (summed in double).</summary>
    public static double[] Mean(IReadOnlyList<float[]> z)
    {
        var mean = new double[z[0].Length];
        foreach (var v in z) for (int k = 0; k < mean.Length; k++) mean[k] += v[k];
        for (int k = 0; k < mean.Length; k++) mean[k] /= z.Count;
        return mean;
    }

    /// <summary>Each vector minus <paramref name="mean"/>.</summary>
    public static float[][] Subtract(IReadOnlyList<float[]> z, double[] mean) =>
        z.Select(v => v.Select((x, k) => (float)(x - mean[k])).ToArray()).ToArray();

    static float[][] Embed(NerfEmbedder embedder, IReadOnlyList<DatasetEntry> entries, EncoderEvaluationOptions options, string what,
        Action<string>? progress, CancellationToken cancel) =>
        embedder.EmbedFiles(entries.Select(e => e.WeightsPath).ToList(), options.BatchSize,
            done => progress?.Invoke($"{what}: {done}/{entries.Count}"), cancel);

    /// <summary>
    /// Mean cosine similarity over distinct pairs, in closed form: with normalised vectors uᵢ, Σ_{i≠j} uᵢ·uⱼ =
    /// |Σuᵢ|² − Σ|uᵢ|² (|uᵢ|² is 1, or 0 for a zero vector), so one pass over the embeddings instead of one per pair.
    /// </summary>
    public static double MeanCosine(IReadOnlyList<float[]> z)
    {
        if (z.Count < 2) return double.NaN;
        var sum = new double[z[0].Length];
        double self = 0;
        foreach (var v in z)
        {
            double norm = Math.Sqrt(v.Sum(x => (double)x * x));
            if (norm == 0) continue;
            for (int k = 0; k < sum.Length; k++) sum[k] += v[k] / norm;
            self += 1;
        }
        double n = z.Count;
        return (sum.Sum(x => x * x) - self) / (n * (n - 1));
    }
}
