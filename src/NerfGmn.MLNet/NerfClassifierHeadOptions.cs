using NerfGmn.Classification;

namespace NerfGmn.MLNet;

/// <summary>Options of the paper's classifier head as an ML.NET stage.</summary>
public sealed class NerfClassifierHeadOptions
{
    public string FeatureColumnName { get; set; } = "Features";
    /// <summary>Class names (text).</summary>
    public string LabelColumnName { get; set; } = "Label";
    public string PredictedLabelColumnName { get; set; } = "PredictedLabel";
    /// <summary>Class probabilities, in the ordinal order of the class names.</summary>
    public string ScoreColumnName { get; set; } = "Score";
    /// <summary>Network and training; defaults are the reference's (150 epochs, batch 256, AdamW + OneCycle, mixing).</summary>
    public ClassifierHeadOptions Head { get; set; } = new();
    /// <summary>Rows to pick the best epoch on (the reference's validation split); none = the last epoch.</summary>
    public Microsoft.ML.IDataView? ValidationData { get; set; }
}
