namespace NerfGmn.MLNet.Search;

/// <summary>Trainers the classifier search can try.</summary>
public enum SearchTrainer { SdcaMaximumEntropy, LbfgsMaximumEntropy, LightGbm, FastTreeOneVersusAll, NerfClassifierHead }

public enum SearchMetric { MacroAccuracy, MicroAccuracy }

/// <summary>Settings of a classifier search (shaped like AutoML's experiment settings, which are not available here).</summary>
public sealed class ClassifierSearchSettings
{
    /// <summary>Wall-clock budget for the trials and the final refit; a trial whose estimated cost does not fit is skipped.</summary>
    public double MaxExperimentTimeInSeconds { get; set; } = 60;
    public SearchMetric OptimizingMetric { get; set; } = SearchMetric.MacroAccuracy;
    public IReadOnlyList<SearchTrainer> Trainers { get; set; } = Enum.GetValues<SearchTrainer>();
    /// <summary>Cross-validation folds; rows sharing a group value (an object across architectures) stay in one fold.</summary>
    public int CrossValidationFolds { get; set; } = 3;
    /// <summary>Stop after this many trials even if time remains.</summary>
    public int MaxTrials { get; set; } = 50;
    public int Seed { get; set; }

    public void Validate()
    {
        if (MaxExperimentTimeInSeconds <= 0) throw new ArgumentException("MaxExperimentTimeInSeconds must be positive");
        if (CrossValidationFolds < 2) throw new ArgumentException("CrossValidationFolds must be at least 2");
        if (Trainers.Count == 0) throw new ArgumentException("no trainers to search");
        if (MaxTrials < 1) throw new ArgumentException("MaxTrials must be at least 1");
    }
}
