using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using NerfGmn.Benchmarks;
using NerfGmn.Runtime;
using Spectre.Console;

namespace NerfGmn.Demo.Commands;

/// <summary>
/// <c>nerfgmn bench [--suite all|graph|runtime] [--out bench.json]</c>: medians, JSON output. The runtime suite runs
/// two child processes, libtorch defaults ("before") and this project's settings ("after"), and reports both and
/// their ratio from the one run.
/// </summary>
static class BenchCommand
{
    const string WorkerName = "bench-worker";

    public static Command Create()
    {
        var suite = new Option<string>("--suite") { Description = "all, graph, encoder, recipe (the cpu recipe's training step only) or runtime", DefaultValueFactory = _ => "all" };
        suite.AcceptOnlyFromAmong("all", "graph", "encoder", "recipe", "runtime");
        var output = new Option<string?>("--out", "-o") { Description = "write the results as JSON to this file" };
        var families = new Option<string?>("--families") { Description = "encoder suite: comma-separated subset of mlp,tri,hash" };
        var presets = new Option<string?>("--encoders") { Description = "encoder suite: comma-separated subset of paper,cpu" };
        var runs = new Option<int>("--runs") { Description = "timed runs per measurement (median)", DefaultValueFactory = _ => 3 };
        var device = CommonOptions.Device();
        var cmd = new Command("bench", "Measure graph conversion, the encoder and libtorch runtime settings (JSON, medians)") { suite, output, families, presets, runs, device };
        cmd.SetAction(p =>
        {
            var results = new SortedDictionary<string, object>();
            var on = CommonOptions.ResolveDevice(p.GetValue(device));
            results["device"] = NerfGmn.Runtime.ComputeDevice.Describe(on);
            string s = p.GetValue(suite)!;
            if (s is "all" or "graph")
            {
                AnsiConsole.MarkupLine("[grey]graph conversion…[/]");
                foreach (var (k, v) in GraphBenchmark.Run()) results[k] = Math.Round(v, 3);
            }
            if (s is "all" or "encoder")
            {
                // This host's speed drifts (matmul 79–155 GFLOP/s across runs): calibrate next to every measurement.
                var samples = new List<double> { RuntimeBenchmark.MatmulGflops() };
                double Calibrate() { double g = RuntimeBenchmark.MatmulGflops(); samples.Add(g); return g; }
                var wanted = p.GetValue(presets)?.Split(',', StringSplitOptions.TrimEntries) ?? ["paper", "cpu"];
                var encoders = new Dictionary<string, NerfGmn.Encoder.GmnOptions>();
                if (wanted.Contains("paper")) encoders["encoder"] = NerfGmn.Encoder.GmnOptions.Paper;
                if (wanted.Contains("cpu")) encoders["encoder_cpu_preset"] = NerfGmn.Encoder.GmnPresets.Small;
                var only = p.GetValue(families)?.Split(',', StringSplitOptions.TrimEntries);
                // Matmul-normalised time: ms per graph × GFLOP/s ÷ 1000 (machine speed cancels), per family.
                void Keep(IReadOnlyDictionary<string, double> encoderResults)
                {
                    foreach (var (k, v) in encoderResults) results[k] = Math.Round(v, k.EndsWith("_normalized") ? 2 : 3);
                }
                Keep(EncoderBenchmark.Run(encoders, Math.Max(1, p.GetValue(runs)), m => AnsiConsole.MarkupLineInterpolated($"[grey]{m}…[/]"), only, Calibrate,
                    partial: r => { Keep(r); Save(p.GetValue(output), results); }, device: on));
                var sorted = samples.Order().ToArray();
                results["matmul_gflops"] = Math.Round(sorted[sorted.Length / 2], 1);
                results["matmul_gflops_range"] = $"{sorted[0]:F1}-{sorted[^1]:F1}";
                if (only is null) results["decoder_points_per_s"] = Math.Round(EncoderBenchmark.DecoderPointsPerSecond(NerfGmn.Decoder.ImplicitDecoderOptions.Paper, device: on));
                results["peak_rss_mb"] = Math.Round(BenchmarkStats.PeakRssMb(), 1);
                results["allocator"] = NerfGmn.Runtime.TorchRuntime.HeapReuse ? "heap-reuse" : "glibc-mmap";
            }
            if (s is "all" or "encoder" or "recipe")
            {
                // The cpu recipe's whole L_C step (target ≤ 1,000 ms on 2 threads), between two calibrations.
                AnsiConsole.MarkupLine("[grey]cpu recipe training step…[/]");
                double before = RuntimeBenchmark.MatmulGflops();
                results["encoder.cpu_recipe.train_ms_per_step"] = Math.Round(EncoderBenchmark.ContrastiveStepMs(NerfGmn.Encoder.GmnPresets.Cpu, Math.Max(5, p.GetValue(runs)), on), 1);
                results["encoder.cpu_recipe.matmul_gflops"] = Math.Round((before + RuntimeBenchmark.MatmulGflops()) / 2, 1);
                results["encoder.cpu_recipe.threads"] = TorchSharp.torch.get_num_threads();
                Save(p.GetValue(output), results);
            }
            if (s is "all" or "runtime")
            {
                AnsiConsole.MarkupLine("[grey]runtime, libtorch defaults (child process)…[/]");
                var before = RunWorker(tuned: false);
                AnsiConsole.MarkupLine("[grey]runtime, tuned allocator/OpenMP (child process)…[/]");
                var after = RunWorker(tuned: true);
                foreach (var (k, v) in before) results[$"runtime.default.{k}"] = Math.Round(v, 3);
                foreach (var (k, v) in after) results[$"runtime.tuned.{k}"] = Math.Round(v, 3);
                foreach (var k in new[] { "alloc_fill_74mb_ms", "zeros_512_ms", "message_passing.train_ms_per_graph", "message_passing.fwd_ms_per_graph" })
                    results[$"runtime.speedup.{k}"] = Math.Round(before[k] / after[k], 2);
            }
            Console.WriteLine(Save(p.GetValue(output), results));
            return 0;
        });
        return cmd;
    }

    /// <summary>Writes the results so far (also mid-run, so a run killed later keeps them); returns the JSON.</summary>
    static string Save(string? path, SortedDictionary<string, object> results)
    {
        string json = JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true });
        if (path is not null) NerfGmn.IO.AtomicFile.WriteAllText(path, json);
        return json;
    }

    /// <summary>Hidden: the measuring side of the runtime suite (prints JSON).</summary>
    public static Command CreateWorker()
    {
        var cmd = new Command(WorkerName, "internal: runtime benchmark in this process") { Hidden = true };
        cmd.SetAction(_ =>
        {
            var r = RuntimeBenchmark.Run(new RuntimeBenchmark.Options());
            r["tuned"] = TorchRuntime.Tuned ? 1 : 0;
            Console.WriteLine(JsonSerializer.Serialize(r));
            return 0;
        });
        return cmd;
    }

    static Dictionary<string, double> RunWorker(bool tuned)
    {
        var psi = new ProcessStartInfo { RedirectStandardOutput = true, UseShellExecute = false };
        string self = Environment.ProcessPath!;
        psi.FileName = self;
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            psi.ArgumentList.Add(typeof(BenchCommand).Assembly.Location);   // launched as 'dotnet nerfgmn.dll'
        psi.ArgumentList.Add(WorkerName);
        foreach (var v in new[] { "THP_MEM_ALLOC_ENABLE", "OMP_WAIT_POLICY", TorchRuntime.DisableVariable }) psi.Environment.Remove(v);
        if (!tuned) psi.Environment[TorchRuntime.DisableVariable] = "1";
        using var child = Process.Start(psi) ?? throw new InvalidOperationException("cannot start the benchmark worker");
        string stdout = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        if (child.ExitCode != 0) throw new InvalidOperationException($"benchmark worker failed (exit {child.ExitCode})");
        var line = stdout.Split('\n').Last(l => l.TrimStart().StartsWith('{'));
        var r = JsonSerializer.Deserialize<Dictionary<string, double>>(line)!;
        if ((r["tuned"] == 1) != tuned) throw new InvalidOperationException("benchmark worker did not get the intended settings");
        return r;
    }
}
