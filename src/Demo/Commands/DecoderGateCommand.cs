using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using NerfGmn.Training;
using Spectre.Console;

namespace NerfGmn.Demo.Commands;

/// <summary><c>nerfgmn decoder-gate --data D [--objects 16] [--arch mlp] [--minutes 10] [--loss l_rec|l_field] [--lr 1e-3] [--code-lr 1e-3] [--json F]</c></summary>
static class DecoderGateCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "dataset root", Required = true };
        var split = new Option<string>("--split") { Description = "split the objects come from", DefaultValueFactory = _ => "train" };
        var objects = new Option<int>("--objects") { Description = "objects, one free code each (round-robin over classes)", DefaultValueFactory = _ => 16 };
        var arch = new Option<string>("--arch") { Description = "architecture whose NeRFs are rendered", DefaultValueFactory = _ => "mlp" };
        var minutes = new Option<double>("--minutes") { Description = "wall-time budget", DefaultValueFactory = _ => 10 };
        var steps = new Option<int?>("--steps") { Description = "stop after this many steps (default: the budget decides)" };
        var loss = new Option<string>("--loss") { Description = "what trains the decoder: l_rec (volume rendering) or l_field (the NeRF's own density and colour at points)", DefaultValueFactory = _ => Objective.Rendering };
        loss.AcceptOnlyFromAmong(Objective.Rendering, Objective.Field);
        var lr = new Option<double>("--lr") { Description = "decoder learning rate (AdamW, constant; the cpu preset's peak)", DefaultValueFactory = _ => 1e-3 };
        var codeLr = new Option<double>("--code-lr") { Description = "code learning rate", DefaultValueFactory = _ => 1e-3 };
        var frequencies = new Option<int?>("--frequencies") { Description = "frequencies of the decoder's point encoding (default: the cpu decoder's)" };
        var width = new Option<int?>("--width") { Description = "decoder width (default: the cpu decoder's, 256)" };
        var layers = new Option<int?>("--layers") { Description = "decoder hidden layers on each side of the skip (default: the cpu decoder's, 1)" };
        var every = new Option<int>("--evaluate-every") { Description = "steps between PSNR evaluations", DefaultValueFactory = _ => 50 };
        var json = new Option<string?>("--json") { Description = "also write the report as JSON" };
        var cmd = new Command("decoder-gate", "Can the decoder and its loss learn N shapes from free codes (an auto-decoder, no encoder)?")
            { data, split, objects, arch, minutes, steps, loss, lr, codeLr, frequencies, width, layers, every, json };
        cmd.SetAction((p, cancel) =>
        {
            var options = new DecoderGateOptions
            {
                Data = p.GetValue(data)!, Split = p.GetValue(split)!, Objects = p.GetValue(objects), Architecture = p.GetValue(arch)!,
                Minutes = p.GetValue(minutes), MaxSteps = p.GetValue(steps) ?? int.MaxValue, LearningRate = p.GetValue(lr),
                CodeLearningRate = p.GetValue(codeLr), Loss = p.GetValue(loss)!, EvaluateEvery = Math.Max(1, p.GetValue(every)),
            };
            if (p.GetValue(frequencies) is { } f) options = options with { Decoder = options.Decoder with { Frequencies = f } };
            if (p.GetValue(width) is { } w) options = options with { Decoder = options.Decoder with { HiddenDim = w } };
            if (p.GetValue(layers) is { } l) options = options with { Decoder = options.Decoder with { LayersBeforeSkip = l, LayersAfterSkip = l } };
            var report = DecoderGate.Run(options, pt => Console.WriteLine($"step {pt.Step}, {pt.Seconds:F0} s: median foreground PSNR {pt.MedianPsnr:F2} dB"), cancel);
            static string F(double v) => v.ToString("F3", CultureInfo.InvariantCulture);
            AnsiConsole.MarkupLineInterpolated($"final median foreground PSNR [bold]{report.FinalPsnr:F2} dB[/]; occupancy AUC with the object's own code {F(report.MedianAuc)}, with another class's object's {F(report.MedianAucOtherObject)} (that object's own NeRF scores {F(report.MedianAucOtherNerf)}; medians over {report.Probe.Count} objects); on visible density only (σ·Δ ≥ 0.01, the rest tied): own code {F(report.MedianVisibleAuc.Own)} (its NeRF {F(report.MedianVisibleAuc.OwnNerf)}), another's {F(report.MedianVisibleAuc.OtherObject)} (that NeRF {F(report.MedianVisibleAuc.OtherNerf)})");
            if (p.GetValue(json) is { } path)
                NerfGmn.IO.AtomicFile.WriteAllText(path, JsonSerializer.Serialize(new { report.Curve, report.Probe, report.FinalPsnr, report.MedianAuc, report.MedianAucOtherObject, report.MedianAucOtherNerf, report.MedianVisibleAuc, options },
                    new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
            return Task.FromResult(0);
        });
        return cmd;
    }
}
