using System.CommandLine;
using System.Diagnostics;
using NerfGmn.Fields;
using NerfGmn.IO;
using NerfGmn.Rendering;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace NerfGmn.Demo.Commands;

/// <summary><c>nerfgmn render &lt;weights&gt; --transforms t.json --view K [--grid grid.pth] [--size W] [--background ..] --out image.png [--psnr-against ref.png]</c></summary>
static class RenderCommand
{
    public static Command Create()
    {
        var input = new WeightsInput();
        var grid = new Option<string?>("--grid") { Description = "occupancy grid (grid.pth); default: dense marching through the scene box" };
        var transforms = new Option<string>("--transforms") { Description = "Blender/nerfstudio transforms_*.json", Required = true };
        var view = new Option<int>("--view") { Description = "frame index in the transforms file", DefaultValueFactory = _ => 0 };
        var size = new Option<int>("--size") { Description = "image width and height in pixels", DefaultValueFactory = _ => 224 };
        var background = new Option<string>("--background") { Description = "black, white or r,g,b in [0,1]", DefaultValueFactory = _ => "black" };
        var output = new Option<string>("--out", "-o") { Description = "output PNG", Required = true };
        var psnrAgainst = new Option<string?>("--psnr-against") { Description = "reference RGBA PNG; prints PSNR against it composited on the same background" };
        var device = CommonOptions.Device();
        var cmd = input.AddTo(new Command("render", "Render a view of a NeRF with volume rendering") { grid, transforms, view, size, background, output, psnrAgainst, device });
        cmd.SetAction(p =>
        {
            var w = input.Read(p);
            var occupancy = p.GetValue(grid) is { } g ? OccupancyGrid.Load(g) : null;
            var cams = CameraSet.Load(p.GetValue(transforms)!);
            int px = p.GetValue(size);
            if (px < 1 || px > 8192) throw new ArgumentException($"--size {px} must be in 1..8192");
            var bg = ParseBackground(p.GetValue(background)!);
            // The reference is checked before anything is rendered or written.
            var referenceImage = p.GetValue(psnrAgainst) is { } reference ? RgbaImage.Load(reference) : null;
            if (referenceImage is { } im && (im.Width != px || im.Height != px))
                throw new ArgumentException($"--psnr-against image is {im.Width}×{im.Height}, the render would be {px}×{px} (use --size {im.Width})");
            var on = CommonOptions.ResolveDevice(p.GetValue(device));
            using var field = new RadianceField(w);
            field.to(on);
            var sw = Stopwatch.StartNew();
            float[] rgb;
            using (no_grad())
            {
                var (o, d) = cams.Rays(p.GetValue(view), px, px);   // rays are made on the CPU and moved once
                using var r = VolumeRenderer.Render(pt => field.forward(pt), o.to(on), d.to(on), occupancy, new RenderOptions { Background = bg });
                rgb = r.Rgb.to_type(ScalarType.Float32).cpu().data<float>().ToArray();
            }
            string outPath = p.GetValue(output)!;
            RgbaImage.SaveRgb(outPath, rgb, px, px);
            AnsiConsole.MarkupLineInterpolated($"[grey]{px}×{px} in {sw.Elapsed.TotalSeconds:F2} s → {outPath}[/]");
            if (referenceImage is not null) Console.WriteLine($"PSNR {RgbaImage.Psnr(rgb, referenceImage.CompositeOn(bg)):F2}");
            return 0;
        });
        return cmd;
    }

    public static double[] ParseBackground(string text) => text switch
    {
        "black" => [0, 0, 0],
        "white" => [1, 1, 1],
        _ => text.Split(',') is { Length: 3 } parts && parts.All(s => double.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out var v) && v is >= 0 and <= 1)
            ? parts.Select(s => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray()
            : throw new ArgumentException($"--background '{text}': expected black, white or r,g,b with values in [0, 1]"),
    };
}
