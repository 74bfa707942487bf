using NerfGmn.IO;
using static TorchSharp.torch;

namespace NerfGmn.Graphs;

/// <summary>
/// A NeRF's parameter graph (Lim et al. 2024, as built by gmnerf): node features <c>x</c> [N, 3] (layer, neuron index
/// or −1, node type), <c>edge_index</c> [2, E] (source row, then target row) and <c>edge_attr</c> [E, 6] (value,
/// layer, edge type, position x, y, z). Stored row-major in flat arrays.
/// </summary>
public sealed class ParameterGraph
{
    public const int NodeFeatures = 3, EdgeFeatures = 6;

    public int NodeCount { get; }
    public int EdgeCount { get; }
    /// <summary>[N, 3] row-major.</summary>
    public long[] X { get; }
    /// <summary>[2, E]: sources in [0, E), targets in [E, 2E).</summary>
    public long[] EdgeIndex { get; }
    /// <summary>[E, 6] row-major.</summary>
    public float[] EdgeAttr { get; }

    /// <summary>
    /// Probe features (not in the reference): row m of this [M, <see cref="ProbeCount"/>] row-major array holds node
    /// <see cref="ProbeNodes"/>[m]'s activation at the encoder's probe points (see <see cref="ProbeFeatures"/>); every
    /// other node's are zero. Only neurons have them, a few hundred of a grid NeRF's tens of thousands of nodes, so they
    /// are kept per neuron: dense, a hash graph with 512 probes would hold 34 MB of zeros. Null when the graph has none.
    /// </summary>
    public float[]? NodeProbes { get; }
    /// <summary>The nodes that <see cref="NodeProbes"/>' rows belong to, ascending.</summary>
    public int[]? ProbeNodes { get; }
    public int ProbeCount { get; }

    /// <param name="probeNodes">The nodes of <paramref name="nodeProbes"/>' rows, ascending (required with them).</param>
    public ParameterGraph(long[] x, long[] edgeIndex, float[] edgeAttr, float[]? nodeProbes = null, int probeCount = 0, int[]? probeNodes = null)
    {
        if (x.Length % NodeFeatures != 0) throw new ArgumentException("x must have 3 columns", nameof(x));
        if (edgeIndex.Length % 2 != 0) throw new ArgumentException("edge_index must have 2 rows", nameof(edgeIndex));
        if (edgeAttr.Length != edgeIndex.Length / 2 * EdgeFeatures) throw new ArgumentException("edge_attr must be [E, 6]", nameof(edgeAttr));
        X = x;
        EdgeIndex = edgeIndex;
        EdgeAttr = edgeAttr;
        NodeCount = x.Length / NodeFeatures;
        EdgeCount = edgeIndex.Length / 2;
        if (nodeProbes is not null)
        {
            if (probeNodes is null) throw new ArgumentException("probe features need the nodes their rows belong to", nameof(probeNodes));
            if (probeCount < 1 || nodeProbes.Length != probeNodes.Length * probeCount)
                throw new ArgumentException($"probe features must be [M = {probeNodes.Length}, K = {probeCount}], got {nodeProbes.Length} values", nameof(nodeProbes));
            for (int m = 0; m < probeNodes.Length; m++)
                if (probeNodes[m] < 0 || probeNodes[m] >= NodeCount || (m > 0 && probeNodes[m] <= probeNodes[m - 1]))
                    throw new ArgumentException($"probe nodes must be ascending node ids below {NodeCount}; row {m} is node {probeNodes[m]}", nameof(probeNodes));
        }
        NodeProbes = nodeProbes;
        ProbeNodes = nodeProbes is null ? null : probeNodes;   // set exactly when NodeProbes is
        ProbeCount = nodeProbes is null ? 0 : probeCount;
    }

    /// <summary>The same graph with other edge values (e.g. standardised) and probe features.</summary>
    public ParameterGraph With(float[] edgeAttr, float[]? nodeProbes, int probeCount, int[]? probeNodes) =>
        new(X, EdgeIndex, edgeAttr, nodeProbes, probeCount, probeNodes);

    /// <summary>Node <paramref name="node"/>'s K probe features (zeros for a node without any).</summary>
    public float[] ProbesOf(int node)
    {
        if (NodeProbes is null) return [];
        int m = Array.BinarySearch(ProbeNodes!, node);
        return m < 0 ? new float[ProbeCount] : NodeProbes.AsSpan(m * ProbeCount, ProbeCount).ToArray();
    }

    public ReadOnlySpan<long> Sources => EdgeIndex.AsSpan(0, EdgeCount);
    public ReadOnlySpan<long> Targets => EdgeIndex.AsSpan(EdgeCount, EdgeCount);

    public const string XName = "x", EdgeIndexName = "edge_index", EdgeAttrName = "edge_attr";

    public const string NodeProbesName = "node_probes", ProbeNodesName = "probe_nodes";

    /// <summary>
    /// Writes <c>x</c> (I64), <c>edge_index</c> (I64) and <c>edge_attr</c> (F32) as safetensors, and a graph's probe
    /// features as <c>node_probes</c> [M, K] (F32) with <c>probe_nodes</c> [M] (I64) when it has them.
    /// </summary>
    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var tensors = new Dictionary<string, SafeTensor>
        {
            [XName] = SafeTensor.FromLongs(X, NodeCount, NodeFeatures),
            [EdgeIndexName] = SafeTensor.FromLongs(EdgeIndex, 2, EdgeCount),
            [EdgeAttrName] = SafeTensor.FromFloats(EdgeAttr, EdgeCount, EdgeFeatures),
        };
        if (NodeProbes is not null)
        {
            tensors[NodeProbesName] = SafeTensor.FromFloats(NodeProbes, ProbeNodes!.Length, ProbeCount);
            tensors[ProbeNodesName] = SafeTensor.FromLongs(ProbeNodes.Select(n => (long)n).ToArray(), ProbeNodes.Length);
        }
        SafeTensorsFile.Write(path, tensors, metadata);
    }

    public static ParameterGraph Load(string path)
    {
        var t = SafeTensorsFile.Read(path).Tensors;
        SafeTensor Get(string name, int rank) => t.TryGetValue(name, out var v) && v.Shape.Length == rank ? v
            : throw new NerfFormatException(path, $"graph file needs a rank-{rank} tensor '{name}'");
        var x = Get(XName, 2);
        var ei = Get(EdgeIndexName, 2);
        var ea = Get(EdgeAttrName, 2);
        if (x.Shape[1] != NodeFeatures || ei.Shape[0] != 2 || ea.Shape[1] != EdgeFeatures || ea.Shape[0] != ei.Shape[1])
            throw new NerfFormatException(path, $"graph tensors have shapes x [{string.Join(", ", x.Shape)}], edge_index [{string.Join(", ", ei.Shape)}], edge_attr [{string.Join(", ", ea.Shape)}]; expected [N, 3], [2, E], [E, 6]");
        ParameterGraph graph;
        bool hasProbes = t.ContainsKey(NodeProbesName) || t.ContainsKey(ProbeNodesName);
        var np = hasProbes ? Get(NodeProbesName, 2) : null;
        var pn = hasProbes ? Get(ProbeNodesName, 1) : null;
        if (hasProbes && np!.Shape[0] != pn!.Shape[0])
            throw new NerfFormatException(path, $"node_probes has {np.Shape[0]} rows, probe_nodes {pn.Shape[0]} nodes");
        try
        {
            var probeNodes = pn?.ToLongs().Select(n => n is >= 0 and <= int.MaxValue ? (int)n
                : throw new NerfFormatException(path, $"probe node {n} is not a node id")).ToArray();
            graph = new ParameterGraph(x.ToLongs(), ei.ToLongs(), ea.ToFloats(), np?.ToFloats(), hasProbes ? (int)np!.Shape[1] : 0, probeNodes);
        }
        catch (ArgumentException e) when (hasProbes && e.ParamName is "nodeProbes" or "probeNodes")
        {
            throw new NerfFormatException(path, $"probe features that do not fit the graph: {e.Message}", e);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException)
        {
            throw new NerfFormatException(path, $"graph tensors of the wrong type ({e.Message}); expected x, edge_index and probe_nodes integer, edge_attr and node_probes floating point", e);
        }
        graph.Validate(path);
        return graph;
    }

    /// <summary>Checks that every edge endpoint is a node.</summary>
    public void Validate(string? source = null)
    {
        foreach (long v in EdgeIndex)
            if (v < 0 || v >= NodeCount)
                throw new NerfFormatException(source, $"edge endpoint {v} is not a node (graph has {NodeCount} nodes)");
    }

    /// <summary>x as float32 [N, 3], edge_index as int64 [2, E], edge_attr as float32 [E, 6].</summary>
    public (Tensor X, Tensor EdgeIndex, Tensor EdgeAttr) ToTensors(Device? device = null)
    {
        var x = tensor(X, [NodeCount, NodeFeatures]).to_type(ScalarType.Float32);
        var ei = tensor(EdgeIndex, [2, EdgeCount]);
        var ea = tensor(EdgeAttr, [EdgeCount, EdgeFeatures]);
        return device is null ? (x, ei, ea) : (x.to(device), ei.to(device), ea.to(device));
    }
}
