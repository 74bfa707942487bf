using NerfGmn.Architectures;

namespace NerfGmn.Graphs;

/// <summary>
/// A multi-resolution hash grid (gmnerf <c>hash_grid_to_graph</c>): one entry node <c>[0, n, 17]</c> per table entry
/// (n = level offset + t), <c>padded_features</c> feature nodes <c>[0, −1, 17]</c>; edge (offset_l + t)·F + f runs
/// from entry to feature node l·F + f, carries <c>table[l, t, f]</c> and the position (l, t·F + f, −1).
/// Feature nodes past L·F are padding without incoming edges.
/// </summary>
internal sealed class HashGridLayerGraphBuilder(float[] table, HashGridSpec spec, bool layerQuirk) : ILayerGraphBuilder
{
    readonly int[] _sizes = spec.TableSizes ?? spec.ComputeTableSizes();

    public int NodeCount(GraphAssembler g) => _sizes.Sum() + spec.PaddedFeatures;
    public long EdgeCount => (long)_sizes.Sum() * spec.Features;

    public void Append(GraphAssembler g, bool isLast)
    {
        int f = spec.Features, entries = _sizes.Sum();
        int entryFirst = g.AddNodes(entries, 0, NodeType.HashGrid, indexed: true);
        int featureFirst = g.AddNodes(spec.PaddedFeatures, 0, NodeType.HashGrid, indexed: false);

        int l = g.LayerNum;
        var (src, dst, attr) = g.AddEdges(entries * f, l, EdgeType.HashGrid);
        int e = 0, entry = 0;
        for (int level = 0; level < spec.Levels; level++)
            for (int t = 0; t < _sizes[level]; t++, entry++)
                for (int k = 0; k < f; k++, e++)
                {
                    src[e] = entryFirst + entry;
                    dst[e] = featureFirst + level * f + k;
                    int o = 6 * e;
                    attr[o] = table[e];
                    attr[o + 3] = level;
                    attr[o + 4] = t * f + k;
                }

        g.InputIds = Enumerable.Range(featureFirst, spec.PaddedFeatures).ToArray();
        // gmnerf leaves the layer counter where it was (see ParameterGraphOptions.HashGridLayerQuirk).
        if (!layerQuirk) g.LayerNum = l + 1;
    }
}
