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

    /// <summary>Refuses a size no decoder can have (or one that would ask for gigabytes before anything is read).</summary>
    public void Validate()
    {
        if (HiddenDim is < 1 or > 4096) throw new ArgumentException($"decoder width must be 1..4096, got {HiddenDim}");
        if (LayersBeforeSkip is < 0 or > 16 || LayersAfterSkip is < 0 or > 16)
            throw new ArgumentException($"decoder hidden layers on each side of the skip must be 0..16, got {LayersBeforeSkip} before and {LayersAfterSkip} after");
        if (EmbeddingDim < 1 || Frequencies < 1) throw new ArgumentException($"decoder embedding size and frequencies must be positive, got {EmbeddingDim} and {Frequencies}");
    }
}
