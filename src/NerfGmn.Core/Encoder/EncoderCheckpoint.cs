using TorchSharp;
using System.Text.Json;
using NerfGmn.Graphs;
using NerfGmn.IO;
using static TorchSharp.torch;

namespace NerfGmn.Encoder;

/// <summary>
/// An encoder file: safetensors with reference parameter names and metadata (encoder size, the tri-plane position
/// layout its graphs used, the objective), or a reference <c>torch.save</c> state dict (paper size, reference layout).
/// </summary>
public static class EncoderCheckpoint
{
    public const string Format = "nerfgmn-encoder/1";

    public sealed record Info(GmnOptions Options, TriplanePositionLayout Layout, string Objective);

    public static void Save(GraphMetaNetwork encoder, string path, TriplanePositionLayout layout, string objective) =>
        SafeTensorsFile.Write(path, Tensors(encoder), Metadata(encoder, layout, objective));

    /// <summary>The checkpoint file's bytes (what <see cref="Save"/> writes).</summary>
    public static byte[] ToBytes(GraphMetaNetwork encoder, TriplanePositionLayout layout, string objective) =>
        SafeTensorsFile.ToBytes(Tensors(encoder), Metadata(encoder, layout, objective));

    /// <summary>Prefix of the weight statistics' tensors (<c>input_stats.&lt;architecture&gt;.mean</c> / <c>.std</c>).</summary>
    const string StatisticsPrefix = "input_stats.";

    static Dictionary<string, SafeTensor> Tensors(GraphMetaNetwork encoder)
    {
        var tensors = encoder.state_dict().ToDictionary(kv => ReferenceStateDict.ToReferenceName(kv.Key),
            kv => SafeTensor.FromFloats(kv.Value.detach().cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray(), kv.Value.shape));
        // The statistics the encoder's inputs were standardised with travel with it (and so inside ML.NET zips).
        foreach (var (arch, (mean, std)) in encoder.Statistics?.Entries ?? new Dictionary<string, (float[], float[])>())
        {
            tensors[$"{StatisticsPrefix}{arch}.mean"] = SafeTensor.FromFloats(mean, mean.Length);
            tensors[$"{StatisticsPrefix}{arch}.std"] = SafeTensor.FromFloats(std, std.Length);
        }
        return tensors;
    }

    static Dictionary<string, string> Metadata(GraphMetaNetwork encoder, TriplanePositionLayout layout, string objective)
    {
        var metadata = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["gmn"] = JsonSerializer.Serialize(encoder.Options),
            ["triplane_layout"] = layout.ToString().ToLowerInvariant(),
            ["objective"] = objective,
        };
        if (encoder.SharedInit is { } init) metadata[SharedInitKey] = init.ToJson();
        return metadata;
    }

    const string SharedInitKey = "shared_init";

    /// <summary>
    /// The shared initialisation recorded in an encoder file (null when its training NeRFs had none, or the file
    /// predates the record).
    /// </summary>
    public static Datasets.SharedInitialization? ReadSharedInitialization(string path)
    {
        if (!File.Exists(path)) throw new NerfFormatException(path, "encoder checkpoint not found");
        // A reference .pth state dict records nothing; a NerfGmn file says it in its metadata (no encoder is built).
        if (path.EndsWith(".pth", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".pt", StringComparison.OrdinalIgnoreCase)) return null;
        var metadata = SafeTensorsFile.Read(path).Metadata;
        if (!metadata.TryGetValue("format", out var f) || f != Format)
            throw new NerfFormatException(path, $"not a NerfGmn encoder file (format '{f ?? "none"}', expected {Format})");
        return metadata.TryGetValue(SharedInitKey, out var init) ? Datasets.SharedInitialization.FromJson(init, path) : null;
    }

    /// <summary>Loads an encoder (eval mode) and what it was trained with, onto <paramref name="device"/> (default: the CPU).</summary>
    public static (GraphMetaNetwork Encoder, Info Info) Load(string path, Device? device)
    {
        var (encoder, info) = Load(path);
        return (Runtime.ComputeDevice.Place(encoder, device), info);
    }

    /// <summary>As <see cref="Load(byte[], string)"/>, onto <paramref name="device"/>.</summary>
    public static (GraphMetaNetwork Encoder, Info Info) Load(byte[] bytes, string nameForErrors, Device? device)
    {
        var (encoder, info) = Load(bytes, nameForErrors);
        return (Runtime.ComputeDevice.Place(encoder, device), info);
    }

    /// <summary>Loads an encoder (eval mode) and what it was trained with.</summary>
    public static (GraphMetaNetwork Encoder, Info Info) Load(string path)
    {
        if (!File.Exists(path)) throw new NerfFormatException(path, "encoder checkpoint not found");
        if (path.EndsWith(".pth", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".pt", StringComparison.OrdinalIgnoreCase))
        {
            var reference = new GraphMetaNetwork(GmnOptions.Paper);
            ReferenceStateDict.Load(reference, path);
            reference.eval();
            return (reference, new Info(GmnOptions.Paper, TriplanePositionLayout.Reference, "reference"));
        }
        return FromContents(SafeTensorsFile.Read(path), path);
    }

    /// <summary>Loads an encoder from the bytes of a NerfGmn checkpoint (see <see cref="ToBytes"/>).</summary>
    public static (GraphMetaNetwork Encoder, Info Info) Load(byte[] bytes, string nameForErrors) =>
        FromContents(SafeTensorsFile.Read(bytes, nameForErrors), nameForErrors);

    static (GraphMetaNetwork Encoder, Info Info) FromContents(SafeTensorsFile.Contents contents, string path)
    {
        if (!contents.Metadata.TryGetValue("format", out var f) || f != Format)
            throw new NerfFormatException(path, $"not a NerfGmn encoder file (format '{f ?? "none"}', expected {Format})");
        GmnOptions options;
        TriplanePositionLayout layout;
        try
        {
            options = JsonSerializer.Deserialize<GmnOptions>(contents.Metadata.GetValueOrDefault("gmn") ?? throw new NerfFormatException(path, "the encoder file has no 'gmn' options in its metadata"))
                      ?? GmnOptions.Paper;
            options.Validate();
            if (!Enum.TryParse(contents.Metadata.GetValueOrDefault("triplane_layout", "reference"), ignoreCase: true, out layout))
                throw new NerfFormatException(path, $"unknown triplane_layout '{contents.Metadata["triplane_layout"]}'");
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new NerfFormatException(path, $"the encoder's options are invalid: {e.Message}", e);
        }
        var encoder = new GraphMetaNetwork(options);
        var stats = contents.Tensors.Where(kv => kv.Key.StartsWith(StatisticsPrefix, StringComparison.Ordinal)).ToList();
        if (stats.Count > 0)
        {
            var byArch = stats.GroupBy(kv => kv.Key[StatisticsPrefix.Length..kv.Key.LastIndexOf('.')]).ToDictionary(g => g.Key, g =>
            {
                var mean = g.FirstOrDefault(kv => kv.Key.EndsWith(".mean")).Value ?? throw new NerfFormatException(path, $"statistics of '{g.Key}' have no mean");
                var std = g.FirstOrDefault(kv => kv.Key.EndsWith(".std")).Value ?? throw new NerfFormatException(path, $"statistics of '{g.Key}' have no std");
                return (mean.ToFloats(), std.ToFloats());
            });
            encoder.Statistics = new Graphs.WeightStatistics(byArch);
        }
        else if (options.StandardizeWeights)
            throw new NerfFormatException(path, "the encoder standardises weights but the file has no input statistics");
        var tensors = contents.Tensors.Where(kv => !kv.Key.StartsWith(StatisticsPrefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => tensor(kv.Value.ToFloats(), kv.Value.Shape));
        try { ReferenceStateDict.Load(encoder, tensors, path); }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
        if (contents.Metadata.TryGetValue(SharedInitKey, out var init)) encoder.SharedInit = Datasets.SharedInitialization.FromJson(init, path);
        encoder.eval();
        return (encoder, new Info(options, layout, contents.Metadata.GetValueOrDefault("objective", "unknown")));
    }
}
