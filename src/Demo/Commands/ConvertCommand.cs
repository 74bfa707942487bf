using System.CommandLine;
using NerfGmn.IO;
using Spectre.Console;

namespace NerfGmn.Demo.Commands;

/// <summary><c>nerfgmn convert &lt;weights&gt; --out file [--format native|pth]</c></summary>
static class ConvertCommand
{
    public static Command Create()
    {
        var weights = CommonOptions.Weights();
        var arch = CommonOptions.Arch();
        var allow = CommonOptions.AllowNonFinite();
        var output = new Option<string>("--out", "-o") { Description = "output file", Required = true };
        var format = new Option<string>("--format")
        {
            Description = "native (safetensors + descriptor) or pth (gmnerf torch.save layout)",
            DefaultValueFactory = _ => "native",
        };
        format.AcceptOnlyFromAmong("native", "pth");
        var cmd = new Command("convert", "Convert NeRF weights between the gmnerf .pth layout and the native safetensors format") { weights, arch, allow, output, format };
        cmd.SetAction(p =>
        {
            var w = NerfWeightsFile.Read(p.GetValue(weights)!, CommonOptions.LoadOptions(p.GetValue(arch), p.GetValue(allow)));
            string outPath = p.GetValue(output)!;
            if (p.GetValue(format) == "pth") NerfWeightsFile.WritePth(w, outPath);
            else NerfWeightsFile.WriteNative(w, outPath);
            AnsiConsole.MarkupLineInterpolated($"{w.Architecture.Name}: {w.ParameterCount:N0} parameters → [green]{outPath}[/]");
            return 0;
        });
        return cmd;
    }
}
