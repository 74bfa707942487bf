using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using NerfGmn.Training;
using Spectre.Console;

namespace NerfGmn.Demo.Commands;

/// <summary><c>nerfgmn invert-decoder &lt;run dir&gt; [--decoder F] [--split val] [--objects 26] [--steps 300] [--lr 1e-2] [--points 1000] [--json F]</c></summary>
static class InvertDecoderCommand
{
    public static Command Create()
    {
        var run = CommonOptions.DecodingRun();
        var decoderFile = CommonOptions.FittedDecoder();
        var split = new Option<string>("--split") { Description = "split whose NeRFs are inverted", DefaultValueFactory = _ => "val" };
        var objects = new Option<int>("--objects") { Description = "objects (round-robin over classes), every architecture of each", DefaultValueFactory = _ => 26 };
        var steps = new Option<int>("--steps") { Description = "optimisation steps of the codes", DefaultValueFactory = _ => 300 };
        var lr = new Option<double>("--lr") { Description = "Adam rate of the codes", DefaultValueFactory = _ => 1e-2 };
        var points = new Option<int>("--points") { Description = "field points per NeRF per step (field objectives)", DefaultValueFactory = _ => 1000 };
        var every = new Option<int>("--evaluate-every") { Description = "steps between evaluations", DefaultValueFactory = _ => 100 };
        var json = new Option<string?>("--json") { Description = "also write the curve and the per-NeRF rows as JSON" };
        var cmd = new Command("invert-decoder", "How well a run's decoder renders NeRFs from the best codes it can be given (codes optimised against each NeRF's field, the decoder frozen) against their embeddings")
            { run, decoderFile, split, objects, steps, lr, points, every, json };
        cmd.SetAction((p, cancel) =>
        {
            var options = new DecoderInversionOptions
            {
                Run = p.GetValue(run)!, Decoder = p.GetValue(decoderFile), Split = p.GetValue(split)!, Objects = p.GetValue(objects),
                Steps = p.GetValue(steps), LearningRate = p.GetValue(lr), PointsPerNerf = p.GetValue(points), EvaluateEvery = Math.Max(1, p.GetValue(every)),
            };
            var report = DecoderInversion.Run(options,
                pt => Console.WriteLine($"step {pt.Step}, {pt.Seconds:F0} s: loss {pt.Loss:F4}, median render PSNR {pt.MedianPsnr:F2} dB, median code shift {pt.CodeShift:F3}"),
                s => AnsiConsole.MarkupLineInterpolated($"[grey]{s}[/]"), cancel);
            static string F(double v) => v.ToString("F2", CultureInfo.InvariantCulture);
            var table = new Table().Border(TableBorder.Rounded).AddColumns("object", "arch", "PSNR from embedding", "PSNR from inverted code", "code shift");
            foreach (var r in report.Rows) table.AddRow(r.Object, r.Arch, F(r.EmbeddingPsnr), F(r.InvertedPsnr), r.CodeShift.ToString("F3", CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLineInterpolated($"median render PSNR over {report.Rows.Count} NeRFs: from the embeddings [bold]{F(report.MedianEmbeddingPsnr)} dB[/], from inverted codes [bold]{F(report.MedianInvertedPsnr)} dB[/]");
            if (p.GetValue(json) is { } path)
            {
                NerfGmn.IO.AtomicFile.WriteAllText(path, JsonSerializer.Serialize(new { options, report.Curve, report.Rows, report.MedianEmbeddingPsnr, report.MedianInvertedPsnr },
                    new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
                AnsiConsole.MarkupLineInterpolated($"report → [green]{path}[/]");
            }
            return Task.FromResult(0);
        });
        return cmd;
    }
}
