using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Encoder;

/// <summary>
/// One directed message-passing block that updates edges, then nodes (gmnerf <c>EdgeMPNNDiT</c> around a PyG
/// <c>MetaLayer</c>), with pre-LayerNorm and DiT-style residuals:
/// edge g' = ReLU(W_E[ĥ_src; ĥ_dst; ĝ]); message m = ReLU(W_1[ĥ_src; g']); aggregate a = mean of m over the
/// target's incoming edges; update h' = ReLU(W_2[ĥ; a]); then h += W_h·SiLU(h'), g += W_g·SiLU(g').
/// Linear maps of node states are applied once per node and gathered per edge (W[x_s; ...] = (W_s x)[src] + ...).
/// With <c>updateNodes = false</c> (the last block) only edges are updated, from un-normalised node states.
/// </summary>
public sealed class EdgeNodeBlock : nn.Module<BlockInput, (Tensor H, Tensor G)>
{
    readonly Linear edge_model;
    readonly Linear? message, update, node_residual;
    readonly LayerNorm? node_norm;
    readonly LayerNorm edge_norm;
    readonly Linear edge_residual;
    readonly int _d;

    public bool UpdatesNodes => message is not null;

    public EdgeNodeBlock(int d, bool updateNodes) : base(nameof(EdgeNodeBlock))
    {
        _d = d;
        edge_model = nn.Linear(3 * d, d);
        if (updateNodes)
        {
            message = nn.Linear(2 * d, d);
            update = nn.Linear(2 * d, d);
            node_norm = nn.LayerNorm(d, eps: 1e-5);
        }
        edge_norm = nn.LayerNorm(d, eps: 1e-5);
        if (updateNodes) node_residual = nn.Linear(d, d);
        edge_residual = nn.Linear(d, d);
        RegisterComponents();
    }

    public override (Tensor H, Tensor G) forward(BlockInput input)
    {
        // Own scope: intermediates are released as soon as autograd no longer needs them.
        using var scope = NewDisposeScope();
        var (h, g) = is_grad_enabled() ? Step(input) : StepInCache(input);
        return (h.MoveToOuterDisposeScope(), g.MoveToOuterDisposeScope());
    }

    (Tensor H, Tensor G) Step(BlockInput input)
    {
        var (h, g, src, dst, inverseInDegree) = (input.H, input.G, input.Source, input.Target, input.InverseInDegree);
        var hn = node_norm is null ? h : node_norm.forward(h);
        using var shares = Shares(hn);
        var gNew = EdgeModel(shares, edge_norm.forward(g), src, dst);
        if (message is null)
            return (h, EdgeResidual(g, gNew));

        Tensor a;   // mean over incoming edges, 0 for nodes without any
        using (var m = Message(shares, gNew, src))
            a = zeros(h.shape[0], _d, dtype: m.dtype, device: m.device).index_add_(0, dst, m, S(1.0)) * inverseInDegree;
        return (NodeUpdate(h, hn, a), EdgeResidual(g, gNew));
    }

    /// <summary>
    /// Edges per chunk of <see cref="StepInCache"/>: a chunk's [chunk, d] buffers stay in L3. Paper-size forward on 8
    /// tri-plane graphs, ms per graph: 1024 → 698–769, 4096 → 475, 16384 → 451–456, 65536 → 449–468.
    /// </summary>
    public static int ChunkEdges { get; set; } = 16384;

    /// <summary>
    /// The same block without autograd (inference, and the first pass of a checkpointed segment), one chunk of edges at
    /// a time: a chunk's norm, edge model, message, aggregation and residual all run while its rows are in cache, so
    /// the [E, d] states are read and written once per block instead of once per operation (at paper size the
    /// element-wise passes, not the GEMMs, dominated a block's time).
    /// </summary>
    (Tensor H, Tensor G) StepInCache(BlockInput input)
    {
        var (h, g, src, dst, inverseInDegree) = (input.H, input.G, input.Source, input.Target, input.InverseInDegree);
        var hn = node_norm is null ? h : node_norm.forward(h);
        using var shares = Shares(hn);
        var sums = message is null ? null : zeros(h.shape[0], _d, dtype: h.dtype, device: h.device);
        var gOut = empty_like(g);
        long edges = g.shape[0];
        for (long start = 0; start < edges; start += ChunkEdges)
        {
            using var scope = NewDisposeScope();
            long m = Math.Min(ChunkEdges, edges - start);
            var (gc, s, t) = (g.narrow(0, start, m), src.narrow(0, start, m), dst.narrow(0, start, m));
            var e = EdgeModel(shares, edge_norm.forward(gc), s, t);
            sums?.index_add_(0, t, Message(shares, e, s), S(1.0));
            // The residual g + W·SiLU(g') + b written straight into the output rows: no chunk temporary and copy, as
            // EdgeResidual needs for autograd (which keeps g' for the message's backward, so no SiLU in place there).
            gOut.narrow(0, start, m).copy_(gc).AddInPlace(edge_residual.bias!).addmm_(e.silu_(), edge_residual.weight!.t());
        }
        return sums is null ? (h, gOut) : (NodeUpdate(h, hn, sums.mul_(inverseInDegree)), gOut);
    }

    /// <summary>
    /// The node-state parts of the edge model and the message, W[ĥ_s; ĥ_t; x] + b = (W_s ĥ + b)[src] + (W_t ĥ)[dst] + W_x x:
    /// computed once per node and gathered per edge (bias added once per node).
    /// </summary>
    sealed record NodeShares(Tensor EdgeFromSource, Tensor EdgeFromTarget, Tensor? MessageFromSource) : IDisposable
    {
        public void Dispose()
        {
            EdgeFromSource.Dispose(); EdgeFromTarget.Dispose(); MessageFromSource?.Dispose();
        }
    }

    NodeShares Shares(Tensor hn) => new(
        nn.functional.linear(hn, Part(edge_model, 0), edge_model.bias),
        nn.functional.linear(hn, Part(edge_model, 1)),
        message is null ? null : nn.functional.linear(hn, Part(message, 0), message.bias));

    /// <summary>The columns of a layer's weight that act on the k-th d-wide block of its concatenated input.</summary>
    Tensor Part(Linear layer, int k) => layer.weight![.., (k * _d)..((k + 1) * _d)];

    // Per-edge sums are formed in place and per-edge temporaries released as soon as autograd no longer needs them:
    // a TorchSharp handle keeps its tensor alive until disposed (Python would free it at once), and at paper size each
    // [E, d] buffer of a batch of 8 tri-plane graphs is 320 MB.
    Tensor EdgeResidual(Tensor g, Tensor gNew)
    {
        using var s = nn.functional.silu(gNew);
        return edge_residual.forward(s).AddInPlace(g);
    }

    // The per-edge sum is built in one buffer: gathered node shares, then the edge share accumulated by the GEMM itself
    // (addmm_), which saves a pass over [E, d] per sum.
    Tensor EdgeModel(NodeShares n, Tensor gn, Tensor src, Tensor dst)
    {
        var e = n.EdgeFromSource.index_select(0, src);
        using (var fromTarget = n.EdgeFromTarget.index_select(0, dst)) e.AddInPlace(fromTarget);
        return e.addmm_(gn, Part(edge_model, 2).t()).relu_();
    }

    Tensor Message(NodeShares n, Tensor gNew, Tensor src) =>
        n.MessageFromSource!.index_select(0, src).addmm_(gNew, Part(message!, 1).t()).relu_();

    /// <summary>h + W_h·SiLU(ReLU(W_2[ĥ; a])), a = mean of the incoming messages (0 for nodes without any).</summary>
    Tensor NodeUpdate(Tensor h, Tensor hn, Tensor aggregated)
    {
        var hNew = update!.forward(cat([hn, aggregated], 1)).relu();
        return h.Plus(node_residual!.forward(nn.functional.silu(hNew)));
    }
}

/// <summary>Node and edge states plus the graph structure a block needs.</summary>
public sealed record BlockInput(Tensor H, Tensor G, Tensor Source, Tensor Target, Tensor InverseInDegree);
