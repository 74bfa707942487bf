using NerfGmn.Datasets;
using NerfGmn.Encoder;
using NerfGmn.Fitting;
using NerfGmn.IO;
using NerfGmn.Training;

namespace NerfGmn.Tests;

[TestClass]
public class TrainingTests
{
    [TestMethod]
    public void ExcludedObjectsAreLeftOutOfTrainingData()
    {
        var all = new TrainingData(TestPaths.MiniDataset, "train");
        var some = new TrainingData(TestPaths.MiniDataset, "train", exclude: new HashSet<string> { "airplane/obj_002", "chair/obj_000" });
        Assert.IsTrue(all.Objects.ContainsKey("airplane/obj_002"));
        Assert.AreEqual(all.Objects.Count - 2, some.Objects.Count);
        Assert.IsFalse(some.Objects.ContainsKey("airplane/obj_002"));
        Assert.IsFalse(some.Objects.ContainsKey("chair/obj_000"));
    }

    static TempDir _data = null!;

    [ClassInitialize]
    public static void BuildTinyDataset(TestContext _)
    {
        _data = TestPaths.NewTempDir();
        new DatasetBuilder(new DatasetBuildOptions
        {
            Root = _data.Path, Split = (2, 1, 0), Classes = ["chair", "lamp"], Architectures = ["mlp", "triplane_16w", "hash"],
            TestOnlyArchitectures = [], ImageSize = 8, Views = 2, PsnrViews = 1, FitBatch = 6, MinPsnr = 0, WriteGrids = false,
            Fit = new FieldFitOptions { Steps = 5, PointsPerStep = 128 },
        }).Build();
    }

    [ClassCleanup]
    public static void Cleanup() => _data.Dispose();

    static TrainingOptions Tiny(string output) => new()
    {
        Data = _data.Path, Output = output, Objective = Objective.Contrastive, Epochs = 3, PairsPerBatch = 2, MaxLearningRate = 1e-3,
        Encoder = new GmnOptions { HiddenDim = 16, OutputDim = 32, Layers = 2 }, Seed = 3,
    };

    /// <summary>The last checkpoints of an uninterrupted and a resumed run hold the same encoder.</summary>
    static void AssertSameEncoder(string runA, string runB, string objective, double rtol, double atol)
    {
        var (a, _) = EncoderCheckpoint.Load(Path.Combine(runA, "last", "encoder.safetensors"));
        var (b, info) = EncoderCheckpoint.Load(Path.Combine(runB, "last", "encoder.safetensors"));
        Assert.AreEqual(objective, info.Objective);
        var sb = b.state_dict();
        foreach (var (name, t) in a.state_dict())
            Assert.IsTrue(t.allclose(sb[name], rtol, atol), $"{name} differs after resume");
    }

    [TestMethod]
    public void PairSamplerFollowsTheReferencePatternAndIsDeterministic()
    {
        var objects = Enumerable.Range(0, 12).Select(i => ($"o{i}", (IReadOnlyList<string>)["mlp", "triplane", "hash"])).ToArray();
        var sampler = new PairSampler(objects, 1);
        var epoch = sampler.Epoch(0);
        Assert.AreEqual(12, epoch.Count);
        Assert.AreEqual(("mlp", "triplane"), (epoch[0].A, epoch[0].B));
        Assert.AreEqual(("triplane", "hash"), (epoch[1].A, epoch[1].B));
        Assert.AreEqual(("mlp", "hash"), (epoch[2].A, epoch[2].B));
        CollectionAssert.AreEqual(epoch.ToArray(), sampler.Epoch(0).ToArray());
        Assert.AreEqual(12, epoch.Select(p => p.Object).Distinct().Count(), "every object once per epoch");
        var partial = new PairSampler([("a", ["mlp", "triplane"]), ("b", ["hash"])], 1).Epoch(0);
        Assert.AreEqual(1, partial.Count, "an object in one family cannot form a pair");
        Assert.AreEqual(("mlp", "triplane"), (partial[0].A, partial[0].B));
    }

    [TestMethod]
    public void PairRecallCountsPartnersFoundNearestInBothDirections()
    {
        // Pairs (a_i, b_i) as rows 2i, 2i+1. a→b finds all three; b2 = (0.9, 0, 0.1) is nearer a0 than a2.
        var z = TorchSharp.torch.tensor(new float[] { 1, 0, 0, 1, 0.1f, 0, 0, 1, 0, 0, 1, 0.1f, 0, 0, 1, 0.9f, 0, 0.1f }, [6, 3]);
        Assert.AreEqual((3 / 3.0 + 2 / 3.0) / 2, EncoderTrainer.PairRecall(z), 1e-12);
        var odd = Assert.ThrowsExactly<ArgumentException>(() => EncoderTrainer.PairRecall(z.narrow(0, 0, 5)));
        StringAssert.Contains(odd.Message, "even number of rows");
    }

    [TestMethod]
    public void SigLipScalarsLearnAtTheirOwnRateWhenAFactorIsGiven()
    {
        float Shift(double factor)
        {
            using var run = TestPaths.NewTempDir();
            var state = new EncoderTrainer(Tiny(run.Path) with { Epochs = 2, SigLipRateFactor = factor }).Train();
            return Math.Abs(state.Bias - -10f);   // SigLIP's initial bias
        }
        float same = Shift(1), fast = Shift(100);
        Assert.IsTrue(same > 0 && fast > 20 * same, $"bias moved {same} at the model's rate, {fast} at 100×");
    }

    [TestMethod]
    public void TheDecoderLearnsAtItsOwnRateWhenAFactorIsGiven()
    {
        float[] Decoder(double factor)
        {
            using var run = TestPaths.NewTempDir();
            new EncoderTrainer(TinyField(run.Path) with { DecoderRateFactor = factor, Overfit = 2, Epochs = 2 }).Train();
            var tensors = IO.SafeTensorsFile.Read(Path.Combine(run.Path, "last", "decoder.safetensors")).Tensors;
            return tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal).SelectMany(kv => kv.Value.ToFloats()).ToArray();
        }
        // A factor of 1e-6 leaves the decoder where the seed put it; Adam's steps scale with the rate.
        var start = Decoder(1e-6);
        double Moved(float[] d) => Math.Sqrt(d.Zip(start, (a, b) => (double)(a - b) * (a - b)).Sum());
        double same = Moved(Decoder(1)), fast = Moved(Decoder(20));
        Assert.IsTrue(same > 0 && fast > 5 * same, $"decoder moved {same} at the model's rate, {fast} at 20×");
    }

    [TestMethod]
    public void ContrastiveTrainingResumesExactlyAfterAnInterruption()
    {
        using var full = TestPaths.NewTempDir();
        var losses = new List<double>();
        var reported = new List<double>();
        var done = new EncoderTrainer(Tiny(full.Path)).Train(p =>
        {
            if (!double.IsNaN(p.Loss)) losses.Add(p.Loss);
            if (p.ValidationPairRecall is { } r) reported.Add(Math.Round(r, 5));
        });
        Assert.AreEqual(3, done.Epoch);
        Assert.IsTrue(File.Exists(Path.Combine(full.Path, "loss.png")));
        Assert.IsTrue(File.Exists(Path.Combine(full.Path, "best.safetensors")));
        Assert.AreEqual(losses.Count + 3 + 1, File.ReadAllLines(Path.Combine(full.Path, "log.csv")).Length, "a row per step and per epoch, plus the header");
        // Each validation row also carries the pair retrieval rate, the same value the progress report shows.
        var recall = File.ReadAllLines(Path.Combine(full.Path, "log.csv")).Skip(1).Select(l => l.Split(','))
            .Where(r => r[6].Length > 0).Select(r => double.Parse(r[8], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        CollectionAssert.AreEqual(reported.ToArray(), recall);
        Assert.IsTrue(recall.Length == 3 && recall.All(r => r is >= 0 and <= 1), string.Join(", ", recall));

        // The interrupted run keeps its graphs on disk and its resumption reads them back: the same run as in memory.
        using var resumed = TestPaths.NewTempDir();
        using var graphs = TestPaths.NewTempDir();
        using var cts = new CancellationTokenSource();
        Assert.ThrowsExactly<OperationCanceledException>(() =>
            new EncoderTrainer(Tiny(resumed.Path) with { GraphCache = graphs.Path }).Train(p => { if (p.GlobalStep == 2 && !double.IsNaN(p.Loss)) cts.Cancel(); }, cts.Token));
        Assert.IsTrue(Directory.EnumerateFiles(graphs.Path, "*.safetensors", SearchOption.AllDirectories).Any(), "graph files in the cache folder");
        // Other settings would not continue the same run.
        var changed = Assert.ThrowsExactly<ArgumentException>(() => new EncoderTrainer(Tiny(resumed.Path) with { MaxLearningRate = 0.5 }).Train());
        StringAssert.Contains(changed.Message, "MaxLearningRate");
        var again = new EncoderTrainer(Tiny(resumed.Path) with { GraphCache = graphs.Path }).Train();
        Assert.AreEqual(done.GlobalStep, again.GlobalStep);
        Assert.AreEqual(done.TPrime, again.TPrime, 1e-6f);

        AssertSameEncoder(full.Path, resumed.Path, "l_con", rtol: 1e-5, atol: 1e-6);
    }

    [TestMethod]
    [DataRow(false, false)]
    [DataRow(true, false)]
    [DataRow(false, true)]
    public void AKilledRunResumesFromItsMidEpochCheckpoint(bool centerPerArchitecture, bool anchorPerArchitecture)
    {
        TrainingOptions Options(string output) => Tiny(output) with { CenterPerArchitecture = centerPerArchitecture, AnchorPerArchitecture = anchorPerArchitecture };
        using var full = TestPaths.NewTempDir();
        var done = new EncoderTrainer(Options(full.Path)).Train();
        if (centerPerArchitecture)
            CollectionAssert.AreEquivalent(new[] { "mlp", "hash" }, done.ArchitectureMeans!.Keys.ToArray(), "a running mean per training family, kept in the state");
        else Assert.IsNull(done.ArchitectureMeans);

        // A crash (not Ctrl+C) saves nothing at the time; what survives is the last periodic checkpoint.
        using var crashed = TestPaths.NewTempDir();
        var everyStep = Options(crashed.Path) with { CheckpointMinutes = 1e-9 };
        Assert.ThrowsExactly<InvalidOperationException>(() => new EncoderTrainer(everyStep).Train(p =>
        {
            if (p.GlobalStep == 4 && !double.IsNaN(p.Loss)) throw new InvalidOperationException("killed");
        }));
        var saved = System.Text.Json.JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(Path.Combine(crashed.Path, "last", "trainer.json")))!;
        Assert.AreEqual((1, 1, 3), (saved.Epoch, saved.Batch, saved.GlobalStep), "the checkpoint after step 3 is inside epoch 1");

        var again = new EncoderTrainer(Options(crashed.Path)).Train();
        Assert.AreEqual(done.GlobalStep, again.GlobalStep);
        AssertSameEncoder(full.Path, crashed.Path, "l_con", rtol: 1e-5, atol: 1e-6);
        // Step 4 was logged before the crash and redone after it: the log holds it once, like the uninterrupted run's.
        static string[] Steps(string run) => File.ReadAllLines(Path.Combine(run, "log.csv")).Select(l => string.Join(',', l.Split(',')[..3])).ToArray();
        CollectionAssert.AreEqual(Steps(full.Path), Steps(crashed.Path));
    }

    [TestMethod]
    public void CentringAndAnchoringTogetherAreRefused()
    {
        using var run = TestPaths.NewTempDir();
        var e = Assert.ThrowsExactly<ArgumentException>(() =>
            new EncoderTrainer(Tiny(run.Path) with { CenterPerArchitecture = true, AnchorPerArchitecture = true }).Train());
        StringAssert.Contains(e.Message, "--anchor");
    }

    [TestMethod]
    public void ACheckpointLeftAsLastOldByAKillMidSwapIsRecovered()
    {
        using var run = TestPaths.NewTempDir();
        var done = new EncoderTrainer(Tiny(run.Path)).Train();
        Directory.Move(Path.Combine(run.Path, "last"), Path.Combine(run.Path, "last.old"));
        int stepsTrained = 0;
        var again = new EncoderTrainer(Tiny(run.Path)).Train(p => { if (!double.IsNaN(p.Loss)) stepsTrained++; });
        Assert.AreEqual(0, stepsTrained, "the finished run was recovered, not started again");
        Assert.AreEqual(done.GlobalStep, again.GlobalStep);
        Assert.IsTrue(Directory.Exists(Path.Combine(run.Path, "last")));
    }

    /// <summary>L_R+C, and the field objective with L_C (which trains on pooled field points but validates by rendering).</summary>
    [TestMethod]
    [DataRow(Objective.RenderingContrastive)]
    [DataRow(Objective.FieldContrastive)]
    public void RenderingPlusContrastiveTrainsTheDecoderAndResumesExactly(string objective)
    {
        TrainingOptions Options(string output) => Tiny(output) with
        {
            Objective = objective, Epochs = 2,
            Decoder = new Decoder.ImplicitDecoderOptions { HiddenDim = 32, LayersBeforeSkip = 1, LayersAfterSkip = 1, Frequencies = 8 },
            Rendering = new RenderingLossOptions { CandidateRays = 512, ForegroundRays = 8, MaxForegroundSamples = 300, BackgroundCells = 200, TotalPoints = 400, ImageSize = 8 },
            Field = new FieldLossOptions { OccupiedPool = 400, ShellPool = 200, EmptyPool = 200, PointsPerNerf = 200 },
        };
        using var full = TestPaths.NewTempDir();
        var losses = new List<double>();
        var done = new EncoderTrainer(Options(full.Path)).Train(p => { if (!double.IsNaN(p.Loss)) losses.Add(p.Loss); });
        Assert.IsTrue(losses.Count > 0 && losses.All(double.IsFinite), string.Join(", ", losses));
        Assert.IsTrue(File.Exists(Path.Combine(full.Path, "last", "decoder.safetensors")));
        Assert.IsTrue(new FileInfo(Path.Combine(full.Path, "loss.png")).Length > 0, "loss curve with validation PSNR on its own axis");
        // Validation for rendering objectives is the decoder's foreground PSNR, logged negated (lower is better).
        var validation = File.ReadAllLines(Path.Combine(full.Path, "log.csv")).Skip(1).Select(l => l.Split(',')[6]).Where(v => v.Length > 0)
            .Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.AreEqual(2, validation.Length, "one validation per epoch");
        Assert.IsTrue(validation.All(v => v < 0 && v >= -60), $"−PSNR values {string.Join(", ", validation)}");

        using var resumed = TestPaths.NewTempDir();
        using var cts = new CancellationTokenSource();
        Assert.ThrowsExactly<OperationCanceledException>(() =>
            new EncoderTrainer(Options(resumed.Path)).Train(p => { if (p.GlobalStep == 1 && !double.IsNaN(p.Loss)) cts.Cancel(); }, cts.Token));
        // A log from before the last column was added is resumed under the current header.
        string log = Path.Combine(resumed.Path, "log.csv");
        var before = File.ReadAllLines(log);
        File.WriteAllLines(log, before.Skip(1).Prepend("epoch,batch,step,lr,beta1,loss,val_loss,seconds,val_pair_r1"));
        var again = new EncoderTrainer(Options(resumed.Path)).Train();
        Assert.AreEqual(done.GlobalStep, again.GlobalStep);
        AssertSameEncoder(full.Path, resumed.Path, objective, rtol: 1e-4, atol: 1e-5);
        var after = File.ReadAllLines(log);
        Assert.AreEqual(EncoderTrainer.LogHeader, after[0]);
        CollectionAssert.AreEqual(before.Skip(1).ToArray(), after.Skip(1).Take(before.Length - 1).ToArray(), "the old rows are kept as they were");
    }

    [TestMethod]
    [DataRow(CheckpointSelection.RenderMedian)]
    [DataRow(CheckpointSelection.Loss)]
    public void TheBestCheckpointIsTheEpochItsSelectionMeasureRanksFirst(CheckpointSelection by)
    {
        using var run = TestPaths.NewTempDir();
        var options = Tiny(run.Path) with
        {
            Objective = Objective.Field, Epochs = 3, SelectBy = by,
            Decoder = new Decoder.ImplicitDecoderOptions { HiddenDim = 32, LayersBeforeSkip = 1, LayersAfterSkip = 1, Frequencies = 8 },
            Rendering = new RenderingLossOptions { CandidateRays = 512, ForegroundRays = 8, MaxForegroundSamples = 300, BackgroundCells = 200, TotalPoints = 400, ImageSize = 8 },
            Field = new FieldLossOptions { OccupiedPool = 400, ShellPool = 200, EmptyPool = 200, PointsPerNerf = 200 },
        };
        // The encoder after each epoch (last/ is written before the epoch's progress report) with its two measures.
        var epochs = new List<(double Loss, double RenderPsnr, byte[] Encoder)>();
        var done = new EncoderTrainer(options).Train(p =>
        {
            if (p.Validation is { } loss)
                epochs.Add((loss, p.ValidationRenderPsnr!.Value, File.ReadAllBytes(Path.Combine(run.Path, "last", "encoder.safetensors"))));
        });
        Assert.AreEqual(3, epochs.Count);
        int expected = by == CheckpointSelection.RenderMedian
            ? epochs.FindIndex(e => e.RenderPsnr == epochs.Max(x => x.RenderPsnr))
            : epochs.FindIndex(e => e.Loss == epochs.Min(x => x.Loss));
        Assert.AreEqual(epochs.Max(x => x.RenderPsnr), done.BestRenderPsnr);
        Assert.AreEqual(epochs.Min(x => x.Loss), done.BestValidation);

        var (best, _) = EncoderCheckpoint.Load(Path.Combine(run.Path, "best.safetensors"));
        using var picked = TestPaths.NewTempDir();
        for (int e = 0; e < epochs.Count; e++)
        {
            string path = Path.Combine(picked.Path, $"epoch{e}.safetensors");
            File.WriteAllBytes(path, epochs[e].Encoder);
            var (encoder, _) = EncoderCheckpoint.Load(path);
            bool same = encoder.state_dict().All(kv => kv.Value.allclose(best.state_dict()[kv.Key], 0, 0));
            Assert.AreEqual(e == expected, same, $"epoch {e + 1} (losses {string.Join(", ", epochs.Select(x => x.Loss))}; renders {string.Join(", ", epochs.Select(x => x.RenderPsnr))}; expected epoch {expected + 1})");
        }
    }

    [TestMethod]
    public void TheRenderMedianAndTheLossPickDifferentCheckpointsWhereTheyDisagree()
    {
        var state = new TrainerState { BestValidation = -20, BestRenderPsnr = 18 };
        // Pooled loss better (−21 < −20) but renders worse (17 < 18): the loss picks it, the render median does not.
        Assert.IsTrue(state.IsImprovedBy(CheckpointSelection.Loss, -21, 17));
        Assert.IsFalse(state.IsImprovedBy(CheckpointSelection.RenderMedian, -21, 17));
        Assert.IsTrue(state.IsImprovedBy(CheckpointSelection.RenderMedian, -19, 18.5));
        // Without a decoder (L_C) the render median falls back to the loss.
        Assert.IsTrue(state.IsImprovedBy(CheckpointSelection.RenderMedian, -21, null));
        Assert.IsFalse(state.IsImprovedBy(CheckpointSelection.RenderMedian, -19, null));
        // A state saved before the median was kept takes the first median after a resume.
        Assert.IsTrue(new TrainerState { BestValidation = -25 }.IsImprovedBy(CheckpointSelection.RenderMedian, -20, 12));
        Assert.IsNull(System.Text.Json.JsonSerializer.Deserialize<TrainerState>("""{"Epoch":3,"BestValidation":-20.5}""")!.BestRenderPsnr);
        // The presets: the paper keeps the reference's selection, the cpu recipe the render target's measure.
        Assert.AreEqual(CheckpointSelection.Loss, TrainingOptions.ForPreset("paper", "d", "o", Objective.Field).SelectBy);
        Assert.AreEqual(CheckpointSelection.RenderMedian, TrainingOptions.ForPreset("cpu", "d", "o", Objective.Field).SelectBy);
    }

    [TestMethod]
    public void TheDecoderProbeQueriesARunsDecoderOnEachValidationNerf()
    {
        using var run = TestPaths.NewTempDir();
        var options = Tiny(run.Path) with
        {
            Objective = Objective.Rendering, Epochs = 2, AnchorPerArchitecture = true, Exclude = new HashSet<string> { "chair/obj_000" },
            Decoder = new Decoder.ImplicitDecoderOptions { HiddenDim = 32, LayersBeforeSkip = 1, LayersAfterSkip = 1 },
            Rendering = new RenderingLossOptions { CandidateRays = 512, ForegroundRays = 8, MaxForegroundSamples = 300, BackgroundCells = 200, TotalPoints = 400, ImageSize = 8 },
        };
        new EncoderTrainer(options).Train();

        var saved = TrainingOptions.FromRun(run.Path);
        Assert.IsTrue(saved.AnchorPerArchitecture);
        Assert.AreEqual(options.Decoder with { SceneBox = saved.Decoder.SceneBox }, saved.Decoder);
        CollectionAssert.AreEqual(options.Decoder.SceneBox, saved.Decoder.SceneBox);
        CollectionAssert.AreEquivalent(options.Exclude.ToArray(), saved.Exclude.ToArray());

        // Validation also logs the render target's measure, and it is the probe's: the median over every validation
        // NeRF of its render PSNR from its embedding, on the same draws.
        var logged = File.ReadAllLines(Path.Combine(run.Path, "log.csv")).Skip(1).Select(l => l.Split(','))
            .Where(r => r.Length > 9 && r[9].Length > 0).Select(r => double.Parse(r[9], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.AreEqual(2, logged.Length, "one per epoch");
        var valObjects = new TrainingData(options.Data, "val").Objects.Count;
        var probedVal = DecoderProbe.Run(run.Path, split: "val", objects: valObjects, points: 50, seed: options.Seed);
        Assert.AreEqual(DecoderProbe.Median(probedVal.Select(r => r.RenderPsnr)), logged[^1], 1e-3);

        // The tiny dataset's NeRFs are fitted for 5 steps and have empty grids: probe the bundled mini dataset's NeRFs instead.
        var rows = DecoderProbe.Run(run.Path, TestPaths.MiniDataset, "test", objects: 2, points: 50);
        var test = new TrainingData(TestPaths.MiniDataset, "test");
        var probed = test.Objects.Keys.Order(StringComparer.Ordinal).Take(1).Concat(test.Objects.Keys.Where(o => o.StartsWith("bench/")).Order(StringComparer.Ordinal).Take(1));
        // Anchors are the run's: architectures absent from its training data (triplane, the unseen variants) are skipped.
        Assert.AreEqual(probed.Sum(o => test.Objects[o].Keys.Count(a => a is "mlp" or "hash")), rows.Count, "one row per NeRF of the probed objects");
        CollectionAssert.AreEquivalent(new[] { "hash", "mlp" }, rows.Select(r => r.Arch).Distinct().ToArray());
        CollectionAssert.AreEquivalent(new[] { "airplane", "bench" }, rows.Select(r => r.Object.Split('/')[0]).Distinct().ToArray(), "one object per class first");
        foreach (var r in rows)
        {
            Assert.IsTrue(r.SigmaOccupied >= 0 && double.IsFinite(r.SigmaOccupied) && r.SigmaEmpty >= 0 && double.IsFinite(r.SigmaEmpty), $"{r}");
            Assert.IsTrue(r.NerfSigmaOccupied > 1, $"the NeRF itself is dense where its grid is occupied: {r}");
            Assert.IsTrue(r.OccupancyAuc is >= 0 and <= 1 && r.OccupancyAucOtherObject is >= 0 and <= 1 && r.OccupancyAucOtherNerf is >= 0 and <= 1, $"{r}");
            // Rendered as validation does: a finite PSNR of the decoder's colours against the NeRF's on its foreground rays.
            Assert.IsTrue(r.RenderPsnr is > 3 and < 60, $"{r}");
        }
        // A NeRF with an empty grid (some of the tiny dataset's) gives a row of NaN, not an exception.
        var tiny = DecoderProbe.Run(run.Path, objects: 2, points: 50);
        Assert.IsTrue(tiny.Any(r => double.IsNaN(r.OccupancyAuc)), string.Join("\n", tiny));
        // One object: no other object's embedding to compare with.
        Assert.IsTrue(DecoderProbe.Run(run.Path, TestPaths.MiniDataset, "test", objects: 1, points: 50).All(r => double.IsNaN(r.OccupancyAucOtherObject)));
    }

    [TestMethod]
    public void TheDecoderProbeRefusesRunsWithoutADecoder()
    {
        using var run = TestPaths.NewTempDir();
        new EncoderTrainer(Tiny(run.Path) with { Epochs = 1 }).Train();
        var e = Assert.ThrowsExactly<ArgumentException>(() => DecoderProbe.Run(run.Path));
        StringAssert.Contains(e.Message, "has no decoder");
        using var empty = TestPaths.NewTempDir();
        var missing = Assert.ThrowsExactly<FileNotFoundException>(() => DecoderProbe.Run(empty.Path));
        StringAssert.Contains(missing.Message, "no last/options.json");
    }

    /// <summary>
    /// fit-decoder: the run's decoder trained further on frozen embeddings, evaluated on a fixed schedule, saved at every
    /// evaluation; a fit stopped and resumed ends with the decoder of an unbroken one.
    /// </summary>
    [TestMethod]
    public void ADecoderFitLogsRendersAndResumesToTheSameDecoder()
    {
        using var run = TestPaths.NewTempDir();
        new EncoderTrainer(Tiny(run.Path) with
        {
            Objective = Objective.Field, Epochs = 2,
            Decoder = new Decoder.ImplicitDecoderOptions { HiddenDim = 32, LayersBeforeSkip = 1, LayersAfterSkip = 1, Frequencies = 8 },
            Rendering = new RenderingLossOptions { CandidateRays = 512, ForegroundRays = 8, MaxForegroundSamples = 300, BackgroundCells = 200, TotalPoints = 400, ImageSize = 8 },
            Field = new FieldLossOptions { OccupiedPool = 400, ShellPool = 200, EmptyPool = 200, PointsPerNerf = 200 },
        }).Train();
        DecoderFitOptions Fit(string output, int steps, bool resume = false) =>
            new() { Run = run.Path, Output = output, MaxSteps = steps, EvaluateEvery = 2, NerfsPerStep = 2, Resume = resume };

        using var whole = TestPaths.NewTempDir();
        var curve = DecoderFit.Run(Fit(whole.Path, 4));
        CollectionAssert.AreEqual(new[] { 0, 2, 4 }, curve.Select(p => p.Step).ToArray());
        // The tiny dataset's 5-step NeRFs are nearly empty, so renders may match exactly (PSNR capped at 100 dB).
        Assert.IsTrue(curve.All(p => p.TrainPsnr is > 3 and <= 100 && p.ValidationPsnr is > 3 and <= 100), string.Join(", ", curve));
        Assert.IsTrue(double.IsNaN(curve[0].Loss) && curve.Skip(1).All(p => double.IsFinite(p.Loss) && p.Loss > 0), "step 0 has no training loss yet");
        var log = File.ReadAllLines(Path.Combine(whole.Path, "log.csv"));
        Assert.AreEqual("step,seconds,loss,train_psnr,val_psnr", log[0]);
        Assert.AreEqual(4, log.Length);
        // The fitted decoder differs from the run's and loads where the probe loads decoders.
        string fitted = Path.Combine(whole.Path, "decoder.safetensors");
        Assert.AreNotEqual(Convert.ToHexString(File.ReadAllBytes(Path.Combine(run.Path, "last", "decoder.safetensors"))), Convert.ToHexString(File.ReadAllBytes(fitted)));
        Assert.IsTrue(DecoderProbe.Run(run.Path, objects: 1, points: 50, decoderPath: fitted).Count > 0);

        using var broken = TestPaths.NewTempDir();
        DecoderFit.Run(Fit(broken.Path, 2));
        var again = DecoderFit.Run(Fit(broken.Path, 4, resume: true));
        CollectionAssert.AreEqual(new[] { 4 }, again.Select(p => p.Step).ToArray());
        Assert.AreEqual(4, File.ReadAllLines(Path.Combine(broken.Path, "log.csv")).Length, "one log, the resumed rows appended");
        CollectionAssert.AreEqual(File.ReadAllBytes(fitted), File.ReadAllBytes(Path.Combine(broken.Path, "decoder.safetensors")));

        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => DecoderFit.Run(Fit(broken.Path, 6))).Message, "holds a decoder fit already");

        // A new decoder of another shape: saved with it, probed and resumed as that shape.
        using var wide = TestPaths.NewTempDir();
        DecoderFit.Run(Fit(wide.Path, 2) with { Width = 48, LayersPerSide = 2 });
        string wideFile = Path.Combine(wide.Path, "decoder.safetensors");
        var shape = Decoder.ImplicitDecoder.OptionsOf(wideFile, new Decoder.ImplicitDecoderOptions { EmbeddingDim = 7, Frequencies = 8 });
        Assert.AreEqual((48, 2, 2, 7), (shape.HiddenDim, shape.LayersBeforeSkip, shape.LayersAfterSkip, shape.EmbeddingDim));
        Assert.IsTrue(DecoderProbe.Run(run.Path, objects: 1, points: 50, decoderPath: wideFile).Count > 0);
        Assert.AreEqual(4, DecoderFit.Run(Fit(wide.Path, 4, resume: true))[^1].Step);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => DecoderFit.Run(Fit(wide.Path, 6, resume: true) with { Width = 64 })).Message, "keeps its decoder's shape");
        // Embedding noise changes what the decoder learns, is kept with the fit's settings, and a resume must keep it.
        using var noisy = TestPaths.NewTempDir();
        DecoderFit.Run(Fit(noisy.Path, 4) with { EmbeddingNoise = 0.5 });
        Assert.AreNotEqual(Convert.ToHexString(File.ReadAllBytes(fitted)), Convert.ToHexString(File.ReadAllBytes(Path.Combine(noisy.Path, "decoder.safetensors"))));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => DecoderFit.Run(Fit(noisy.Path, 6, resume: true))).Message, "EmbeddingNoise 0.5 → 0");
        Assert.AreEqual(6, DecoderFit.Run(Fit(noisy.Path, 6, resume: true) with { EmbeddingNoise = 0.5 })[^1].Step);
        using var none = TestPaths.NewTempDir();
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => DecoderFit.Run(Fit(none.Path, 2) with { EmbeddingNoise = -1 }));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => DecoderFit.Run(Fit(none.Path, 2, resume: true))).Message, "no decoder fit to resume");
        using var contrastive = TestPaths.NewTempDir();
        new EncoderTrainer(Tiny(contrastive.Path) with { Epochs = 1 }).Train();
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => DecoderFit.Run(new DecoderFitOptions { Run = contrastive.Path, Output = none.Path })).Message, "no decoder to fit");
    }

    /// <summary>A tiny L_F run: a 32-wide decoder and small field pools.</summary>
    static TrainingOptions TinyField(string output) => Tiny(output) with
    {
        Objective = Objective.Field, Epochs = 1,
        Decoder = new Decoder.ImplicitDecoderOptions { HiddenDim = 32, LayersBeforeSkip = 1, LayersAfterSkip = 1, Frequencies = 8 },
        Rendering = new RenderingLossOptions { CandidateRays = 512, ForegroundRays = 8, MaxForegroundSamples = 300, BackgroundCells = 200, TotalPoints = 400, ImageSize = 8 },
        Field = new FieldLossOptions { OccupiedPool = 400, ShellPool = 200, EmptyPool = 200, PointsPerNerf = 200 },
    };

    /// <summary>
    /// A warm start begins with the given run's encoder and decoder: at a negligible rate it ends where that run ended
    /// (a fresh start of the same seed would end at the initialisation); shapes that differ and a decoder without a run are refused by name.
    /// </summary>
    [TestMethod]
    public void AWarmStartBeginsWithTheGivenRunsEncoderAndDecoder()
    {
        using var first = TestPaths.NewTempDir();
        new EncoderTrainer(TinyField(first.Path)).Train();
        using var warm = TestPaths.NewTempDir();
        new EncoderTrainer(TinyField(warm.Path) with { InitFrom = first.Path, MaxLearningRate = 1e-9 }).Train();
        AssertSameEncoder(first.Path, warm.Path, Objective.Field, 1e-4, 1e-6);
        var a = SafeTensorsFile.Read(Path.Combine(first.Path, "last", "decoder.safetensors")).Tensors;
        var b = SafeTensorsFile.Read(Path.Combine(warm.Path, "last", "decoder.safetensors")).Tensors;
        foreach (var (name, t) in a)
            Assert.IsTrue(t.ToFloats().Zip(b[name].ToFloats()).All(p => Math.Abs(p.First - p.Second) < 1e-5), $"decoder {name} differs");

        using var other = TestPaths.NewTempDir();
        string refused = Path.Combine(other.Path, "run");
        var wider = TinyField(refused) with { InitFrom = first.Path, Encoder = TinyField(refused).Encoder with { HiddenDim = 24 } };
        StringAssert.Contains(Assert.ThrowsExactly<NerfFormatException>(() => new EncoderTrainer(wider).Train()).Message, "warm start");
        Assert.IsFalse(Directory.Exists(refused), "a refused warm start leaves no run folder");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new EncoderTrainer(TinyField(refused) with { InitDecoder = "d.safetensors" }).Train()).Message, "--init-from");
    }

    /// <summary>
    /// invert-decoder: codes started at the embeddings and optimised against each NeRF's field lower the objective, and
    /// every NeRF gets a row with both PSNRs.
    /// </summary>
    [TestMethod]
    public void ADecoderInversionLowersTheObjectiveWithTheDecoderFrozen()
    {
        using var run = TestPaths.NewTempDir();
        new EncoderTrainer(TinyField(run.Path)).Train();
        var report = DecoderInversion.Run(new DecoderInversionOptions { Run = run.Path, Split = "train", Objects = 2, Steps = 60, EvaluateEvery = 20, PointsPerNerf = 200, LearningRate = 3e-2 });
        CollectionAssert.AreEqual(new[] { 0, 20, 40, 60 }, report.Curve.Select(p => p.Step).ToArray());
        Assert.IsTrue(report.Curve[^1].Loss < 0.8 * report.Curve[1].Loss, $"the objective falls as the codes fit: {string.Join(", ", report.Curve)}");
        Assert.IsTrue(report.Curve[0].CodeShift == 0 && report.Curve[^1].CodeShift > 0, "codes start at the embeddings and move");
        Assert.IsTrue(report.Rows.Count >= 2 && report.Rows.All(r => r.EmbeddingPsnr is > 3 and <= 100 && r.InvertedPsnr is > 3 and <= 100), string.Join(", ", report.Rows));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => DecoderInversion.Run(new DecoderInversionOptions { Run = run.Path, Steps = -1 })).Message, "steps");
    }

    [TestMethod]
    public void ARunTooShortForItsScheduleIsRefusedWithTheReason()
    {
        using var run = TestPaths.NewTempDir();
        // Two training objects left: one batch of 2 pairs per epoch, so one epoch is a single step.
        var e = Assert.ThrowsExactly<ArgumentException>(() => new EncoderTrainer(Tiny(run.Path) with
        {
            Epochs = 1, Exclude = new HashSet<string> { "chair/obj_000" },
        }).Train());
        StringAssert.Contains(e.Message, "1 epoch(s) × 1 batch(es) of 2 pairs");
        StringAssert.Contains(e.Message, "train for more epochs");
    }

    [TestMethod]
    public void UnknownObjectivesAreRejected()
    {
        using var dir = TestPaths.NewTempDir();
        var e = Assert.ThrowsExactly<ArgumentException>(() => new EncoderTrainer(Tiny(dir.Path) with { Objective = "l_magic" }).Train());
        StringAssert.Contains(e.Message, "unknown objective 'l_magic'");
    }
}
