using System.CommandLine;
using NerfGmn.Training;
using Spectre.Console;

namespace NerfGmn.Demo.Commands;

/// <summary><c>nerfgmn fit-decoder &lt;run dir&gt; [--out D] [--minutes 30] [--steps N] [--lr 1e-3] [--width W] [--layers L] [--embedding-noise S] [--resume]</c></summary>
static class FitDecoderCommand
{
    public static Command Create()
    {
        var run = CommonOptions.DecodingRun();
        var output = new Option<string?>("--out", "-o") { Description = "folder of the fitted decoder, its log.csv and its state (default: <run>/decoder-fit)" };
        var minutes = new Option<double>("--minutes") { Description = "wall-time budget of this invocation", DefaultValueFactory = _ => 30 };
        var steps = new Option<int?>("--steps") { Description = "stop at this many steps in all (default: the budget decides)" };
        var lr = new Option<double>("--lr") { Description = "decoder learning rate (AdamW, constant)", DefaultValueFactory = _ => 1e-3 };
        var nerfs = new Option<int>("--nerfs-per-step") { Description = "NeRFs per step", DefaultValueFactory = _ => 8 };
        var every = new Option<int>("--evaluate-every") { Description = "steps between evaluations (and saves)", DefaultValueFactory = _ => 250 };
        var scratch = new Option<bool>("--from-scratch") { Description = "start from a new decoder instead of the run's" };
        var width = new Option<int?>("--width") { Description = "a new decoder of this width (default: the run's decoder, continued)" };
        var layers = new Option<int?>("--layers") { Description = "a new decoder with this many hidden layers on each side of the skip (default: the run's)" };
        var noise = new Option<double>("--embedding-noise") { Description = "Gaussian noise on each step's training embeddings, in standard deviations of each dimension (0: none; a regulariser, not in the paper)" };
        var resume = new Option<bool>("--resume") { Description = "continue the fit in --out from its saved state" };
        var cmd = new Command("fit-decoder", "Fit a run's decoder further on its encoder's frozen embeddings of the training NeRFs (not in the paper), logging validation renders")
            { run, output, minutes, steps, lr, nerfs, every, scratch, width, layers, noise, resume };
        cmd.SetAction((p, cancel) =>
        {
            string runDir = p.GetValue(run)!;
            var options = new DecoderFitOptions
            {
                Run = runDir, Output = p.GetValue(output) ?? Path.Combine(runDir, "decoder-fit"), Minutes = p.GetValue(minutes),
                MaxSteps = p.GetValue(steps) ?? int.MaxValue, LearningRate = p.GetValue(lr), NerfsPerStep = p.GetValue(nerfs),
                EvaluateEvery = Math.Max(1, p.GetValue(every)), FromScratch = p.GetValue(scratch), Width = p.GetValue(width), LayersPerSide = p.GetValue(layers),
                EmbeddingNoise = p.GetValue(noise), Resume = p.GetValue(resume),
            };
            var curve = DecoderFit.Run(options,
                pt => Console.WriteLine($"step {pt.Step}, {pt.Seconds:F0} s: loss {pt.Loss:F4}, median render PSNR train {pt.TrainPsnr:F2} dB, validation {pt.ValidationPsnr:F2} dB"),
                s => AnsiConsole.MarkupLineInterpolated($"[grey]{s}[/]"), cancel);
            AnsiConsole.MarkupLineInterpolated($"decoder → {Path.Combine(options.Output, "decoder.safetensors")}; validation median render PSNR [bold]{curve[^1].ValidationPsnr:F2} dB[/] at step {curve[^1].Step} (probe it: nerfgmn probe-decoder {runDir} --decoder {Path.Combine(options.Output, "decoder.safetensors")})");
            return Task.FromResult(0);
        });
        return cmd;
    }
}
