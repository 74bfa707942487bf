using NerfGmn.Encoder;
using NerfGmn.Graphs;
using NerfGmn.Training;

namespace NerfGmn.Tests;

/// <summary>The cpu recipe learns: the overfit gate at CI size, and what its inputs carry.</summary>
[TestClass]
public sealed class CpuRecipeTests
{
    /// <summary>
    /// The overfit gate, CI-sized: L_C with the cpu recipe on 4 objects × (MLP, tri-plane, hash), validated on the
    /// same objects, finds every object's partner in all six directions. An untrained encoder (or a recipe that stops
    /// learning) scores near 1/4.
    /// </summary>
    [TestMethod]
    public void TheCpuRecipeMemorisesFourObjectsInEveryDirection()
    {
        using var run = TestPaths.NewTempDir();
        var options = TrainingOptions.ForPreset("cpu", TestPaths.Overfit4, run.Path, Objective.Contrastive) with { Overfit = 4, Epochs = 40, CheckpointMinutes = 0 };
        IReadOnlyDictionary<string, double>? first = null, last = null;
        new EncoderTrainer(options).Train(p =>
        {
            if (p.InstanceRecall is { } r) { first ??= r; last = r; }
        });
        Assert.IsNotNull(last);
        Assert.AreEqual(6, last.Count, string.Join(", ", last.Keys));
        foreach (var (direction, r1) in last) Assert.AreEqual(1.0, r1, $"{direction}: R@1 {r1} (all: {Show(last)}; after one epoch: {Show(first!)})");
        // The same numbers are in the run's retrieval.csv, one row per validation.
        var rows = File.ReadAllLines(Path.Combine(run.Path, "retrieval.csv"));
        Assert.AreEqual(41, rows.Length);
        StringAssert.EndsWith(rows[^1], ",1,1");
        // The encoder records the initialisation its training NeRFs shared (overfit4's build.json: seed 0).
        Assert.AreEqual(new Datasets.SharedInitialization(0), EncoderCheckpoint.ReadSharedInitialization(Path.Combine(run.Path, "best.safetensors")));
    }

    /// <summary>
    /// <c>fit --init-from</c>: a NeRF fitted from a dataset's shared initialisation starts at the weights the dataset's
    /// NeRFs started from — within their fitting distance of them, where a fit from its own seed starts far away.
    /// </summary>
    [TestMethod]
    public void FittingFromASharedInitialisationStartsWhereTheDatasetsNerfsStarted()
    {
        using var dir = TestPaths.NewTempDir();
        var obj = Datasets.Shapes13.Create("car", 0, 0);
        var cams = Rendering.CameraRigs.Shapenet(new Random(3), 2);
        Directory.CreateDirectory(dir.File("train"));
        for (int v = 0; v < 2; v++) Datasets.SdfImageRenderer.Render(obj, cams, v, 16).Save(dir.File($"train/{v:00}.png"));
        cams.Save(dir.File("transforms_train.json"));
        var data = Fitting.ImageFitter.Load(dir.Path);
        var init = Datasets.SharedInitialization.OfDataset(TestPaths.Overfit4)!;
        Assert.AreEqual(0, init.Seed);
        var arch = Architectures.ArchitecturePresets.Get("mlp");
        // Zero steps: the initial weights themselves.
        var options = new Fitting.ImageFitOptions { Steps = 0, HeldOutViews = 0, Seed = 7 };
        var shared = Fitting.ImageFitter.Fit(arch, data, options with { InitSeed = init.InitSeed("mlp") }).Weights;
        var own = Fitting.ImageFitter.Fit(arch, data, options).Weights;
        var fitted = IO.NerfWeightsFile.Read(Path.Combine(TestPaths.Overfit4, "mlp", "car/obj_000", "nerf_weights.safetensors"));
        static double Rms(Architectures.NerfWeights a, Architectures.NerfWeights b) =>
            Math.Sqrt(a.Layers.Zip(b.Layers).SelectMany(l => l.First.Weight.Zip(l.Second.Weight, (x, y) => (double)(x - y) * (x - y))).Average());
        double fromShared = Rms(shared, fitted), fromOwn = Rms(own, fitted);
        Assert.IsTrue(fromShared < 0.5 * fromOwn, $"RMS distance to a dataset NeRF: from the shared start {fromShared:G3}, from its own {fromOwn:G3}");
        // A folder that is no dataset is refused with the reason.
        var e = Assert.ThrowsExactly<NerfFormatException>(() => Datasets.SharedInitialization.OfDataset(dir.Path));
        StringAssert.Contains(e.Message, "no build.json");
    }

    /// <summary>
    /// An encoder with weight statistics flags NeRFs far outside its training weights (another initialisation) and
    /// not its training NeRFs.
    /// </summary>
    [TestMethod]
    public void EmbeddingFlagsANerfFromAnotherInitialisation()
    {
        using var dir = TestPaths.NewTempDir();
        var data = new TrainingData(TestPaths.Overfit4, "train");
        var raw = new ParameterGraphOptions();
        // Statistics of four objects (so few that a fifth of the same start could already stray past the limit).
        var stats = WeightStatistics.FromGraphs(data.Objects.Keys.SelectMany(o => data.Objects[o].Keys.Select(a => (a, data.Graph(o, a, raw)))));
        using var embedder = new NerfEmbedder(new GraphMetaNetwork(GmnPresets.Cpu) { Statistics = stats }, TriplanePositionLayout.Reference);
        var flagged = new List<(string, double)>();
        embedder.FarFromTraining = (path, rms) => flagged.Add((path, rms));
        string other = dir.File("other.safetensors");
        IO.NerfWeightsFile.WriteNative(Benchmarks.GraphBenchmark.RandomWeights(Architectures.ArchitecturePresets.Get("mlp"), 5), other);
        foreach (var arch in new[] { "mlp", "triplane", "hash" })
            embedder.Graph(Path.Combine(TestPaths.Overfit4, arch, "car/obj_000", "nerf_weights.safetensors"));
        Assert.AreEqual(0, flagged.Count, string.Join(", ", flagged));
        embedder.Graph(other);
        Assert.AreEqual(1, flagged.Count);
        Assert.AreEqual(other, flagged[0].Item1);
        Assert.IsTrue(flagged[0].Item2 > WeightStatistics.FarFromTrainingRms);
    }

    static string Show(IReadOnlyDictionary<string, double> r) => string.Join(", ", r.Select(kv => $"{kv.Key} {kv.Value:F2}"));

    /// <summary>
    /// Probe features put the field on the output neurons: the σ and rgb pre-activations at the probe points, the same
    /// function in every architecture, so one object's MLP and hash NeRFs agree there far better than two objects do.
    /// </summary>
    [TestMethod]
    public void OutputNeuronProbesOfOneObjectAgreeAcrossArchitectures()
    {
        var options = new ParameterGraphOptions { ProbePoints = ProbeFeatures.UnitPoints(64) };
        float[] OutputSigma(string arch, string obj)
        {
            var g = ParameterGraphBuilder.Build(IO.NerfWeightsFile.Read(Path.Combine(TestPaths.Overfit4, arch, obj, "nerf_weights.safetensors")), options);
            Assert.AreEqual(64, g.ProbeCount);
            // σ is output 3: the last layer's indexed neuron 3.
            int node = Enumerable.Range(0, g.NodeCount).Single(n => g.X[3 * n] > 0 && g.X[3 * n + 1] == 3 && g.X[3 * n + 2] == NodeType.Neuron);
            return g.ProbesOf(node);
        }
        static double Corr(float[] a, float[] b)
        {
            double ma = a.Average(), mb = b.Average(), sab = 0, saa = 0, sbb = 0;
            for (int i = 0; i < a.Length; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) * (a[i] - ma); sbb += (b[i] - mb) * (b[i] - mb); }
            return sab / Math.Sqrt(saa * sbb);
        }
        var same = Corr(OutputSigma("mlp", "car/obj_000"), OutputSigma("hash", "car/obj_000"));
        var other = Corr(OutputSigma("mlp", "car/obj_000"), OutputSigma("hash", "airplane/obj_000"));
        Assert.IsTrue(same > 0.7 && same > other + 0.2, $"σ probes: same object across architectures r = {same:F3}, another object r = {other:F3}");
    }

    /// <summary>Weight statistics travel inside the encoder file, and a file that needs them but lacks them is refused.</summary>
    [TestMethod]
    public void WeightStatisticsRoundTripThroughTheEncoderCheckpoint()
    {
        using var dir = TestPaths.NewTempDir();
        var data = new TrainingData(TestPaths.Overfit4, "train");
        var raw = new ParameterGraphOptions();
        var stats = WeightStatistics.FromGraphs(data.Objects.SelectMany(o => o.Value.Keys.Select(a => (a, data.Graph(o.Key, a, raw)))));
        using var gmn = new GraphMetaNetwork(GmnPresets.Cpu) { Statistics = stats };
        string path = dir.File("enc.safetensors");
        EncoderCheckpoint.Save(gmn, path, TriplanePositionLayout.Reference, "l_con");
        var (loaded, _) = EncoderCheckpoint.Load(path);
        using (loaded)
        {
            CollectionAssert.AreEquivalent(new[] { "hash", "mlp", "triplane" }, loaded.Statistics!.Entries.Keys.ToArray());
            CollectionAssert.AreEqual(stats.Entries["hash"].Std, loaded.Statistics.Entries["hash"].Std);
            // Standardised values: mean 0 over the four objects at every entry.
            var g = data.Graph("car/obj_000", "mlp", loaded.GraphOptions(TriplanePositionLayout.Reference));
            var others = data.Objects.Keys.Select(o => data.Graph(o, "mlp", loaded.GraphOptions(TriplanePositionLayout.Reference))).ToList();
            double mean = others.Average(x => x.EdgeAttr[6 * 100]);
            Assert.AreEqual(0, mean, 1e-5);
            Assert.AreEqual(64, g.ProbeCount);
        }
        using var bare = new GraphMetaNetwork(GmnPresets.Cpu);
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => bare.GraphOptions(TriplanePositionLayout.Reference));
        StringAssert.Contains(e.Message, "no statistics");
    }
}
