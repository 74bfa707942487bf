using System.Text.Json;
using System.Text.Json.Nodes;

namespace NerfGmn.Datasets;

/// <summary>
/// The initial weights that a dataset's NeRFs of one architecture share (<c>dataset build</c> without
/// <c>--own-init</c>): drawn from a generator seeded with <c>StableHash.Of(seed, architecture, "init")</c>, so the seed
/// of the build recreates them for any architecture. An encoder trained on such NeRFs reads weights relative to that
/// start (its weight statistics come from it), so its checkpoint records the seed and <c>fit --init-from</c> starts a
/// user's NeRF there.
/// </summary>
public sealed record SharedInitialization(int Seed)
{
    /// <summary>The seed of the initial-weight generator for <paramref name="architecture"/>.</summary>
    public ulong InitSeed(string architecture) => StableHash.Of(Seed, architecture, "init");

    public string ToJson() => JsonSerializer.Serialize(this);

    public static SharedInitialization FromJson(string json, string source)
    {
        try { return JsonSerializer.Deserialize<SharedInitialization>(json) ?? throw new NerfFormatException(source, "empty shared-initialisation record"); }
        catch (JsonException e) { throw new NerfFormatException(source, $"invalid shared-initialisation record: {e.Message}", e); }
    }

    /// <summary>
    /// The shared initialisation of a dataset (its <c>build.json</c>); null when its NeRFs were fitted each from their
    /// own start. A folder without <c>build.json</c> is refused with the reason.
    /// </summary>
    public static SharedInitialization? OfDataset(string root)
    {
        string path = Path.Combine(root, "build.json");
        if (!File.Exists(path)) throw new NerfFormatException(root, "not a dataset built by nerfgmn (no build.json): its initialisation is unknown");
        IO.InputLimits.CheckFileSize(path, IO.InputLimits.MaxMetadataBytes, "build settings");
        try
        {
            var json = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new NerfFormatException(path, "empty build settings");
            // Builds made before shared initialisations existed have no SharedInit field: each NeRF had its own.
            bool shared = json["SharedInit"]?.GetValue<bool>() ?? false;
            return shared ? new SharedInitialization(json["Seed"]?.GetValue<int>() ?? 0) : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new NerfFormatException(path, $"not build settings: {e.Message}", e);
        }
    }
}
