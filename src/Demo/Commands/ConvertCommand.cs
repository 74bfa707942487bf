using System.CommandLine;
using NerfGmn.IO;
using Spectre.Console;

namespace NerfGmn.Demo.Commands;

/// <summary><c>nerfgmn convert &lt;weights&gt; --out file [--format native|pth]</c></summary>
static class ConvertCommand
{
    public static Command Create()
    {
        var input = new WeightsInput();
        var output = new Option<string>("--out", "-o") { Description = "output file", Required = true };
        var format = new Option<string?>("--format")
        {
            Description = "native (safetensors + descriptor) or pth (gmnerf torch.save layout); default: from the --out extension (.pth/.pt → pth, else native)",
        };
        format.AcceptOnlyFromAmong("native", "pth");
        var cmd = input.AddTo(new Command("convert", "Convert NeRF weights between the gmnerf .pth layout and the native safetensors format") { output, format });
        cmd.SetAction(p =>
        {
            var w = input.Read(p);
            string outPath = p.GetValue(output)!;
            // The format follows the extension unless --format says otherwise; a contradiction is refused.
            bool pthName = Path.GetExtension(outPath).ToLowerInvariant() is ".pth" or ".pt";
            string chosen = p.GetValue(format) ?? (pthName ? "pth" : "native");
            if (chosen == "native" && pthName || chosen == "pth" && Path.GetExtension(outPath).Equals(".safetensors", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"--format {chosen} contradicts the --out name {Path.GetFileName(outPath)}; change one of them");
            if (chosen == "pth") NerfWeightsFile.WritePth(w, outPath);
            else NerfWeightsFile.WriteNative(w, outPath);
            AnsiConsole.MarkupLineInterpolated($"{w.Architecture.Name}: {w.ParameterCount:N0} parameters → [green]{outPath}[/]");
            return 0;
        });
        return cmd;
    }
}
