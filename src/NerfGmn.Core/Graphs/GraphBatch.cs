using static TorchSharp.torch;

namespace NerfGmn.Graphs;

/// <summary>
/// Several parameter graphs as one disconnected graph (PyG <c>Batch</c>): nodes and edges concatenated, each
/// graph's edge_index offset by the nodes before it, and <c>batch[n]</c> = graph id of node n.
/// </summary>
public sealed class GraphBatch : IDisposable
{
    public Tensor X { get; }
    public Tensor EdgeIndex { get; }
    public Tensor EdgeAttr { get; }
    /// <summary>Graph id of every node.</summary>
    public Tensor Batch { get; }
    public int GraphCount { get; }
    public int NodeCount { get; }
    public int EdgeCount { get; }

    GraphBatch(Tensor x, Tensor edgeIndex, Tensor edgeAttr, Tensor batch, int graphs, int nodes, int edges)
    {
        X = x; EdgeIndex = edgeIndex; EdgeAttr = edgeAttr; Batch = batch;
        GraphCount = graphs; NodeCount = nodes; EdgeCount = edges;
    }

    /// <summary>Concatenates in managed memory, then makes one tensor of each (x float32, edge_index int64, edge_attr float32, batch int64).</summary>
    public static GraphBatch From(IReadOnlyList<ParameterGraph> graphs, Device? device = null)
    {
        if (graphs.Count == 0) throw new ArgumentException("a batch needs at least one graph", nameof(graphs));
        int n = graphs.Sum(g => g.NodeCount), e = graphs.Sum(g => g.EdgeCount);
        var x = new float[n * 3];
        var ei = new long[2 * e];
        var ea = new float[e * 6];
        var batch = new long[n];
        int nodeOffset = 0, edgeOffset = 0;
        for (int gi = 0; gi < graphs.Count; gi++)
        {
            var g = graphs[gi];
            for (int k = 0; k < g.X.Length; k++) x[nodeOffset * 3 + k] = g.X[k];
            var src = g.Sources; var dst = g.Targets;
            for (int k = 0; k < g.EdgeCount; k++)
            {
                ei[edgeOffset + k] = src[k] + nodeOffset;
                ei[e + edgeOffset + k] = dst[k] + nodeOffset;
            }
            Array.Copy(g.EdgeAttr, 0, ea, edgeOffset * 6, g.EdgeAttr.Length);
            Array.Fill(batch, gi, nodeOffset, g.NodeCount);
            nodeOffset += g.NodeCount;
            edgeOffset += g.EdgeCount;
        }
        Tensor Place(Tensor t) => device is null ? t : t.to(device);
        return new GraphBatch(Place(tensor(x, [n, 3])), Place(tensor(ei, [2, e])), Place(tensor(ea, [e, 6])),
            Place(tensor(batch, [n])), graphs.Count, n, e);
    }

    public void Dispose()
    {
        X.Dispose(); EdgeIndex.Dispose(); EdgeAttr.Dispose(); Batch.Dispose();
    }
}
