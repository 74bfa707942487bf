using System.Text.Json;
using NerfGmn.Architectures;
using static TorchSharp.torch;

namespace NerfGmn.IO;

/// <summary>How to read a NeRF weight file.</summary>
public sealed record NerfLoadOptions
{
    /// <summary>Descriptor to use instead of the file's own, a sidecar <c>&lt;stem&gt;.arch.json</c> or inference.</summary>
    public NerfArchitecture? Architecture { get; init; }
    /// <summary>Accept NaN/±Inf parameters (rejected by default).</summary>
    public bool AllowNonFinite { get; init; }

    public static readonly NerfLoadOptions Default = new();
}

/// <summary>
/// Reads NeRF weights from gmnerf/nf2vec PyTorch files (<c>.pth</c>/<c>.pt</c>) and from the native format
/// (safetensors with the descriptor in its metadata), and writes both.
/// </summary>
public static class NerfWeightsFile
{
    public const string ArchitectureMetadataKey = "nerfgmn.architecture";
    public const string FormatMetadataKey = "format";
    public const string NativeFormat = "nerfgmn-nerf/1";

    const string MlpParams = "mlp_base.params", TriplaneKey = "triplane", EncodingParams = "encoding.params";

    /// <summary>A tensor as read from a file, widened to float32.</summary>
    sealed record RawTensor(string DType, long[] Shape, float[] Values)
    {
        public string ShapeText => "[" + string.Join(", ", Shape) + "]";
    }

    public static NerfWeights Read(string path, NerfLoadOptions? options = null)
    {
        options ??= NerfLoadOptions.Default;
        if (!File.Exists(path)) throw new NerfFormatException(path, "file not found");
        var (tensors, embeddedArch) = IsSafeTensors(path) ? ReadSafeTensors(path) : (ReadPth(path), null);
        var arch = options.Architecture ?? embeddedArch ?? ReadSidecar(path) ?? Infer(tensors, path);
        arch = arch.Normalize().Validate(path);
        var weights = Assemble(arch, tensors, path);
        if (!options.AllowNonFinite) weights.CheckFinite(path);
        return weights;
    }

    /// <summary>The sidecar descriptor path for a weight file: <c>mlp.pth</c> ↔ <c>mlp.arch.json</c>.</summary>
    public static string SidecarPath(string weightsPath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(weightsPath))!, Path.GetFileNameWithoutExtension(weightsPath) + ".arch.json");

    static NerfArchitecture? ReadSidecar(string path)
    {
        string sidecar = SidecarPath(path);
        return File.Exists(sidecar) ? NerfArchitecture.Load(sidecar) : null;
    }

    static bool IsSafeTensors(string path)
    {
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) return true;
        using var fs = File.OpenRead(path);
        Span<byte> head = stackalloc byte[2];
        return fs.Read(head) == 2 && !(head[0] == 0x50 && head[1] == 0x4B) && !path.EndsWith(".pth", StringComparison.OrdinalIgnoreCase)
               && !path.EndsWith(".pt", StringComparison.OrdinalIgnoreCase);
    }

    static (Dictionary<string, RawTensor>, NerfArchitecture?) ReadSafeTensors(string path)
    {
        var contents = SafeTensorsFile.Read(path);
        var result = new Dictionary<string, RawTensor>(StringComparer.Ordinal);
        foreach (var (name, t) in contents.Tensors)
        {
            if (t.DType is not ("F32" or "F16" or "BF16" or "F64"))
                throw new NerfFormatException(path, $"tensor '{name}' has dtype {t.DType}; NeRF parameters must be floating point");
            result[name] = new RawTensor(t.DType, t.Shape, t.ToFloats());
        }
        NerfArchitecture? arch = contents.Metadata.TryGetValue(ArchitectureMetadataKey, out var json)
            ? NerfArchitecture.FromJson(json, path + " (embedded descriptor)") : null;
        return (result, arch);
    }

    static Dictionary<string, RawTensor> ReadPth(string path)
    {
        var entries = PyTorchCheckpoint.Load(path);
        var result = new Dictionary<string, RawTensor>(StringComparer.Ordinal);
        foreach (var (name, value) in entries)
        {
            if (value is not Tensor t)
                throw new NerfFormatException(path, $"entry '{name}' is a sparse tensor; NeRF parameters must be dense");
            if (!is_floating_point(t))
                throw new NerfFormatException(path, $"entry '{name}' has dtype {t.dtype}; NeRF parameters must be floating point");
            using var f = t.to_type(ScalarType.Float32).contiguous();
            result[name] = new RawTensor(t.dtype.ToString(), t.shape, f.data<float>().ToArray());
            t.Dispose();
        }
        return result;
    }

    // ---- descriptor inference ----

    static NerfArchitecture Infer(Dictionary<string, RawTensor> t, string path)
    {
        string hint = $"; give a descriptor with --arch or a sidecar {Path.GetFileName(SidecarPath(path))}";
        if (t.Keys.Any(k => k.StartsWith("layers.", StringComparison.Ordinal)))
            return InferSequential(t, path);
        if (!t.TryGetValue(MlpParams, out var mlp))
            throw new NerfFormatException(path, $"no '{MlpParams}' entry and no layers.N.weight entries: not a gmnerf/nf2vec NeRF (keys: {string.Join(", ", t.Keys)})");
        if (mlp.Shape.Length != 1) throw new NerfFormatException(path, $"'{MlpParams}' has shape {mlp.ShapeText}, expected a flat vector");
        int p = (int)mlp.Shape[0];

        if (t.TryGetValue(TriplaneKey, out var tri))
        {
            if (tri.Shape.Length != 4 || tri.Shape[0] != 3 || tri.Shape[1] != tri.Shape[2])
                throw new NerfFormatException(path, $"'{TriplaneKey}' has shape {tri.ShapeText}, expected (3, R, R, C)");
            int r = (int)tri.Shape[1], c = (int)tri.Shape[3];
            var (h, n) = InferMlp(p, 288 + c, path, hint);
            return ArchitecturePresets.Triplane(resolution: r, channels: c, hidden: h, hiddenLayers: n, name: "triplane");
        }
        if (t.TryGetValue(EncodingParams, out var enc) && enc.Values.Length > 0)
        {
            var paper = ArchitecturePresets.Hash();
            if (enc.Values.Length != paper.Hash!.TotalEntries * paper.Hash.Features)
                throw new NerfFormatException(path, $"hash table of {enc.Values.Length} values is not the paper's (L=4, F=2, T=2^12 = 32768 values); its configuration cannot be inferred" + hint);
            var (h, n) = InferMlp(p, 16, path, hint);
            return ArchitecturePresets.Hash(hidden: h, hiddenLayers: n, name: "hash");
        }
        var (mh, mn) = InferMlp(p, 144, path, hint);
        return ArchitecturePresets.Mlp(hidden: mh, hiddenLayers: mn, name: "mlp");
    }

    /// <summary>Finds the (width, hidden-layer count) of a tcnn MLP with 16 outputs among common sizes.</summary>
    static (int Hidden, int Layers) InferMlp(int parameters, int inputs, string path, string hint)
    {
        var found = new List<(int, int)>();
        foreach (int h in new[] { 16, 32, 64, 128, 256 })
            for (int n = 1; n <= 4; n++)
                if ((long)h * inputs + (long)(n - 1) * h * h + 16L * h == parameters) found.Add((h, n));
        return found.Count switch
        {
            1 => found[0],
            0 => throw new NerfFormatException(path, $"{parameters} MLP parameters match no tcnn MLP with {inputs} inputs, 1-4 hidden layers of 16-256 units and 16 outputs" + hint),
            _ => throw new NerfFormatException(path, $"{parameters} MLP parameters are ambiguous ({string.Join(" or ", found.Select(f => $"{f.Item2}×{f.Item1}"))})" + hint),
        };
    }

    static NerfArchitecture InferSequential(Dictionary<string, RawTensor> t, string path)
    {
        var layers = new List<int[]>();
        bool? bias = null;
        for (int k = 0; t.TryGetValue($"layers.{k}.weight", out var w); k++)
        {
            if (w.Shape.Length != 2) throw new NerfFormatException(path, $"'layers.{k}.weight' has shape {w.ShapeText}, expected (out, in)");
            layers.Add([(int)w.Shape[0], (int)w.Shape[1]]);
            bool hasBias = t.ContainsKey($"layers.{k}.bias");
            if (bias is not null && bias != hasBias) throw new NerfFormatException(path, "some layers have biases and some do not");
            bias = hasBias;
        }
        if (layers.Count == 0) throw new NerfFormatException(path, "no 'layers.0.weight' entry");
        return new NerfArchitecture
        {
            Name = "sequential",
            Family = NerfFamily.Mlp,
            Encoding = new EncodingSpec { Type = EncodingType.None, OutputDims = layers[0][1] },
            LinearLayers = layers.ToArray(),
            Bias = bias ?? false,
        }.Normalize();
    }

    // ---- tensors → NerfWeights ----

    static NerfWeights Assemble(NerfArchitecture arch, Dictionary<string, RawTensor> t, string path)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        RawTensor Take(string key)
        {
            if (!t.TryGetValue(key, out var v)) throw new NerfFormatException(path, $"missing entry '{key}' required by descriptor '{arch.Name}'");
            used.Add(key);
            return v;
        }

        var shapes = arch.Layers();
        List<LinearWeights> layers;
        if (t.ContainsKey(MlpParams))
        {
            var flat = Take(MlpParams);
            if (flat.Shape.Length != 1) throw new NerfFormatException(path, $"'{MlpParams}' has shape {flat.ShapeText}, expected a flat vector");
            if (flat.Values.Length != arch.MlpParameterCount)
                throw new NerfFormatException(path, $"'{MlpParams}' has {flat.Values.Length} values; descriptor '{arch.Name}' ({string.Join("→", new[] { shapes[0].In }.Concat(shapes.Select(s => s.Out)))}{(arch.Bias ? ", with biases" : "")}) needs {arch.MlpParameterCount}");
            layers = SplitFlat(flat.Values, shapes, arch.Bias);
        }
        else
        {
            layers = new List<LinearWeights>();
            for (int k = 0; k < shapes.Count; k++)
            {
                var w = Take($"layers.{k}.weight");
                if (w.Shape.Length != 2 || w.Shape[0] != shapes[k].Out || w.Shape[1] != shapes[k].In)
                    throw new NerfFormatException(path, $"'layers.{k}.weight' has shape {w.ShapeText}; descriptor '{arch.Name}' wants [{shapes[k].Out}, {shapes[k].In}]");
                float[]? b = null;
                if (arch.Bias)
                {
                    var bt = Take($"layers.{k}.bias");
                    if (bt.Shape.Length != 1 || bt.Shape[0] != shapes[k].Out)
                        throw new NerfFormatException(path, $"'layers.{k}.bias' has shape {bt.ShapeText}; descriptor wants [{shapes[k].Out}]");
                    b = bt.Values;
                }
                layers.Add(new LinearWeights(shapes[k].Out, shapes[k].In, w.Values, b));
            }
        }

        float[]? triplane = null, hash = null;
        if (arch.Triplane is { } tp)
        {
            var tri = Take(TriplaneKey);
            long[] want = [3, tp.Resolution, tp.Resolution, tp.Channels];
            if (!tri.Shape.SequenceEqual(want))
                throw new NerfFormatException(path, $"'{TriplaneKey}' has shape {tri.ShapeText}; descriptor '{arch.Name}' wants [{string.Join(", ", want)}] (plane, row, col, channel)");
            triplane = tri.Values;
            if (t.TryGetValue(EncodingParams, out var e))
            {
                used.Add(EncodingParams);
                if (e.Values.Length != 0) throw new NerfFormatException(path, $"'{EncodingParams}' of a tri-plane NeRF must be empty, has {e.Values.Length} values");
            }
        }
        if (arch.Hash is { } h)
        {
            var table = Take(EncodingParams);
            long want = (long)h.TotalEntries * h.Features;
            if (table.Values.Length != want)
                throw new NerfFormatException(path, $"'{EncodingParams}' has {table.Values.Length} values; descriptor '{arch.Name}' wants {want} (levels {h.Levels}, tables {string.Join("+", h.TableSizes!)}, {h.Features} features)");
            hash = table.Values;
        }
        else if (arch.Triplane is null && t.TryGetValue(EncodingParams, out var e2))
        {
            used.Add(EncodingParams);
            if (e2.Values.Length != 0) throw new NerfFormatException(path, $"'{EncodingParams}' has {e2.Values.Length} values but descriptor '{arch.Name}' has no hash grid");
        }

        var unknown = t.Keys.Where(k => !used.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new NerfFormatException(path, $"unknown entries for descriptor '{arch.Name}': {string.Join(", ", unknown)}");

        var weights = new NerfWeights(arch, layers, triplane, hash) { Source = path };
        weights.CheckShapes(path);
        return weights;
    }

    static List<LinearWeights> SplitFlat(float[] flat, IReadOnlyList<(int Out, int In)> shapes, bool bias)
    {
        var layers = new List<LinearWeights>(shapes.Count);
        int offset = 0;
        foreach (var (o, i) in shapes)
        {
            var w = flat.AsSpan(offset, o * i).ToArray();
            offset += o * i;
            float[]? b = null;
            if (bias)
            {
                b = flat.AsSpan(offset, o).ToArray();
                offset += o;
            }
            layers.Add(new LinearWeights(o, i, w, b));
        }
        return layers;
    }

    /// <summary>The gmnerf state-dict entries of these weights (flat tcnn MLP vector, tri-plane, hash table).</summary>
    static Dictionary<string, (float[] Values, long[] Shape)> StateDict(NerfWeights w)
    {
        var arch = w.Architecture;
        var flat = w.Layers.SelectMany(l => l.Bias is null ? l.Weight : l.Weight.Concat(l.Bias)).ToArray();
        var dict = new Dictionary<string, (float[], long[])>(StringComparer.Ordinal);
        if (w.Triplane is not null)
        {
            var tp = arch.Triplane!;
            dict[TriplaneKey] = (w.Triplane, [3, tp.Resolution, tp.Resolution, tp.Channels]);
            dict[EncodingParams] = ([], [0]);
        }
        if (w.HashTable is not null) dict[EncodingParams] = (w.HashTable, [w.HashTable.Length]);
        dict[MlpParams] = (flat, [flat.Length]);
        return dict;
    }

    /// <summary>Writes the native format: safetensors with the gmnerf tensor names and the descriptor in the metadata.</summary>
    /// <param name="half">Store float16 values (read back widened to float32).</param>
    public static void WriteNative(NerfWeights weights, string path, bool half = false)
    {
        var tensors = StateDict(weights).ToDictionary(kv => kv.Key, kv => half
            ? SafeTensor.FromHalves(kv.Value.Values, kv.Value.Shape)
            : SafeTensor.FromFloats(kv.Value.Values, kv.Value.Shape));
        var meta = new Dictionary<string, string>
        {
            [FormatMetadataKey] = NativeFormat,
            [ArchitectureMetadataKey] = JsonSerializer.Serialize(weights.Architecture, new JsonSerializerOptions(NerfArchitecture.JsonOptions) { WriteIndented = false }),
        };
        SafeTensorsFile.Write(path, tensors, meta);
    }

    /// <summary>Writes a gmnerf-layout <c>torch.save</c> file (readable by <c>torch.load</c>), atomically.</summary>
    public static void WritePth(NerfWeights weights, string path)
    {
        var dict = new System.Collections.Hashtable();
        var tensors = new List<Tensor>();
        foreach (var (name, (values, shape)) in StateDict(weights))
        {
            var t = tensor(values, shape, ScalarType.Float32);
            tensors.Add(t);
            dict[name] = t;
        }
        try { AtomicFile.Write(path, tmp => TorchSharp.PyBridge.PyTorchPickler.PickleStateDict(tmp, dict)); }
        finally
        {
            foreach (var t in tensors) t.Dispose();
        }
    }
}
