using NerfGmn.Encoder;
using NerfGmn.Graphs;
using static TorchSharp.torch;

namespace NerfGmn.Tests;

/// <summary>Probe features are kept per neuron, batched with their nodes' offsets, and read as if every other node had zeros.</summary>
[TestClass]
public sealed class ProbeFeatureTests
{
    static ParameterGraph Hash(int probes) => ParameterGraphBuilder.Build(
        IO.NerfWeightsFile.Read(Path.Combine(TestPaths.Overfit4, "hash", "car/obj_000", "nerf_weights.safetensors")),
        new ParameterGraphOptions { ProbePoints = ProbeFeatures.UnitPoints(probes) });

    /// <summary>A hash graph's tens of thousands of table nodes hold no probe rows; its neurons do, and the rest read zeros.</summary>
    [TestMethod]
    public void OnlyNeuronsHoldProbeRows()
    {
        var g = Hash(16);
        int neurons = Enumerable.Range(0, g.NodeCount).Count(n => g.X[3 * n + 2] == NodeType.Neuron);
        Assert.IsTrue(g.ProbeNodes!.Length <= neurons && g.ProbeNodes.Length * 20 < g.NodeCount,
            $"{g.ProbeNodes.Length} probe rows for {neurons} neurons of {g.NodeCount} nodes");
        Assert.AreEqual(g.ProbeNodes.Length * 16, g.NodeProbes!.Length);
        int table = Enumerable.Range(0, g.NodeCount).First(n => Array.BinarySearch(g.ProbeNodes, n) < 0);
        CollectionAssert.AreEqual(new float[16], g.ProbesOf(table));
        Assert.IsTrue(g.ProbesOf(g.ProbeNodes[^1]).Any(v => v != 0), "the last neuron (an output) has probe values");
    }

    /// <summary>The encoder reads the per-neuron rows exactly as the same features stored for every node (zeros elsewhere).</summary>
    [TestMethod]
    public void PerNeuronRowsEmbedAsDenseFeatures()
    {
        var sparse = Hash(16);
        var dense = new float[sparse.NodeCount * 16];
        for (int m = 0; m < sparse.ProbeNodes!.Length; m++)
            Array.Copy(sparse.NodeProbes!, m * 16, dense, sparse.ProbeNodes[m] * 16, 16);
        var full = sparse.With(sparse.EdgeAttr, dense, 16, Enumerable.Range(0, sparse.NodeCount).ToArray());
        Assert.AreEqual(sparse.NodeCount, full.ProbeNodes!.Length);
        var mlp = ParameterGraphBuilder.Build(IO.NerfWeightsFile.Read(Path.Combine(TestPaths.Overfit4, "mlp", "car/obj_000", "nerf_weights.safetensors")),
            new ParameterGraphOptions { ProbePoints = ProbeFeatures.UnitPoints(16) });
        manual_seed(3);
        using var gmn = new GraphMetaNetwork(GmnPresets.Cpu with { ProbePoints = 16, StandardizeOutput = false });
        gmn.eval();
        using var a = gmn.EmbedTensor([mlp, sparse], 2);
        using var b = gmn.EmbedTensor([mlp, full], 2);
        Assert.IsTrue(a.allclose(b, rtol: 1e-5, atol: 1e-6), $"max difference {(a - b).abs().max().item<float>()}");
    }

    /// <summary>
    /// The committed L_F+C encoder (64 probes) embeds a hash and a tri-plane NeRF as it did when probe features were
    /// stored for every node (the values were written by that build's <c>nerfgmn embed</c>).
    /// </summary>
    [TestMethod]
    public void TheCommittedEncoderEmbedsAsBeforePerNeuronStorage()
    {
        string encoderPath = Path.Combine(TestPaths.MiniDataset, "..", "encoders", "l_field_con.cpu.safetensors");
        var (gmn, info) = EncoderCheckpoint.Load(encoderPath);
        using var _ = gmn;
        var graphs = new[] { "hash", "triplane" }.Select(a => ParameterGraphBuilder.Build(
            IO.NerfWeightsFile.Read(Path.Combine(TestPaths.Overfit4, a, "car/obj_000", "nerf_weights.safetensors")), gmn.GraphOptions(info.Layout))).ToList();
        var z = gmn.Embed(graphs);
        float[][] before =
        [
            [-0.022018734f, 0.021166502f, 0.0682698f, 0.0078704655f, -0.12150478f, -0.020464193f, -0.0513909f],
            [-0.07241775f, -0.08233714f, 0.08488491f, 0.045493703f, -0.016217574f, -0.09664579f, -0.02295616f],
        ];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 7; j++)
                Assert.AreEqual(before[i][j], z[i][j], 2e-6, $"graph {i} dimension {j}");
    }

    /// <summary>In a batch, each graph's probe rows point at its own nodes (shifted by the nodes of the graphs before it).</summary>
    [TestMethod]
    public void ABatchShiftsProbeNodesByTheGraphsBeforeThem()
    {
        var g = Hash(8);
        using var batch = GraphBatch.From([g, g]);
        var nodes = batch.ProbeNodes!.data<long>().ToArray();
        Assert.AreEqual(2 * g.ProbeNodes!.Length, nodes.Length);
        CollectionAssert.AreEqual(g.ProbeNodes.Select(n => (long)n + g.NodeCount).ToArray(), nodes[g.ProbeNodes.Length..]);
        CollectionAssert.AreEqual(new long[] { 2L * g.ProbeNodes.Length, 8 }, batch.Probes!.shape);
    }

    /// <summary>Probe rows that name no node, or name nodes out of order, are refused with the row and node.</summary>
    [TestMethod]
    public void ProbeRowsMustNameAscendingNodes()
    {
        var g = Hash(4);
        var rows = new float[2 * 4];
        var e = Assert.ThrowsExactly<ArgumentException>(() => g.With(g.EdgeAttr, rows, 4, [5, 3]));
        StringAssert.Contains(e.Message, "row 1 is node 3");
        e = Assert.ThrowsExactly<ArgumentException>(() => g.With(g.EdgeAttr, rows, 4, [0, g.NodeCount]));
        StringAssert.Contains(e.Message, $"row 1 is node {g.NodeCount}");
        e = Assert.ThrowsExactly<ArgumentException>(() => g.With(g.EdgeAttr, rows, 3, [0, 1]));
        StringAssert.Contains(e.Message, "[M = 2, K = 3]");
        e = Assert.ThrowsExactly<ArgumentException>(() => g.With(g.EdgeAttr, rows, 4, null));
        StringAssert.Contains(e.Message, "the nodes their rows belong to");
    }

    /// <summary>
    /// The probe readout adds W · (each graph's own rgb and σ probe values, outputs 0–3 in order) to the embedding: the
    /// same encoder without it (seeded alike, so every other parameter is equal) differs by exactly that, graph by graph.
    /// </summary>
    [TestMethod]
    public void TheProbeReadoutAddsEachGraphsOwnFieldAtTheProbePoints()
    {
        const int k = 8;
        var options = new ParameterGraphOptions { ProbePoints = ProbeFeatures.UnitPoints(k) };
        var graphs = new[] { ("mlp", "car/obj_000"), ("hash", "airplane/obj_000"), ("triplane", "car/obj_000") }
            .Select(t => ParameterGraphBuilder.Build(IO.NerfWeightsFile.Read(Path.Combine(TestPaths.Overfit4, t.Item1, t.Item2, "nerf_weights.safetensors")), options))
            .ToList();
        var encoder = GmnPresets.Cpu with { ProbePoints = k, StandardizeOutput = false };
        manual_seed(5);
        using var plain = new GraphMetaNetwork(encoder);
        manual_seed(5);
        using var reading = new GraphMetaNetwork(encoder with { ProbeReadout = 4 });
        plain.eval(); reading.eval();
        using var z0 = plain.EmbedTensor(graphs, 3);
        using var z1 = reading.EmbedTensor(graphs, 3);
        var w = reading.named_parameters().Single(p => p.name == "probe_readout.weight").parameter;
        CollectionAssert.AreEqual(new long[] { encoder.OutputDim, 4 * k }, w.shape);
        for (int i = 0; i < graphs.Count; i++)
        {
            var g = graphs[i];
            // Output neuron j: the neuron node past layer 0 with index j (its σ is j = 3).
            var field = Enumerable.Range(0, 4).SelectMany(j => g.ProbesOf(Enumerable.Range(0, g.NodeCount)
                .Single(n => g.X[3 * n] > 0 && g.X[3 * n + 1] == j && g.X[3 * n + 2] == NodeType.Neuron))).ToArray();
            Assert.IsTrue(field.Any(v => v != 0), $"graph {i} has probe values on its outputs");
            using var expected = w.detach().matmul(tensor(field));
            using var added = z1[i] - z0[i];
            Assert.IsTrue(added.allclose(expected, rtol: 1e-4, atol: 1e-5), $"graph {i}: max difference {(added - expected).abs().max().item<float>()}");
        }
    }

    /// <summary>A probe readout without probe points or without the outputs readout has nothing to read, and says so.</summary>
    [TestMethod]
    public void AProbeReadoutWithNothingToReadIsRefused()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => (GmnPresets.Cpu with { ProbePoints = 0, ProbeReadout = 4 }).Validate());
        Assert.AreEqual("ProbeReadout 4 needs the outputs readout and probe points (readout outputs, 0 probe points)", e.Message);
        e = Assert.ThrowsExactly<ArgumentException>(() => (GmnPresets.Cpu with { Readout = EncoderReadout.Edges, ProbeReadout = 4 }).Validate());
        Assert.AreEqual("ProbeReadout 4 needs the outputs readout and probe points (readout edges, 64 probe points)", e.Message);
        e = Assert.ThrowsExactly<ArgumentException>(() => (GmnPresets.Cpu with { ProbeReadout = 17 }).Validate());
        Assert.AreEqual("ProbeReadout must be 0..16 (output neurons), got 17", e.Message);
    }

    /// <summary>An encoder with a probe readout saves and loads as itself: same options, same embeddings.</summary>
    [TestMethod]
    public void AProbeReadoutEncoderRoundTripsThroughItsCheckpoint()
    {
        using var dir = TestPaths.NewTempDir();
        var g = Hash(8);
        manual_seed(2);
        using var gmn = new GraphMetaNetwork(GmnPresets.Cpu with { ProbePoints = 8, ProbeReadout = 4, StandardizeWeights = false });
        gmn.eval();
        string path = dir.File("enc.safetensors");
        EncoderCheckpoint.Save(gmn, path, TriplanePositionLayout.Reference, "l_field");
        var (loaded, info) = EncoderCheckpoint.Load(path);
        using (loaded)
        {
            Assert.AreEqual(4, info.Options.ProbeReadout);
            using var a = gmn.EmbedTensor([g]);
            using var b = loaded.EmbedTensor([g]);
            Assert.IsTrue(a.allclose(b, rtol: 0, atol: 0), $"max difference {(a - b).abs().max().item<float>()}");
        }
    }
}
