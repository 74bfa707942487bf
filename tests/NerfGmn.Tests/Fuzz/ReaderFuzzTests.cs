using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.ML;
using NerfGmn.Architectures;
using NerfGmn.Encoder;
using NerfGmn.IO;
using NerfGmn.MLNet;
using NerfGmn.Rendering;
using static NerfGmn.Tests.Fuzz.Mutations;

namespace NerfGmn.Tests.Fuzz;

/// <summary>
/// Every reader against generated broken variants of a valid file. Each variant must either read or fail with
/// <see cref="NerfFormatException"/>; any other exception fails the test with the variant named, and a variant that
/// crashed the process would take the test host down with it.
/// </summary>
[TestClass]
public class ReaderFuzzTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>Writes each variant to a file with <paramref name="extension"/> and reads it; returns the number of cases.</summary>
    int Check(string reader, IEnumerable<(string Name, byte[] Bytes)> variants, string extension, Action<string> read)
    {
        using var dir = TestPaths.NewTempDir();
        var wrong = new List<string>();
        int cases = 0, refused = 0;
        foreach (var (name, bytes) in variants)
        {
            string path = dir.File($"case{cases++}{extension}");
            File.WriteAllBytes(path, bytes);
            try { read(path); }
            catch (NerfFormatException e)
            {
                refused++;
                if (e.FilePath is not null && !e.Message.Contains(path) && !e.Message.Contains(Path.GetFileName(path)))
                    wrong.Add($"{name}: the error does not name the file: {e.Message}");
            }
            catch (Exception e) { wrong.Add($"{name}: {e.GetType().Name}: {e.Message.Split('\n')[0]}"); }
            File.Delete(path);
        }
        TestContext.WriteLine($"{reader}: {cases} cases, {refused} refused with NerfFormatException, {cases - refused - wrong.Count(w => !w.Contains("does not name"))} read");
        Assert.AreEqual(0, wrong.Count, $"{reader}: {wrong.Count} of {cases} variants failed untyped:\n{string.Join("\n", wrong.Take(10))}");
        return cases;
    }

    static IEnumerable<(string, byte[])> Generic(byte[] bytes, int seed) =>
        Truncations(bytes).Concat(Flips(bytes, 40, seed)).Concat(Stamps(bytes, Positions(bytes.Length, 30, seed + 1), seed + 2));

    [TestMethod]
    public void TorchSaveCheckpoints()
    {
        var pth = File.ReadAllBytes(TestPaths.Fixture("tri.pth"));
        int n = Check("pth (zip bytes)", Generic(pth, 1), ".pth", p => NerfWeightsFile.Read(p));

        // The pickle inside, re-zipped intact: the zip's CRCs no longer shield the unpickler.
        var entries = ReadZip(pth);
        int pkl = entries.FindIndex(e => e.Name.EndsWith("data.pkl"));
        var pickle = entries[pkl].Data;
        byte[] With(byte[] newPickle) => WriteZip(entries.Select((e, i) => i == pkl ? (e.Name, newPickle) : e));
        // Length and integer opcodes (BINUNICODE 'X', BININT 'J') followed by a huge value, where lengths, storage sizes and shapes live.
        var fields = Enumerable.Range(0, pickle.Length - 1).Where(i => pickle[i] is (byte)'X' or (byte)'J').Select(i => i + 1);
        var pickleVariants = Truncations(pickle).Concat(Flips(pickle, 60, 3)).Concat(Stamps(pickle, fields, 4))
            .Concat(Stamps(pickle, Positions(pickle.Length, 30, 5), 6))
            .Select(v => ("pickle " + v.Name, With(v.Bytes)));
        n += Check("pth (pickle inside)", pickleVariants, ".pth", p => NerfWeightsFile.Read(p));

        // Tensor storages shorter than the pickle says.
        var storages = entries.Select((e, i) => (e, i)).Where(x => x.e.Name.Contains("/data/")).ToList();
        var cut = storages.SelectMany(s => new[] { 0, 1, s.e.Data.Length / 2, s.e.Data.Length - 1 }.Where(len => len >= 0 && len < s.e.Data.Length).Distinct().Select(len =>
            ($"storage {s.e.Name} cut to {len} bytes", WriteZip(entries.Select((e, i) => i == s.i ? (e.Name, e.Data[..len]) : e)))));
        n += Check("pth (storages)", cut, ".pth", p => NerfWeightsFile.Read(p));

        // The sparse occupancy grid.
        n += Check("grid.pth", Generic(File.ReadAllBytes(TestPaths.Fixture("nerf_scene/grid.pth")), 7), ".pth", p => OccupancyGrid.Load(p));
        TestContext.WriteLine($"torch.save checkpoints: {n} cases");
    }

    [TestMethod]
    public void SafetensorsWeightFiles()
    {
        using var dir = TestPaths.NewTempDir();
        NerfWeightsFile.WriteNative(NerfWeightsFile.Read(TestPaths.Fixture("hash.pth")), dir.File("w.safetensors"));
        var bytes = File.ReadAllBytes(dir.File("w.safetensors"));
        int n = Check("safetensors (bytes)", Generic(bytes, 11).Concat(Stamps(bytes, [0, 4], 12)), ".safetensors", p => NerfWeightsFile.Read(p));

        // Header fields rewritten: shapes that overflow, offsets outside the data, unknown dtypes, non-string metadata.
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength))!.AsObject();
        var data = bytes[(8 + (int)headerLength)..];
        byte[] WithHeader(JsonObject h)
        {
            var text = Encoding.UTF8.GetBytes(h.ToJsonString());
            return [.. BitConverter.GetBytes((ulong)text.Length), .. text, .. data];
        }
        var edits = new List<(string, byte[])>();
        foreach (var name in header.Select(kv => kv.Key).ToList())
        {
            if (name == "__metadata__")
            {
                foreach (var key in header[name]!.AsObject().Select(kv => kv.Key).ToList())
                {
                    var h = header.DeepClone().AsObject();
                    h[name]![key] = 12345;
                    edits.Add(($"metadata '{key}' a number", WithHeader(h)));
                    h = header.DeepClone().AsObject();
                    h[name]![key] = "{\"name\":\"x\",\"family\":\"hash\",\"hash\":{\"levels\":1000000000,\"features\":2,\"log2_table\":30}}";
                    edits.Add(($"metadata '{key}' a hostile descriptor", WithHeader(h)));
                }
                continue;
            }
            foreach (var (what, value) in new (string, JsonNode)[]
            {
                ("shape", new JsonArray(1L << 31, 1L << 31, 1L << 31)), ("shape", new JsonArray(-1)), ("shape", new JsonArray(1L << 62, 4)),
                ("shape", new JsonArray(Enumerable.Range(0, 40).Select(_ => (JsonNode?)2).ToArray())), ("data_offsets", new JsonArray(0, 1L << 62)),
                ("data_offsets", new JsonArray(-8, 8)), ("data_offsets", new JsonArray(1)), ("dtype", "Q7"), ("dtype", 3), ("shape", "big"),
            })
            {
                var h = header.DeepClone().AsObject();
                h[name]![what] = value.DeepClone();
                edits.Add(($"'{name}' {what} = {value.ToJsonString()}", WithHeader(h)));
            }
        }
        n += Check("safetensors (header)", edits, ".safetensors", p => NerfWeightsFile.Read(p));

        // Parameter-graph files: the same container with graph tensors, also with the integer and float tensors swapped.
        var graph = File.ReadAllBytes(TestPaths.Fixture("tri.graph.safetensors"));
        ulong graphHeaderLength = BinaryPrimitives.ReadUInt64LittleEndian(graph);
        string graphHeader = Encoding.UTF8.GetString(graph, 8, (int)graphHeaderLength);
        var swapped = Encoding.UTF8.GetBytes(graphHeader.Replace("\"I64\"", "\"F64\""));
        n += Check("graph file", Generic(graph, 13).Append(("integer tensors declared F64", [.. graph[..8], .. swapped, .. graph[(8 + (int)graphHeaderLength)..]])),
            ".safetensors", p => Graphs.ParameterGraph.Load(p));
        TestContext.WriteLine($"safetensors: {n} cases");
    }

    [TestMethod]
    public void ArchitectureDescriptors()
    {
        var text = File.ReadAllBytes(TestPaths.Fixture("tri.arch.json"));
        const string mlp = "\"family\":\"mlp\",\"encoding\":{\"type\":\"frequency\",\"n_frequencies\":24}";
        var hostile = new[]
        {
            "null", "[]", "{}", "{\"family\":\"triplane\",\"triplane\":{\"resolution\":1000000,\"channels\":16},\"hidden\":[64],\"outputs\":16}",
            "{\"family\":\"triplane\",\"triplane\":{\"resolution\":65536,\"channels\":65536},\"hidden\":[64],\"outputs\":16}",
            "{" + mlp + ",\"hidden\":[1000000,1000000],\"outputs\":16}", "{" + mlp + ",\"hidden\":[65536,65536,65536],\"outputs\":65536}",
            "{" + mlp + ",\"hidden\":" + "[" + string.Join(",", Enumerable.Repeat(16, 1000)) + "],\"outputs\":16}",
            "{" + mlp + ",\"linear_layers\":[[16]]}", "{" + mlp + ",\"linear_layers\":[null]}", "{" + mlp + ",\"hidden\":null}",
            "{" + mlp + ",\"linear_layers\":[[2147483647,2147483647]]}", "{" + mlp + ",\"hidden\":[-5],\"outputs\":16}",
            "{\"family\":\"hash\",\"encoding\":{\"type\":\"hash\"},\"hash\":{\"levels\":1000000000,\"features\":2,\"log2_table\":12,\"base_resolution\":16,\"max_resolution\":512},\"hidden\":[64],\"outputs\":16}",
            "{\"family\":\"hash\",\"encoding\":{\"type\":\"hash\"},\"hash\":{\"levels\":64,\"features\":1024,\"log2_table\":30,\"base_resolution\":16,\"max_resolution\":512},\"hidden\":[64],\"outputs\":16}",
            "{\"family\":\"hash\",\"encoding\":{\"type\":\"hash\"},\"hash\":{\"levels\":4,\"features\":2,\"log2_table\":12,\"base_resolution\":16,\"max_resolution\":2147483647},\"hidden\":[64],\"outputs\":16}",
            "{\"family\":\"hash\",\"encoding\":{\"type\":\"hash\"},\"hash\":{\"levels\":2,\"features\":2,\"log2_table\":12,\"base_resolution\":16,\"max_resolution\":64,\"table_sizes\":[2147483647,2147483647]},\"hidden\":[64],\"outputs\":16}",
            "{\"family\":\"mlp\",\"encoding\":{\"type\":\"frequency\",\"n_frequencies\":100000000},\"hidden\":[64],\"outputs\":16}",
            "{\"family\":7}", "{\"aabb\":[0,0,0]}", "{\"aabb\":\"x\"}",
        }.Select((j, i) => ($"hostile descriptor {i}: {j[..Math.Min(60, j.Length)]}", Encoding.UTF8.GetBytes(j)));
        int n = Check("descriptor", Truncations(text).Concat(Flips(text, 40, 21)).Concat(hostile), ".arch.json", p => NerfArchitecture.Load(p));
        TestContext.WriteLine($"descriptors: {n} cases");
    }

    [TestMethod]
    public void CameraFilesAndImages()
    {
        var cams = File.ReadAllBytes(TestPaths.Fixture("nerf_scene/transforms_train.json"));
        var hostile = new[]
        {
            "{\"camera_angle_x\":1e999,\"frames\":[]}", "{\"camera_angle_x\":-1,\"frames\":[{\"transform_matrix\":[[1,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,0,1]]}]}",
            "{\"camera_angle_x\":0.7,\"frames\":[{\"transform_matrix\":[[1e999,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,0,1]]}]}",
            "{\"camera_angle_x\":0.7,\"frames\":[{\"transform_matrix\":[[1,0,0],[0,1,0],[0,0,1]]}]}",
            "{\"camera_angle_x\":0.7,\"frames\":[{\"transform_matrix\":[1,2,3]}]}", "{\"camera_angle_x\":0.7,\"frames\":{}}",
            "{\"camera_angle_x\":\"wide\",\"frames\":[]}", "{\"camera_angle_x\":0.7,\"frames\":[null]}", "[]", "null",
        }.Select((j, i) => ($"hostile camera file {i}", Encoding.UTF8.GetBytes(j)));
        int n = Check("transforms JSON", Truncations(cams).Concat(Flips(cams, 30, 31)).Concat(hostile), ".json", p => CameraSet.Load(p));

        var png = File.ReadAllBytes(Directory.GetFiles(TestPaths.Fixture("nerf_scene/train"), "*.png")[0]);
        // IHDR width and height (big-endian at bytes 16 and 20), with the chunk's CRC recomputed and not.
        var sizes = new List<(string, byte[])>();
        foreach (var (w, h) in new[] { (int.MaxValue, int.MaxValue), (1 << 16, 1 << 16), (0, 64), (100_000, 1) })
        {
            var b = (byte[])png.Clone();
            BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(16), w);
            BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(20), h);
            sizes.Add(($"IHDR {w}×{h}, stale CRC", (byte[])b.Clone()));
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(29), Crc32(b.AsSpan(12, 17)));
            sizes.Add(($"IHDR {w}×{h}", b));
        }
        n += Check("PNG", Truncations(png).Concat(Flips(png, 30, 32)).Concat(sizes), ".png", p => RgbaImage.Load(p));
        TestContext.WriteLine($"cameras and images: {n} cases");
    }

    /// <summary>PNG's chunk CRC (ISO 3309).</summary>
    static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }

    [TestMethod]
    public void EncoderCheckpointsAndModelZips()
    {
        TorchSharp.torch.random.manual_seed(3);
        using var gmn = new GraphMetaNetwork(GmnPresets.Small);
        var bytes = EncoderCheckpoint.ToBytes(gmn, Graphs.TriplanePositionLayout.Reference, "fuzz");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength))!.AsObject();
        var data = bytes[(8 + (int)headerLength)..];
        var options = new (string, string)[]
        {
            ("hidden_dim 10^6", "{\"HiddenDim\":1000000}"), ("layers 10^6", "{\"Layers\":1000000}"), ("output 2^31-1", "{\"OutputDim\":2147483647}"),
            ("not JSON", "{{"), ("null", "null"), ("negative d", "{\"HiddenDim\":-4}"), ("probes 10^7", "{\"ProbePoints\":10000000}"),
        }.Select(o =>
        {
            var h = header.DeepClone().AsObject();
            h["__metadata__"]!["gmn"] = o.Item2;
            var text = Encoding.UTF8.GetBytes(h.ToJsonString());
            return ($"gmn options {o.Item1}", (byte[])[.. BitConverter.GetBytes((ulong)text.Length), .. text, .. data]);
        });
        int n = Check("encoder checkpoint", Truncations(bytes, 12).Concat(Flips(bytes, 20, 41)).Concat(options), ".safetensors",
            p => EncoderCheckpoint.Load(p).Encoder.Dispose());

        var ml = new MLContext(seed: 0);
        using var dir = TestPaths.NewTempDir();
        var rows = MLNet.MLNetTestData.Rows("train", "mlp").Take(1).ToArray();
        var view = ml.Data.LoadFromEnumerable(rows);
        ml.Model.Save(ml.Transforms.NerfEmbedding("Features", "Path", MLNet.MLNetTestData.Options).Fit(view), view.Schema, dir.File("m.zip"));
        var zip = File.ReadAllBytes(dir.File("m.zip"));
        n += Check("model zip", Truncations(zip, 8).Concat(Flips(zip, 12, 42)), ".zip", p => ml.Model.LoadNerfModel(p, out _));
        TestContext.WriteLine($"encoders and model zips: {n} cases");
    }

    [TestMethod]
    public void DatasetFiles()
    {
        using var dir = TestPaths.NewTempDir();
        var layout = new Datasets.DatasetLayout(dir.Path);
        var splits = new[] { "../../etc/passwd", "a/b/c", "chair", "chair/..", "/obj", "chair/\0x", new string('x', 100_000) };
        int cases = 0;
        foreach (var line in splits)
        {
            File.WriteAllText(layout.SplitFile("test"), "chair/obj_000\n" + line + "\n");
            var e = Assert.ThrowsExactly<NerfFormatException>(() => layout.ReadSplit("test"), line[..Math.Min(line.Length, 20)]);
            StringAssert.Contains(e.Message, "line 2");
            cases++;
        }
        foreach (var settings in new[] { "{\"SharedInit\":\"yes\"}", "{\"SharedInit\":true,\"Seed\":1e99}", "[1]", "{", "null" })
        {
            File.WriteAllText(Path.Combine(dir.Path, "build.json"), settings);
            Assert.ThrowsExactly<NerfFormatException>(() => Datasets.SharedInitialization.OfDataset(dir.Path), settings);
            cases++;
        }
        TestContext.WriteLine($"dataset files: {cases} cases");
    }
}
