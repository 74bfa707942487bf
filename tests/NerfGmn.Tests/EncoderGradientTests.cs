using NerfGmn.Encoder;
using NerfGmn.Graphs;
using TorchSharp;
using static TorchSharp.torch;

namespace NerfGmn.Tests;

/// <summary>The memory-saving autograd pieces give the same gradients as plain autograd.</summary>
[TestClass]
public class EncoderGradientTests
{
    [TestMethod]
    public void EdgeReadoutMatchesPlainAutograd()
    {
        var gen = new Generator(3);
        long e = EdgeReadout.ChunkEdges + 1000;   // more than one chunk
        var edges = randn(e, 8, dtype: ScalarType.Float64, generator: gen).requires_grad_();
        var w = randn(16, 8, dtype: ScalarType.Float64, generator: gen).requires_grad_();
        var b = randn(16, dtype: ScalarType.Float64, generator: gen).requires_grad_();
        var graphOf = randint(0, 3, [e], generator: gen);
        var up = randn(3, 16, dtype: ScalarType.Float64, generator: gen);

        var z = EdgeReadout.Apply(edges, w, b, graphOf, 3);
        (z * up).sum().backward();
        var (ge, gw, gb) = (edges.grad!.clone(), w.grad!.clone(), b.grad!.clone());
        edges.grad!.zero_(); w.grad!.zero_(); b.grad!.zero_();

        var r = nn.functional.linear(edges, w, b).relu();
        var sums = zeros(3, 16, dtype: ScalarType.Float64).index_add(0, graphOf, r, 1.0);
        var counts = zeros(3, dtype: ScalarType.Float64).index_add(0, graphOf, ones(e, dtype: ScalarType.Float64), 1.0);
        var plain = sums / counts.unsqueeze(1);
        Assert.IsTrue(z.allclose(plain, 1e-12, 1e-12), "forward");
        (plain * up).sum().backward();
        Assert.IsTrue(ge.allclose(edges.grad!, 1e-10, 1e-12), "d/dedges");
        Assert.IsTrue(gw.allclose(w.grad!, 1e-10, 1e-12), "d/dW");
        Assert.IsTrue(gb.allclose(b.grad!, 1e-10, 1e-12), "d/db");
    }

    [TestMethod]
    public void CheckpointedTrainingGivesTheSameGradients()
    {
        var graphs = new[] { "tv1", "tv3", "tv4", "tv7", "mlp_32h" }
            .Select(n => ParameterGraph.Load(TestPaths.Fixture(n + ".graph.safetensors"))).ToList();
        using var batch = GraphBatch.From(graphs);
        Dictionary<string, Tensor> Grads(bool checkpointing)
        {
            manual_seed(7);
            var gmn = new GraphMetaNetwork(new GmnOptions { HiddenDim = 16, OutputDim = 32, Checkpointing = checkpointing });
            gmn.to(ScalarType.Float64);
            gmn.train();
            var z = gmn.forward(batch);
            (z * arange(z.numel(), dtype: ScalarType.Float64).reshape(z.shape).sin()).sum().backward();
            return gmn.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());
        }
        var plain = Grads(false);
        var checkpointed = Grads(true);
        foreach (var (name, g) in plain)
            Assert.IsTrue(g.allclose(checkpointed[name], 1e-9, 1e-12), $"{name}: max diff {(g - checkpointed[name]).abs().max().item<double>()}");
    }

    [TestMethod]
    public void InCacheBlocksWithoutAutogradMatchTheAutogradBlocks()
    {
        var graphs = new[] { "tv1", "tv3", "tv4", "tv7", "mlp_32h" }
            .Select(n => ParameterGraph.Load(TestPaths.Fixture(n + ".graph.safetensors"))).ToList();
        using var batch = GraphBatch.From(graphs);
        manual_seed(11);
        var gmn = new GraphMetaNetwork(new GmnOptions { HiddenDim = 16, OutputDim = 32, Checkpointing = false });
        gmn.to(ScalarType.Float64);
        gmn.eval();
        var withAutograd = gmn.forward(batch).detach();
        int chunk = EdgeNodeBlock.ChunkEdges;
        try
        {
            // A chunk size that leaves a remainder and puts one node's incoming edges in several chunks.
            EdgeNodeBlock.ChunkEdges = 7;
            using var _ = no_grad();
            var inCache = gmn.forward(batch);
            Assert.IsTrue(inCache.allclose(withAutograd, 1e-12, 1e-12), $"max diff {(inCache - withAutograd).abs().max().item<double>()}");
        }
        finally { EdgeNodeBlock.ChunkEdges = chunk; }
    }
}
