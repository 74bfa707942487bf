namespace NerfGmn.Encoder;

/// <summary>Size of the Graph Meta-Network encoder. The paper's: d = 128, 4 blocks, 1024-d embedding (814,464 parameters).</summary>
public sealed record GmnOptions
{
    /// <summary>Hidden width d of node and edge states.</summary>
    public int HiddenDim { get; init; } = 128;
    /// <summary>Embedding size.</summary>
    public int OutputDim { get; init; } = 1024;
    /// <summary>Message-passing blocks; all but the last update nodes and edges, the last updates edges only.</summary>
    public int Layers { get; init; } = 4;
    /// <summary>Embedding-table sizes; keep 18 and 15 to load reference checkpoints.</summary>
    public int NodeTypes { get; init; } = Graphs.NodeType.Count;
    public int EdgeTypes { get; init; } = Graphs.EdgeType.Count;

    /// <summary>Recompute block activations in the backward pass instead of storing them (training memory ÷ ~3).</summary>
    public bool Checkpointing { get; init; } = true;

    /// <summary>
    /// Initial scale of the edge-value sine encoder's frequencies (weights and bias of its <c>Linear(1,d)</c> drawn from
    /// U(±scale) instead of U(±1)). NeRF weights are ~±0.1, so at 1 (the reference) object information enters as a tiny
    /// perturbation that takes long training to amplify; larger values are an option for short CPU runs.
    /// </summary>
    public double ValueEncoderScale { get; init; } = 1;

    /// <summary>
    /// Standardise each embedding dimension (BatchNorm without affine parameters). Not in the reference: gmnerf's
    /// mean-of-ReLU readout over tens of thousands of edges gives a barely trained GMN nearly the same embedding for every
    /// NeRF of an architecture (cosine ≈ 0.9999), and SigLIP's gradient scales with those tiny differences; an option
    /// for short CPU runs.
    /// </summary>
    public bool StandardizeOutput { get; init; }

    public static readonly GmnOptions Paper = new();

    public void Validate()
    {
        if (!(ValueEncoderScale > 0)) throw new ArgumentException($"ValueEncoderScale must be positive, got {ValueEncoderScale}");
        if (HiddenDim < 1 || OutputDim < 1 || Layers < 1 || NodeTypes < 1 || EdgeTypes < 1)
            throw new ArgumentException($"invalid GMN size: d={HiddenDim}, out={OutputDim}, layers={Layers}");
    }
}
