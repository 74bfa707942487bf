using System.Diagnostics;
using System.Text.Json;

namespace NerfGmn.Datasets;

/// <summary>
/// One build run's wall time and per-stage seconds, rewritten atomically as the run goes
/// (<c>&lt;root&gt;/_log/run-&lt;start&gt;.json</c>), so a build resumed across several runs, even killed ones, still
/// adds up to its total time (<see cref="Total"/>).
/// </summary>
public sealed class BuildRunLog
{
    public const string Folder = "_log";

    public sealed record Entry(DateTime Started, double WallSeconds, int NerfsBuilt, int DoneAtStart, int DoneNow, Dictionary<string, double> StageSeconds);

    readonly string _path;
    readonly DateTime _started = DateTime.UtcNow;
    readonly Stopwatch _wall = Stopwatch.StartNew();
    readonly Dictionary<string, double> _stages = new(StringComparer.Ordinal);
    readonly int _doneAtStart;
    int _done;

    public BuildRunLog(string folder, int doneAtStart)
    {
        Directory.CreateDirectory(folder);
        _path = Path.Combine(folder, $"run-{_started:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..8]}.json");
        _doneAtStart = _done = doneAtStart;
    }

    public T Time<T>(string stage, Func<T> work)
    {
        var sw = Stopwatch.StartNew();
        try { return work(); }
        finally { _stages[stage] = _stages.GetValueOrDefault(stage) + sw.Elapsed.TotalSeconds; }
    }

    /// <summary>Records progress and rewrites the run's file.</summary>
    public void Built(int doneNow)
    {
        _done = doneNow;
        var entry = new Entry(_started, Math.Round(_wall.Elapsed.TotalSeconds, 1), _done - _doneAtStart, _doneAtStart, _done,
            _stages.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value, 1)));
        IO.AtomicFile.Write(_path, tmp => File.WriteAllText(tmp, JsonSerializer.Serialize(entry, new JsonSerializerOptions { WriteIndented = true })));
    }

    /// <summary>All runs of a build: wall seconds (overlapping runs counted once), NeRFs built and seconds per stage (summed over runs).</summary>
    public static (double WallSeconds, int NerfsBuilt, IReadOnlyDictionary<string, double> StageSeconds, int Runs) Total(string root)
    {
        string folder = Path.Combine(root, Folder);
        if (!Directory.Exists(folder)) return (0, 0, new Dictionary<string, double>(), 0);
        var entries = Directory.GetFiles(folder, "run-*.json").Select(f => JsonSerializer.Deserialize<Entry>(File.ReadAllText(f))!).ToArray();
        var stages = entries.SelectMany(e => e.StageSeconds).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value));
        return (CoveredSeconds(entries), entries.Sum(e => e.NerfsBuilt), stages, entries.Length);
    }

    /// <summary>Wall time covered by the runs: shards running side by side on one machine count once.</summary>
    static double CoveredSeconds(IEnumerable<Entry> entries)
    {
        double total = 0;
        DateTime coveredTo = DateTime.MinValue;
        foreach (var e in entries.OrderBy(e => e.Started))
        {
            var end = e.Started.AddSeconds(e.WallSeconds);
            var from = e.Started > coveredTo ? e.Started : coveredTo;
            if (end > from) total += (end - from).TotalSeconds;
            if (end > coveredTo) coveredTo = end;
        }
        return total;
    }
}
