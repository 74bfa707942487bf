using NerfGmn.Retrieval;

namespace NerfGmn.MLNet;

/// <summary>Options of <see cref="NearestNeighborsCatalog.NearestNeighbors"/>. The rows the stage is fitted on become its gallery.</summary>
public sealed class NearestNeighborsOptions
{
    /// <summary>Embedding column (float vector) of the gallery and of the queries.</summary>
    public string FeatureColumnName { get; set; } = "Features";
    /// <summary>Gallery labels (text); the predicted label is their majority among the k nearest.</summary>
    public string LabelColumnName { get; set; } = "Label";
    /// <summary>Gallery ids (text) reported for the neighbours; null = the gallery row number.</summary>
    public string? IdColumnName { get; set; }
    public int K { get; set; } = 5;
    public DistanceMetric Metric { get; set; } = DistanceMetric.Cosine;

    public string PredictedLabelColumnName { get; set; } = "PredictedLabel";
    public string NeighborIdsColumnName { get; set; } = "NeighborIds";
    public string NeighborLabelsColumnName { get; set; } = "NeighborLabels";
    public string NeighborDistancesColumnName { get; set; } = "NeighborDistances";
}
