using Microsoft.ML;
using NerfGmn.MLNet.Lowering;

namespace NerfGmn.MLNet;

/// <summary><c>mlContext.Transforms.NearestNeighbors(...)</c>.</summary>
public static class NearestNeighborsCatalog
{
    /// <summary>kNN retrieval over the embeddings of the rows the stage is fitted on (the gallery).</summary>
    public static NearestNeighborsEstimator NearestNeighbors(this TransformsCatalog catalog, NearestNeighborsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new NearestNeighborsEstimator(StageContext.Create(), options ?? new NearestNeighborsOptions());
    }
}
