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
/// <see cref="Encode"/> also folds the linear maps that follow into the projections.
/// </summary>
public sealed class NodeEdgeFeatureEncoder : nn.Module<(Tensor X, Tensor EdgeAttr), (Tensor H, Tensor G)>
{
    readonly Linear node_layer, neuron_index, edge_value, edge_layer, edge_position, node_proj, edge_proj;
    readonly Embedding node_type, edge_type;
    readonly Linear? node_probe;
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
        // Created last, so the reference's seeded parameters are drawn as before.
        if (o.ProbePoints > 0) node_probe = nn.Linear(o.ProbePoints, _d);
        RegisterComponents();
    }

    public override (Tensor H, Tensor G) forward((Tensor X, Tensor EdgeAttr) input) => Encode(input.X, input.EdgeAttr, null, null, null, null);

    /// <summary>
    /// The pre-encoder followed by the given linear maps (the GMN's <c>node_embed</c>/<c>edge_embed</c>; null = none).
    /// Nothing non-linear lies between the projections and those maps, so they are composed into one d×kd weight and
    /// applied once (W₂(W₁v + b₁) + b₂ = (W₂W₁)v + (W₂b₁ + b₂)); autograd reaches both layers through the product.
    /// </summary>
    /// <param name="probes">[M, K] probe features of the nodes <paramref name="probeNodes"/> [M] (every other node's are zero); null: none.</param>
    public (Tensor H, Tensor G) Encode(Tensor x, Tensor ea, Linear? nodeNext, Linear? edgeNext, Tensor? probes, Tensor? probeNodes)
    {
        using var scope = NewDisposeScope();
        var (wn, bn) = Compose(node_proj, nodeNext);
        var nodeFeatures = cat([
            node_layer.forward(x[.., 0..1]).sin(),
            neuron_index.forward(x[.., 1..2]).sin(),
            node_type.forward(x[.., 2].to_type(ScalarType.Int64)),
        ], 1);
        var h = nn.functional.linear(nodeFeatures, wn, bn);
        if (node_probe is not null)
        {
            // Their Linear joins the node projection's sum (and its next map); a node without probes reads zeros, i.e. the bias.
            int k = (int)node_probe.weight!.shape[1];
            if (probes is null || probeNodes is null)
                throw new ArgumentException($"the encoder reads {k} probe features per node; the graphs have none");
            if (probes.shape[1] != k)
                throw new ArgumentException($"the encoder reads {k} probe features per node; the graphs have {probes.shape[1]}");
            var wp = nodeNext is null ? node_probe.weight : nodeNext.weight!.matmul(node_probe.weight);
            var bp = nodeNext is null ? node_probe.bias! : nodeNext.weight!.matmul(node_probe.bias!);
            h.AddInPlace(bp);
            h.index_add_(0, probeNodes, probes.matmul(wp.t()), S(1.0));
        }

        var (w, b) = Compose(edge_proj, edgeNext);
        int d = _d;
        var positionWeight = w[.., (3 * d)..(4 * d)];
        // Layer and type take few distinct values and every Linear edge has position (−1, −1, −1): their shares (and
        // the bias) are summed into one table over (layer, type) pairs and gathered once per edge.
        var (layers, layerIndex, _) = unique(ea[.., 1], sorted: true, return_inverse: true);
        var layerTable = nn.functional.linear(edge_layer.forward(layers.unsqueeze(1)).sin(), w[.., d..(2 * d)]);
        var typeTable = nn.functional.linear(edge_type.weight!, w[.., (2 * d)..(3 * d)]);
        var pos = ea[.., 3..6];
        var defaultPosition = nn.functional.linear(edge_position.forward(full(1, 3, S(-1f), dtype: pos.dtype, device: pos.device)).sin(), positionWeight);
        var table = layerTable.unsqueeze(1).Plus(typeTable.unsqueeze(0)).AddInPlace(defaultPosition.Plus(b)).reshape(-1, d);
        var types = typeTable.shape[0];
        var edgeTypes = ea[.., 2].to_type(ScalarType.Int64);
        // Out of range, a type would silently index another layer's row of the flattened table.
        if (edgeTypes.numel() > 0 && (edgeTypes.min().item<long>(), edgeTypes.max().item<long>()) is var (lo, hi) && (lo < 0 || hi >= types))
            throw new ArgumentException($"edge types must be in 0..{types - 1}; this graph has {lo}..{hi}");
        var pairIndex = layerIndex!.mul(S(types)).AddInPlace(edgeTypes);
        var g = table.index_select(0, pairIndex);
        // Value: continuous, per edge; the GEMM accumulates straight into the gathered rows.
        using (var value = edge_value.forward(ea[.., 0..1]).sin())
            g.addmm_(value, w[.., 0..d].t());
        // Grid edges (tri-plane, hash) replace the default position share by their own. (unique(dim: 0) over
        // positions would cost more than it saves.)
        var gridEdges = pos.ne(S(-1f)).any(1).nonzero().squeeze(1);
        if (gridEdges.shape[0] > 0)
        {
            using var gridPart = nn.functional.linear(edge_position.forward(pos.index_select(0, gridEdges)).sin(), positionWeight).SubInPlace(defaultPosition);
            g.index_add_(0, gridEdges, gridPart, S(1.0));
        }
        return (h.MoveToOuterDisposeScope(), g.MoveToOuterDisposeScope());
    }

    static (Tensor Weight, Tensor Bias) Compose(Linear projection, Linear? next) => next is null
        ? (projection.weight!, projection.bias!)
        : (next.weight!.matmul(projection.weight!), next.weight!.matmul(projection.bias!).Plus(next.bias!));
}
