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

    /// <summary>
    /// The test above only shows checkpointing changes nothing; this one checks autograd itself (the composed
    /// pre-encoder projections, the gathered tables, in-place accumulations, the custom readout) against central
    /// finite differences of the loss along a random direction per parameter, in float64, output standardiser on and
    /// off. eps = 1e-8 keeps the probe from crossing ReLU kinks (at 1e-4 the neuron-index weights are 9% off).
    /// </summary>
    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void EveryParameterGradientMatchesFiniteDifferences(bool standardize)
    {
        var graphs = new[] { "tv1", "tv3", "tv4", "mlp_32h", "tri_8c" }
            .Select(n => ParameterGraph.Load(TestPaths.Fixture(n + ".graph.safetensors"))).ToList();
        using var batch = GraphBatch.From(graphs);
        manual_seed(7);
        var gmn = new GraphMetaNetwork(new GmnOptions { HiddenDim = 16, OutputDim = 32, Checkpointing = true, StandardizeOutput = standardize });
        gmn.to(ScalarType.Float64);
        gmn.train();   // batch statistics: the output does not depend on the running stats the extra forwards update
        var up = arange(graphs.Count * 32, dtype: ScalarType.Float64).reshape(graphs.Count, 32).sin();
        double Loss() => (gmn.forward(batch) * up).sum().item<double>();
        (gmn.forward(batch) * up).sum().backward();
        var gen = new Generator(5);
        const double eps = 1e-8;
        foreach (var (name, p) in gmn.named_parameters())
        {
            var dir = randn(p.shape, dtype: ScalarType.Float64, generator: gen);
            double analytic = (p.grad! * dir).sum().item<double>(), lp, lm;
            using (no_grad())
            {
                p.add_(dir * eps); lp = Loss();
                p.add_(dir * (-2 * eps)); lm = Loss();
                p.add_(dir * eps);
            }
            double numeric = (lp - lm) / (2 * eps);
            Assert.AreEqual(numeric, analytic, 1e-3 * Math.Abs(numeric) + 1e-6, $"{name}: autograd {analytic}, finite difference {numeric}");
        }
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
