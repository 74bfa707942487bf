using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Encoder;

/// <summary>
/// The GMN pre-encoder (gmnerf <c>NodeEdgeFeatEncoder</c>). Nodes: [sin(Lin(layer)); sin(Lin(neuron index));
/// Emb(type)] → Linear(3d→d). Edges: [sin(Lin(value)); sin(Lin(layer)); Emb(type); sin(Lin₃(position))] →
/// Linear(4d→d). No activation after the projections.
/// Edge layer and type take few distinct values, and every Linear edge has the same position, so those shares of the
/// projection are computed once per value and gathered (same math as projecting the concatenation).
/// </summary>
public sealed class NodeEdgeFeatureEncoder : nn.Module<(Tensor X, Tensor EdgeAttr), (Tensor H, Tensor G)>
{
    readonly Linear node_layer, neuron_index, edge_value, edge_layer, edge_position, node_proj, edge_proj;
    readonly Embedding node_type, edge_type;
    readonly int _d;

    public NodeEdgeFeatureEncoder(GmnOptions o) : base(nameof(NodeEdgeFeatureEncoder))
    {
        _d = o.HiddenDim;
        // Creation order = the reference's, so seeded initialisation matches it.
        node_layer = nn.Linear(1, _d);
        neuron_index = nn.Linear(1, _d);
        node_type = nn.Embedding(o.NodeTypes, _d);
        node_proj = nn.Linear(3 * _d, _d);
        edge_value = nn.Linear(1, _d);
        edge_layer = nn.Linear(1, _d);
        edge_position = nn.Linear(3, _d);
        edge_type = nn.Embedding(o.EdgeTypes, _d);
        edge_proj = nn.Linear(4 * _d, _d);
        if (o.ValueEncoderScale != 1)
            using (no_grad())
            {
                // Rescaling the default U(±1) draw keeps the seeded sequence of every other parameter unchanged.
                edge_value.weight!.mul_(S(o.ValueEncoderScale));
                edge_value.bias!.mul_(S(o.ValueEncoderScale));
            }
        RegisterComponents();
    }

    public override (Tensor H, Tensor G) forward((Tensor X, Tensor EdgeAttr) input)
    {
        using var scope = NewDisposeScope();
        var (x, ea) = input;
        var nodeFeatures = cat([
            node_layer.forward(x[.., 0..1]).sin(),
            neuron_index.forward(x[.., 1..2]).sin(),
            node_type.forward(x[.., 2].to_type(ScalarType.Int64)),
        ], 1);
        var h = node_proj.forward(nodeFeatures);

        var w = edge_proj.weight!;
        int d = _d;
        // Value: continuous, per edge.
        var g = nn.functional.linear(edge_value.forward(ea[.., 0..1]).sin(), w[.., 0..d], edge_proj.bias);
        // Position: every Linear edge has (−1, −1, −1), so that row is projected once; only grid edges (tri-plane,
        // hash) are projected one by one. (unique(dim: 0) would cost more than it saves.)
        var positionWeight = w[.., (3 * d)..(4 * d)];
        var pos = ea[.., 3..6];
        var gridEdges = pos.ne(S(-1f)).any(1).nonzero().squeeze(1);
        var defaultRow = nn.functional.linear(edge_position.forward(full(1, 3, S(-1f), dtype: pos.dtype, device: pos.device)).sin(), positionWeight);
        // Sums are accumulated in place and per-edge temporaries released at once: a TorchSharp handle keeps its
        // tensor alive until disposed, which would otherwise hold several [E, d] buffers until the scope ends.
        if (gridEdges.shape[0] > 0)
        {
            using var gridPart = nn.functional.linear(edge_position.forward(pos.index_select(0, gridEdges)).sin(), positionWeight);
            using var positionPart = defaultRow.expand(pos.shape[0], d).index_copy(0, gridEdges, gridPart);
            g.AddInPlace(positionPart);
        }
        else g.AddInPlace(defaultRow);
        // Layer: project each distinct value once, then gather.
        var (layers, layerIndex, _) = unique(ea[.., 1], sorted: true, return_inverse: true);
        var layerTable = nn.functional.linear(edge_layer.forward(layers.unsqueeze(1)).sin(), w[.., d..(2 * d)]);
        using (var layerPart = layerTable.index_select(0, layerIndex!)) g.AddInPlace(layerPart);
        // Type: project the (small) embedding table once, then gather.
        var typeTable = nn.functional.linear(edge_type.weight!, w[.., (2 * d)..(3 * d)]);
        using (var typePart = typeTable.index_select(0, ea[.., 2].to_type(ScalarType.Int64))) g.AddInPlace(typePart);
        return (h.MoveToOuterDisposeScope(), g.MoveToOuterDisposeScope());
    }
}
