namespace NerfGmn.Graphs;

/// <summary>
/// Accumulates nodes and edges while the layer builders walk a sequential network (gmnerf's <c>arch_to_graph</c>):
/// the next free node id, the layer counter and the node ids that feed the next module.
/// </summary>
internal sealed class GraphAssembler
{
    long[] _x;
    long[] _src, _dst;
    float[] _attr;

    public int NodeCount { get; private set; }
    public int EdgeCount { get; private set; }
    /// <summary>Layer number of the next module.</summary>
    public int LayerNum { get; set; }
    /// <summary>Node ids that feed the next module (null before the first module).</summary>
    public int[]? InputIds { get; set; }
    /// <summary>
    /// The node ids of the NeRF's MLP neurons, layer by layer: the first Linear's inputs, then each Linear's outputs
    /// (where probe features go).
    /// </summary>
    public List<int[]> NeuronLayers { get; } = [];

    public GraphAssembler(int nodeCapacity, long edgeCapacity)
    {
        _x = new long[Math.Max(1, nodeCapacity) * 3];
        _src = new long[Math.Max(1, edgeCapacity)];
        _dst = new long[Math.Max(1, edgeCapacity)];
        _attr = new float[Math.Max(1, edgeCapacity) * 6];
    }

    /// <summary>Adds <paramref name="count"/> consecutive nodes; returns the first id.</summary>
    public int AddNodes(int count, long layer, long type, bool indexed)
    {
        EnsureNodes(NodeCount + count);
        int first = NodeCount;
        var x = _x.AsSpan(first * 3, count * 3);
        for (int k = 0; k < count; k++)
        {
            x[3 * k] = layer;
            x[3 * k + 1] = indexed ? k : -1;
            x[3 * k + 2] = type;
        }
        NodeCount += count;
        return first;
    }

    /// <summary>Reserves <paramref name="count"/> edges and returns spans to fill: sources, targets, [count, 6] attributes
    /// (the attributes come pre-filled with the layer, the type and position −1).</summary>
    public EdgeBlock AddEdges(int count, int layer, int type)
    {
        EnsureEdges(EdgeCount + count);
        int first = EdgeCount;
        EdgeCount += count;
        var attr = _attr.AsSpan(first * 6, count * 6);
        for (int e = 0; e < count; e++)
        {
            int o = 6 * e;
            attr[o + 1] = layer;
            attr[o + 2] = type;
            attr[o + 3] = -1f;
            attr[o + 4] = -1f;
            attr[o + 5] = -1f;
        }
        return new EdgeBlock(_src.AsSpan(first, count), _dst.AsSpan(first, count), attr);
    }

    void EnsureNodes(int n)
    {
        if (n * 3 > _x.Length) Array.Resize(ref _x, Math.Max(n * 3, _x.Length * 2));
    }

    void EnsureEdges(int e)
    {
        if (e <= _src.Length) return;
        int cap = Math.Max(e, _src.Length * 2);
        Array.Resize(ref _src, cap);
        Array.Resize(ref _dst, cap);
        Array.Resize(ref _attr, cap * 6);
    }

    public ParameterGraph Build()
    {
        var edgeIndex = new long[2 * EdgeCount];
        Array.Copy(_src, 0, edgeIndex, 0, EdgeCount);
        Array.Copy(_dst, 0, edgeIndex, EdgeCount, EdgeCount);
        var x = _x.Length == NodeCount * 3 ? _x : _x[..(NodeCount * 3)];
        var attr = _attr.Length == EdgeCount * 6 ? _attr : _attr[..(EdgeCount * 6)];
        return new ParameterGraph(x, edgeIndex, attr);
    }
}

/// <summary>Spans over a block of newly added edges: sources, targets and [count, 6] attributes.</summary>
internal readonly ref struct EdgeBlock(Span<long> src, Span<long> dst, Span<float> attr)
{
    public readonly Span<long> Src = src;
    public readonly Span<long> Dst = dst;
    public readonly Span<float> Attr = attr;

    public void Deconstruct(out Span<long> s, out Span<long> d, out Span<float> a) { s = Src; d = Dst; a = Attr; }
}
