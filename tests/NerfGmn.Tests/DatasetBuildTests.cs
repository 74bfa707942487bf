using NerfGmn.Architectures;
using NerfGmn.Datasets;
using NerfGmn.Fitting;
using NerfGmn.IO;
using NerfGmn.Rendering;

namespace NerfGmn.Tests;

[TestClass]
public class DatasetBuildTests
{
    static DatasetBuildOptions Tiny(string root) => new()
    {
        Root = root, ObjectsPerClass = 2, Classes = ["chair", "lamp"], Architectures = ["mlp", "hash"], TestOnlyArchitectures = [], ImageSize = 16, Views = 4,
        PsnrViews = 1, FitBatch = 2, MinPsnr = 0, Fit = new FieldFitOptions { Steps = 15, PointsPerStep = 256 },
    };

    [TestMethod]
    public void ObjectsAreDeterministicAcrossProcessesAndCentred()
    {
        var a = Shapes13.Create("airplane", 3, seed: 5);
        var b = Shapes13.Create("airplane", 3, seed: 5);
        Assert.AreEqual(a.Parts.Count, b.Parts.Count);
        CollectionAssert.AreEqual(a.Parts.SelectMany(p => p.Center).ToArray(), b.Parts.SelectMany(p => p.Center).ToArray());
        // A fixed value pins the generator across processes and .NET versions (HashCode would not).
        Assert.AreEqual(StableHash.Of(5, "airplane", 3), StableHash.Of(5, "airplane", 3));
        Assert.AreEqual(0x4256f85812d30fcbUL, StableHash.Of("nerfgmn"), "FNV-1a of 'nerfgmn' + separator, computed independently");
        foreach (var cls in Shapes13.Classes)
        {
            var (min, max) = Shapes13.Create(cls, 0, 0).Bounds();
            double radius = Math.Sqrt(Enumerable.Range(0, 3).Sum(i => Math.Pow((max[i] - min[i]) / 2, 2)));
            Assert.AreEqual(0.6, radius, 1e-9, cls);
            for (int i = 0; i < 3; i++) Assert.AreEqual(0, (min[i] + max[i]) / 2, 1e-9, $"{cls} axis {i} centred");
        }
    }

    /// <summary>Extra training objects come after the others, which keep their splits; the obj recipe refuses them.</summary>
    [TestMethod]
    public void ExtraTrainingObjectsLeaveTheOtherObjectsSplits()
    {
        var plain = new DatasetBuilder(new DatasetBuildOptions { Root = "unused" }).Objects();
        var extended = new DatasetBuilder(new DatasetBuildOptions { Root = "unused", ExtraTrainObjects = 3 }).Objects();
        Assert.AreEqual(13 * 42, plain.Count);
        Assert.AreEqual(13 * 45, extended.Count);
        CollectionAssert.AreEqual(plain.ToArray(), extended.Where(o => o.Index < 42).ToArray());
        var extra = extended.Where(o => o.Index >= 42).ToList();
        Assert.IsTrue(extra.All(o => o.Split == "train") && extra.Select(o => o.Id).Distinct().Count() == 3, string.Join(", ", extra.Take(3)));
        Assert.AreEqual("obj_042", extra[0].Id);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => (new DatasetBuildOptions { Root = "unused", Recipe = "obj", MeshFolder = "m", ExtraTrainObjects = 1 }).Validate()).Message, "--extra-train");
    }

    [TestMethod]
    public void BuildWritesTheReferenceLayoutAndResumesAfterAnInterruption()
    {
        using var full = TestPaths.NewTempDir();
        var records = new DatasetBuilder(Tiny(full.Path)).Build();
        Assert.AreEqual(8, records.Count, "2 classes × 2 objects × 2 architectures");

        var layout = new DatasetLayout(full.Path);
        Assert.AreEqual(2, layout.ReadSplit("train").Count);
        Assert.AreEqual(2, layout.ReadSplit("test").Count);
        foreach (var r in records)
        {
            string folder = layout.NerfFolder(r.Arch, r.Class, r.Object);
            var weights = NerfWeightsFile.Read(DatasetLayout.WeightsFile(folder)!);
            Assert.AreEqual(ArchitecturePresets.Get(r.Arch).Layers().Count, weights.Layers.Count);
            Assert.AreEqual(96, OccupancyGrid.Load(Path.Combine(folder, "grid.pth")).Resolution);
            Assert.AreEqual(4, CameraSet.Load(Path.Combine(folder, "transforms_train.json")).Frames.Count);
            Assert.AreEqual(16, RgbaImage.Load(Path.Combine(folder, "train", "03.png")).Width);
            Assert.IsTrue(double.IsFinite(r.Psnr) && r.Psnr > 5, $"PSNR {r.Psnr}");
        }
        StringAssert.Contains(File.ReadAllText(Path.Combine(full.Path, "manifest.json")), "\"median_psnr\"");

        // Interrupt after the third NeRF, then resume: nothing half-written, nothing built twice, same weights.
        using var resumed = TestPaths.NewTempDir();
        using var cts = new CancellationTokenSource();
        int seen = 0;
        Assert.ThrowsExactly<OperationCanceledException>(() =>
            new DatasetBuilder(Tiny(resumed.Path)).Build(p => { if (p.Last is not null && ++seen == 3) cts.Cancel(); }, cts.Token));
        Assert.AreEqual(3, DatasetBuilder.ReadRecords(resumed.Path).Count);
        var second = new DatasetBuilder(Tiny(resumed.Path)).Build();
        Assert.AreEqual(5, second.Count, "only the missing NeRFs are built");
        Assert.IsFalse(Directory.EnumerateDirectories(resumed.Path, "*.tmp-*", SearchOption.AllDirectories).Any());
        // The run log adds both runs up, the killed one included.
        var total = BuildRunLog.Total(resumed.Path);
        Assert.AreEqual(2, total.Runs);
        Assert.AreEqual(8, total.NerfsBuilt);
        Assert.IsTrue(total.StageSeconds["fit"] > 0 && total.WallSeconds >= total.StageSeconds["fit"], "stage and wall seconds recorded");
        foreach (var r in records)
        {
            var a = NerfWeightsFile.Read(DatasetLayout.WeightsFile(layout.NerfFolder(r.Arch, r.Class, r.Object))!);
            var b = NerfWeightsFile.Read(DatasetLayout.WeightsFile(new DatasetLayout(resumed.Path).NerfFolder(r.Arch, r.Class, r.Object))!);
            double max = a.Layers.Zip(b.Layers).Max(p => p.First.Weight.Zip(p.Second.Weight).Max(w => Math.Abs(w.First - w.Second)));
            Assert.IsTrue(max < 1e-4, $"{r.Arch} {r.Class}/{r.Object}: resumed weights differ by {max}");
        }
    }

    [TestMethod]
    public void ResumingWithOtherSettingsIsRefusedNamingThem()
    {
        using var dir = TestPaths.NewTempDir();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        // The first run records its settings before any work.
        Assert.ThrowsExactly<OperationCanceledException>(() => new DatasetBuilder(Tiny(dir.Path)).Build(cancel: cancelled.Token));
        Assert.IsTrue(File.Exists(Path.Combine(dir.Path, "build.json")));

        var e = Assert.ThrowsExactly<ArgumentException>(() => new DatasetBuilder(Tiny(dir.Path) with { Seed = 5, ImageSize = 24 }).Build(cancel: cancelled.Token));
        StringAssert.Contains(e.Message, "Seed 0 → 5");
        StringAssert.Contains(e.Message, "ImageSize 16 → 24");
        // Batch size and shard do not change what a NeRF is: accepted (the run then stops at the cancellation).
        Assert.ThrowsExactly<OperationCanceledException>(() =>
            new DatasetBuilder(Tiny(dir.Path) with { FitBatch = 1, ShardIndex = 1, ShardCount = 2 }).Build(cancel: cancelled.Token));
    }

    [TestMethod]
    public void NerfsOfOneArchitectureStartFromOneSharedInitUnlessAskedOtherwise()
    {
        // Zero fitting steps: the written weights are the initial ones.
        float[] Flat(NerfWeights w) => (w.HashTable ?? []).Concat(w.Layers.SelectMany(l => l.Weight)).ToArray();
        foreach (bool shared in new[] { true, false })
        {
            using var dir = TestPaths.NewTempDir();
            var records = new DatasetBuilder(Tiny(dir.Path) with { SharedInit = shared, Fit = new FieldFitOptions { Steps = 0 }, MinPsnr = -1000 }).Build();
            var layout = new DatasetLayout(dir.Path);
            foreach (var arch in new[] { "mlp", "hash" })
            {
                var w = records.Where(r => r.Arch == arch).Select(r => Flat(NerfWeightsFile.Read(DatasetLayout.WeightsFile(layout.NerfFolder(arch, r.Class, r.Object))!))).ToList();
                Assert.AreEqual(4, w.Count);
                for (int k = 1; k < w.Count; k++)
                    Assert.AreEqual(shared, w[0].SequenceEqual(w[k]), $"{arch} NeRF {k} {(shared ? "differs from" : "equals")} NeRF 0");
            }
            var mlp = Flat(NerfWeightsFile.Read(DatasetLayout.WeightsFile(layout.NerfFolder("mlp", "chair", "obj_000"))!));
            var hash = Flat(NerfWeightsFile.Read(DatasetLayout.WeightsFile(layout.NerfFolder("hash", "chair", "obj_000"))!));
            Assert.IsFalse(mlp.Take(100).SequenceEqual(hash.Skip(hash.Length - mlp.Length).Take(100)), "each architecture has its own init");
            StringAssert.Contains(File.ReadAllText(Path.Combine(dir.Path, "build.json")), $"\"SharedInit\": {shared.ToString().ToLowerInvariant()}");
        }
    }

    [TestMethod]
    public void TestOnlyArchitecturesAreFittedInFullBatches()
    {
        using var dir = TestPaths.NewTempDir();
        var stages = new List<string>();
        // 2 classes × 2 objects, one test object per class; with batches of 2 objects taken in class order each batch
        // would hold one test object. Test-only architectures are batched over the test objects instead.
        var records = new DatasetBuilder(Tiny(dir.Path) with { Architectures = ["mlp"], TestOnlyArchitectures = ["mlp_2l"] })
            .Build(p => { if (p.Last is null) stages.Add(p.Stage); });
        Assert.AreEqual(6, records.Count, "4 objects in mlp, 2 test objects in mlp_2l");
        CollectionAssert.AreEqual(new[] { "mlp_2l: fitting 2" }, stages.Where(s => s.StartsWith("mlp_2l")).ToArray());
        Assert.AreEqual(2, records.Count(r => r.Arch == "mlp_2l" && r.Split == "test"));
    }

    [TestMethod]
    public void RunLogCountsOverlappingRunsOnce()
    {
        using var dir = TestPaths.NewTempDir();
        string folder = Path.Combine(dir.Path, BuildRunLog.Folder);
        Directory.CreateDirectory(folder);
        var t0 = new DateTime(2026, 1, 1, 10, 0, 0, DateTimeKind.Utc);
        void Run(string name, DateTime start, double seconds, int built) => File.WriteAllText(Path.Combine(folder, $"run-{name}.json"),
            System.Text.Json.JsonSerializer.Serialize(new BuildRunLog.Entry(start, seconds, built, 0, built, new() { ["fit"] = seconds / 2 })));
        Run("a", t0, 600, 10);                       // 10:00–10:10
        Run("b", t0.AddSeconds(300), 600, 20);       // 10:05–10:15, a second shard alongside
        Run("c", t0.AddSeconds(3600), 100, 5);       // 11:00–11:01:40, later resume
        var total = BuildRunLog.Total(dir.Path);
        Assert.AreEqual(900 + 100, total.WallSeconds, 1e-9, "10:00–10:15 once, plus the later run");
        Assert.AreEqual(35, total.NerfsBuilt);
        Assert.AreEqual(650, total.StageSeconds["fit"], 1e-9, "stage seconds add up over runs");
        Assert.AreEqual(3, total.Runs);
    }

    [TestMethod]
    public void SummaryOfTheMiniDatasetCountsSplitsAndArchitectures()
    {
        var s = DatasetSummary.Of(TestPaths.MiniDataset);
        Assert.AreEqual(13, s.ObjectsPerClass.Count);
        Assert.IsTrue(s.ObjectsPerClass.Values.All(c => c == (4, 0, 2)), "4 train, 0 val, 2 test objects per class");
        Assert.AreEqual(286, s.Nerfs);
        var mlp = s.Architectures.Single(a => a.Arch == "mlp");
        Assert.AreEqual(78, mlp.Nerfs);
        Assert.AreEqual(22.157, mlp.MedianPsnr, 1e-9, "median of an even count: mean of the middle two");
        Assert.AreEqual(19.816, mlp.MinPsnr, 1e-9);
        Assert.AreEqual(26, s.Architectures.Single(a => a.Arch == "triplane_8c").Nerfs);
    }
}
