using NerfGmn.Architectures;
using NerfGmn.Encoder;
using NerfGmn.Graphs;
using NerfGmn.IO;
using static NerfGmn.Runtime.ScalarArgs;
using static TorchSharp.torch;

namespace NerfGmn.Training;

/// <summary>
/// One anchor NeRF per architecture, the element-wise mean of that architecture's training weights; <c>--anchor</c>
/// trains on each embedding minus its architecture anchor's embedding, scaled to unit RMS (not in the reference).
/// <para>
/// A briefly trained GMN gives every NeRF of an architecture nearly the same embedding (cosine ≈ 1 − 1e-7 measured on
/// shapes13): the readout averages tens of thousands of edges whose values differ between objects by small offsets from
/// one shared initialisation. The decoder and SigLIP then see the architecture, not the object. Subtracting a batch or
/// running mean (<see cref="ArchitectureCentering"/>) is either relative to the batch's few companions or lags the
/// encoder; the anchor is embedded by the current encoder in the same forward pass, so the difference is exact,
/// differentiable and absolute — to first order the object's weights minus the mean weights, seen through the encoder.
/// </para>
/// </summary>
public sealed class ArchitectureAnchors
{
    readonly Dictionary<string, ParameterGraph> _graphs;

    ArchitectureAnchors(Dictionary<string, ParameterGraph> graphs) => _graphs = graphs;

    /// <summary>The anchors of every architecture in <paramref name="data"/> (usually the training split).</summary>
    public static ArchitectureAnchors From(TrainingData data, ParameterGraphOptions options)
    {
        var graphs = new Dictionary<string, ParameterGraph>(StringComparer.Ordinal);
        foreach (var group in data.Objects.SelectMany(o => o.Value).GroupBy(kv => kv.Key, kv => kv.Value))
            graphs[group.Key] = ParameterGraphBuilder.Build(MeanWeights(group.Select(f => NerfWeightsFile.Read(f)).ToList()), options);
        return new ArchitectureAnchors(graphs);
    }

    public bool Has(string arch) => _graphs.ContainsKey(arch);

    /// <summary>
    /// Eval-mode embeddings of <paramref name="graphs"/> (architectures <paramref name="archs"/>) relative to their
    /// anchors (<see cref="Relative"/>), each anchor embedded once.
    /// </summary>
    public Tensor EmbedRelative(GraphMetaNetwork encoder, IReadOnlyList<ParameterGraph> graphs, IReadOnlyList<string> archs, int batchSize)
    {
        var anchorArchs = archs.Distinct().ToList();
        using var z = encoder.EmbedTensor(graphs.Concat(anchorArchs.Select(Graph)).ToList(), batchSize);
        return Relative(z, archs, anchorArchs);
    }

    public ParameterGraph Graph(string arch) => _graphs.TryGetValue(arch, out var g) ? g
        : throw new ArgumentException($"no anchor for architecture '{arch}' (anchors: {string.Join(", ", _graphs.Keys)})");

    /// <summary>Element-wise mean (in double) of NeRFs of one architecture.</summary>
    public static NerfWeights MeanWeights(IReadOnlyList<NerfWeights> nerfs)
    {
        if (nerfs.Count == 0) throw new ArgumentException("no NeRFs to average");
        var first = nerfs[0];
        foreach (var n in nerfs)
            if (n.ParameterCount != first.ParameterCount || n.Layers.Count != first.Layers.Count)
                throw new ArgumentException($"{n.Source ?? "a NeRF"} does not have the architecture of {first.Source ?? "the first"}");
        static float[] Mean(IReadOnlyList<float[]> xs) => Retrieval.EncoderEvaluation.Mean(xs).Select(v => (float)v).ToArray();
        var layers = first.Layers.Select((l, i) => l with
        {
            Weight = Mean(nerfs.Select(n => n.Layers[i].Weight).ToList()),
            Bias = l.Bias is null ? null : Mean(nerfs.Select(n => n.Layers[i].Bias!).ToList()),
        }).ToList();
        return new NerfWeights(first.Architecture, layers,
            first.Triplane is null ? null : Mean(nerfs.Select(n => n.Triplane!).ToList()),
            first.HashTable is null ? null : Mean(nerfs.Select(n => n.HashTable!).ToList()));
    }

    /// <summary>
    /// <paramref name="z"/> holds the embeddings of <paramref name="archs"/>.Count graphs followed by those of
    /// <paramref name="anchorArchs"/>' anchors; returns each graph's embedding minus its anchor's, scaled to unit RMS.
    /// </summary>
    public static Tensor Relative(Tensor z, IReadOnlyList<string> archs, IReadOnlyList<string> anchorArchs)
    {
        int n = archs.Count;
        if (z.shape[0] != n + anchorArchs.Count) throw new ArgumentException($"{z.shape[0]} embeddings for {n} graphs and {anchorArchs.Count} anchors");
        var order = anchorArchs.ToList();
        var index = tensor(archs.Select(a => order.IndexOf(a) is var k and >= 0 ? (long)(n + k)
            : throw new ArgumentException($"no anchor embedding for '{a}'")).ToArray(), device: z.device);
        var rel = z.narrow(0, 0, n).Minus(z.index_select(0, index));
        return rel / rel.Squared().mean([1], keepdim: true).sqrt().clamp_min(S(1e-12));
    }
}
