using System.Text.Json;
using System.Text.Json.Serialization;

namespace NerfGmn.Architectures;

/// <summary>
/// Architecture descriptor of a NeRF: encoding, optional tri-plane or hash grid, bias-free (or biased) MLP, scene box.
/// The JSON form is a superset of the reference fixtures' <c>&lt;name&gt;.arch.json</c>.
/// </summary>
public sealed record NerfArchitecture
{
    public string Name { get; init; } = "nerf";
    public string Family { get; init; } = NerfFamily.Mlp;
    public EncodingSpec Encoding { get; init; } = new();
    public TriplaneSpec? Triplane { get; init; }
    public HashGridSpec? Hash { get; init; }
    /// <summary>Fan-in of the first Linear.</summary>
    public int InputDim { get; init; }
    public int[] Hidden { get; init; } = [];
    /// <summary>Rows of the last matrix (tcnn pads 4 outputs to 16).</summary>
    public int Outputs { get; init; }
    public int? UsedOutputs { get; init; }
    public bool Bias { get; init; }
    public string Activation { get; init; } = NerfActivation.Relu;
    /// <summary>[out, in] of each Linear; derived from input_dim/hidden/outputs when absent.</summary>
    public int[][]? LinearLayers { get; init; }
    public float[]? Aabb { get; init; }
    public JsonElement? File { get; init; }
    public GraphCounts? Graph { get; init; }
    public string? Init { get; init; }
    public int? Seed { get; init; }

    /// <summary>The [out, in] shape of every Linear, in order.</summary>
    public IReadOnlyList<(int Out, int In)> Layers()
    {
        if (LinearLayers is { Length: > 0 })
            return LinearLayers.Select(l => (l[0], l[1])).ToArray();
        var sizes = new List<int> { InputDim };
        sizes.AddRange(Hidden);
        sizes.Add(Outputs);
        return Enumerable.Range(0, sizes.Count - 1).Select(i => (sizes[i + 1], sizes[i])).ToArray();
    }

    /// <summary>Scene box (min xyz, max xyz); ±0.7 when not given.</summary>
    public float[] SceneBox => Aabb ?? [-0.7f, -0.7f, -0.7f, 0.7f, 0.7f, 0.7f];

    /// <summary>Number of MLP weights in the flat tcnn vector (plus biases when <see cref="Bias"/>).</summary>
    public int MlpParameterCount => Layers().Sum(l => l.Out * l.In + (Bias ? l.Out : 0));

    /// <summary>Width of the (unpadded) encoding output that feeds the MLP.</summary>
    public int EncodingOutputDims => Encoding.Type switch
    {
        EncodingType.Frequency => Encoding.InputDims * 2 * (Encoding.NFrequencies ?? 0),
        EncodingType.Hash => Hash is null ? 0 : Hash.Levels * Hash.Features,
        _ => Encoding.OutputDims ?? 0,
    };

    /// <summary>
    /// Checks every size against <see cref="IO.InputLimits"/> with 64-bit arithmetic, before anything derived from the
    /// descriptor (table sizes, weights, graphs) is computed or allocated.
    /// </summary>
    public NerfArchitecture CheckLimits(string? source = null)
    {
        void Fail(string problem) => throw new NerfFormatException(source, $"architecture '{Name}': {problem}");
        static bool Within(long v, long max) => v >= 0 && v <= max;
        const int maxWidth = IO.InputLimits.MaxLayerWidth;

        if (LinearLayers is { } given)
        {
            if (given.Length > IO.InputLimits.MaxLayers) Fail($"{given.Length} linear layers (limit {IO.InputLimits.MaxLayers})");
            if (given.Any(l => l is not { Length: 2 })) Fail("every linear_layers entry must be [out, in]");
        }
        if (Hidden is null || Hidden.Length > IO.InputLimits.MaxLayers) Fail($"hidden must list at most {IO.InputLimits.MaxLayers} widths");
        var widths = (LinearLayers ?? []).SelectMany(l => l).Concat(Hidden!).Append(InputDim).Append(Outputs)
            .Append(Encoding.OutputDims ?? 0).Append(Hash?.PaddedFeatures ?? 0);
        if (widths.Any(w => !Within(w, maxWidth))) Fail($"a layer width outside 0..{maxWidth}");
        if (Encoding.NFrequencies is < 0 or > 64 || Encoding.InputDims is < 0 or > 16) Fail("encoding n_frequencies must be 0..64 and input_dims 0..16");

        long parameters = 0;
        try
        {
            foreach (var (o, i) in Layers()) parameters = checked(parameters + (long)o * i + (Bias ? o : 0));
            if (Triplane is { } t)
            {
                if (!Within(t.Resolution, IO.InputLimits.MaxTriplaneResolution) || !Within(t.Channels, IO.InputLimits.MaxGridChannels))
                    Fail($"tri-plane resolution {t.Resolution} or channels {t.Channels} beyond the limits ({IO.InputLimits.MaxTriplaneResolution}, {IO.InputLimits.MaxGridChannels})");
                parameters = checked(parameters + 3L * t.Resolution * t.Resolution * t.Channels);
            }
            if (Hash is { } h)
            {
                if (!Within(h.Levels, IO.InputLimits.MaxHashLevels) || !Within(h.Features, IO.InputLimits.MaxGridChannels)
                    || h.Log2Table is < 0 or > 30 || !Within(h.BaseResolution, 1 << 20) || !Within(h.MaxResolution, 1 << 20))
                    Fail($"hash grid levels {h.Levels}, features {h.Features}, log2_table {h.Log2Table} or resolutions {h.BaseResolution}..{h.MaxResolution} beyond the limits");
                if (h.TableSizes is { } sizes && (sizes.Length > IO.InputLimits.MaxHashLevels || sizes.Any(z => z < 0)))
                    Fail("hash table_sizes must list at most one non-negative size per level");
                long entries = h.TableSizes is { } ts ? ts.Sum(z => (long)z) : (long)h.Levels << h.Log2Table;
                parameters = checked(parameters + entries * h.Features);
            }
        }
        catch (OverflowException) { parameters = long.MaxValue; }
        if (parameters > IO.InputLimits.MaxNerfParameters)
            Fail($"{(parameters == long.MaxValue ? "more than 2^63" : parameters.ToString("N0"))} parameters (limit {IO.InputLimits.MaxNerfParameters:N0})");
        return this;
    }

    /// <summary>Checks internal consistency; throws <see cref="NerfFormatException"/> naming the problem.</summary>
    public NerfArchitecture Validate(string? source = null)
    {
        void Fail(string problem) => throw new NerfFormatException(source, $"architecture '{Name}': {problem}");

        if (!NerfFamily.All.Contains(Family)) Fail($"unknown family '{Family}' (expected {string.Join(", ", NerfFamily.All)})");
        if (!EncodingType.All.Contains(Encoding.Type)) Fail($"unknown encoding type '{Encoding.Type}'");
        if (Activation is not (NerfActivation.Relu or NerfActivation.Sine)) Fail($"unknown activation '{Activation}' (relu or sine)");
        var layers = Layers();
        if (layers.Count == 0) Fail("no linear layers");
        foreach (var (o, i) in layers)
            if (o <= 0 || i <= 0) Fail($"linear layer [{o}, {i}] has a non-positive size");
        for (int k = 1; k < layers.Count; k++)
            if (layers[k].In != layers[k - 1].Out)
                Fail($"linear layer {k} takes {layers[k].In} inputs but layer {k - 1} gives {layers[k - 1].Out}");

        if (Encoding.Type == EncodingType.Frequency && (Encoding.NFrequencies is not > 0 || Encoding.InputDims != 3))
            Fail("a frequency encoding needs n_frequencies > 0 and input_dims 3");

        int expectedIn;
        switch (Family)
        {
            case NerfFamily.Triplane:
                if (Triplane is null) Fail("family 'triplane' needs a 'triplane' section");
                if (Triplane!.Resolution < 2 || Triplane.Channels < 1) Fail("tri-plane resolution must be >= 2 and channels >= 1");
                if (Triplane.PositionValues is { } pv && pv.Length != Triplane.Resolution)
                    Fail($"triplane.position_values has {pv.Length} values for resolution {Triplane.Resolution}");
                if (Hash is not null) Fail("a tri-plane NeRF cannot also have a hash grid");
                expectedIn = EncodingOutputDims + Triplane.Channels;
                break;
            case NerfFamily.Hash:
                if (Hash is null) Fail("family 'hash' needs a 'hash' section");
                if (Encoding.Type != EncodingType.Hash) Fail("family 'hash' needs encoding type 'hash'");
                if (Hash!.Levels < 1 || Hash.Features < 1 || Hash.Log2Table is < 1 or > 30 || Hash.BaseResolution < 1
                    || Hash.MaxResolution < Hash.BaseResolution)
                    Fail("hash grid needs levels >= 1, features >= 1, 1 <= log2_table <= 30 and base_resolution <= max_resolution");
                if (Hash.PaddedFeatures < Hash.Levels * Hash.Features) Fail("hash padded_features is smaller than levels*features");
                if (Hash.TableSizes is { } ts && ts.Length != Hash.Levels) Fail("hash table_sizes must list one size per level");
                expectedIn = Hash.PaddedFeatures;
                break;
            default:
                if (Triplane is not null || Hash is not null) Fail("family 'mlp' cannot have a tri-plane or hash grid");
                expectedIn = EncodingOutputDims;
                break;
        }
        if (layers[0].In != expectedIn)
            Fail($"the first linear layer takes {layers[0].In} inputs but the encoding gives {expectedIn}");
        if (InputDim != 0 && InputDim != layers[0].In) Fail($"input_dim {InputDim} differs from the first layer's {layers[0].In} inputs");
        if (Aabb is { } box && (box.Length != 6 || box[0] >= box[3] || box[1] >= box[4] || box[2] >= box[5]))
            Fail("aabb must be [minx, miny, minz, maxx, maxy, maxz] with min < max");
        return this;
    }

    // ---- JSON ----

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static NerfArchitecture FromJson(string json, string? source = null)
    {
        NerfArchitecture? arch;
        try
        {
            arch = JsonSerializer.Deserialize<NerfArchitecture>(json, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new NerfFormatException(source, $"invalid architecture JSON: {e.Message}", e);
        }
        if (arch is null) throw new NerfFormatException(source, "architecture JSON is null");
        return arch.CheckLimits(source).Normalize().Validate(source);
    }

    public static NerfArchitecture Load(string path)
    {
        if (!System.IO.File.Exists(path)) throw new NerfFormatException(path, "architecture file not found");
        IO.InputLimits.CheckFileSize(path, IO.InputLimits.MaxMetadataBytes, "architecture file");
        return FromJson(System.IO.File.ReadAllText(path), path);
    }

    public void Save(string path) => IO.AtomicFile.WriteAllText(path, ToJson());

    /// <summary>Fills derivable fields (linear_layers, input_dim, hash table sizes) so that every consumer sees them.</summary>
    public NerfArchitecture Normalize()
    {
        var layers = Layers();
        return this with
        {
            LinearLayers = layers.Select(l => new[] { l.Out, l.In }).ToArray(),
            InputDim = layers.Count > 0 ? layers[0].In : InputDim,
            Hidden = layers.Count > 0 ? layers.Take(layers.Count - 1).Select(l => l.Out).ToArray() : Hidden,
            Outputs = layers.Count > 0 ? layers[^1].Out : Outputs,
            Hash = Hash is null ? null : Hash with { TableSizes = Hash.TableSizes ?? Hash.ComputeTableSizes() },
        };
    }
}

public static class NerfFamily
{
    public const string Mlp = "mlp", Triplane = "triplane", Hash = "hash";
    public static readonly string[] All = [Mlp, Triplane, Hash];
}

public static class NerfActivation
{
    public const string Relu = "relu", Sine = "sine";
}

public static class EncodingType
{
    /// <summary>tcnn Frequency encoding of the box-normalised point.</summary>
    public const string Frequency = "frequency";
    /// <summary>Raw inputs (test networks).</summary>
    public const string None = "none";
    /// <summary>E opaque coordinate inputs (tri-plane test vectors).</summary>
    public const string Identity = "identity";
    /// <summary>Multi-resolution hash grid.</summary>
    public const string Hash = "hash";
    public static readonly string[] All = [Frequency, None, Identity, Hash];
}

public sealed record EncodingSpec
{
    public string Type { get; init; } = EncodingType.Frequency;
    public int? NFrequencies { get; init; }
    public int InputDims { get; init; } = 3;
    public int? OutputDims { get; init; }
    public string? Layout { get; init; }
}

public sealed record TriplaneSpec
{
    public int Resolution { get; init; }
    public int Channels { get; init; }
    public string Aggregation { get; init; } = "sum";
    public string? FileLayout { get; init; }
    /// <summary>float32 values of torch.linspace(-1, 1, R) as the reference used them for edge positions.</summary>
    public float[]? PositionValues { get; init; }
}

public sealed record HashGridSpec
{
    public int Levels { get; init; }
    public int Features { get; init; }
    public int Log2Table { get; init; }
    public int BaseResolution { get; init; }
    public int MaxResolution { get; init; }
    public int PaddedFeatures { get; init; } = 16;
    /// <summary>Entries per level in the flat table (level-major, then entry, then feature).</summary>
    public int[]? TableSizes { get; init; }
    public int[]? LevelResolutions { get; init; }

    /// <summary>tcnn's per-level growth factor.</summary>
    public double PerLevelScale => Levels <= 1 ? 1.0
        : Math.Exp((Math.Log(MaxResolution) - Math.Log(BaseResolution)) / (Levels - 1));

    /// <summary>tcnn grid resolution of level <paramref name="level"/>: ceil(base·s^l − 1) + 1.</summary>
    public int TcnnResolution(int level) =>
        (int)Math.Ceiling((float)(BaseResolution * Math.Pow(PerLevelScale, level) - 1.0)) + 1;

    /// <summary>min(res³, 2^log2T) per level, rounded up to a multiple of 8 (tcnn).</summary>
    public int[] ComputeTableSizes() => Enumerable.Range(0, Levels).Select(l =>
    {
        long res = TcnnResolution(l);
        long size = Math.Min(res * res * res, 1L << Log2Table);
        return (int)((size + 7) / 8 * 8);
    }).ToArray();

    public int TotalEntries => (TableSizes ?? ComputeTableSizes()).Sum();
}

public sealed record GraphCounts
{
    public int Nodes { get; init; }
    public int Edges { get; init; }
}
