using Microsoft.ML;
using NerfGmn.Encoder;
using NerfGmn.Graphs;
using NerfGmn.MLNet.Lowering;

namespace NerfGmn.MLNet;

/// <summary>
/// A fitted NerfEmbedding stage: embeds the NeRF file named in each row. Saves into a model zip with the encoder
/// weights inside; <c>mlContext.Model.Load</c> in another process restores it without any registration call.
/// </summary>
public sealed class NerfEmbeddingTransformer : LoweredTransformer
{
    public string InputColumnName { get; }
    public string OutputColumnName { get; }
    public GmnOptions Encoder { get; }
    public TriplanePositionLayout Layout { get; }

    internal NerfEmbeddingTransformer(ITransformer chain, string input, string output, GmnOptions encoder, TriplanePositionLayout layout) : base(chain)
    {
        InputColumnName = input;
        OutputColumnName = output;
        Encoder = encoder;
        Layout = layout;
    }
}
