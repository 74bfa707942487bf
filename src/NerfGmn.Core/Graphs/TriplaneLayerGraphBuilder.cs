using NerfGmn.Architectures;

namespace NerfGmn.Graphs;

/// <summary>
/// A tri-plane (3, R, R, C) preceded by E encoded-coordinate inputs (gmnerf <c>TriplanarGridWithInputEncoding</c>):
/// E input nodes, 3R² cell nodes <c>[0, s, 16]</c>, C channel nodes <c>[0, −1, 16]</c>; edge e = s·C + c runs from
/// cell s to channel c and carries <c>triplane[p, i, j, c]</c>. Its position is either the reference's (computed as if
/// e indexed a (3C, R, R) array) or the cell's true position (<see cref="TriplanePositionLayout.Clean"/>).
/// The module outputs are the coordinate nodes followed by the channel nodes, as the NeRF concatenates them.
/// </summary>
internal sealed class TriplaneLayerGraphBuilder(float[] triplane, TriplaneSpec spec, int coordinateInputs, TriplanePositionLayout layout)
    : ILayerGraphBuilder
{
    readonly int _r = spec.Resolution, _c = spec.Channels;

    public int NodeCount(GraphAssembler g) => coordinateInputs + 3 * _r * _r + _c;
    public long EdgeCount => 3L * _r * _r * _c;

    public void Append(GraphAssembler g, bool isLast)
    {
        int r = _r, c = _c, cells = 3 * r * r;
        int coordFirst = g.AddNodes(coordinateInputs, 0, NodeType.Neuron, indexed: true);
        int cellFirst = g.AddNodes(cells, 0, NodeType.Triplanar, indexed: true);
        int channelFirst = g.AddNodes(c, 0, NodeType.Triplanar, indexed: false);

        float[] lin = spec.PositionValues ?? Linspace(r);
        int l = g.LayerNum;
        var (src, dst, attr) = g.AddEdges(cells * c, l, EdgeType.Triplanar);
        int rr = r * r;
        for (int e = 0; e < cells * c; e++)
        {
            int s = e / c;
            src[e] = cellFirst + s;
            dst[e] = channelFirst + e % c;
            int o = 6 * e;
            attr[o] = triplane[e];
            float px, py, pz;
            if (layout == TriplanePositionLayout.Reference)
            {
                int plane = e / rr / c, a = e / r % r, b = e % r;
                (px, py, pz) = plane switch
                {
                    0 => (lin[a], lin[b], 0f),
                    1 => (0f, lin[a], lin[b]),
                    _ => (lin[b], 0f, lin[a]),
                };
            }
            else
            {
                // Plane conventions of the NeRF itself: plane 0 samples (x ← col, y ← row), plane 1 (x ← col,
                // z ← row), plane 2 (y ← col, z ← row).
                int plane = s / rr, i = s / r % r, j = s % r;
                (px, py, pz) = plane switch
                {
                    0 => (lin[j], lin[i], 0f),
                    1 => (lin[j], 0f, lin[i]),
                    _ => (0f, lin[j], lin[i]),
                };
            }
            attr[o + 3] = px;
            attr[o + 4] = py;
            attr[o + 5] = pz;
        }

        var outputs = new int[coordinateInputs + c];
        for (int k = 0; k < coordinateInputs; k++) outputs[k] = coordFirst + k;
        for (int k = 0; k < c; k++) outputs[coordinateInputs + k] = channelFirst + k;
        g.InputIds = outputs;
        g.LayerNum = l + 1;
    }

    /// <summary>float32 <c>torch.linspace(−1, 1, n)</c>: the upper half is computed from the end, as torch does.</summary>
    public static float[] Linspace(int n)
    {
        var v = new float[n];
        if (n == 1) { v[0] = -1f; return v; }
        float step = (1f - -1f) / (n - 1);
        int half = n / 2;
        for (int k = 0; k < n; k++)
            v[k] = k < half ? -1f + k * step : 1f - (n - 1 - k) * step;
        return v;
    }
}
