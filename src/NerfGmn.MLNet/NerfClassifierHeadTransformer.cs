using Microsoft.ML;
using NerfGmn.Classification;
using NerfGmn.MLNet.Lowering;

namespace NerfGmn.MLNet;

/// <summary>A fitted classifier head stage; the network is saved inside the model zip.</summary>
public sealed class NerfClassifierHeadTransformer : LoweredTransformer
{
    public ClassifierHeadModel Model { get; }

    internal NerfClassifierHeadTransformer(ITransformer chain, ClassifierHeadModel model) : base(chain) => Model = model;
}
