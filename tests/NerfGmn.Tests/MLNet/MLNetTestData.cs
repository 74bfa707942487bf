using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Data;
using NerfGmn.Datasets;
using NerfGmn.Encoder;
using NerfGmn.MLNet;
using TorchSharp;

namespace NerfGmn.Tests.MLNet;

/// <summary>Shared rows for the ML.NET tests: a few classes of the bundled mini dataset and a small seeded encoder.</summary>
static class MLNetTestData
{
    public sealed class NerfRow
    {
        public string Path = "";
        public string Label = "";
        public string Object = "";
    }

    public static readonly string[] Classes = ["airplane", "chair", "table"];

    public static NerfRow[] Rows(string split, params string[] archs) =>
        new DatasetLayout(TestPaths.MiniDataset).Entries(split, archs).Where(e => Classes.Contains(e.Class))
            .Select(e => new NerfRow { Path = e.WeightsPath, Label = e.Class, Object = e.ObjectKey }).ToArray();

    static GraphMetaNetwork? _encoder;
    static readonly object Gate = new();

    /// <summary>A seeded CPU-preset encoder (untrained: enough to separate these shapes a little, and fast).</summary>
    public static GraphMetaNetwork Encoder
    {
        get
        {
            lock (Gate)
            {
                if (_encoder is null)
                {
                    torch.random.manual_seed(7);
                    _encoder = new GraphMetaNetwork(GmnPresets.Small);
                    _encoder.eval();
                }
                return _encoder;
            }
        }
    }

    public static NerfEmbeddingOptions Options => new() { Encoder = Encoder };

    /// <summary>Output columns of a scored view, every value, as JSON text.</summary>
    public static string Outputs(IDataView input, IDataView scored) =>
        Demo.Commands.PredictCommand.Rows(scored, Demo.Commands.PredictCommand.OutputColumns(input.Schema, scored.Schema)).ToJsonString();

    /// <summary>Runs <c>nerfgmn</c> with <paramref name="args"/> in a fresh process: exit code, stdout, stderr.</summary>
    public static (int Exit, string Output, string Error) RunApp(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = AppContext.BaseDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(System.IO.Path.Combine(AppContext.BaseDirectory, "nerfgmn.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout, stderr.Result);
    }

    /// <summary>Runs <c>nerfgmn predict</c> on a saved model in a fresh process and returns its JSON rows.</summary>
    public static string PredictInChildProcess(string modelZip, string pathColumn, IEnumerable<string> files)
    {
        string json = System.IO.Path.ChangeExtension(modelZip, ".child.json");
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = AppContext.BaseDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { System.IO.Path.Combine(AppContext.BaseDirectory, "nerfgmn.dll"), "predict", "--model", modelZip, "--column", pathColumn, "--json", json }.Concat(files))
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string stdout = p.StandardOutput.ReadToEnd(), stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.AreEqual(0, p.ExitCode, $"child process failed:\n{stdout}\n{stderr}");
        return File.ReadAllText(json);
    }
}
