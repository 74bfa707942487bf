using NerfGmn.Graphs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Encoder;

/// <summary>
/// The Graph Meta-Network encoder of Embed Any NeRF: parameter graph → embedding.
/// Pre-encoder, node/edge input embeddings, <see cref="GmnOptions.Layers"/> blocks (all but the last update nodes and
/// edges), final LayerNorm + Linear on edges, then the edge readout: ReLU(Linear(d→out)) per edge, averaged per graph
/// (an edge belongs to the graph of its source node). Embeddings are not normalised.
/// </summary>
public sealed class GraphMetaNetwork : nn.Module<GraphBatch, Tensor>
{
    readonly NodeEdgeFeatureEncoder pre_encoder;
    readonly Linear node_embed, edge_embed;
    readonly ModuleList<EdgeNodeBlock> blocks = new();
    readonly LayerNorm? final_norm;
    readonly Linear? final_linear, readout;
    readonly LayerNorm? output_node_norm;
    readonly Linear? output_readout;
    readonly Linear? probe_readout;
    readonly BatchNorm1d? output_norm;

    public GmnOptions Options { get; }

    /// <summary>
    /// The training split's weight statistics, when <see cref="GmnOptions.StandardizeWeights"/> (set before training,
    /// saved and loaded with the encoder's checkpoint); null otherwise.
    /// </summary>
    public WeightStatistics? Statistics { get; set; }

    /// <summary>
    /// The initialisation the training NeRFs shared (saved with the encoder): a NeRF fitted from it reads as the
    /// training NeRFs did (<c>fit --init-from</c>); null when unknown or when they had none.
    /// </summary>
    public Datasets.SharedInitialization? SharedInit { get; set; }

    /// <summary>
    /// While training with <see cref="GmnOptions.GridEdgeFraction"/> &lt; 1: the generator that draws the kept grid
    /// edges (the trainer seeds it per step, so a resumed run draws the same ones); null: the global one.
    /// </summary>
    public Generator? EdgeSampling { get; set; }

    /// <summary>How graphs must be built for this encoder: the layout, its weight statistics and probe points.</summary>
    public ParameterGraphOptions GraphOptions(TriplanePositionLayout layout)
    {
        if (Options.StandardizeWeights && Statistics is null)
            throw new InvalidOperationException("this encoder standardises weights but has no statistics (compute them from the training split first)");
        return new ParameterGraphOptions
        {
            TriplaneLayout = layout,
            Statistics = Options.StandardizeWeights ? Statistics : null,
            ProbePoints = Options.ProbePoints > 0 ? ProbeFeatures.UnitPoints(Options.ProbePoints) : null,
        };
    }

    public GraphMetaNetwork(GmnOptions? options = null) : base(nameof(GraphMetaNetwork))
    {
        Options = options ?? GmnOptions.Paper;
        Options.Validate();
        int d = Options.HiddenDim;
        pre_encoder = new NodeEdgeFeatureEncoder(Options);
        node_embed = nn.Linear(d, d);
        edge_embed = nn.Linear(d, d);
        bool outputs = Options.Readout == EncoderReadout.Outputs;
        for (int k = 0; k < Options.Layers; k++) blocks.Add(new EdgeNodeBlock(d, updateNodes: outputs || k < Options.Layers - 1));
        if (!outputs)
        {
            final_norm = nn.LayerNorm(d, eps: 1e-5);
            final_linear = nn.Linear(d, d);
            readout = nn.Linear(d, Options.OutputDim);
        }
        // BatchNorm without affine parameters: batch statistics while training, running ones otherwise (saved as buffers).
        if (Options.StandardizeOutput) output_norm = nn.BatchNorm1d(Options.OutputDim, affine: false);
        if (outputs)
        {
            output_node_norm = nn.LayerNorm(d, eps: 1e-5);
            output_readout = nn.Linear(Options.OutputNeurons * d, Options.OutputDim);
            if (Options.ProbeReadout > 0) probe_readout = nn.Linear(Options.ProbeReadout * Options.ProbePoints, Options.OutputDim, hasBias: false);
        }
        RegisterComponents();
    }

    /// <summary>Embeddings [graphs, out] of a batch.</summary>
    public override Tensor forward(GraphBatch batch)
    {
        using var scope = NewDisposeScope();
        var dtype = edge_embed.weight!.dtype;
        var device = edge_embed.weight.device;

        // Destination-sorted edges make index_add_ aggregation fast; the per-graph readout mean is order-free.
        var (x, ea, src, dst, edgeGraph) = Prepare(batch, dtype, device, training ? Options.GridEdgeFraction : 1, EdgeSampling);
        var probes = batch.Probes?.to(dtype, device);
        var probeNodes = batch.ProbeNodes?.to(device);
        long n = x.shape[0];
        var inDegree = zeros(n, dtype: dtype, device: device).index_add_(0, dst, ones(dst.shape[0], dtype: dtype, device: device), S(1.0));
        var inverseInDegree = inDegree.clamp_min(S(1)).reciprocal().unsqueeze(1);

        // While training, checkpoint the pre-encoder, every block and the readout: their activations dominate memory.
        bool checkpoint = Options.Checkpointing && is_grad_enabled() && training;
        Tensor[] Segment(Func<Tensor[], Tensor[]> f, params Tensor[] inputs) => checkpoint ? ActivationCheckpoint.Run(f, inputs) : f(inputs);

        // Segments read every tensor from their argument list (never from a closure): a checkpoint re-runs them in
        // the backward pass, after this method's dispose scope has released its own handles.
        var hg = Segment(t =>
        {
            var (h0, g0) = pre_encoder.Encode(t[0], t[1], node_embed, edge_embed, t.Length > 2 ? t[2] : null, t.Length > 2 ? t[3] : null);
            return [h0, g0];
        }, probes is null ? [x, ea] : [x, ea, probes, probeNodes!]);
        var (h, g) = (hg[0], hg[1]);
        for (int k = 0; k < blocks.Count; k++)
        {
            var b = blocks[k];
            // Read from the output neurons, the last block's edge states go nowhere: it returns only node states (a
            // checkpoint must not be handed an output that receives no gradient).
            bool nodesOnly = output_readout is not null && k == blocks.Count - 1;
            var outputs = Segment(t =>
            {
                var (nh, ng) = b.forward(new BlockInput(t[0], t[1], t[2], t[3], t[4]));
                return nodesOnly ? [nh] : b.UpdatesNodes ? [nh, ng] : [ng];
            }, h, g, src, dst, inverseInDegree);
            if (nodesOnly) h = outputs[0];
            else if (b.UpdatesNodes) (h, g) = (outputs[0], outputs[1]);
            else g = outputs[0];
        }
        long graphs = batch.GraphCount;
        if (output_readout is not null)
        {
            var nodeGraph = batch.Batch.to(device);
            var outputs = OutputNeurons(x);
            var zo = output_readout.forward(OutputNeuronStates(output_node_norm!.forward(h), outputs, nodeGraph, graphs));
            if (probe_readout is not null)
            {
                if (probes is null) throw new ArgumentException("this encoder reads the field at its probe points, but the graphs have no probe features");
                zo = zo.Plus(probe_readout.forward(OutputNeuronProbes(probes, probeNodes!, outputs, nodeGraph, graphs)));
            }
            if (output_norm is not null) zo = output_norm.forward(zo);
            return zo.MoveToOuterDisposeScope();
        }
        // The final Linear folds into the readout: W_r(W_f x + b_f) + b_r = (W_r W_f) x + (W_r b_f + b_r), saving one
        // per-edge d×d product; the composed weights stay differentiable in both layers.
        var z = Segment(t =>
            {
                var weight = readout!.weight!.matmul(final_linear!.weight!);
                var bias = readout.weight!.matmul(final_linear.bias!).Plus(readout.bias!);
                return [EdgeReadout.Apply(final_norm!.forward(t[0]), weight, bias, t[1], graphs)];
            }, g, edgeGraph)[0];
        if (output_norm is not null) z = output_norm.forward(z);
        return z.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// [graphs, OutputNeurons·d]: each graph's output neurons (the last Linear's outputs, the only indexed neurons
    /// past layer 0) in output order; a graph with fewer leaves zeros.
    /// </summary>
    Tensor OutputNeuronStates(Tensor h, (Tensor Ids, Tensor Index) outputs, Tensor nodeGraph, long graphs)
    {
        int k = Options.OutputNeurons;
        var (ids, index) = outputs;
        var slot = nodeGraph.index_select(0, ids).mul(S(k)).AddInPlace(index);
        var states = zeros(graphs * k, h.shape[1], dtype: h.dtype, device: h.device).index_add(0, slot, h.index_select(0, ids), S(1.0));
        return states.reshape(graphs, k * h.shape[1]);
    }

    /// <summary>
    /// [graphs, ProbeReadout·K]: the probe rows of each graph's first <see cref="GmnOptions.ProbeReadout"/> output
    /// neurons, in output order.
    /// </summary>
    Tensor OutputNeuronProbes(Tensor probes, Tensor probeNodes, (Tensor Ids, Tensor Index) outputs, Tensor nodeGraph, long graphs)
    {
        int n = Options.ProbeReadout;
        var read = outputs.Index.lt(S(n)).nonzero().squeeze(1);
        var (ids, index) = (outputs.Ids.index_select(0, read), outputs.Index.index_select(0, read));
        // Probe rows are stored per neuron in ascending node order (GraphBatch shifts each graph's ids past the last);
        // a node past the last row lands on the last one, which is then not the node, so one comparison checks both.
        var rows = searchsorted(probeNodes, ids).clamp(S(0), S(Math.Max(probeNodes.shape[0] - 1, 0)));
        if (ids.shape[0] > 0 && (probeNodes.shape[0] == 0 || !probeNodes.index_select(0, rows).eq(ids).all().item<bool>()))
            throw new ArgumentException("an output neuron has no probe features");
        var slot = nodeGraph.index_select(0, ids).mul(S(n)).AddInPlace(index);
        var values = zeros(graphs * n, probes.shape[1], dtype: probes.dtype, device: probes.device).index_add(0, slot, probes.index_select(0, rows), S(1.0));
        return values.reshape(graphs, n * probes.shape[1]);
    }

    /// <summary>Node ids of a batch's output neurons and their output index (0 = the first output).</summary>
    (Tensor Ids, Tensor Index) OutputNeurons(Tensor x)
    {
        var output = x[.., 2].eq(S(Graphs.NodeType.Neuron)).logical_and(x[.., 1].ge(S(0))).logical_and(x[.., 0].gt(S(0)));
        var ids = output.nonzero().squeeze(1);
        var index = x[.., 1].index_select(0, ids).to_type(ScalarType.Int64);
        if (ids.shape[0] > 0 && index.max().item<long>() >= Options.OutputNeurons)
            throw new ArgumentException($"a NeRF has more than the {Options.OutputNeurons} output neurons this encoder reads");
        return (ids, index);
    }

    static (Tensor X, Tensor EdgeAttr, Tensor Src, Tensor Dst, Tensor EdgeGraph) Prepare(GraphBatch batch, ScalarType dtype, Device device,
        double gridFraction, Generator? generator)
    {
        var x = batch.X.to(dtype, device);
        var ea = batch.EdgeAttr.to(dtype, device);
        var src = batch.EdgeIndex[0].to(device);
        var dst = batch.EdgeIndex[1].to(device);
        Tensor order;
        if (gridFraction < 1)
        {
            // Keep every Linear edge and a fresh random share of the grid/table edges.
            var type = batch.EdgeAttr[.., 2];
            var grid = type.eq(S(EdgeType.Triplanar)).logical_or(type.eq(S(EdgeType.HashGrid)));
            var keep = grid.logical_not().logical_or(rand(grid.shape[0], generator: generator, device: grid.device).lt(S(gridFraction))).nonzero().squeeze(1).to(device);
            var kept = dst.index_select(0, keep);
            order = keep.index_select(0, kept.sort(stable: true).Indices);
        }
        else order = dst.sort(stable: true).Indices;
        src = src.index_select(0, order);
        dst = dst.index_select(0, order);
        ea = ea.index_select(0, order);
        var edgeGraph = batch.Batch.to(device).index_select(0, src);
        return (x, ea, src, dst, edgeGraph);
    }

    /// <summary>
    /// Embeds graphs in batches of <paramref name="batchSize"/> without gradients, in eval mode (an encoder left in
    /// training mode is switched for the call: embedding must not depend on batch companions or move running statistics);
    /// returns [graphs, out] floats.
    /// </summary>
    public float[][] Embed(IReadOnlyList<ParameterGraph> graphs, int batchSize = 8)
    {
        using var z = EmbedTensor(graphs, batchSize);
        return Runtime.TensorRows.ToRows(z);
    }

    /// <summary>As <see cref="Embed"/>, as one [graphs, out] tensor in the encoder's dtype and device.</summary>
    public Tensor EmbedTensor(IReadOnlyList<ParameterGraph> graphs, int batchSize = 8)
    {
        if (training)
        {
            eval();
            try { return EmbedTensor(graphs, batchSize); }
            finally { train(); }
        }
        using var _ = no_grad();
        var parts = new List<Tensor>();
        for (int start = 0; start < graphs.Count; start += batchSize)
        {
            using var batch = GraphBatch.From(graphs.Skip(start).Take(batchSize).ToList());
            using var scope = NewDisposeScope();
            parts.Add(forward(batch).MoveToOuterDisposeScope());
        }
        var z = cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return z;
    }

    public long ParameterCount => parameters().Sum(p => p.numel());
}
