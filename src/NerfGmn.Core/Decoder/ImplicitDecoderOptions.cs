namespace NerfGmn.Decoder;

/// <summary>Size of the nf2vec implicit decoder. Paper (gmnerf): width 1024, 2 layers before and 2 after the skip, 48 frequencies.</summary>
public sealed record ImplicitDecoderOptions
{
    public int EmbeddingDim { get; init; } = 1024;
    public int HiddenDim { get; init; } = 1024;
    public int LayersBeforeSkip { get; init; } = 2;
    public int LayersAfterSkip { get; init; } = 2;
    /// <summary>Frequency-encoding frequencies of the query point (gmnerf 48 → 288 dims; nf2vec 24).</summary>
    public int Frequencies { get; init; } = 48;
    public float[] SceneBox { get; init; } = [-0.7f, -0.7f, -0.7f, 0.7f, 0.7f, 0.7f];

    public static readonly ImplicitDecoderOptions Paper = new();
}
