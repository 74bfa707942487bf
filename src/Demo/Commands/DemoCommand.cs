using System.CommandLine;
using System.Diagnostics;
using NerfGmn.Fields;
using NerfGmn.Graphs;
using NerfGmn.IO;
using NerfGmn.Rendering;
using Spectre.Console;

namespace NerfGmn.Demo.Commands;

/// <summary>
/// The demo on the bundled samples: read every NeRF (architecture inferred), build its parameter graph, evaluate its
/// field, and write the graphs. (The ML.NET classification/retrieval demo replaces this once the encoder lands.)
/// </summary>
static class DemoCommand
{
    public static Command Create()
    {
        var samples = new Option<string>("--samples") { Description = "folder of NeRF weight files", DefaultValueFactory = _ => DefaultSamples() };
        var output = new Option<string>("--out", "-o") { Description = "output folder", DefaultValueFactory = _ => DefaultOutput() };
        var cmd = new Command("demo", "Run the demo on the bundled sample NeRFs") { samples, output };
        cmd.SetAction(p => Run(p.GetValue(samples)!, p.GetValue(output)!));
        return cmd;
    }

    /// <summary>The repository's <c>datasets/samples</c>, found from the app or the working directory.</summary>
    public static string DefaultSamples() => FindUp(Path.Combine("datasets", "samples")) ?? Path.Combine("datasets", "samples");

    public static string DefaultOutput() =>
        Path.Combine(Path.GetDirectoryName(FindUp(Path.Combine("datasets", "samples")) is { } s ? Path.GetDirectoryName(s)! : ".")!, "out", "demo");

    static string? FindUp(string relative)
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (Directory.Exists(Path.Combine(dir.FullName, relative))) return Path.Combine(dir.FullName, relative);
        return null;
    }

    public static int Run(string samplesDir, string outputDir)
    {
        if (!Directory.Exists(samplesDir)) throw new FileNotFoundException($"sample folder not found: {samplesDir}");
        var files = Directory.GetFiles(samplesDir, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".pth") && Path.GetFileName(f) != "grid.pth" || f.EndsWith(".safetensors"))
            .OrderBy(f => f, StringComparer.Ordinal).ToList();
        Directory.CreateDirectory(outputDir);
        AnsiConsole.MarkupLineInterpolated($"[bold]nerfgmn demo[/] — {files.Count} NeRFs from [blue]{samplesDir}[/]");

        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("file", "arch", "params", "nodes", "edges", "read ms", "graph ms", "σ(0,0,0)");
        var total = Stopwatch.StartNew();
        AnsiConsole.Progress().AutoClear(true).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("reading and converting", maxValue: files.Count);
                foreach (var file in files)
                {
                    string rel = Path.GetRelativePath(samplesDir, file);
                    task.Description = rel;
                    var sw = Stopwatch.StartNew();
                    var w = NerfWeightsFile.Read(file);
                    double readMs = sw.Elapsed.TotalMilliseconds;
                    sw.Restart();
                    var g = ParameterGraphBuilder.Build(w);
                    double graphMs = sw.Elapsed.TotalMilliseconds;
                    g.Save(Path.Combine(outputDir, rel.Replace(Path.DirectorySeparatorChar, '_').Replace(".pth", "").Replace(".safetensors", "") + ".graph.safetensors"));
                    using var nerf = new RadianceField(w);
                    var field = nerf.Evaluate([0f, 0f, 0f]).Sigma[0].ToString("G4");
                    table.AddRow(Markup.Escape(rel), Markup.Escape(w.Architecture.Name), w.ParameterCount.ToString("N0"),
                        g.NodeCount.ToString("N0"), g.EdgeCount.ToString("N0"), readMs.ToString("F1"), graphMs.ToString("F1"), Markup.Escape(field));
                    task.Increment(1);
                }
            });
        AnsiConsole.Write(table);

        string grid = Path.Combine(samplesDir, "nerf_scene", "grid.pth");
        if (File.Exists(grid))
        {
            var occ = OccupancyGrid.Load(grid);
            AnsiConsole.MarkupLineInterpolated($"occupancy grid nerf_scene/grid.pth: {occ.Resolution}³ cells, {occ.OccupiedCount:N0} occupied, ROI ±{occ.Roi[3]}");
        }
        AnsiConsole.MarkupLineInterpolated($"graphs written to [green]{outputDir}[/] in {total.Elapsed.TotalSeconds:F1} s");
        return 0;
    }
}
