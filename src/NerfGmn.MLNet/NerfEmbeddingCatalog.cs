using Microsoft.ML;
using NerfGmn.MLNet.Lowering;

namespace NerfGmn.MLNet;

/// <summary><c>mlContext.Transforms.NerfEmbedding(...)</c>.</summary>
public static class NerfEmbeddingCatalog
{
    /// <summary>
    /// Embeds NeRFs: <paramref name="inputColumnName"/> holds weight-file paths (text), <paramref name="outputColumnName"/>
    /// becomes a vector of 1024 floats. Put <c>.AppendCacheCheckpoint(mlContext)</c> after it before iterative trainers,
    /// or use <see cref="NerfEmbeddingBulk"/> to embed a whole set once in batches.
    /// </summary>
    public static NerfEmbeddingEstimator NerfEmbedding(this TransformsCatalog catalog, string outputColumnName,
        string? inputColumnName = null, NerfEmbeddingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrEmpty(outputColumnName);
        return new NerfEmbeddingEstimator(StageContext.Create(), outputColumnName, inputColumnName ?? outputColumnName, options ?? new NerfEmbeddingOptions());
    }
}
