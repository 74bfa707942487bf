using NerfGmn.Architectures;

namespace NerfGmn.Graphs;

/// <summary>
/// A Linear layer W (out, in) with optional bias (Lim et al. <c>linear_to_graph</c>): output neurons
/// <c>[l+1, k or −1, 0]</c>, one bias node <c>[l+1, −1, 1]</c>, weight edges output-major (edge o·in + i runs from
/// input i to output o and carries W[o, i]), then the bias edges.
/// </summary>
internal sealed class LinearLayerGraphBuilder(LinearWeights layer) : ILayerGraphBuilder
{
    public int NodeCount(GraphAssembler g) => (g.LayerNum == 0 ? layer.In : 0) + layer.Out + (layer.Bias is null ? 0 : 1);
    public long EdgeCount => (long)layer.Out * layer.In + (layer.Bias?.Length ?? 0);

    public void Append(GraphAssembler g, bool isLast)
    {
        int l = g.LayerNum;
        if (l == 0)
        {
            // The reference creates input nodes whenever the layer counter is 0, even after a hash grid (whose
            // features then feed this layer and the new nodes stay isolated).
            int first = InputLayerGraphBuilder.Append(g, layer.In);
            g.InputIds ??= Enumerable.Range(first, layer.In).ToArray();
        }
        int[] inputs = g.InputIds ?? throw new InvalidOperationException("no input nodes for a Linear layer");
        if (inputs.Length != layer.In)
            throw new InvalidOperationException($"Linear layer expects {layer.In} inputs, previous module gives {inputs.Length}");

        int outFirst = g.AddNodes(layer.Out, l + 1, NodeType.Neuron, indexed: isLast);
        int biasNode = layer.Bias is null ? -1 : g.AddNodes(1, l + 1, NodeType.Bias, indexed: false);

        var (src, dst, attr) = g.AddEdges(layer.Out * layer.In, l, EdgeType.LinearWeight);
        var w = layer.Weight;
        for (int o = 0, e = 0; o < layer.Out; o++)
            for (int i = 0; i < layer.In; i++, e++)
            {
                src[e] = inputs[i];
                dst[e] = outFirst + o;
                attr[6 * e] = w[e];
            }

        if (layer.Bias is { } b)
        {
            var (bs, bd, ba) = g.AddEdges(layer.Out, l, EdgeType.LinearBias);
            for (int o = 0; o < layer.Out; o++)
            {
                bs[o] = biasNode;
                bd[o] = outFirst + o;
                ba[6 * o] = b[o];
            }
        }

        if (g.NeuronLayers.Count == 0) g.NeuronLayers.Add(inputs);
        g.InputIds = Enumerable.Range(outFirst, layer.Out).ToArray();
        g.NeuronLayers.Add(g.InputIds);
        g.LayerNum = l + 1;
    }
}
