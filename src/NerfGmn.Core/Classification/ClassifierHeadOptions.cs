namespace NerfGmn.Classification;

/// <summary>The paper's classifier on embeddings (nf2vec/gmnerf <c>FcClassifier</c> and its training; spec evaluation.md §2).</summary>
public sealed record ClassifierHeadOptions
{
    /// <summary>Hidden widths: each block is Linear-BatchNorm-ReLU-Dropout.</summary>
    public int[] Hidden { get; init; } = [512, 256];
    public double Dropout { get; init; } = 0.5;
    public int Epochs { get; init; } = 150;
    public int BatchSize { get; init; } = 256;
    public double MaxLearningRate { get; init; } = 1e-4;
    public double WeightDecay { get; init; } = 1e-2;
    /// <summary>The <c>interpolate</c> augmentation: same-class embeddings mixed dimension-wise, appended to each batch.</summary>
    public bool Mixing { get; init; } = true;
    /// <summary>Evaluate every this many epochs (and at the last) and keep the best on the validation rows, if any.</summary>
    public int EvaluateEvery { get; init; } = 5;
    public int Seed { get; init; }
    /// <summary>
    /// Where the head trains: <c>cpu</c>, <c>cuda</c>, <c>cuda:N</c>; null: CUDA when available, else the CPU. The trained
    /// head is plain arrays (<see cref="ClassifierHeadModel"/>), so predicting needs no device.
    /// </summary>
    public string? Device { get; init; }

    public void Validate()
    {
        if (Hidden.Length == 0 || Hidden.Any(h => h < 1)) throw new ArgumentException("hidden widths must be positive");
        if (Dropout is < 0 or >= 1) throw new ArgumentException("dropout must be in [0, 1)");
        if (Epochs < 1 || BatchSize < 1 || EvaluateEvery < 1) throw new ArgumentException("epochs, batch size and evaluation period must be at least 1");
    }
}
