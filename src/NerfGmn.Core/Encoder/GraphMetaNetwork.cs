using NerfGmn.Graphs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

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
    readonly LayerNorm final_norm;
    readonly Linear final_linear, readout;

    public GmnOptions Options { get; }

    public GraphMetaNetwork(GmnOptions? options = null) : base(nameof(GraphMetaNetwork))
    {
        Options = options ?? GmnOptions.Paper;
        Options.Validate();
        int d = Options.HiddenDim;
        pre_encoder = new NodeEdgeFeatureEncoder(Options);
        node_embed = nn.Linear(d, d);
        edge_embed = nn.Linear(d, d);
        for (int k = 0; k < Options.Layers; k++) blocks.Add(new EdgeNodeBlock(d, updateNodes: k < Options.Layers - 1));
        final_norm = nn.LayerNorm(d, eps: 1e-5);
        final_linear = nn.Linear(d, d);
        readout = nn.Linear(d, Options.OutputDim);
        RegisterComponents();
    }

    /// <summary>Embeddings [graphs, out] of a batch.</summary>
    public override Tensor forward(GraphBatch batch)
    {
        using var scope = NewDisposeScope();
        var dtype = readout.weight!.dtype;
        var device = readout.weight.device;

        // Destination-sorted edges make index_add_ aggregation fast; the per-graph readout mean is order-free.
        var (x, ea, src, dst, edgeGraph) = Prepare(batch, dtype, device);
        long n = x.shape[0];
        var inDegree = zeros(n, dtype: dtype, device: device).index_add_(0, dst, ones(dst.shape[0], dtype: dtype, device: device), 1.0);
        var inverseInDegree = inDegree.clamp_min(1).reciprocal().unsqueeze(1);

        var (h0, g0) = pre_encoder.forward((x, ea));
        var h = node_embed.forward(h0);
        var g = edge_embed.forward(g0);
        // Checkpoint blocks while training: their activations dominate memory on large graphs.
        bool checkpoint = Options.Checkpointing && is_grad_enabled() && training;
        foreach (var block in blocks)
        {
            var input = new BlockInput(h, g, src, dst, inverseInDegree);
            (h, g) = checkpoint ? BlockCheckpoint.Apply(block, input) : block.forward(input);
        }
        var gOut = final_linear.forward(final_norm.forward(g));
        return EdgeReadout.Apply(gOut, readout.weight!, readout.bias!, edgeGraph, batch.GraphCount).MoveToOuterDisposeScope();
    }

    static (Tensor X, Tensor EdgeAttr, Tensor Src, Tensor Dst, Tensor EdgeGraph) Prepare(GraphBatch batch, ScalarType dtype, Device device)
    {
        var x = batch.X.to(dtype, device);
        var ea = batch.EdgeAttr.to(dtype, device);
        var src = batch.EdgeIndex[0].to(device);
        var dst = batch.EdgeIndex[1].to(device);
        var order = dst.sort(stable: true).Indices;
        src = src.index_select(0, order);
        dst = dst.index_select(0, order);
        ea = ea.index_select(0, order);
        var edgeGraph = batch.Batch.to(device).index_select(0, src);
        return (x, ea, src, dst, edgeGraph);
    }

    /// <summary>Embeds graphs in batches of <paramref name="batchSize"/> without gradients; returns [graphs, out] floats.</summary>
    public float[][] Embed(IReadOnlyList<ParameterGraph> graphs, int batchSize = 8)
    {
        using var _ = no_grad();
        var result = new float[graphs.Count][];
        for (int start = 0; start < graphs.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var chunk = graphs.Skip(start).Take(batchSize).ToList();
            using var batch = GraphBatch.From(chunk);
            var z = forward(batch).to_type(ScalarType.Float32).cpu();
            for (int k = 0; k < chunk.Count; k++) result[start + k] = z[k].data<float>().ToArray();
        }
        return result;
    }

    public long ParameterCount => parameters().Sum(p => p.numel());
}
