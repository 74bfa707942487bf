using System.Collections;
using System.IO.Compression;
using NerfGmn.Architectures;
using NerfGmn.IO;
using NerfGmn.Rendering;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace NerfGmn.Tests;

[TestClass]
public class WeightFileTests
{
    static void AssertSameWeights(NerfWeights a, NerfWeights b)
    {
        Assert.AreEqual(a.Layers.Count, b.Layers.Count);
        for (int k = 0; k < a.Layers.Count; k++)
        {
            CollectionAssert.AreEqual(a.Layers[k].Weight, b.Layers[k].Weight, $"layer {k}");
            CollectionAssert.AreEqual(a.Layers[k].Bias, b.Layers[k].Bias, $"bias {k}");
        }
        CollectionAssert.AreEqual(a.Triplane, b.Triplane);
        CollectionAssert.AreEqual(a.HashTable, b.HashTable);
    }

    [TestMethod]
    [DataRow("mlp"), DataRow("mlp_2l"), DataRow("mlp_32h"), DataRow("tri"), DataRow("tri_2l"), DataRow("tri_32h"),
     DataRow("tri_16w"), DataRow("tri_8c"), DataRow("hash")]
    public void PaperFamiliesAreInferredWithoutADescriptor(string name)
    {
        var withSidecar = NerfWeightsFile.Read(TestPaths.Fixture(name + ".pth"));
        using var dir = TestPaths.NewTempDir();
        File.Copy(TestPaths.Fixture(name + ".pth"), dir.File("nerf_weights.pth"));
        var inferred = NerfWeightsFile.Read(dir.File("nerf_weights.pth"));
        CollectionAssert.AreEqual(withSidecar.Architecture.Layers().ToArray(), inferred.Architecture.Layers().ToArray());
        Assert.AreEqual(withSidecar.Architecture.Family, inferred.Architecture.Family);
        Assert.AreEqual(withSidecar.Architecture.Activation, inferred.Architecture.Activation);
        Assert.AreEqual(withSidecar.Architecture.EncodingOutputDims, inferred.Architecture.EncodingOutputDims);
        AssertSameWeights(withSidecar, inferred);
    }

    [TestMethod]
    public void ReadsTheRealNf2vecLayoutSavedOnCuda()
    {
        var w = NerfWeightsFile.Read(TestPaths.Fixture("nerf_scene/nerf_weights.pth"));
        Assert.AreEqual(NerfFamily.Mlp, w.Architecture.Family);
        Assert.AreEqual(18432, w.ParameterCount);
        // The fit used frequencies 0–9 only: first-layer columns with (j/2) % 24 >= 10 are exactly zero.
        var w0 = w.Layers[0].Weight;
        for (int o = 0; o < 64; o++)
            for (int j = 0; j < 144; j++)
                if (j / 2 % 24 >= 10) Assert.AreEqual(0f, w0[o * 144 + j]);
        Assert.IsTrue(w0.Any(v => v != 0f));
    }

    [TestMethod]
    public void ReadsTheSparseOccupancyGrid()
    {
        var grid = OccupancyGrid.Load(TestPaths.Fixture("nerf_scene/grid.pth"));
        Assert.AreEqual(96, grid.Resolution);
        Assert.AreEqual(60981, grid.OccupiedCount);
        CollectionAssert.AreEqual(new[] { -0.7001953125f, -0.7001953125f, -0.7001953125f, 0.7001953125f, 0.7001953125f, 0.7001953125f }, grid.Roi);
    }

    /// <summary>Save reads the grid back before keeping it; a region off the fp16 grid comes back rounded, as it should.</summary>
    [TestMethod]
    public void AnOccupancyGridSavesAndReadsBackAsItself()
    {
        var occupied = new bool[8 * 8 * 8];
        occupied[0] = occupied[100] = occupied[511] = true;
        var grid = new OccupancyGrid([-0.6f, -0.6f, -0.6f, 0.6f, 0.6f, 0.6f], 8, occupied);
        using var dir = TestPaths.NewTempDir();
        grid.Save(dir.File("grid.pth"));
        var back = OccupancyGrid.Load(dir.File("grid.pth"));
        Assert.AreEqual(8, back.Resolution);
        CollectionAssert.AreEqual(occupied, back.Occupied);
        Assert.AreEqual((float)(Half)0.6f, back.Roi[3]);
        CollectionAssert.AreEqual(new[] { "grid.pth" }, Directory.GetFiles(dir.Path).Select(Path.GetFileName).ToArray(), "no temporary left");
    }

    [TestMethod]
    [DataRow("mlp"), DataRow("tri"), DataRow("hash"), DataRow("tv1"), DataRow("tv3")]
    public void NativeAndPthFormatsRoundTrip(string name)
    {
        var original = NerfWeightsFile.Read(TestPaths.Fixture(name + ".pth"));
        using var dir = TestPaths.NewTempDir();
        NerfWeightsFile.WriteNative(original, dir.File("w.safetensors"));
        var native = NerfWeightsFile.Read(dir.File("w.safetensors"));
        AssertSameWeights(original, native);
        Assert.AreEqual(original.Architecture.ToJson(), native.Architecture.ToJson(), "descriptor travels in the metadata");

        NerfWeightsFile.WritePth(original, dir.File("w.pth"));
        var pth = NerfWeightsFile.Read(dir.File("w.pth"), new NerfLoadOptions { Architecture = original.Architecture });
        AssertSameWeights(original, pth);
    }

    // ---- bad input ----

    static string ReadError(string path, NerfLoadOptions? options = null) =>
        Assert.ThrowsExactly<NerfFormatException>(() => NerfWeightsFile.Read(path, options)).Message;

    [TestMethod]
    public void MissingFileIsNamed()
    {
        StringAssert.Contains(ReadError("no/such/nerf.pth"), "no/such/nerf.pth: file not found");
    }

    [TestMethod]
    public void TruncatedAndCorruptPthFilesAreRejected()
    {
        using var dir = TestPaths.NewTempDir();
        var bytes = File.ReadAllBytes(TestPaths.Fixture("mlp.pth"));
        string truncated = dir.File("truncated.pth");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        string m = ReadError(truncated);
        StringAssert.StartsWith(m, truncated);

        string empty = dir.File("empty.pth");
        File.WriteAllBytes(empty, []);
        StringAssert.Contains(ReadError(empty), "empty or truncated");

        string notZip = dir.File("text.pth");
        File.WriteAllText(notZip, "this is not a checkpoint at all");
        StringAssert.Contains(ReadError(notZip), "not a PyTorch zip checkpoint");

        // Flip bytes inside the pickle: still a zip, but the pickle is garbage.
        string corrupt = dir.File("corrupt.pth");
        WriteZip(corrupt, ("archive/data.pkl", [0x80, 0x02, 0xFF, 0xFE, 0x00, 0x13]), ("archive/version", "3\n"u8.ToArray()));
        StringAssert.Contains(ReadError(corrupt), "opcode 0xff is not one torch.save writes");
    }

    [TestMethod]
    public void MaliciousPicklesAreRefusedWithoutRunningAnything()
    {
        using var dir = TestPaths.NewTempDir();
        // GLOBAL os.system, ('touch <marker>',), REDUCE: Python would run a shell command.
        string marker = dir.File("pwned");
        byte[] cmd = System.Text.Encoding.ASCII.GetBytes("touch " + marker);
        byte[] reduce = [0x80, 0x02, .. "cos\nsystem\n"u8.ToArray(), (byte)'X', .. BitConverter.GetBytes(cmd.Length), .. cmd, 0x85, (byte)'R', (byte)'.'];
        string evil = dir.File("evil.pth");
        WriteZip(evil, ("archive/data.pkl", reduce), ("archive/version", "3\n"u8.ToArray()));
        StringAssert.Contains(ReadError(evil), "not a tensor constructor");
        Assert.IsFalse(File.Exists(marker));

        // {'mlp_base.params': builtins.object()}: an unknown class comes back as a generic object and is refused.
        byte[] objectInDict = [0x80, 0x02, (byte)'}', (byte)'X', .. BitConverter.GetBytes(15), .. "mlp_base.params"u8.ToArray(),
            .. "cbuiltins\nobject\n"u8.ToArray(), (byte)')', (byte)'R', (byte)'s', (byte)'.'];
        string odd = dir.File("object.pth");
        WriteZip(odd, ("archive/data.pkl", objectInDict), ("archive/version", "3\n"u8.ToArray()));
        StringAssert.Contains(ReadError(odd), "refusing to interpret");
    }

    [TestMethod]
    public void WrongShapesForTheDescriptorAreNamed()
    {
        var tri = NerfArchitecture.Load(TestPaths.Fixture("tri.arch.json"));
        StringAssert.Contains(ReadError(TestPaths.Fixture("mlp.pth"), new NerfLoadOptions { Architecture = tri }), "'mlp_base.params' has 18432 values; descriptor 'tri' (304→64→64→64→16) needs 28672");
        var mlp32 = NerfArchitecture.Load(TestPaths.Fixture("mlp_32h.arch.json"));
        StringAssert.Contains(ReadError(TestPaths.Fixture("mlp.pth"), new NerfLoadOptions { Architecture = mlp32 }),
            "'mlp_base.params' has 18432 values; descriptor 'mlp_32h'");
        var tri16 = NerfArchitecture.Load(TestPaths.Fixture("tri_16w.arch.json"));
        StringAssert.Contains(ReadError(TestPaths.Fixture("tri.pth"), new NerfLoadOptions { Architecture = tri16 }),
            "'triplane' has shape [3, 32, 32, 16]; descriptor 'tri_16w' wants [3, 16, 16, 16]");
    }

    [TestMethod]
    public void NonFiniteWeightsAreAnErrorUnlessAllowed()
    {
        var w = NerfWeightsFile.Read(TestPaths.Fixture("mlp.pth"));
        w.Layers[2].Weight[7] = float.NaN;
        using var dir = TestPaths.NewTempDir();
        NerfWeightsFile.WriteNative(w, dir.File("nan.safetensors"));
        StringAssert.Contains(ReadError(dir.File("nan.safetensors")), "linear layer 2 weight has a non-finite value (NaN) at index 7");
        var allowed = NerfWeightsFile.Read(dir.File("nan.safetensors"), new NerfLoadOptions { AllowNonFinite = true });
        Assert.IsTrue(float.IsNaN(allowed.Layers[2].Weight[7]));
    }

    [TestMethod]
    public void UnknownKeysAndDtypesAreRejected()
    {
        using var dir = TestPaths.NewTempDir();
        using var p = randn(18432);
        using var extra = randn(3);
        PyTorchPickler.PickleStateDict(dir.File("extra.pth"), new Hashtable { ["mlp_base.params"] = p, ["decoder.weight"] = extra });
        StringAssert.Contains(ReadError(dir.File("extra.pth")), "unknown entries for descriptor 'mlp': decoder.weight");

        using var ints = zeros(18432, ScalarType.Int64);
        PyTorchPickler.PickleStateDict(dir.File("ints.pth"), new Hashtable { ["mlp_base.params"] = ints });
        StringAssert.Contains(ReadError(dir.File("ints.pth")), "has dtype Int64; NeRF parameters must be floating point");

        SafeTensorsFile.Write(dir.File("ints.safetensors"), new Dictionary<string, SafeTensor> { ["mlp_base.params"] = SafeTensor.FromLongs(new long[18432], 18432) });
        StringAssert.Contains(ReadError(dir.File("ints.safetensors")), "has dtype I64");

        using var odd = randn(1000);
        PyTorchPickler.PickleStateDict(dir.File("odd.pth"), new Hashtable { ["mlp_base.params"] = odd });
        StringAssert.Contains(ReadError(dir.File("odd.pth")), "1000 MLP parameters match no tcnn MLP");
    }

    [TestMethod]
    public void APickleWhoseRootIsNoneIsRejectedByName()
    {
        using var dir = TestPaths.NewTempDir();
        string path = dir.File("none.pth");
        using (var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Create))
        {
            using (var s = zip.CreateEntry("archive/data.pkl").Open()) s.Write([0x80, 0x02, (byte)'N', (byte)'.']);   // pickle.dumps(None, 2)
            using (var s = new StreamWriter(zip.CreateEntry("archive/version").Open())) s.Write("3\n");
        }
        StringAssert.Contains(ReadError(path), "root object is None");
    }

    [TestMethod]
    public void TruncatedSafetensorsAreRejected()
    {
        using var dir = TestPaths.NewTempDir();
        NerfWeightsFile.WriteNative(NerfWeightsFile.Read(TestPaths.Fixture("mlp.pth")), dir.File("w.safetensors"));
        var bytes = File.ReadAllBytes(dir.File("w.safetensors"));
        File.WriteAllBytes(dir.File("cut.safetensors"), bytes[..(bytes.Length - 100)]);
        StringAssert.Contains(ReadError(dir.File("cut.safetensors")), "lies outside the");
        File.WriteAllBytes(dir.File("head.safetensors"), bytes[..20]);
        StringAssert.Contains(ReadError(dir.File("head.safetensors")), "exceeds the file size");
    }

    static void WriteZip(string path, params (string Name, byte[] Data)[] entries)
    {
        using var fs = File.Create(path);
        using var zip = new ZipArchive(fs, ZipArchiveMode.Create);
        foreach (var (name, data) in entries)
        {
            using var s = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
            s.Write(data);
        }
    }
}
