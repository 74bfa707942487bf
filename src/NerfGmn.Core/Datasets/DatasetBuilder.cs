using System.Diagnostics;
using System.Text.Json;
using NerfGmn.Architectures;
using NerfGmn.Fields;
using NerfGmn.Fitting;
using NerfGmn.IO;
using NerfGmn.Rendering;
using TorchSharp;
using static TorchSharp.torch;

namespace NerfGmn.Datasets;

/// <summary>
/// Builds a NeRF dataset from a procedural recipe: for every object, ground-truth views (Blender layout) and NeRFs of
/// each architecture fitted to the object's field, with occupancy grids and held-out PSNR. Deterministic for a seed,
/// shardable (objects by index), resumable after a kill: each NeRF is written into a temporary folder that is renamed
/// into place once complete, with its <c>nerf.json</c> record inside, so a half-written NeRF never counts as done.
/// </summary>
public sealed class DatasetBuilder(DatasetBuildOptions options)
{
    public DatasetBuildOptions Options { get; } = options;
    readonly DatasetLayout _layout = new(options.Root);

    public sealed record ObjectEntry(string Class, string Id, int Index, string Split);

    /// <summary>Classes of the recipe: shapes13's, or the sub-folders of the mesh folder.</summary>
    IReadOnlyList<string> RecipeClasses() => Options.Recipe == "obj"
        ? Options.Classes ?? Directory.GetDirectories(Options.MeshFolder!).Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal).ToArray()
        : Options.Classes ?? Shapes13.Classes;

    int ClassOrder(string c) => Options.Recipe == "obj" ? RecipeClasses().ToList().IndexOf(c) : Shapes13.Label(c);

    /// <summary>The object an entry stands for.</summary>
    public SceneObject Create(ObjectEntry o) => Options.Recipe == "obj"
        ? MeshObject.Load(Path.Combine(Options.MeshFolder!, o.Class, o.Id + ".obj"), o.Class, Shapes13.Palette(new Random(StableHash.Seed(Options.Seed, o.Class, o.Id, "palette"))))
        : Shapes13.Create(o.Class, o.Index, Options.Seed);

    /// <summary>All objects of the dataset (every shard), with their split.</summary>
    public IReadOnlyList<ObjectEntry> Objects()
    {
        var result = new List<ObjectEntry>();
        foreach (var c in RecipeClasses())
        {
            string[]? meshes = Options.Recipe == "obj"
                ? Directory.GetFiles(Path.Combine(Options.MeshFolder!, c), "*.obj").Select(f => Path.GetFileNameWithoutExtension(f)).Order(StringComparer.Ordinal).ToArray()
                : null;
            var order = Enumerable.Range(0, meshes?.Length ?? Options.TotalObjectsPerClass).ToArray();
            // Meshes: the ratio applies to however many files the class has (unless the split is explicit).
            var (train, val, test) = meshes is null || Options.Split is not null ? Options.SplitCounts()
                : (Options with { ObjectsPerClass = meshes.Length }).SplitCounts();
            new Random(StableHash.Seed(Options.Seed, c, "split")).Shuffle(order);
            for (int k = 0; k < order.Length; k++)
            {
                int index = order[k];
                string split = k < test ? "test" : k < test + val ? "val" : "train";
                result.Add(new ObjectEntry(c, meshes?[index] ?? $"obj_{index:000}", index, split));
            }
            // After the shuffled ones, so that the other objects keep their splits.
            for (int k = 0; k < Options.ExtraTrainObjects; k++)
            {
                int index = Options.TotalObjectsPerClass + k;
                result.Add(new ObjectEntry(c, $"obj_{index:000}", index, "train"));
            }
        }
        return result.OrderBy(o => ClassOrder(o.Class)).ThenBy(o => o.Index).ToList();
    }

    IEnumerable<string> ArchitecturesFor(ObjectEntry o)
    {
        var all = Options.Architectures ?? DatasetLayout.Families;
        return o.Split == "test" ? all.Concat(Options.TestOnlyArchitectures ?? DatasetLayout.UnseenVariants).Distinct() : all;
    }

    /// <summary>(arch, object) pairs this shard must build, in build order.</summary>
    public IReadOnlyList<(string Arch, ObjectEntry Object)> Work() =>
        Objects().Where(o => o.Index % Options.ShardCount == Options.ShardIndex)
            .SelectMany(o => ArchitecturesFor(o).Select(a => (Arch: a, Object: o)))
            .OrderBy(w => Array.IndexOf(DatasetLayout.Families.Concat(DatasetLayout.UnseenVariants).ToArray(), w.Arch))
            .ThenBy(w => ClassOrder(w.Object.Class)).ThenBy(w => w.Object.Index)
            .ToList();

    public bool IsDone(string arch, ObjectEntry o) =>
        File.Exists(Path.Combine(_layout.NerfFolder(arch, o.Class, o.Id), DatasetLayout.RecordName));

    public IReadOnlyList<NerfRecord> Build(Action<BuildProgress>? progress = null, CancellationToken cancel = default)
    {
        Options.Validate();
        _device = Runtime.ComputeDevice.Resolve(Options.Device);
        IO.OutputFolder.Create(Options.Root, "dataset folder");
        CleanTemporaries();
        CheckSameBuild();
        WriteSplits();
        var work = Work();
        int total = work.Count, done = work.Count(w => IsDone(w.Arch, w.Object));
        progress?.Invoke(new BuildProgress(done, total, done > 0 ? $"resuming: {done} of {total} NeRFs already built" : "starting", null));
        var built = new List<NerfRecord>();
        var log = new BuildRunLog(Path.Combine(Options.Root, BuildRunLog.Folder), done);
        // Object-major: a batch of objects is sampled once, then fitted in every architecture it needs. Architectures
        // built for every object come first, then the test-only ones over test objects alone, so those are fitted in
        // full batches too (mixed in, a batch of 8 objects held ~2 test objects: six fits of ~2 NeRFs each, the
        // per-step cost of a small batch being nearly that of a full one).
        var pending = work.Where(w => !IsDone(w.Arch, w.Object)).ToList();
        var everyObject = (Options.Architectures ?? DatasetLayout.Families).ToHashSet(StringComparer.Ordinal);
        var phases = new[] { pending.Where(w => everyObject.Contains(w.Arch)).ToList(), pending.Where(w => !everyObject.Contains(w.Arch)).ToList() };
        foreach (var phase in phases)
        foreach (var objectBatch in phase.Select(w => w.Object).Distinct().Chunk(Options.FitBatch))
        {
            cancel.ThrowIfCancellationRequested();
            progress?.Invoke(new BuildProgress(done, total, $"sampling {string.Join(", ", objectBatch.Select(b => $"{b.Class}/{b.Id}"))}", null));
            var objects = objectBatch.Select(Create).ToArray();
            var gtFolders = log.Time("ground_truth_views", () => objectBatch.Select((o, k) => EnsureGroundTruth(o, objects[k])).ToArray());
            var samples = log.Time("field_samples", () => objects.Select((obj, k) => FieldFitter.Sample(p => obj.Field(p), p => obj.Distance(p).Sdf,
                new Generator(StableHash.Of(Options.Seed, objectBatch[k].Class, objectBatch[k].Index, "samples")))).ToArray());
            // Where NeRF grids are searched: within 3 cells of the object's true occupancy.
            var regions = log.Time("object_occupancy", () => objects.Select(obj => OccupancyGrid.FromDensity(p => obj.Density(p)).DilatedIndices(3)).ToArray());
            try
            {
                var inBatch = phase.Where(w => objectBatch.Contains(w.Object)).ToList();
                var todo = inBatch.ToHashSet();
                foreach (var archName in inBatch.Select(w => w.Arch).Distinct())
                {
                    var members = Enumerable.Range(0, objectBatch.Length).Where(k => todo.Contains((archName, objectBatch[k]))).ToArray();
                    progress?.Invoke(new BuildProgress(done, total, $"{archName}: fitting {members.Length}", null));
                    foreach (var record in FitBatch(archName, ArchitecturePresets.Get(archName),
                                 members.Select(k => objectBatch[k]).ToArray(), members.Select(k => objects[k]).ToArray(),
                                 members.Select(k => samples[k]).ToArray(), members.Select(k => gtFolders[k]).ToArray(),
                                 members.Select(k => regions[k]).ToArray(), log, cancel))
                    {
                        built.Add(record);
                        done++;
                        log.Built(done);
                        progress?.Invoke(new BuildProgress(done, total, $"{record.Arch} {record.Class}/{record.Object}", record));
                    }
                }
            }
            finally
            {
                foreach (var sm in samples) sm.Dispose();
                foreach (var r in regions) r.Dispose();
            }
        }
        WriteManifest();
        return built;
    }

    IEnumerable<NerfRecord> FitBatch(string archName, NerfArchitecture arch, ObjectEntry[] batch, SceneObject[] objects,
        FieldSamples[] samples, string[] gtFolders, Tensor[] regions, BuildRunLog log, CancellationToken cancel)
    {
        {
            var sw = Stopwatch.StartNew();
            using var model = log.Time("fit", () => FieldFitter.Fit(arch, samples, Options.Fit, objects[0].MaxDensity, batch.Select(o => NerfSeed(archName, o, 0)).ToArray(),
                batch.Select(o => InitSeed(archName, o, 0)).ToArray(), device: _device));
            double perNerf = sw.Elapsed.TotalSeconds / batch.Length;
            for (int k = 0; k < batch.Length; k++)
            {
                cancel.ThrowIfCancellationRequested();
                var weights = model.Export(k);
                var (psnr, grid) = log.Time("evaluate", () => Evaluate(weights, gtFolders[k], regions[k]));
                int steps = Options.Fit.Steps;
                double seconds = perNerf;
                if (psnr < Options.MinPsnr)
                {
                    // Quality gate: one refit alone with twice the steps; keep the better of the two.
                    var sw2 = Stopwatch.StartNew();
                    using var refit = log.Time("refit", () => FieldFitter.Fit(arch, [samples[k]], Options.Fit with { Steps = 2 * Options.Fit.Steps }, objects[k].MaxDensity,
                        [NerfSeed(archName, batch[k], 1)], [InitSeed(archName, batch[k], 1)], device: _device));
                    var w2 = refit.Export(0);
                    var (psnr2, grid2) = log.Time("evaluate", () => Evaluate(w2, gtFolders[k], regions[k]));
                    seconds += sw2.Elapsed.TotalSeconds;
                    if (psnr2 > psnr) (weights, psnr, grid, steps) = (w2, psnr2, grid2, 2 * Options.Fit.Steps);
                }
                yield return log.Time("write", () => Write(archName, batch[k], weights, grid, gtFolders[k], psnr, seconds, steps));
            }
        }
    }

    /// <summary>A NeRF's own seed: the same whatever batch it is fitted in (so a resumed build fits it the same way).</summary>
    ulong NerfSeed(string arch, ObjectEntry o, int attempt) =>
        StableHash.Of(Options.Seed, arch, o.Class, o.Index, attempt);

    /// <summary>The seed of a NeRF's initial weights: the architecture's shared one, or the NeRF's own.</summary>
    ulong InitSeed(string arch, ObjectEntry o, int attempt) =>
        Options.SharedInit ? new SharedInitialization(Options.Seed).InitSeed(arch) : NerfSeed(arch, o, attempt);

    /// <summary>Held-out PSNR (dB) of the NeRF's renders against the ground-truth views, and the NeRF's occupancy grid.</summary>
    (double Psnr, OccupancyGrid Grid) Evaluate(NerfWeights weights, string gtFolder, Tensor region)
    {
        using var field = new RadianceField(weights);
        var grid = OccupancyGrid.FromDensity(p => field.forward(p).Sigma, candidates: region);
        var cams = CameraSet.Load(Path.Combine(gtFolder, DatasetLayout.TransformsName));
        double sum = 0;
        var views = PsnrViewIndices();
        using var _ = no_grad();
        foreach (int v in views)
        {
            var (o, d) = cams.Rays(v, Options.ImageSize, Options.ImageSize);
            using var r = VolumeRenderer.Render(p => field.forward(p), o, d, grid);
            var rgb = r.Rgb.to_type(ScalarType.Float32).data<float>().ToArray();
            var gt = RgbaImage.Load(Path.Combine(gtFolder, "train", $"{v:00}.png")).CompositeOn([0, 0, 0]);
            sum += Math.Min(RgbaImage.Psnr(rgb, gt), 60);
        }
        return (sum / views.Length, grid);
    }

    int[] PsnrViewIndices() => Enumerable.Range(0, Options.PsnrViews).Select(k => (k * Options.Views / Options.PsnrViews + Options.Views / (2 * Options.PsnrViews)) % Options.Views).ToArray();

    /// <summary>Cameras and ground-truth views of an object, rendered once and shared by its architectures.</summary>
    string EnsureGroundTruth(ObjectEntry o, SceneObject obj)
    {
        string folder = Path.Combine(Options.Root, "_gt", o.Class, o.Id);
        if (File.Exists(Path.Combine(folder, DatasetLayout.TransformsName))) return folder;
        string tmp = folder + ".tmp-" + Environment.ProcessId;
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        Directory.CreateDirectory(Path.Combine(tmp, "train"));
        var cams = CameraRigs.Shapenet(new Random(StableHash.Seed(Options.Seed, o.Class, o.Index, "cameras")), Options.Views);
        for (int v = 0; v < cams.Frames.Count; v++)
            SdfImageRenderer.Render(obj, cams, v, Options.ImageSize).Save(Path.Combine(tmp, "train", $"{v:00}.png"));
        cams.Save(Path.Combine(tmp, DatasetLayout.TransformsName));   // last: marks the folder complete
        if (Directory.Exists(folder)) Directory.Delete(folder, true);
        Directory.CreateDirectory(Path.GetDirectoryName(folder)!);
        Directory.Move(tmp, folder);
        return folder;
    }

    NerfRecord Write(string archName, ObjectEntry o, NerfWeights weights, OccupancyGrid grid, string gtFolder, double psnr, double seconds, int steps)
    {
        string folder = _layout.NerfFolder(archName, o.Class, o.Id);
        string tmp = folder + ".tmp-" + Environment.ProcessId;
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        Directory.CreateDirectory(Path.Combine(tmp, "train"));
        NerfWeightsFile.WriteNative(weights, Path.Combine(tmp, "nerf_weights.safetensors"), Options.HalfPrecision);
        if (Options.WritePth) NerfWeightsFile.WritePth(weights, Path.Combine(tmp, "nerf_weights.pth"));
        if (Options.WriteGrids) grid.Save(Path.Combine(tmp, DatasetLayout.GridName));
        File.Copy(Path.Combine(gtFolder, DatasetLayout.TransformsName), Path.Combine(tmp, DatasetLayout.TransformsName));
        foreach (var png in Directory.GetFiles(Path.Combine(gtFolder, "train"), "*.png"))
            File.Copy(png, Path.Combine(tmp, "train", Path.GetFileName(png)));
        var record = new NerfRecord
        {
            Arch = archName, Class = o.Class, Object = o.Id, Split = o.Split, Psnr = Math.Round(psnr, 3),
            FitSeconds = Math.Round(seconds, 3), Steps = steps, BelowThreshold = psnr < Options.MinPsnr,
            Weights = "nerf_weights.safetensors", Architecture = weights.Architecture,
        };
        File.WriteAllText(Path.Combine(tmp, DatasetLayout.RecordName), JsonSerializer.Serialize(record, NerfArchitecture.JsonOptions));
        if (Directory.Exists(folder)) Directory.Delete(folder, true);
        Directory.CreateDirectory(Path.GetDirectoryName(folder)!);
        Directory.Move(tmp, folder);
        return record;
    }

    void CleanTemporaries()
    {
        foreach (var dir in Directory.EnumerateDirectories(Options.Root, "*.tmp-*", SearchOption.AllDirectories).ToList())
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
    }

    void WriteSplits()
    {
        foreach (var split in new[] { "train", "val", "test" })
        {
            var lines = Objects().Where(o => o.Split == split).Select(o => $"{o.Class}/{o.Id}");
            IO.AtomicFile.Write(_layout.SplitFile(split), tmp => File.WriteAllLines(tmp, lines));
        }
    }

    /// <summary>The settings a dataset was started with (<c>&lt;root&gt;/build.json</c>).</summary>
    TorchSharp.torch.Device _device = TorchSharp.torch.CPU;

    public string SettingsPath => Path.Combine(Options.Root, "build.json");

    static readonly JsonSerializerOptions SettingsJson = new() { WriteIndented = true, IncludeFields = true };

    // Where NeRFs are, which shard builds and how many are fitted together do not change what a NeRF is.
    static readonly string[] NotIdentity = [nameof(DatasetBuildOptions.Root), nameof(DatasetBuildOptions.ShardIndex),
        nameof(DatasetBuildOptions.ShardCount), nameof(DatasetBuildOptions.FitBatch), nameof(DatasetBuildOptions.MeshFolder), nameof(DatasetBuildOptions.Device)];

    /// <summary>
    /// A resumed (or second-shard) build must make the same dataset: refuse other settings, naming what differs, instead
    /// of silently mixing NeRFs made two ways. The first run records its settings.
    /// </summary>
    void CheckSameBuild()
    {
        var now = System.Text.Json.Nodes.JsonNode.Parse(JsonSerializer.Serialize(Options, SettingsJson))!.AsObject();
        foreach (var key in NotIdentity) now.Remove(key);
        if (File.Exists(SettingsPath))
        {
            var before = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(SettingsPath))!.AsObject();
            var differ = SettingsDiff.Of(before, now);
            if (differ.Length > 0)
                throw new ArgumentException($"{Options.Root} was started with other settings ({string.Join("; ", differ)}); resume with the same options or build into another folder");
            return;
        }
        IO.AtomicFile.Write(SettingsPath, tmp => File.WriteAllText(tmp, now.ToJsonString(SettingsJson)));
    }

    /// <summary>Collects every NeRF record under the root (all shards) into <c>manifest.json</c>.</summary>
    public void WriteManifest()
    {
        var records = ReadRecords(Options.Root);
        var manifest = new
        {
            recipe = Options.Recipe,
            seed = Options.Seed,
            objects_per_class = Options.TotalObjectsPerClass,
            extra_train_objects_per_class = Options.ExtraTrainObjects,
            split = new { train = Options.SplitCounts().Train, val = Options.SplitCounts().Val, test = Options.SplitCounts().Test },
            image_size = Options.ImageSize,
            views = Options.Views,
            fit = Options.Fit,
            min_psnr = Options.MinPsnr,
            classes = RecipeClasses(),
            counts = records.GroupBy(r => r.Arch).ToDictionary(g => g.Key, g => g.GroupBy(r => r.Split).ToDictionary(s => s.Key, s => s.Count())),
            median_psnr = records.GroupBy(r => r.Arch).ToDictionary(g => g.Key, g => Median(g.Select(r => r.Psnr))),
            below_threshold = records.Where(r => r.BelowThreshold).Select(r => $"{r.Arch}/{r.Class}/{r.Object}").ToArray(),
            nerfs = records,
        };
        IO.AtomicFile.Write(_layout.ManifestPath, tmp => File.WriteAllText(tmp, JsonSerializer.Serialize(manifest, NerfArchitecture.JsonOptions)));
    }

    public static IReadOnlyList<NerfRecord> ReadRecords(string root) =>
        Directory.Exists(root)
            ? Directory.EnumerateFiles(root, DatasetLayout.RecordName, SearchOption.AllDirectories)
                .Where(f => !f.Contains(".tmp-"))
                .Select(f => JsonSerializer.Deserialize<NerfRecord>(File.ReadAllText(f), NerfArchitecture.JsonOptions)!)
                .OrderBy(r => r.Arch, StringComparer.Ordinal).ThenBy(r => r.Class, StringComparer.Ordinal).ThenBy(r => r.Object, StringComparer.Ordinal)
                .ToList()
            : [];

    internal static double Median(IEnumerable<double> values)
    {
        var v = values.OrderBy(x => x).ToArray();
        return v.Length == 0 ? double.NaN : v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }
}
