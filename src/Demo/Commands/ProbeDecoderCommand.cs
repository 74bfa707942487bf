using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using NerfGmn.Training;
using Spectre.Console;

namespace NerfGmn.Demo.Commands;

/// <summary><c>nerfgmn probe-decoder &lt;run dir&gt; [--data D] [--split val] [--objects 3] [--points 2000] [--json F] [--decoder F] [--images D]</c></summary>
static class ProbeDecoderCommand
{
    public static Command Create()
    {
        var run = CommonOptions.DecodingRun();
        var data = new Option<string?>("--data") { Description = "dataset root (default: the run's)" };
        var split = new Option<string>("--split") { Description = "split whose NeRFs are probed", DefaultValueFactory = _ => "val" };
        var objects = new Option<int>("--objects") { Description = "objects probed (one per class first), every architecture of each", DefaultValueFactory = _ => 3 };
        var points = new Option<int>("--points") { Description = "occupied and empty cells queried per NeRF", DefaultValueFactory = _ => 2000 };
        var json = new Option<string?>("--json") { Description = "also write the rows as JSON" };
        var images = new Option<string?>("--images") { Description = "folder for each NeRF's render beside the decoder's (one view, 64 px) and a sheet of them, renders.png" };
        var decoderFile = CommonOptions.FittedDecoder();
        var cmd = new Command("probe-decoder", "Where a run's decoder puts density (its σ at occupied vs empty cells of the NeRFs it is given) and how well it renders them")
            { run, data, split, objects, points, json, decoderFile, images };
        cmd.SetAction(p =>
        {
            var rows = DecoderProbe.Run(p.GetValue(run)!, p.GetValue(data), p.GetValue(split)!, Math.Max(1, p.GetValue(objects)), Math.Max(1, p.GetValue(points)), decoderPath: p.GetValue(decoderFile), imagesFolder: p.GetValue(images));
            static string F(double v, string f) => v.ToString(f, CultureInfo.InvariantCulture);

            var table = new Table().Border(TableBorder.Rounded).AddColumns("object", "arch", "decoder σ occupied", "decoder σ empty", "NeRF σ occupied", "occupancy AUC", "AUC, other object's embedding", "AUC, other object's NeRF", "colour std", "render PSNR");
            foreach (var r in rows)
                table.AddRow(r.Object, r.Arch, F(r.SigmaOccupied, "G3"), F(r.SigmaEmpty, "G3"), F(r.NerfSigmaOccupied, "F2"), F(r.OccupancyAuc, "F3"), F(r.OccupancyAucOtherObject, "F3"), F(r.OccupancyAucOtherNerf, "F3"), F(r.ColourStd, "F3"), F(r.RenderPsnr, "F2"));
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLineInterpolated($"[grey]mean occupancy AUC {F(rows.Average(r => r.OccupancyAuc), "F3")}, with another object's embedding {F(rows.Where(r => !double.IsNaN(r.OccupancyAucOtherObject)).Select(r => r.OccupancyAucOtherObject).DefaultIfEmpty(double.NaN).Average(), "F3")} (equal: the decoder ignores the embedding); on visible density only (σ·Δ ≥ 0.01) median {F(DecoderProbe.Median(rows.Select(r => r.VisibleAuc?.Own ?? double.NaN)), "F3")} own, {F(DecoderProbe.Median(rows.Select(r => r.VisibleAuc?.OtherObject ?? double.NaN)), "F3")} another's, {F(DecoderProbe.Median(rows.Select(r => r.VisibleAuc?.OtherNerf ?? double.NaN)), "F3")} another's NeRF; mean decoder σ at occupied cells {F(rows.Average(r => r.SigmaOccupied), "G3")}; median render PSNR {F(DecoderProbe.Median(rows.Select(r => r.RenderPsnr)), "F2")} dB over {rows.Count} NeRFs[/]");
            if (p.GetValue(json) is { } path)
            {
                NerfGmn.IO.AtomicFile.WriteAllText(path, JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
                AnsiConsole.MarkupLineInterpolated($"rows → [green]{path}[/]");
            }
            return 0;
        });
        return cmd;
    }
}
