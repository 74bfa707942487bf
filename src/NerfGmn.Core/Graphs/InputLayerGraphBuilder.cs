namespace NerfGmn.Graphs;

/// <summary>
/// Network input neurons <c>[0, k, 0]</c>: one per encoded input dimension (e.g. 144 for a 24-frequency encoding;
/// the encoding has no parameters and adds no edges). Created by a Linear that runs as layer 0.
/// </summary>
internal static class InputLayerGraphBuilder
{
    public static int Append(GraphAssembler g, int inputs) =>
        g.AddNodes(inputs, layer: 0, type: NodeType.Neuron, indexed: true);
}
