using System.Text.Json.Nodes;

namespace NerfGmn;

/// <summary>
/// What differs between the settings a long job was started with and the ones it is resumed with (both as JSON
/// objects), as "Key before → now" lines. Keys the saved settings do not have (added in a later version) count as
/// unchanged; nested objects compare key by key the same way.
/// </summary>
public static class SettingsDiff
{
    public static string[] Of(JsonObject saved, JsonObject now, IEnumerable<string>? ignore = null)
    {
        var skip = (ignore ?? []).ToHashSet(StringComparer.Ordinal);
        return now.Where(kv => !skip.Contains(kv.Key) && Differs(kv.Value, saved[kv.Key], saved.ContainsKey(kv.Key)))
            .Select(kv => $"{kv.Key} {saved[kv.Key]?.ToJsonString() ?? "null"} → {kv.Value?.ToJsonString() ?? "null"}")
            .ToArray();
    }

    static bool Differs(JsonNode? now, JsonNode? saved, bool present) =>
        present && (now, saved) switch
        {
            (JsonObject n, JsonObject s) => n.Any(kv => Differs(kv.Value, s[kv.Key], s.ContainsKey(kv.Key))),
            _ => !JsonNode.DeepEquals(now, saved),
        };
}
