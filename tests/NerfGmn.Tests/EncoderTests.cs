using NerfGmn.Architectures;
using NerfGmn.Encoder;
using NerfGmn.Graphs;
using NerfGmn.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace NerfGmn.Tests;

[TestClass]
public class EncoderTests
{
    static readonly string[] Cases = ["hash", "mlp", "mlp_2l", "mlp_32h", "tri", "tri_16w", "tri_2l", "tri_32h", "tri_8c", "tv1", "tv2", "tv3", "tv4", "tv5", "tv7"];

    static GraphMetaNetwork _reference = null!;
    static IReadOnlyDictionary<string, SafeTensor> _embeddings = null!;

    [ClassInitialize]
    public static void LoadReference(TestContext _)
    {
        _reference = new GraphMetaNetwork();
        ReferenceStateDict.Load(_reference, TestPaths.Fixture("gmn_encoder_seed0.pth"));
        _reference.eval();
        _embeddings = SafeTensorsFile.Read(TestPaths.Fixture("encoder_embeddings.safetensors")).Tensors;
    }

    [ClassCleanup]
    public static void Cleanup() => _reference.Dispose();

    static ParameterGraph Graph(string name) =>
        File.Exists(TestPaths.Fixture(name + ".graph.safetensors"))
            ? ParameterGraph.Load(TestPaths.Fixture(name + ".graph.safetensors"))
            : ParameterGraphBuilder.Build(NerfWeightsFile.Read(TestPaths.Fixture(name + ".pth")));

    static double MaxAbsDiff(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        Assert.AreEqual(a.Count, b.Count);
        double max = 0;
        for (int i = 0; i < a.Count; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }

    [TestMethod]
    public void LargerValueEncoderScaleSpreadsOneArchitecturesEmbeddings()
    {
        // Spread of embeddings across objects of one architecture, relative to their mean's norm.
        static double RelativeSpread(float[][] z)
        {
            int d = z[0].Length;
            var mean = Enumerable.Range(0, d).Select(j => z.Average(v => (double)v[j])).ToArray();
            double within = Math.Sqrt(Enumerable.Range(0, d).Sum(j => z.Average(v => Math.Pow(v[j] - mean[j], 2))));
            return within / Math.Sqrt(mean.Sum(m => m * m));
        }
        var graphs = new NerfGmn.Datasets.DatasetLayout(TestPaths.MiniDataset).Entries("test", ["mlp"]).Take(6)
            .Select(e => ParameterGraphBuilder.Build(NerfWeightsFile.Read(e.WeightsPath))).ToList();
        double Spread(double scale)
        {
            random.manual_seed(0);
            using var gmn = new GraphMetaNetwork(GmnPresets.Small with { ValueEncoderScale = scale });
            gmn.eval();
            return RelativeSpread(gmn.Embed(graphs, 6));
        }
        double reference = Spread(1), scaled = Spread(30);
        Console.WriteLine($"relative spread at init: scale 1 → {reference:E2}, scale 30 → {scaled:E2}");
        Assert.IsTrue(scaled > 10 * reference, $"scale 30 should spread objects far more: {reference:E2} vs {scaled:E2}");
    }

    [TestMethod]
    public void ParameterCountIsThePapers()
    {
        using var gmn = new GraphMetaNetwork();
        Assert.AreEqual(814_464, gmn.ParameterCount);
        var pre = gmn.named_parameters().Where(p => p.name.StartsWith("pre_encoder.")).Sum(p => p.parameter.numel());
        Assert.AreEqual(120_704, pre);
    }

    [TestMethod]
    public void EmbeddingsMatchTheReferenceOneGraphAtATime()
    {
        foreach (var name in Cases)
        {
            var z = _reference.Embed([Graph(name)])[0];
            double diff = MaxAbsDiff(z.Select(v => (double)v).ToArray(), _embeddings[name].ToDoubles());
            Assert.IsTrue(diff <= 1e-4, $"{name}: max abs diff {diff}");
        }
    }

    [TestMethod]
    public void BatchedEmbeddingsMatchTheReference()
    {
        var z = _reference.Embed([Graph("mlp"), Graph("tri"), Graph("hash")], batchSize: 3);
        var want = _embeddings["batch_mlp_tri_hash"].ToDoubles();
        double diff = MaxAbsDiff(z.SelectMany(r => r).Select(v => (double)v).ToArray(), want);
        Assert.IsTrue(diff <= 1e-4, $"max abs diff {diff}");
    }

    [TestMethod]
    public void Float64EmbeddingsMatchTheReferenceTo1e9()
    {
        using var gmn = new GraphMetaNetwork();
        ReferenceStateDict.Load(gmn, TestPaths.Fixture("gmn_encoder_seed0.pth"));
        gmn.to(ScalarType.Float64);
        gmn.eval();
        foreach (var name in new[] { "mlp", "tri", "hash" })
        {
            using var _ = no_grad();
            using var batch = GraphBatch.From([Graph(name)]);
            using var z = gmn.forward(batch);
            double diff = MaxAbsDiff(z[0].data<double>().ToArray(), _embeddings[name + "_f64"].ToDoubles());
            Assert.IsTrue(diff <= 1e-9, $"{name}: max abs diff {diff}");
        }
    }

    /// <summary>TV11: every parameter T set to T.flatten()[i] = 0.1·sin(i+1), float64, TV1 graph.</summary>
    [TestMethod]
    public void TV11_DeterministicWeights()
    {
        using var gmn = new GraphMetaNetwork();
        gmn.to(ScalarType.Float64);
        using (no_grad())
            foreach (var (_, p) in gmn.named_parameters())
            {
                var values = Enumerable.Range(0, (int)p.numel()).Select(i => 0.1 * Math.Sin(i + 1)).ToArray();
                p.copy_(tensor(values, ScalarType.Float64).reshape(p.shape));
            }
        gmn.eval();
        var tv1 = Graph("tv1");
        var tv2 = Graph("tv2");
        using var _ = no_grad();
        using var one = GraphBatch.From([tv1]);
        var z = gmn.forward(one)[0].data<double>().ToArray();
        double[] first8 = [0.757832141, 0, 0, 0.438614676, 0, 0.386675231, 0.161437424, 0];
        for (int k = 0; k < 8; k++) Assert.AreEqual(first8[k], z[k], 1e-9, $"dim {k}");
        Assert.AreEqual(221.056293011, z.Sum(), 1e-8);

        using var two = GraphBatch.From([tv1, tv2]);
        var zz = gmn.forward(two);
        Assert.AreEqual(221.056293011, zz[0].sum().item<double>(), 1e-8);
        Assert.AreEqual(221.054935823, zz[1].sum().item<double>(), 1e-8);
    }

    [TestMethod]
    public void SeededInitialisationReproducesTheReferenceCheckpoint()
    {
        manual_seed(0);
        using var fresh = new GraphMetaNetwork();
        using var loaded = new GraphMetaNetwork();
        ReferenceStateDict.Load(loaded, TestPaths.Fixture("gmn_encoder_seed0.pth"));
        var a = fresh.state_dict();
        foreach (var (name, t) in loaded.state_dict())
            Assert.IsTrue(t.allclose(a[name], 0, 0), $"{name} differs from torch.manual_seed(0) initialisation");
    }

    [TestMethod]
    public void ReferenceCheckpointRoundTrips()
    {
        using var dir = TestPaths.NewTempDir();
        ReferenceStateDict.Save(_reference, dir.File("enc.pth"));
        using var back = new GraphMetaNetwork();
        ReferenceStateDict.Load(back, dir.File("enc.pth"));
        var a = _reference.state_dict();
        foreach (var (name, t) in back.state_dict()) Assert.IsTrue(t.allclose(a[name], 0, 0), name);
    }

    [TestMethod]
    public void WrongCheckpointsAreRejectedWithTheProblemNamed()
    {
        using var small = new GraphMetaNetwork(new GmnOptions { HiddenDim = 64 });
        var e = Assert.ThrowsExactly<NerfFormatException>(() => ReferenceStateDict.Load(small, TestPaths.Fixture("gmn_encoder_seed0.pth")));
        StringAssert.Contains(e.Message, "has shape [128, 1], the encoder expects [64, 1]");
        using var deep = new GraphMetaNetwork(new GmnOptions { Layers = 5 });
        e = Assert.ThrowsExactly<NerfFormatException>(() => ReferenceStateDict.Load(deep, TestPaths.Fixture("gmn_encoder_seed0.pth")));
        StringAssert.Contains(e.Message, "(d=128, layers=5, out=1024): missing gnn_w_readout.gnn.convs.3.conv.node_model.node_mlp_1.0.weight");
        e = Assert.ThrowsExactly<NerfFormatException>(() => ReferenceStateDict.Load(small, TestPaths.Fixture("mlp.pth")));
        StringAssert.Contains(e.Message, "unexpected mlp_base.params");
    }

    [TestMethod]
    public void EdgeTypeOutsideTheEmbeddingTableIsRejected()
    {
        var tv1 = Graph("tv1");
        var attr = (float[])tv1.EdgeAttr.Clone();
        attr[2] = 15;   // edge 0's type; the table has rows 0..14
        var bad = new ParameterGraph(tv1.X, tv1.EdgeIndex, attr);
        var e = Assert.ThrowsExactly<ArgumentException>(() => _reference.Embed([bad]));
        StringAssert.Contains(e.Message, "edge types must be in 0..14");
    }
}
