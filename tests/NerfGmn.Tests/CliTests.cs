using NerfGmn.Graphs;
using NerfGmn.IO;

namespace NerfGmn.Tests;

/// <summary>The <c>nerfgmn</c> commands, run in-process through the app's entry point.</summary>
[TestClass]
[DoNotParallelize]   // redirects Console
public class CliTests
{
    static (int Exit, string Output) Run(params string[] args)
    {
        var (exit, output, _) = RunWithErrors(args);
        return (exit, output);
    }

    /// <summary>Runs the app; returns its exit code, stdout and stderr.</summary>
    static (int Exit, string Output, string Error) RunWithErrors(params string[] args)
    {
        var entry = typeof(NerfGmn.Demo.Commands.GraphCommand).Assembly.EntryPoint!;
        var (previous, previousError) = (Console.Out, Console.Error);
        var (writer, error) = (new StringWriter(), new StringWriter());
        Console.SetOut(writer);
        Console.SetError(error);
        try
        {
            int exit = (int)entry.Invoke(null, [args])!;
            return (exit, writer.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(previous);
            Console.SetError(previousError);
        }
    }

    [TestMethod]
    public void AMissingInputIsOneUnwrappedLineOnStderrWithExitTwo()
    {
        using var dir = TestPaths.NewTempDir();
        string missing = dir.File("missing.pth");
        var (exit, output, error) = RunWithErrors("graph", missing, "--out", dir.File("g.safetensors"));
        Assert.AreEqual(2, exit);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual(1, lines.Length, error);
        StringAssert.StartsWith(lines[0], "error: ");
        StringAssert.Contains(lines[0], "missing.pth");
        Assert.IsFalse(output.Contains("error"), "errors go to stderr, not stdout");
        Assert.IsFalse(File.Exists(dir.File("g.safetensors")));

        // An option the command does not have is refused by name, not taken as an input file.
        (exit, _, error) = RunWithErrors("embed", "--arch", "mlp", TestPaths.Fixture("mlp.pth"), "--encoder", dir.File("e.safetensors"), "--out", dir.File("z.safetensors"));
        Assert.AreEqual(2, exit);
        Assert.AreEqual("error: unknown option '--arch' for 'embed' (see --help)", error.Trim());
        Assert.IsFalse(File.Exists(dir.File("z.safetensors")));
    }

    [TestMethod]
    public void AnOutputThatIsAFolderOrSharesAPathIsRefusedAndLeavesNothing()
    {
        using var dir = TestPaths.NewTempDir();
        string folder = dir.File("out");
        Directory.CreateDirectory(folder);
        var (exit, _, error) = RunWithErrors("convert", TestPaths.Fixture("mlp.pth"), "--out", folder);
        Assert.AreEqual(2, exit);
        StringAssert.Contains(error, "is a folder");
        Assert.AreEqual(1, error.Trim().Split('\n').Length, error);
        CollectionAssert.AreEqual(new[] { folder }, Directory.GetFileSystemEntries(dir.Path), "no temporary file left beside it");
        Assert.AreEqual(0, Directory.GetFileSystemEntries(folder).Length);

        // embed's .safetensors and .csv would be one file.
        (exit, _, error) = RunWithErrors("embed", TestPaths.Fixture("mlp.pth"), "--encoder", dir.File("missing.safetensors"), "--out", dir.File("e.csv"));
        Assert.AreEqual(2, exit);
        StringAssert.Contains(error, "the .csv is written beside it");
        Assert.IsFalse(File.Exists(dir.File("e.csv")));
    }

    /// <summary>
    /// An output folder that is a link to a missing folder (a dataset kept on another disk) or a file is named as such,
    /// not as .NET's "the file already exists", and nothing is created behind it.
    /// </summary>
    [TestMethod]
    public void AnOutputFolderBehindABrokenLinkOrAFileIsNamed()
    {
        using var dir = TestPaths.NewTempDir();
        string target = dir.File("elsewhere"), link = dir.File("linked"), file = dir.File("plain");
        File.CreateSymbolicLink(link, target);
        File.WriteAllText(file, "");
        var (exit, _, error) = RunWithErrors("dataset", "build", "--recipe", "shapes13", "--objects-per-class", "1", "--out", link);
        Assert.AreEqual(2, exit, error);
        Assert.AreEqual($"error: dataset folder {link}: a symbolic link to {target}, which does not exist; create {target} or remove the link", error.Trim());
        (exit, _, error) = RunWithErrors("train", "--data", TestPaths.Overfit4, "--loss", "l_con", "--epochs", "2", "--out", file);
        Assert.AreEqual(2, exit, error);
        Assert.AreEqual($"error: run folder {file}: is a file; give a folder", error.Trim());
        string toFile = dir.File("to-file");
        File.CreateSymbolicLink(toFile, file);
        (exit, _, error) = RunWithErrors("dataset", "build", "--recipe", "shapes13", "--objects-per-class", "1", "--out", toFile);
        Assert.AreEqual(2, exit, error);
        Assert.AreEqual($"error: dataset folder {toFile}: a symbolic link to {file}, which is a file; give a folder", error.Trim());
        Assert.IsFalse(Directory.Exists(target));
        CollectionAssert.AreEquivalent(new[] { link, file, toFile }, Directory.GetFileSystemEntries(dir.Path));
    }

    [TestMethod]
    public void HostileInputsToEveryCommandAreOneLineExitTwoAndWriteNothing()
    {
        using var dir = TestPaths.NewTempDir();
        string inputs = Path.Combine(dir.Path, "in"), outputs = Path.Combine(dir.Path, "out");
        Directory.CreateDirectory(inputs);
        Directory.CreateDirectory(outputs);
        string In(string name, byte[] bytes) { string p = Path.Combine(inputs, name); File.WriteAllBytes(p, bytes); return p; }
        var pth = File.ReadAllBytes(TestPaths.Fixture("mlp.pth"));
        var entries = Fuzz.Mutations.ReadZip(pth);
        // A pickle that declares a 2 GB string: {'<2 GB key>': ...}.
        byte[] bigString = [0x80, 0x02, (byte)'}', (byte)'X', .. BitConverter.GetBytes(int.MaxValue), .. "abc"u8.ToArray()];
        string truncated = In("truncated.pth", pth[..(pth.Length / 3)]);
        string huge = In("huge.pth", Fuzz.Mutations.WriteZip(entries.Select(e => e.Name.EndsWith("data.pkl") ? (e.Name, bigString) : e)));
        string arch = In("huge.arch.json", "{\"family\":\"triplane\",\"triplane\":{\"resolution\":1000000,\"channels\":16},\"hidden\":[64],\"outputs\":16}"u8.ToArray());
        string cams = In("cams.json", "{\"camera_angle_x\":0.7,\"frames\":[{\"transform_matrix\":[[1e999,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,0,1]]}]}"u8.ToArray());
        string model = In("model.zip", "PK not really a zip"u8.ToArray());
        string Out(string name) => Path.Combine(outputs, name);
        var cases = new (string Names, string[] Args)[]
        {
            ("truncated.pth", ["convert", truncated, "--out", Out("a.safetensors")]),
            ("huge.pth", ["graph", huge, "--out", Out("g.safetensors")]),
            ("huge.pth", ["describe", huge]),
            ("huge.arch.json", ["graph", TestPaths.Fixture("tri.pth"), "--arch", arch, "--out", Out("g2.safetensors")]),
            ("cams.json", ["render", TestPaths.Fixture("mlp.pth"), "--transforms", cams, "--out", Out("r.png"), "--size", "8"]),
            ("model.zip", ["predict", "--model", model, TestPaths.Fixture("mlp.pth"), "--json", Out("p.json")]),
            ("truncated.pth", ["embed", truncated, "--encoder", TestPaths.Fixture("gmn_encoder_seed0.pth"), "--out", Out("e.safetensors")]),
            ("train.txt", ["train", "--data", inputs, "--out", Out("run")]),
        };
        foreach (var (name, args) in cases)
        {
            var (exit, _, error) = RunWithErrors(args);
            string what = string.Join(' ', args.Take(2).Select(Path.GetFileName));
            Assert.AreEqual(2, exit, $"{what}: {error}");
            var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.AreEqual(1, lines.Length, $"{what}: {error}");
            StringAssert.StartsWith(lines[0], "error: ", what);
            StringAssert.Contains(lines[0], name, what);
            Assert.AreEqual(0, Directory.GetFileSystemEntries(outputs).Length, $"{what} left {string.Join(", ", Directory.GetFileSystemEntries(outputs))}");
        }
    }

    [TestMethod]
    public void ConvertWritesTheFormatItsNameSaysAndRefusesAContradiction()
    {
        using var dir = TestPaths.NewTempDir();
        Assert.AreEqual(0, RunWithErrors("convert", TestPaths.Fixture("tri.pth"), "--out", dir.File("w.pth")).Exit);
        // A .pth name gets the torch.save zip (starts "PK"), not safetensors.
        var head = File.ReadAllBytes(dir.File("w.pth"))[..2];
        CollectionAssert.AreEqual(new byte[] { 0x50, 0x4B }, head);
        var (exit, _, error) = RunWithErrors("convert", TestPaths.Fixture("mlp.pth"), "--out", dir.File("w2.pth"), "--format", "native");
        Assert.AreEqual(2, exit);
        StringAssert.Contains(error, "contradicts the --out name");
        Assert.IsFalse(File.Exists(dir.File("w2.pth")));
    }

    [TestMethod]
    public void WrappedErrorsAreUnwrappedNativeBacktracesCutAndFaultsExitOne()
    {
        string Capture(Func<int> run, out int exit)
        {
            var w = new StringWriter();
            exit = NerfGmn.Demo.Commands.CliErrors.Guard(run, w);
            return w.ToString();
        }
        // As ML.NET's parallel cursor rethrows a row's error.
        var text = Capture(() => throw new InvalidOperationException("cursor failed", new NerfFormatException("b.pth", "not a NeRF weight file")), out int exit);
        Assert.AreEqual(2, exit);
        Assert.AreEqual("error: b.pth: not a NeRF weight file", text.Trim());
        text = Capture(() => throw new AggregateException(new FileNotFoundException("x.zip not found")), out exit);
        Assert.AreEqual(2, exit);
        Assert.AreEqual("error: x.zip not found", text.Trim());
        // libtorch: the first line, not the C++ backtrace.
        text = Capture(() => throw new System.Runtime.InteropServices.ExternalException("shape '[2, 3]' is invalid for input of size 5\nException raised from view_impl at aten/src/ATen/native/TensorShape.cpp:3587 (most recent call first):\nframe #0: c10::Error::Error"), out exit);
        Assert.AreEqual(1, exit, "a libtorch failure is a fault of ours");
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual(2, lines.Length, text);
        Assert.AreEqual("error: shape '[2, 3]' is invalid for input of size 5", lines[0].Trim());
        StringAssert.Contains(lines[1], "please report");
        // A fault of ours (not an input error): exit 1.
        Capture(() => throw new NullReferenceException(), out exit);
        Assert.AreEqual(1, exit);
    }

    public static IEnumerable<object[]> WeightFixtures =>
        Directory.GetFiles(TestPaths.Fixtures, "*.pth").Where(f => !f.Contains("gmn_encoder"))
            .Select(f => new object[] { Path.GetFileNameWithoutExtension(f) });

    [TestMethod]
    [DynamicData(nameof(WeightFixtures))]
    public void GraphCommandWorksOnEveryFixture(string name)
    {
        using var dir = TestPaths.NewTempDir();
        var (exit, output) = Run("graph", TestPaths.Fixture(name + ".pth"), "--out", dir.File("g.safetensors"));
        Assert.AreEqual(0, exit, output);
        var graph = ParameterGraph.Load(dir.File("g.safetensors"));
        StringAssert.Contains(output, $"nodes {graph.NodeCount}");
        StringAssert.Contains(output, $"edges {graph.EdgeCount}");
        string expected = TestPaths.Fixture(name + ".graph.safetensors");
        if (File.Exists(expected))
        {
            var reference = ParameterGraph.Load(expected);
            CollectionAssert.AreEqual(reference.X, graph.X);
            CollectionAssert.AreEqual(reference.EdgeIndex, graph.EdgeIndex);
        }
    }

    [TestMethod]
    public void BadInputExitsWithTwoAndOneLine()
    {
        using var dir = TestPaths.NewTempDir();
        var (exit, _) = Run("graph", dir.File("missing.pth"), "--out", dir.File("g.safetensors"));
        Assert.AreEqual(2, exit);
        Assert.IsFalse(File.Exists(dir.File("g.safetensors")));

        // (The message goes through Spectre.Console, which this redirect does not capture.)
        Assert.AreEqual(2, Run("dataset", "probe", dir.File("no-such-dataset")).Exit, "a missing dataset folder is an input error, not a crash");
        Assert.AreEqual(2, Run("dataset", "probe", TestPaths.MiniDataset, "--gallery", "val").Exit, "no architecture has both splits");
        Assert.AreEqual(2, Run("probe-decoder", dir.Path).Exit, "a folder that is not a training run is an input error");
    }

    /// <summary>The decoder's size options of <c>train</c>: a size no decoder can have is refused by the option's name before any work.</summary>
    [TestMethod]
    [DataRow("--decoder-width", "0", "decoder width must be 1..4096, got 0")]
    [DataRow("--decoder-layers", "-1", "decoder hidden layers on each side of the skip must be 0..16, got -1 before and -1 after")]
    public void TrainRefusesADecoderSizeNoDecoderCanHave(string option, string value, string message)
    {
        using var dir = TestPaths.NewTempDir();
        string run = dir.File("run");
        var (exit, _, error) = RunWithErrors("train", "--data", TestPaths.MiniDataset, "--loss", "l_field", "--out", run, option, value);
        Assert.AreEqual(2, exit, error);
        Assert.AreEqual($"error: {message}", error.Trim());
        Assert.IsFalse(Directory.Exists(run), "a refused run leaves no folder");
    }

    [TestMethod]
    public void CleanLayoutChangesOnlyPositions()
    {
        using var dir = TestPaths.NewTempDir();
        Assert.AreEqual(0, Run("graph", TestPaths.Fixture("tv4.pth"), "--layout", "clean", "--out", dir.File("g.safetensors")).Exit);
        var clean = ParameterGraph.Load(dir.File("g.safetensors"));
        var reference = ParameterGraph.Load(TestPaths.Fixture("tv4.graph.safetensors"));
        CollectionAssert.AreEqual(reference.EdgeIndex, clean.EdgeIndex);
        CollectionAssert.AreNotEqual(reference.EdgeAttr, clean.EdgeAttr);
    }

    [TestMethod]
    public void BenchWritesTheIssueJsonNamesWithPerFamilyNormalisation()
    {
        using var dir = TestPaths.NewTempDir();
        var (exit, output) = Run("bench", "--suite", "encoder", "--families", "mlp", "--encoders", "cpu", "--runs", "1", "--out", dir.File("bench.json"));
        Assert.AreEqual(0, exit, output);
        var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir.File("bench.json"))).RootElement;
        double ms = json.GetProperty("encoder_cpu_preset.mlp.fwd_ms_per_graph").GetDouble();
        double gflops = json.GetProperty("encoder_cpu_preset.mlp.matmul_gflops").GetDouble();
        Assert.IsTrue(ms > 0 && gflops > 0);
        Assert.AreEqual(ms * gflops / 1000, json.GetProperty("encoder_cpu_preset.mlp.fwd_normalized").GetDouble(), 0.01 + 1e-3 * ms * gflops / 1000);
        foreach (var key in new[] { "encoder_cpu_preset.mlp.train_ms_per_graph", "matmul_gflops", "peak_rss_mb", "encoder_cpu_preset.parameters" })
            Assert.IsTrue(json.TryGetProperty(key, out _), key);
    }

    [TestMethod]
    public void DemoRunsThePipelineEndToEndOnAFewClasses()
    {
        using var dir = TestPaths.NewTempDir();
        var (exit, output) = Run("demo", "--classes", "airplane,chair,table", "--budget", "4", "--out", dir.Path);
        Assert.AreEqual(0, exit, output);
        string report = File.ReadAllText(dir.File("report.md"));
        foreach (var (arch, seen) in new[] { ("mlp", "yes"), ("triplane", "yes"), ("hash", "no"), ("mlp_32h", "no"), ("triplane_8c", "no") })
            StringAssert.Contains(report, $"| {arch} | {seen} | 6 |", $"classification row for {arch}");
        StringAssert.Contains(report, "| mlp | triplane |");
        foreach (var png in new[] { "embeddings.png", "retrieval.png" })
            CollectionAssert.AreEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(dir.File(png)).Take(4).ToArray(), png);

        // The saved pipeline loads in a fresh context and classifies a NeRF of an architecture the classifier never saw.
        var ml = new Microsoft.ML.MLContext(seed: 0);
        var model = ml.Model.Load(dir.File("nerf-classifier.zip"), out var schema);
        var hash = new NerfGmn.Datasets.DatasetLayout(TestPaths.MiniDataset).Entries("test", ["hash"]).First(e => e.Class == "chair");
        var row = new NerfGmn.Demo.Commands.DemoCommand.NerfRow { Path = hash.WeightsPath, Label = "", Object = hash.ObjectKey, Arch = "hash" };
        var engine = ml.Model.CreatePredictionEngine<NerfGmn.Demo.Commands.DemoCommand.NerfRow, NerfGmn.Demo.Commands.DemoCommand.Scored>(model, schema);
        var predicted = engine.Predict(row).PredictedLabel;
        CollectionAssert.Contains(new[] { "airplane", "chair", "table" }, predicted);
    }
}

[TestClass]
[DoNotParallelize]
public class EmbedCommandTests
{
    [TestMethod]
    public void EmbedsADatasetSplitWithTheReferenceEncoder()
    {
        using var dir = TestPaths.NewTempDir();
        string mini = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "datasets", "shapes13-mini"));
        if (!Directory.Exists(mini)) Assert.Inconclusive($"bundled dataset not found at {mini}");
        var entry = typeof(NerfGmn.Demo.Commands.GraphCommand).Assembly.EntryPoint!;
        int exit = (int)entry.Invoke(null, [new[] { "embed", mini, "--split", "test", "--archs", "mlp",
            "--encoder", TestPaths.Fixture("gmn_encoder_seed0.pth"), "--out", dir.File("emb.safetensors") }])!;
        Assert.AreEqual(0, exit);
        var file = NerfGmn.IO.SafeTensorsFile.Read(dir.File("emb.safetensors"));
        var emb = file.Tensors["embeddings"];
        CollectionAssert.AreEqual(new long[] { 26, 1024 }, emb.Shape, "13 classes × 2 test objects, MLP only");
        var ids = System.Text.Json.JsonSerializer.Deserialize<string[]>(file.Metadata["ids"])!;
        StringAssert.StartsWith(ids[0], "mlp/airplane/");
        var lines = File.ReadAllLines(dir.File("emb.csv"));
        Assert.AreEqual(27, lines.Length);
        Assert.AreEqual(4 + 1024, lines[1].Split(',').Length);
        // Same numbers as embedding the first NeRF directly.
        var (encoder, _) = NerfGmn.Encoder.EncoderCheckpoint.Load(TestPaths.Fixture("gmn_encoder_seed0.pth"));
        string first = Path.Combine(mini, ids[0], "nerf_weights.safetensors");
        var direct = encoder.Embed([NerfGmn.Graphs.ParameterGraphBuilder.Build(NerfGmn.IO.NerfWeightsFile.Read(first))])[0];
        var stored = emb.ToFloats()[..1024];
        for (int k = 0; k < 1024; k++) Assert.AreEqual(direct[k], stored[k], 1e-5f, $"dim {k}");
    }

}
