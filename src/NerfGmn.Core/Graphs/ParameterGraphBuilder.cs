using NerfGmn.Architectures;

namespace NerfGmn.Graphs;

/// <summary>Turns NeRF weights into a <see cref="ParameterGraph"/> by composing one builder per module.</summary>
public static class ParameterGraphBuilder
{
    public static ParameterGraph Build(NerfWeights weights, ParameterGraphOptions? options = null)
    {
        options ??= ParameterGraphOptions.Default;
        var arch = weights.Architecture;
        var modules = new List<ILayerGraphBuilder>();
        if (arch.Triplane is { } tp)
            modules.Add(new TriplaneLayerGraphBuilder(weights.Triplane!, tp, arch.EncodingOutputDims, options.TriplaneLayout));
        if (arch.Hash is { } hash)
            modules.Add(new HashGridLayerGraphBuilder(weights.HashTable!, hash, options.HashGridLayerQuirk));
        modules.AddRange(weights.Layers.Select(l => new LinearLayerGraphBuilder(l)));

        // Size the buffers once (node counts depend on the layer counter only for the first Linear: a safe bound).
        long edges = modules.Sum(m => m.EdgeCount);
        int nodes = modules.Sum(m => m.NodeCount(new GraphAssembler(0, 0))) + (weights.Layers.Count > 0 ? weights.Layers[0].In : 0);
        var g = new GraphAssembler(nodes, edges);
        for (int k = 0; k < modules.Count; k++)
            modules[k].Append(g, isLast: k == modules.Count - 1);
        var graph = g.Build();
        if (options.Statistics is null && options.ProbePoints is null) return graph;
        var attr = options.Statistics?.Standardize(arch.Name, graph) ?? graph.EdgeAttr;
        if (options.ProbePoints is not { } points) return graph.With(attr, null, 0, null);
        var (probeNodes, probes) = ProbeFeatures.Compute(weights, points, g.NeuronLayers, graph.NodeCount);
        return graph.With(attr, probes, points.Length / 3, probeNodes);
    }
}
