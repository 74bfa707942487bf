using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using NerfGmn.Datasets;
using NerfGmn.Encoder;
using NerfGmn.Graphs;
using NerfGmn.IO;
using Spectre.Console;

namespace NerfGmn.Demo.Commands;

/// <summary><c>nerfgmn embed &lt;weights…|dataset&gt; --encoder ckpt --out emb.safetensors [--split test] [--archs ..]</c></summary>
static class EmbedCommand
{
    public static Command Create()
    {
        var inputs = new Argument<string[]>("inputs") { Description = "NeRF weight files, or a dataset root", Arity = ArgumentArity.OneOrMore };
        var encoder = new Option<string>("--encoder") { Description = "encoder checkpoint (.safetensors, or a reference .pth)", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "output .safetensors (a .csv is written beside it)", Required = true };
        var split = new Option<string>("--split") { Description = "dataset split", DefaultValueFactory = _ => "test" };
        var archs = new Option<string?>("--archs") { Description = "comma-separated architectures (dataset input); default: all present" };
        var batchSize = new Option<int>("--batch") { Description = "graphs per forward pass", DefaultValueFactory = _ => 8 };
        var device = CommonOptions.Device();
        var cmd = new Command("embed", "Embed NeRFs with a trained encoder") { inputs, encoder, output, split, archs, batchSize, device };
        cmd.SetAction(p =>
        {
            // Two outputs never share one path, and a bad destination is refused before any work.
            string outPath = p.GetValue(output)!;
            if (string.Equals(Path.GetExtension(outPath), ".csv", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"--out {outPath}: names the .safetensors output; the .csv is written beside it");
            if (Directory.Exists(outPath)) throw new IOException($"{outPath}: is a folder; give a file name to write");
            var (gmn, info) = EncoderCheckpoint.Load(p.GetValue(encoder)!, CommonOptions.ResolveDevice(p.GetValue(device)));
            var items = new List<(string Id, string Arch, string Class, string Object, string Path)>();
            var ins = p.GetValue(inputs)!;
            if (ins.Length == 1 && Directory.Exists(ins[0]))
            {
                var wanted = p.GetValue(archs)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                items.AddRange(new DatasetLayout(ins[0]).Entries(p.GetValue(split)!, wanted).Select(e => (e.Id, e.Arch, e.Class, e.Object, e.WeightsPath)));
            }
            else
                items.AddRange(ins.Select(f => (f, "", "", "", f)));
            if (items.Count == 0) throw new ArgumentException("nothing to embed");

            float[][] embeddings = [];
            using var embedder = new NerfEmbedder(gmn, info.Layout);
            var far = new System.Collections.Concurrent.ConcurrentBag<(string Path, double Rms)>();
            embedder.FarFromTraining = (path, rms) => far.Add((path, rms));
            AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("embedding", maxValue: items.Count);
                    embeddings = embedder.EmbedFiles(items.Select(i => i.Path).ToArray(), Math.Max(1, p.GetValue(batchSize)), done => task.Value = done);
                });
            foreach (var (path, rms) in far.OrderBy(f => f.Path, StringComparer.Ordinal))
                // stderr, one unwrapped line per file, like errors (the console's markup would wrap it at its width).
                Console.Error.WriteLine($"warning: {path}: weights far outside the encoder's training NeRFs (standardised RMS {rms:F1}, training ≈ 1); fitted from another initialisation? (fit --init-from)");
            int dim = embeddings[0].Length;
            SafeTensorsFile.Write(outPath, new Dictionary<string, SafeTensor> { ["embeddings"] = SafeTensor.FromFloats(embeddings.SelectMany(e => e).ToArray(), items.Count, dim) },
                new Dictionary<string, string> { ["ids"] = JsonSerializer.Serialize(items.Select(i => i.Id)), ["encoder"] = Path.GetFileName(p.GetValue(encoder)!) });
            var csv = new StringBuilder("id,arch,class,object," + string.Join(",", Enumerable.Range(0, dim).Select(k => $"e{k}")) + "\n");
            for (int i = 0; i < items.Count; i++)
                csv.Append($"{items[i].Id},{items[i].Arch},{items[i].Class},{items[i].Object},")
                   .AppendJoin(',', embeddings[i].Select(v => v.ToString("R", CultureInfo.InvariantCulture))).Append('\n');
            AtomicFile.Write(Path.ChangeExtension(outPath, ".csv"), tmp => File.WriteAllText(tmp, csv.ToString()));
            AnsiConsole.MarkupLineInterpolated($"{items.Count} embeddings of {dim} dims → [green]{outPath}[/] and {Path.ChangeExtension(outPath, ".csv")}");
            return 0;
        });
        return cmd;
    }
}
