using System.CommandLine;
using System.Diagnostics;
using NerfGmn.Graphs;
using NerfGmn.IO;
using Spectre.Console;

namespace NerfGmn.Demo.Commands;

/// <summary><c>nerfgmn graph &lt;weights&gt; [--arch] [--layout] --out graph.safetensors</c></summary>
public static class GraphCommand
{
    public static Command Create()
    {
        var input = new WeightsInput();
        var layout = CommonOptions.Layout();
        var hashQuirk = new Option<bool>("--hash-layer-quirk")
        {
            Description = "reproduce gmnerf's hash-grid layer numbering (16 isolated input nodes); default true",
            DefaultValueFactory = _ => true,
        };
        var output = new Option<string>("--out", "-o") { Description = "output graph file (safetensors: x I64, edge_index I64, edge_attr F32)", Required = true };
        var cmd = input.AddTo(new Command("graph", "Convert NeRF weights to a parameter graph") { layout, hashQuirk, output });
        cmd.SetAction(p =>
        {
            var sw = Stopwatch.StartNew();
            var w = input.Read(p);
            double readMs = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            var graph = ParameterGraphBuilder.Build(w, new ParameterGraphOptions
            {
                TriplaneLayout = p.GetValue(layout),
                HashGridLayerQuirk = p.GetValue(hashQuirk),
            });
            double buildMs = sw.Elapsed.TotalMilliseconds;
            string outPath = p.GetValue(output)!;
            graph.Save(outPath, new Dictionary<string, string>
            {
                ["source"] = Path.GetFileName(input.Path(p)),
                ["architecture"] = w.Architecture.Name,
                ["triplane_layout"] = p.GetValue(layout).ToString().ToLowerInvariant(),
            });
            Console.WriteLine($"nodes {graph.NodeCount}");
            Console.WriteLine($"edges {graph.EdgeCount}");
            AnsiConsole.MarkupLineInterpolated($"[grey]{w.Architecture.Name}: read {readMs:F1} ms, graph {buildMs:F1} ms → {outPath}[/]");
            return 0;
        });
        return cmd;
    }
}
