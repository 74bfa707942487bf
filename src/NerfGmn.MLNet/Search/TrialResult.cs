using Microsoft.ML;

namespace NerfGmn.MLNet.Search;

public enum TrialStatus { Completed, Skipped, Failed }

/// <summary>One trial of the search: a trainer with hyper-parameters, cross-validated.</summary>
public sealed record TrialResult(
    int Index, SearchTrainer Trainer, IReadOnlyDictionary<string, string> Hyperparameters, TrialStatus Status,
    double MacroAccuracy, double MicroAccuracy, double Seconds, double EstimatedSeconds, string? Note)
{
    public double Metric(SearchMetric m) => m == SearchMetric.MacroAccuracy ? MacroAccuracy : MicroAccuracy;

    public string Describe() => $"{Trainer}({string.Join(", ", Hyperparameters.Select(kv => $"{kv.Key}={kv.Value}"))})";
}

/// <summary>What a search returns: the leaderboard and the best candidate refitted on all rows.</summary>
public sealed record ClassifierSearchResult(TrialResult BestRun, ITransformer Model, IReadOnlyList<TrialResult> Trials, double Seconds)
{
    /// <summary>Completed trials, best first (ties: the earlier trial, as the search keeps it).</summary>
    public IReadOnlyList<TrialResult> Leaderboard(SearchMetric metric) =>
        Trials.Where(t => t.Status == TrialStatus.Completed).OrderByDescending(t => t.Metric(metric)).ThenBy(t => t.Index).ToArray();
}
