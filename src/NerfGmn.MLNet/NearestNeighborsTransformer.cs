using Microsoft.ML;
using NerfGmn.MLNet.Lowering;
using NerfGmn.Retrieval;

namespace NerfGmn.MLNet;

/// <summary>A fitted kNN stage; its gallery is saved inside the model zip.</summary>
public sealed class NearestNeighborsTransformer : LoweredTransformer
{
    public int GallerySize { get; }
    public int K { get; }
    public DistanceMetric Metric { get; }

    internal NearestNeighborsTransformer(ITransformer chain, int gallerySize, int k, DistanceMetric metric) : base(chain)
    {
        GallerySize = gallerySize;
        K = k;
        Metric = metric;
    }
}
