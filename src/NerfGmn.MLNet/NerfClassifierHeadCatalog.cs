using Microsoft.ML;
using NerfGmn.MLNet.Lowering;

namespace NerfGmn.MLNet;

/// <summary><c>mlContext.MulticlassClassification.Trainers.NerfClassifierHead(...)</c>.</summary>
public static class NerfClassifierHeadCatalog
{
    /// <summary>The paper's classifier head; labels are text and the prediction is a text label plus probabilities.</summary>
    public static NerfClassifierHeadEstimator NerfClassifierHead(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        NerfClassifierHeadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new NerfClassifierHeadEstimator(StageContext.Create(), options ?? new NerfClassifierHeadOptions());
    }
}
