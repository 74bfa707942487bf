using System.CommandLine;
using System.Diagnostics;
using NerfGmn.Fitting;
using NerfGmn.IO;
using Spectre.Console;

namespace NerfGmn.Demo.Commands;

/// <summary><c>nerfgmn fit --images DIR --arch A --out weights [--format native|pth] [--steps N]</c></summary>
static class FitCommand
{
    public static Command Create()
    {
        var images = new Option<string>("--images") { Description = "folder with transforms_train.json and the images it names", Required = true };
        var arch = CommonOptions.Arch();
        arch.Required = true;
        var output = new Option<string>("--out", "-o") { Description = "output weight file", Required = true };
        var format = new Option<string>("--format") { Description = "native (safetensors) or pth (gmnerf layout)", DefaultValueFactory = _ => "native" };
        format.AcceptOnlyFromAmong("native", "pth");
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => new ImageFitOptions().Steps };
        var rays = new Option<int>("--rays") { Description = "rays per step", DefaultValueFactory = _ => new ImageFitOptions().RaysPerStep };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 0 };
        var initFrom = new Option<string?>("--init-from") { Description = "start from the initialisation shared by an encoder's training NeRFs (encoder .safetensors) or a dataset's (its folder), so that encoder reads the result as it read them" };
        var device = CommonOptions.Device();
        var cmd = new Command("fit", "Fit a NeRF of any supported architecture to posed RGBA images") { images, arch, output, format, steps, rays, seed, initFrom, device };
        cmd.SetAction(p =>
        {
            var architecture = CommonOptions.LoadOptions(p.GetValue(arch), false).Architecture!;
            var data = ImageFitter.Load(p.GetValue(images)!);
            var options = new ImageFitOptions { Steps = p.GetValue(steps), RaysPerStep = p.GetValue(rays), Seed = p.GetValue(seed), Device = p.GetValue(device) };
            CommonOptions.ResolveDevice(options.Device);
            if (p.GetValue(initFrom) is { } from)
            {
                var init = Directory.Exists(from) ? NerfGmn.Datasets.SharedInitialization.OfDataset(from)
                    : NerfGmn.Encoder.EncoderCheckpoint.ReadSharedInitialization(from);
                if (init is null) throw new ArgumentException($"{from}: its NeRFs were fitted each from their own initialisation; there is no shared start to fit from");
                options = options with { InitSeed = init.InitSeed(architecture.Name) };
                AnsiConsole.MarkupLineInterpolated($"initial weights: the shared initialisation of seed {init.Seed} for '{architecture.Name}'");
            }
            AnsiConsole.MarkupLineInterpolated($"fitting [bold]{architecture.Name}[/] to {data.Views.Count} images ({data.Images[0].Width}×{data.Images[0].Height}), {options.Steps} steps");
            var sw = Stopwatch.StartNew();
            ImageFitResult result = null!;
            AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("fitting", maxValue: options.Steps);
                    result = ImageFitter.Fit(architecture, data, options, (step, loss) =>
                    {
                        task.Value = step + 1;
                        task.Description = $"loss {loss:F4}";
                    });
                });
            string outPath = p.GetValue(output)!;
            if (p.GetValue(format) == "pth") NerfWeightsFile.WritePth(result.Weights, outPath);
            else NerfWeightsFile.WriteNative(result.Weights, outPath);
            string gridPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outPath))!, "grid.pth");
            result.Grid.Save(gridPath);
            AnsiConsole.MarkupLineInterpolated($"wrote [green]{outPath}[/] and {gridPath} in {sw.Elapsed.TotalSeconds:F0} s");
            Console.WriteLine(double.IsNaN(result.HeldOutPsnr) ? "PSNR n/a (no held-out views)" : $"PSNR {result.HeldOutPsnr:F2} (held-out views {string.Join(", ", result.HeldOutViews)})");
            return 0;
        });
        return cmd;
    }
}
