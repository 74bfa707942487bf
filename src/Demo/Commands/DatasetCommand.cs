using NerfGmn.Retrieval;
using System.CommandLine;
using System.Diagnostics;
using NerfGmn.Datasets;
using NerfGmn.Fitting;
using Spectre.Console;

namespace NerfGmn.Demo.Commands;

/// <summary><c>nerfgmn dataset build --recipe shapes13 --out DIR [--objects-per-class N] [--seed S] [--shard i/n] …</c></summary>
static class DatasetCommand
{
    public static Command Create()
    {
        var recipe = new Option<string>("--recipe") { Description = "shapes13 (procedural) or obj (meshes from --meshes)", DefaultValueFactory = _ => "shapes13" };
        var meshes = new Option<string?>("--meshes") { Description = "for --recipe obj: folder of <class>/<object>.obj (y-up)" };
        var output = new Option<string>("--out", "-o") { Description = "dataset root", Required = true };
        var extraTrain = new Option<int>("--extra-train") { Description = "training objects per class beyond --objects-per-class (shapes13): val and test stay those of the dataset without them" };
        var perClass = new Option<int>("--objects-per-class") { Description = "objects per class (split ≈ 30:2:10 train:val:test at 42)", DefaultValueFactory = _ => 42 };
        var split = new Option<string?>("--split") { Description = "explicit train,val,test objects per class (overrides --objects-per-class)" };
        var testArchs = new Option<string?>("--test-archs") { Description = "comma-separated architectures built for test objects only (default: the six unseen variants; 'none' for none)" };
        var half = new Option<bool>("--half") { Description = "store weights as float16" };
        var noGrids = new Option<bool>("--no-grids") { Description = "do not write grid.pth (readers rebuild grids from the NeRF)" };
        var views = new Option<int>("--views") { Description = "ground-truth views per object", DefaultValueFactory = _ => 36 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 0 };
        var shard = new Option<string>("--shard") { Description = "i/n: build objects with index % n == i", DefaultValueFactory = _ => "0/1" };
        var imageSize = new Option<int>("--image-size") { Description = "ground-truth view resolution", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { Description = "fitting steps per NeRF", DefaultValueFactory = _ => new FieldFitOptions().Steps };
        var batch = new Option<int>("--fit-batch") { Description = "NeRFs fitted together", DefaultValueFactory = _ => 8 };
        var minPsnr = new Option<double>("--min-psnr") { Description = "quality gate (dB)", DefaultValueFactory = _ => 20 };
        var pth = new Option<bool>("--pth") { Description = "also write gmnerf nerf_weights.pth files" };
        var archs = new Option<string?>("--archs") { Description = "comma-separated architecture folders (default: mlp,triplane,hash + unseen variants for test objects)" };
        var classes = new Option<string?>("--classes") { Description = "comma-separated classes (default: all 13)" };
        var ownInit = new Option<bool>("--own-init") { Description = "give every NeRF its own initial weights (default: one shared init per architecture, as nf2vec)" };
        var device = CommonOptions.Device();
        var build = new Command("build", "Build (or resume) a NeRF dataset") { recipe, meshes, output, perClass, extraTrain, split, seed, shard, imageSize, views, steps, batch, minPsnr, pth, half, noGrids, archs, testArchs, classes, ownInit, device };
        build.SetAction((p, cancel) =>
        {
            var shardParts = p.GetValue(shard)!.Split('/');
            if (shardParts.Length != 2 || !int.TryParse(shardParts[0], out int si) || !int.TryParse(shardParts[1], out int sn))
                throw new ArgumentException($"--shard '{p.GetValue(shard)}' must be i/n");
            var options = new DatasetBuildOptions
            {
                Recipe = p.GetValue(recipe)!, MeshFolder = p.GetValue(meshes), Root = p.GetValue(output)!, ObjectsPerClass = p.GetValue(perClass), ExtraTrainObjects = p.GetValue(extraTrain), Seed = p.GetValue(seed),
                ShardIndex = si, ShardCount = sn, ImageSize = p.GetValue(imageSize), FitBatch = p.GetValue(batch), Device = p.GetValue(device),
                Fit = new FieldFitOptions { Steps = p.GetValue(steps) }, MinPsnr = p.GetValue(minPsnr), WritePth = p.GetValue(pth),
                Architectures = p.GetValue(archs)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Classes = p.GetValue(classes)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                TestOnlyArchitectures = p.GetValue(testArchs) is { } ta
                    ? (ta == "none" ? [] : ta.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) : null,
                Split = p.GetValue(split) is { } sp ? ParseSplit(sp) : null,
                HalfPrecision = p.GetValue(half), WriteGrids = !p.GetValue(noGrids), Views = p.GetValue(views),
                PsnrViews = Math.Min(2, p.GetValue(views)), SharedInit = !p.GetValue(ownInit),
            };
            options.Validate();
            CommonOptions.ResolveDevice(options.Device);
            var builder = new DatasetBuilder(options);
            var (train, val, test) = options.SplitCounts();
            AnsiConsole.MarkupLineInterpolated($"[bold]{options.Recipe}[/] → [blue]{options.Root}[/]: {train}/{val}/{test} train/val/test objects per class, shard {si}/{sn}");
            var sw = Stopwatch.StartNew();
            IReadOnlyList<NerfRecord> records = [];
            AnsiConsole.Progress().AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                    new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("NeRFs");
                    records = builder.Build(pr =>
                    {
                        task.MaxValue = Math.Max(1, pr.Total);
                        task.Value = pr.Done;
                        task.Description = Markup.Escape(pr.Last is { } r ? $"{r.Arch} {r.Class}/{r.Object}: {r.Psnr:F1} dB" : pr.Stage);
                        if (pr.Last is { BelowThreshold: true } low)
                            AnsiConsole.MarkupLineInterpolated($"[yellow]below {options.MinPsnr} dB after refit:[/] {low.Arch} {low.Class}/{low.Object} ({low.Psnr:F1} dB)");
                    }, cancel);
                });
            AnsiConsole.MarkupLineInterpolated($"built {records.Count} NeRFs in {sw.Elapsed.TotalMinutes:F1} min; manifest: [green]{Path.Combine(options.Root, "manifest.json")}[/]");
            PrintSummary(DatasetSummary.Of(options.Root));
            return Task.FromResult(0);
        });
        var root = new Argument<string>("dir") { Description = "dataset root" };
        var summary = new Command("summary", "Objects per class and split, NeRFs, PSNR and fitting time per architecture, build time over all runs") { root };
        summary.SetAction(p =>
        {
            PrintSummary(DatasetSummary.Of(p.GetValue(root)!));
            return 0;
        });
        var probeRoot = new Argument<string>("root") { Description = "dataset root" };
        var probeSplit = new Option<string>("--split") { Description = "query split", DefaultValueFactory = _ => "test" };
        var probeGallery = new Option<string>("--gallery") { Description = "labelled split", DefaultValueFactory = _ => "train" };
        var probe = new Command("probe", "1-NN class accuracy of the raw weights within each architecture (the encoder-free baseline)") { probeRoot, probeSplit, probeGallery };
        probe.SetAction(p =>
        {
            var layout = new DatasetLayout(p.GetValue(probeRoot)!);
            if (!Directory.Exists(layout.Root)) throw new DirectoryNotFoundException($"dataset not found: {layout.Root}");
            var rows = RawWeightBaseline.Run(layout, p.GetValue(probeSplit)!, p.GetValue(probeGallery)!, progress: m => AnsiConsole.MarkupLineInterpolated($"[grey]{m}[/]"));
            if (rows.Count == 0) throw new ArgumentException($"no architecture of {layout.Root} has NeRFs in both '{p.GetValue(probeSplit)}' and '{p.GetValue(probeGallery)}'");
            var table = new Table().Border(TableBorder.Rounded).AddColumns("arch", "weights", "queries", "gallery", "1-NN class %", "centred %");
            foreach (var r in rows)
                table.AddRow(r.Arch, r.View, r.Queries.ToString(), r.Gallery.ToString(), (100 * r.Accuracy).ToString("F1", System.Globalization.CultureInfo.InvariantCulture),
                    (100 * r.CentredAccuracy).ToString("F1", System.Globalization.CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine("[grey]cosine 1-NN on flattened weights; centred = the gallery's mean weights subtracted[/]");
            return 0;
        });
        var cmd = new Command("dataset", "Make NeRF datasets") { build, summary, probe };
        return cmd;
    }

    static void PrintSummary(DatasetSummary s)
    {
        static string F(double v, string f) => v.ToString(f, System.Globalization.CultureInfo.InvariantCulture);
        var classes = new Table().Border(TableBorder.Rounded).AddColumns("class", "train", "val", "test");
        foreach (var (cls, (tr, va, te)) in s.ObjectsPerClass) classes.AddRow(cls, tr.ToString(), va.ToString(), te.ToString());
        AnsiConsole.Write(classes);
        var archs = new Table().Border(TableBorder.Rounded).AddColumns("arch", "NeRFs", "median PSNR", "min PSNR", "below gate", "fit s/NeRF", "fit NeRFs/min");
        foreach (var a in s.Architectures)
            archs.AddRow(a.Arch, a.Nerfs.ToString(), F(a.MedianPsnr, "F2"), F(a.MinPsnr, "F2"), a.BelowThreshold.ToString(), F(a.FitSecondsPerNerf, "F2"), F(a.FitNerfsPerMinute, "F1"));
        AnsiConsole.Write(archs);
        if (s.Runs > 0)
        {
            AnsiConsole.MarkupLineInterpolated($"{s.Nerfs} NeRFs; build runs: {s.Runs}, {s.NerfsBuilt} NeRFs in {F(s.WallSeconds / 3600, "F2")} h ({F(s.NerfsPerMinute, "F1")} NeRFs/min)");
            AnsiConsole.MarkupLineInterpolated($"[grey]time by stage (all runs): {string.Join(", ", s.StageSeconds.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {F(kv.Value / 60, "F1")} min"))}[/]");
        }
    }

    static (int, int, int) ParseSplit(string text)
    {
        var parts = text.Split(',');
        if (parts.Length != 3 || !parts.All(x => int.TryParse(x, out _)))
            throw new ArgumentException($"--split '{text}' must be train,val,test (three integers)");
        return (int.Parse(parts[0]), int.Parse(parts[1]), int.Parse(parts[2]));
    }
}
