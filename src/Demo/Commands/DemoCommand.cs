using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using NerfGmn.Datasets;
using NerfGmn.MLNet;
using NerfGmn.MLNet.Search;
using NerfGmn.Reporting;
using NerfGmn.Retrieval;
using Spectre.Console;

namespace NerfGmn.Demo.Commands;

/// <summary>
/// The main job: on the bundled mini dataset and the bundled L_R+C encoder, build an ML.NET pipeline
/// (NerfEmbedding → searched classifier), save it as a zip, reload it, classify NeRFs of architectures the classifier
/// never saw, run cross-architecture retrieval, and write a report with pictures.
/// </summary>
public static class DemoCommand
{
    /// <summary>Architectures the classifier is trained on; the rest of the test split is "never seen".</summary>
    static readonly string[] TrainArchs = ["mlp", "triplane"];

    public sealed class NerfRow
    {
        public string Path = "";
        public string Label = "";
        public string Object = "";
        public string Arch = "";
    }

    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "dataset root", DefaultValueFactory = _ => DefaultData() };
        var encoder = new Option<string>("--encoder") { Description = "encoder checkpoint", DefaultValueFactory = _ => DefaultEncoder() };
        var output = new Option<string>("--out", "-o") { Description = "output folder (model zip, report, pictures)", DefaultValueFactory = _ => DefaultOutput() };
        var budget = new Option<double>("--budget") { Description = "classifier search budget, seconds", DefaultValueFactory = _ => 25 };
        var classes = new Option<string?>("--classes") { Description = "comma-separated classes to use (default: all)" };
        var cmd = new Command("demo", "Classification and retrieval demo on the bundled dataset and encoder (the default command)") { data, encoder, output, budget, classes };
        cmd.SetAction(p => Run(p.GetValue(data)!, p.GetValue(encoder)!, p.GetValue(output)!, p.GetValue(budget),
            p.GetValue(classes)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)));
        return cmd;
    }

    public static string DefaultData() => FindUp(Path.Combine("datasets", "shapes13-mini")) ?? Path.Combine("datasets", "shapes13-mini");
    public static string DefaultEncoder() => FindUp(Path.Combine("datasets", "encoders", "l_field_con-x3.cpu.safetensors"), file: true) ?? Path.Combine("datasets", "encoders", "l_field_con-x3.cpu.safetensors");
    public static string DefaultOutput() => Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(DefaultData())))!, "out", "demo");

    static string? FindUp(string relative, bool file = false)
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, relative);
                if (file ? File.Exists(candidate) : Directory.Exists(candidate)) return candidate;
            }
        return null;
    }

    /// <summary>A path inside the repository (the folder holding NerfGmn.sln) relative to it: reports name no machine's folders.</summary>
    static string RepositoryRelative(string path)
    {
        var full = Path.GetFullPath(path);
        for (var dir = new DirectoryInfo(full); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NerfGmn.sln"))) return Path.GetRelativePath(dir.FullName, full).Replace('\\', '/');
        return path;
    }

    public static int Run(string dataRoot, string encoderPath, string outputDir, double budgetSeconds, IReadOnlyCollection<string>? classes = null)
    {
        if (!Directory.Exists(dataRoot)) throw new FileNotFoundException($"dataset not found: {dataRoot}");
        if (!File.Exists(encoderPath)) throw new FileNotFoundException($"encoder checkpoint not found: {encoderPath}");
        NerfGmn.IO.OutputFolder.Create(outputDir, "report folder");
        var total = Stopwatch.StartNew();
        var timings = new List<(string Step, double Seconds)>();
        var ml = new MLContext(seed: 0);
        var layout = new DatasetLayout(dataRoot);
        NerfRow Row(DatasetEntry e) => new() { Path = e.WeightsPath, Label = e.Class, Object = e.ObjectKey, Arch = e.Arch };
        bool Wanted(DatasetEntry e) => classes is null || classes.Contains(e.Class);
        var trainRows = layout.Entries("train", TrainArchs).Where(Wanted).Select(Row).ToArray();
        var testArchs = layout.Architectures().ToArray();
        var testRows = layout.Entries("test", testArchs).Where(Wanted).Select(Row).ToArray();
        if (trainRows.Length == 0 || testRows.Length == 0)
            throw new ArgumentException($"no {(trainRows.Length == 0 ? "training" : "test")} NeRFs in {dataRoot}{(classes is null ? "" : " for classes " + string.Join(", ", classes))}");
        var options = new NerfEmbeddingOptions { EncoderPath = encoderPath };
        AnsiConsole.MarkupLineInterpolated($"[bold]nerfgmn demo[/]: {trainRows.Length} training NeRFs ({string.Join(", ", TrainArchs)}), {testRows.Length} test NeRFs ({string.Join(", ", testArchs)}); encoder [blue]{Path.GetFileName(encoderPath)}[/]");

        var trainView = ml.Data.LoadFromEnumerable(trainRows);
        IDataView trainEmbedded = null!;
        ClassifierSearchResult search = null!;
        IDataView scored = null!;
        string zip = Path.Combine(outputDir, "nerf-classifier.zip");
        var sw = Stopwatch.StartNew();
        AnsiConsole.Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                // 1. Embed the training NeRFs once, in batches (the bulk API), for the classifier search.
                var embed = ctx.AddTask("embed training NeRFs", maxValue: trainRows.Length);
                trainEmbedded = ml.Data.Cache(ml.Data.EmbedNerfs(trainView, "Features", "Path", options, batchSize: 8, progress: (d, _) => embed.Value = d));
                timings.Add(("embed training NeRFs (bulk)", sw.Elapsed.TotalSeconds)); sw.Restart();

                // 2. Classifier search, folds grouped by object so both architectures of one object stay together.
                var searchTask = ctx.AddTask($"classifier search ({budgetSeconds:F0} s)", maxValue: budgetSeconds);
                var clock = Stopwatch.StartNew();
                search = ml.CreateClassifierSearch(new ClassifierSearchSettings { MaxExperimentTimeInSeconds = budgetSeconds, CrossValidationFolds = 3, Seed = 0 })
                    .Execute(trainEmbedded, "Label", "Features", "Object", t =>
                    {
                        searchTask.Value = Math.Min(budgetSeconds, clock.Elapsed.TotalSeconds);
                        searchTask.Description = $"classifier search: {search_Describe(t)}";
                    });
                searchTask.Value = budgetSeconds;
                searchTask.Description = $"classifier search: best {search.BestRun.Trainer} ({search.BestRun.MacroAccuracy:P0} CV)";
                timings.Add(("classifier search", sw.Elapsed.TotalSeconds)); sw.Restart();

                // 3. The pipeline: NerfEmbedding → best classifier; save the zip and load it back.
                var embedding = ml.Transforms.NerfEmbedding("Features", "Path", options).Fit(trainView);
                var pipeline = new TransformerChain<ITransformer>(embedding, search.Model);
                ml.Model.Save(pipeline, trainView.Schema, zip);
                var loaded = ml.Model.Load(zip, out _);
                timings.Add(("build, save and reload the pipeline", sw.Elapsed.TotalSeconds)); sw.Restart();

                // 4. The reloaded model on the test split: every architecture, incl. ones the classifier never saw.
                var classify = ctx.AddTask("classify test NeRFs (reloaded zip)", maxValue: testRows.Length);
                scored = ml.Data.Cache(loaded.Transform(ml.Data.LoadFromEnumerable(testRows)));
                using (var c = scored.GetRowCursor(scored.Schema)) while (c.MoveNext()) classify.Increment(1);
                timings.Add(("classify test NeRFs with the reloaded zip", sw.Elapsed.TotalSeconds)); sw.Restart();
            });

        var results = ml.Data.CreateEnumerable<Scored>(scored, reuseRowObject: false).ToArray();
        var perArch = testArchs.Select(a =>
        {
            var rows = results.Where(r => r.Arch == a).ToArray();
            var (micro, macro) = RetrievalMetrics.Accuracy(rows.Select(r => r.Label).ToArray(), rows.Select(r => r.PredictedLabel).ToArray());
            return (Arch: a, Count: rows.Length, Micro: micro, Seen: TrainArchs.Contains(a));
        }).ToArray();

        // 5. Cross-architecture instance retrieval on the test embeddings (same object, other architecture).
        var byArch = testArchs.ToDictionary(a => a, a => results.Where(r => r.Arch == a).ToArray());
        var pairs = new List<(string Query, string Gallery)>();
        foreach (var q in testArchs) foreach (var g in testArchs) if (q != g && byArch[q].Length > 0 && byArch[g].Length > 0) pairs.Add((q, g));
        var recall = pairs.Select(p => (p.Query, p.Gallery, R: RetrievalMetrics.InstanceRecall(
            byArch[p.Query].Select(r => r.Features).ToArray(), byArch[p.Query].Select(r => r.Object).ToArray(),
            byArch[p.Gallery].Select(r => r.Features).ToArray(), byArch[p.Gallery].Select(r => r.Object).ToArray(), 1, 5, 10))).ToArray();
        timings.Add(("retrieval", sw.Elapsed.TotalSeconds)); sw.Restart();

        // 6. Pictures and the report.
        string plotPath = Path.Combine(outputDir, "embeddings.png"), stripPath = Path.Combine(outputDir, "retrieval.png");
        EmbeddingPlot.Write(plotPath, results.Select(r => r.Features).ToArray(), results.Select(r => r.Label).ToArray(), results.Select(r => r.Arch).ToArray(),
            "Test embeddings (PCA), colour = class, marker = architecture");
        var strip = RetrievalStripRows(byArch, "mlp", "triplane", 6, 4);
        if (strip.Count > 0) RetrievalStrip.Write(stripPath, strip);
        timings.Add(("pictures", sw.Elapsed.TotalSeconds));
        string reportPath = Path.Combine(outputDir, "report.md");
        NerfGmn.IO.AtomicFile.WriteAllText(reportPath, Report(dataRoot, encoderPath, zip, trainRows.Length, search, perArch, recall, timings, total.Elapsed.TotalSeconds, strip.Count > 0));

        // Compact console summary.
        var table = new Table().Border(TableBorder.Rounded).Title("classification of test NeRFs by the reloaded pipeline")
            .AddColumns("architecture", "classifier saw it", "NeRFs", "accuracy");
        foreach (var a in perArch) table.AddRow(a.Arch, a.Seen ? "yes" : "[yellow]no[/]", a.Count.ToString(), a.Micro.ToString("P1"));
        AnsiConsole.Write(table);
        var rt = new Table().Border(TableBorder.Rounded).Title("cross-architecture instance retrieval (same object)").AddColumns("query → gallery", "R@1", "R@5", "R@10");
        foreach (var r in recall.Where(r => r.Query is "mlp" or "triplane" or "hash" && r.Gallery is "mlp" or "triplane" or "hash"))
            rt.AddRow($"{r.Query} → {r.Gallery}", r.R[1].ToString("P0"), r.R[5].ToString("P0"), r.R[10].ToString("P0"));
        AnsiConsole.Write(rt);
        AnsiConsole.MarkupLineInterpolated($"classifier: [green]{search.BestRun.Describe()}[/], CV macro accuracy {search.BestRun.MacroAccuracy:P1} over {search.Trials.Count(t => t.Status == TrialStatus.Completed)} trials");
        AnsiConsole.MarkupLineInterpolated($"model [green]{zip}[/]; report [green]{reportPath}[/] (+ embeddings.png, retrieval.png); {total.Elapsed.TotalSeconds:F0} s");
        return 0;
    }

    static string search_Describe(TrialResult t) =>
        t.Status == TrialStatus.Completed ? $"#{t.Index} {t.Trainer} {t.MacroAccuracy:P0}" : $"#{t.Index} {t.Trainer} {t.Status.ToString().ToLowerInvariant()}";

    public sealed class Scored
    {
        public string Path = "";
        public string Label = "";
        public string Object = "";
        public string Arch = "";
        public string PredictedLabel = "";
        [VectorType(NerfEmbeddingMapping.Dimension)] public float[] Features = [];
    }

    /// <summary>Queries of one architecture against the gallery of another, one query per class where possible.</summary>
    static List<RetrievalRow> RetrievalStripRows(IReadOnlyDictionary<string, Scored[]> byArch, string queryArch, string galleryArch, int queries, int k)
    {
        if (!byArch.TryGetValue(queryArch, out var q) || !byArch.TryGetValue(galleryArch, out var g) || q.Length == 0 || g.Length == 0) return [];
        var index = new NearestNeighborIndex(g.Select(r => r.Features).ToArray(), DistanceMetric.Cosine);
        var picks = q.GroupBy(r => r.Label).Select(grp => grp.First()).Take(queries).ToArray();
        return picks.Select(p =>
        {
            var (idx, dist) = index.Query(p.Features, k);
            return new RetrievalRow(View(p.Path), $"query {queryArch}\n{p.Object}",
                idx.Select((i, n) => (View(g[i].Path), $"{galleryArch} d={dist[n]:F3}\n{g[i].Object}", g[i].Object == p.Object)).ToArray());
        }).ToList();
    }

    /// <summary>The first ground-truth view stored beside a NeRF (the rendering it was fitted to).</summary>
    static string View(string weightsPath)
    {
        string dir = Path.Combine(Path.GetDirectoryName(weightsPath)!, "train");
        return Directory.Exists(dir) ? Directory.GetFiles(dir, "*.png").OrderBy(f => f, StringComparer.Ordinal).FirstOrDefault() ?? "" : "";
    }

    static string Report(string data, string encoder, string zip, int trainCount, ClassifierSearchResult search,
        IEnumerable<(string Arch, int Count, double Micro, bool Seen)> perArch, IEnumerable<(string Query, string Gallery, IReadOnlyDictionary<int, double> R)> recall,
        IEnumerable<(string Step, double Seconds)> timings, double seconds, bool strip)
    {
        var ci = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine("# NerfGmn demo report").AppendLine();
        md.AppendLine($"Dataset `{RepositoryRelative(data)}`, encoder `{Path.GetFileName(encoder)}`, classifier trained on {trainCount} NeRFs ({string.Join(", ", TrainArchs)}, train split).");
        md.AppendLine($"Pipeline `NerfEmbedding → {search.BestRun.Trainer}` saved as `{Path.GetFileName(zip)}` and reloaded with `mlContext.Model.Load` before scoring.").AppendLine();
        md.AppendLine("## Classification of the test split (reloaded pipeline)").AppendLine();
        md.AppendLine("| architecture | classifier saw it | NeRFs | accuracy |").AppendLine("|---|---|---|---|");
        foreach (var a in perArch) md.AppendLine(string.Create(ci, $"| {a.Arch} | {(a.Seen ? "yes" : "no")} | {a.Count} | {a.Micro:P1} |"));
        md.AppendLine().AppendLine("## Classifier search (leaderboard, cross-validated macro accuracy, folds grouped by object)").AppendLine();
        md.AppendLine("| # | trainer | hyper-parameters | macro acc. | micro acc. | seconds | estimated |").AppendLine("|---|---|---|---|---|---|---|");
        foreach (var t in search.Leaderboard(SearchMetric.MacroAccuracy).Take(8))
            md.AppendLine(string.Create(ci, $"| {t.Index} | {t.Trainer} | {string.Join(", ", t.Hyperparameters.Select(kv => $"{kv.Key}={kv.Value}"))} | {t.MacroAccuracy:P1} | {t.MicroAccuracy:P1} | {t.Seconds:F1} | {t.EstimatedSeconds:F1} |"));
        int skipped = search.Trials.Count(t => t.Status == TrialStatus.Skipped);
        md.AppendLine().AppendLine(string.Create(ci, $"{search.Trials.Count} trials ({skipped} skipped by the cost estimate) in {search.Seconds:F1} s."));
        md.AppendLine().AppendLine("## Cross-architecture instance retrieval (recall@k, cosine, gallery = test objects)").AppendLine();
        md.AppendLine("| query | gallery | R@1 | R@5 | R@10 |").AppendLine("|---|---|---|---|---|");
        foreach (var r in recall) md.AppendLine(string.Create(ci, $"| {r.Query} | {r.Gallery} | {r.R[1]:P1} | {r.R[5]:P1} | {r.R[10]:P1} |"));
        md.AppendLine().AppendLine("## Pictures").AppendLine().AppendLine("![embeddings](embeddings.png)").AppendLine();
        if (strip) md.AppendLine("Retrieval: each row is an MLP query (blue) and its nearest tri-plane NeRFs; green = the same object. Thumbnails are the views each NeRF was fitted to.").AppendLine().AppendLine("![retrieval](retrieval.png)").AppendLine();
        md.AppendLine("## Timings").AppendLine().AppendLine("| step | seconds |").AppendLine("|---|---|");
        foreach (var (step, s) in timings) md.AppendLine(string.Create(ci, $"| {step} | {s:F1} |"));
        md.AppendLine(string.Create(ci, $"| **total** | **{seconds:F1}** |"));
        return md.ToString();
    }
}
