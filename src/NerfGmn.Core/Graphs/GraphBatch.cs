using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Graphs;

/// <summary>
/// Several parameter graphs as one disconnected graph (PyG <c>Batch</c>): nodes and edges concatenated, each
/// graph's edge_index offset by the nodes before it, and <c>batch[n]</c> = graph id of node n.
/// </summary>
public sealed class GraphBatch : IDisposable
{
    /// <summary>[N, 3] float32: layer, neuron index, node type.</summary>
    public Tensor X { get; }
    /// <summary>[M, K] float32 probe features of the nodes <see cref="ProbeNodes"/> [M] (int64); null when the graphs have none.</summary>
    public Tensor? Probes { get; }
    public Tensor? ProbeNodes { get; }
    public Tensor EdgeIndex { get; }
    public Tensor EdgeAttr { get; }
    /// <summary>Graph id of every node.</summary>
    public Tensor Batch { get; }
    public int GraphCount { get; }
    public int NodeCount { get; }
    public int EdgeCount { get; }

    GraphBatch(Tensor x, Tensor? probes, Tensor? probeNodes, Tensor edgeIndex, Tensor edgeAttr, Tensor batch, int graphs, int nodes, int edges)
    {
        X = x; Probes = probes; ProbeNodes = probeNodes; EdgeIndex = edgeIndex; EdgeAttr = edgeAttr; Batch = batch;
        GraphCount = graphs; NodeCount = nodes; EdgeCount = edges;
    }

    /// <summary>
    /// Concatenates in managed memory, then makes one tensor of each (x float32, edge_index int64, edge_attr float32, batch
    /// int64), on the CPU whatever the default device (the data side), then on <paramref name="device"/> if given.
    /// </summary>
    public static GraphBatch From(IReadOnlyList<ParameterGraph> graphs, Device? device = null)
    {
        if (graphs.Count == 0) throw new ArgumentException("a batch needs at least one graph", nameof(graphs));
        int n = graphs.Sum(g => g.NodeCount), e = graphs.Sum(g => g.EdgeCount);
        using var scope = NewDisposeScope();
        int k = graphs[0].ProbeCount;
        if (graphs.Any(g => g.ProbeCount != k))
            throw new ArgumentException($"graphs of one batch must have the same number of probe features ({string.Join(", ", graphs.Select(g => g.ProbeCount).Distinct())})");
        // Each graph's edge_index and probe nodes shifted by the nodes before it, as tensor ops (no per-edge managed loop).
        long offset = 0;
        var edgeIndex = new List<Tensor>(graphs.Count);
        var probeNodes = new List<Tensor>(graphs.Count);
        foreach (var g in graphs)
        {
            edgeIndex.Add(tensor(g.EdgeIndex, [2, g.EdgeCount], device: CPU).Plus(S(offset)));
            if (k > 0) probeNodes.Add(tensor(g.ProbeNodes!, device: CPU).to_type(ScalarType.Int64).Plus(S(offset)));
            offset += g.NodeCount;
        }
        var x = cat(graphs.Select(g => tensor(g.X, [g.NodeCount, 3], device: CPU).to_type(ScalarType.Float32)).ToArray(), 0);
        var probes = k > 0 ? cat(graphs.Select(g => tensor(g.NodeProbes!, [g.ProbeNodes!.Length, k], device: CPU)).ToArray(), 0) : null;
        var ea = cat(graphs.Select(g => tensor(g.EdgeAttr, [g.EdgeCount, 6], device: CPU)).ToArray(), 0);
        var batch = arange(S(graphs.Count), dtype: ScalarType.Int64, device: CPU)
            .repeat_interleave(tensor(graphs.Select(g => (long)g.NodeCount).ToArray(), device: CPU));
        Tensor Place(Tensor t) => (device is null ? t : t.to(device)).MoveToOuterDisposeScope();
        return new GraphBatch(Place(x), probes is null ? null : Place(probes), probes is null ? null : Place(cat(probeNodes, 0)),
            Place(cat(edgeIndex, 1)), Place(ea), Place(batch), graphs.Count, n, e);
    }

    public void Dispose()
    {
        X.Dispose(); Probes?.Dispose(); ProbeNodes?.Dispose(); EdgeIndex.Dispose(); EdgeAttr.Dispose(); Batch.Dispose();
    }
}
