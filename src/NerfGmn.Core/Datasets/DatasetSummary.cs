namespace NerfGmn.Datasets;

/// <summary>One architecture's NeRFs in a dataset: count, PSNR and fitting time.</summary>
public sealed record ArchitectureSummary(string Arch, int Nerfs, double MedianPsnr, double MinPsnr, int BelowThreshold, double FitSecondsPerNerf)
{
    /// <summary>Fitting throughput (the fit and refit share of each NeRF's time; ground truth and evaluation excluded).</summary>
    public double FitNerfsPerMinute => FitSecondsPerNerf > 0 ? 60 / FitSecondsPerNerf : double.NaN;
}

/// <summary>What a built dataset holds and what it cost: split counts per class, per-architecture quality and the run logs.</summary>
public sealed record DatasetSummary
{
    public required string Root { get; init; }
    /// <summary>class → (train, val, test) objects, from the split files.</summary>
    public required IReadOnlyDictionary<string, (int Train, int Val, int Test)> ObjectsPerClass { get; init; }
    public required IReadOnlyList<ArchitectureSummary> Architectures { get; init; }
    public required int Nerfs { get; init; }
    /// <summary>All build runs together (<see cref="BuildRunLog"/>): wall time, NeRFs built, time by stage.</summary>
    public required double WallSeconds { get; init; }
    public required int NerfsBuilt { get; init; }
    public required int Runs { get; init; }
    public required IReadOnlyDictionary<string, double> StageSeconds { get; init; }

    public double NerfsPerMinute => WallSeconds > 0 ? NerfsBuilt / (WallSeconds / 60) : double.NaN;

    public static DatasetSummary Of(string root)
    {
        if (!Directory.Exists(root)) throw new NerfFormatException(root, "dataset folder not found");
        var layout = new DatasetLayout(root);
        // class → objects, per split file present.
        var counts = new[] { "train", "val", "test" }.Select(split => File.Exists(layout.SplitFile(split))
            ? layout.ReadSplit(split).GroupBy(e => e.Class).ToDictionary(g => g.Key, g => g.Count())
            : new Dictionary<string, int>()).ToArray();
        var perClass = counts.SelectMany(c => c.Keys).Distinct().Order(StringComparer.Ordinal).ToDictionary(cls => cls,
            cls => (counts[0].GetValueOrDefault(cls), counts[1].GetValueOrDefault(cls), counts[2].GetValueOrDefault(cls)));
        var records = DatasetBuilder.ReadRecords(root);
        var archs = records.GroupBy(r => r.Arch).Select(g => new ArchitectureSummary(g.Key, g.Count(), DatasetBuilder.Median(g.Select(r => r.Psnr)),
            g.Min(r => r.Psnr), g.Count(r => r.BelowThreshold), g.Average(r => r.FitSeconds))).ToList();
        var total = BuildRunLog.Total(root);
        return new DatasetSummary
        {
            Root = root, ObjectsPerClass = perClass, Architectures = archs, Nerfs = records.Count,
            WallSeconds = total.WallSeconds, NerfsBuilt = total.NerfsBuilt, Runs = total.Runs, StageSeconds = total.StageSeconds,
        };
    }
}
