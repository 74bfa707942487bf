using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using NerfGmn.Datasets;
using NerfGmn.Encoder;
using NerfGmn.Retrieval;
using Spectre.Console;

namespace NerfGmn.Demo.Commands;

/// <summary><c>nerfgmn evaluate --encoder ckpt --data root [--split test] [--gallery train|none] [--k 1] [--protocol] [--json out]</c></summary>
static class EvaluateCommand
{
    public static Command Create()
    {
        var encoder = new Option<string>("--encoder") { Description = "encoder checkpoint (.safetensors, or a reference .pth)", Required = true };
        var data = new Option<string>("--data") { Description = "dataset root", Required = true };
        var split = new Option<string>("--split") { Description = "query split", DefaultValueFactory = _ => "test" };
        var gallery = new Option<string>("--gallery") { Description = "labelled split for kNN classification, or 'none'", DefaultValueFactory = _ => "train" };
        var k = new Option<int>("--k") { Description = "neighbours voting in kNN classification", DefaultValueFactory = _ => 1 };
        var json = new Option<string?>("--json") { Description = "also write the report as JSON" };
        var archs = new Option<string?>("--archs") { Description = "comma-separated query architectures (default: every architecture folder present)" };
        var protocol = new Option<bool>("--protocol") { Description = "also the paper's classification protocol: heads trained on BOTH / MLP / TRI / hash embeddings of the gallery split (best epoch on val), tested on every family of the query split" };
        var device = CommonOptions.Device();
        var cmd = new Command("evaluate", "Class retrieval, cross-architecture instance retrieval and kNN classification of an encoder on a dataset")
            { encoder, data, split, gallery, k, json, archs, protocol, device };
        cmd.SetAction(p =>
        {
            string root = p.GetValue(data)!;
            if (!Directory.Exists(root)) throw new ArgumentException($"dataset folder '{root}' not found");
            using var embedder = NerfEmbedder.Load(p.GetValue(encoder)!, device: CommonOptions.ResolveDevice(p.GetValue(device)));
            var options = new EncoderEvaluationOptions
            {
                Architectures = p.GetValue(archs)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
                Split = p.GetValue(split)!, GallerySplit = p.GetValue(gallery) is "none" ? null : p.GetValue(gallery), Neighbours = p.GetValue(k),
                ClassificationProtocol = p.GetValue(protocol),
            };
            EncoderEvaluationReport report = null!;
            AnsiConsole.Status().Start("embedding", ctx => report = EncoderEvaluation.Run(embedder, new DatasetLayout(root), options, s => ctx.Status(s)));
            Print(report);
            if (p.GetValue(json) is { } path)
            {
                NerfGmn.IO.AtomicFile.WriteAllText(path, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
                AnsiConsole.MarkupLineInterpolated($"report → [green]{path}[/]");
            }
            return 0;
        });
        return cmd;
    }

    static void Print(EncoderEvaluationReport r)
    {
        static string P(double v) => double.IsNaN(v) ? "–" : (100 * v).ToString("F1", CultureInfo.InvariantCulture);
        var c = r.CenteredPerArchitecture;
        var perArch = new Table().AddColumns("arch", "NeRFs", "class R@1", "class R@5", "kNN accuracy", "kNN, centred", "mean cos between objects");
        foreach (var (arch, n) in r.Nerfs)
            perArch.AddRow(arch, n.ToString(CultureInfo.InvariantCulture), P(r.ClassRecall[arch].GetValueOrDefault(1, double.NaN)),
                P(r.ClassRecall[arch].GetValueOrDefault(5, double.NaN)), P(r.KnnAccuracy.GetValueOrDefault(arch, double.NaN)),
                P(c?.KnnAccuracy.GetValueOrDefault(arch, double.NaN) ?? double.NaN),
                r.MeanCosineBetweenObjects[arch].ToString("F4", CultureInfo.InvariantCulture));
        AnsiConsole.Write(perArch);
        if (r.InstanceRecall.Count > 0)
        {
            var ks = r.InstanceRecall.Values.First().Keys.OrderBy(x => x).ToArray();
            var inst = new Table().AddColumns(["query → gallery", .. ks.Select(x => $"R@{x}"), .. ks.Select(x => $"centred R@{x}")]);
            foreach (var (pair, rec) in r.InstanceRecall)
                inst.AddRow([pair, .. ks.Select(x => P(rec[x])), .. ks.Select(x => P(c?.InstanceRecall[pair][x] ?? double.NaN))]);
            AnsiConsole.Write(inst);
        }
        if (r.LinearMapInstanceRecall.Count > 0)
        {
            var ks = r.LinearMapInstanceRecall.Values.First().Recall.Keys.OrderBy(x => x).ToArray();
            var lin = new Table().AddColumns(["query → gallery, through a linear map", .. ks.Select(x => $"R@{x}"), "λ", "fitted on"]);
            foreach (var (pair, res) in r.LinearMapInstanceRecall)
                lin.AddRow([pair, .. ks.Select(x => P(res.Recall[x])), res.Lambda.ToString("G", CultureInfo.InvariantCulture), $"{res.TrainingObjects} objects"]);
            AnsiConsole.Write(lin);
        }
        if (r.Classification.Count > 0)
        {
            // One row per tested family (there may be nine), one column per training set (four).
            var trains = r.Classification.Select(x => x.Train).Distinct().ToList();
            var table = new Table().AddColumns(["tested on ↓, classifier trained on →", .. trains]);
            foreach (var test in r.Classification.Select(x => x.Test).Distinct())
                table.AddRow([test, .. trains.Select(t => P(r.Classification.FirstOrDefault(x => x.Train == t && x.Test == test)?.Accuracy ?? double.NaN))]);
            AnsiConsole.Write(table);
        }
        AnsiConsole.MarkupLineInterpolated($"split {r.Split}, {r.Seconds:F0} s (percentages; centred = each architecture's mean embedding subtracted)");
    }
}
