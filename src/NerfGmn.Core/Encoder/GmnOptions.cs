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

    /// <summary>
    /// Probe points K (<see cref="Graphs.ProbeFeatures"/>): every neuron node also reads its activation at K fixed
    /// points of the scene box through a Linear(K, d). 0 (the reference): none.
    /// </summary>
    public int ProbePoints { get; init; }

    /// <summary>
    /// Edge values standardised per entry with statistics of the training split (<see cref="Graphs.WeightStatistics"/>),
    /// which the encoder then carries in its checkpoint. False (the reference): raw weights.
    /// </summary>
    public bool StandardizeWeights { get; init; }

    /// <summary>
    /// While training, the share of grid/table edges (tri-plane, hash) each graph keeps per step, drawn afresh every
    /// forward pass; they are most of a grid NeRF's edges, and mean aggregation and the mean readout stay unbiased
    /// under the subsample. Evaluation always uses every edge. 1 (the reference): all.
    /// </summary>
    public double GridEdgeFraction { get; init; } = 1;

    /// <summary>
    /// What the embedding is read from. <see cref="EncoderReadout.Edges"/> (the reference): mean over every edge of
    /// ReLU(Linear(d→out)), after a last block that updates edges only. <see cref="EncoderReadout.Outputs"/>: every block
    /// updates nodes, and the embedding is Linear(LayerNorm of the final states of the NeRF's output neurons,
    /// concatenated in output order), as Neural Graphs reads its last layer's nodes. The edge mean weighs a NeRF's tens of
    /// thousands of grid and table edges, which differ by architecture far more than by object, against a few hundred
    /// that carry the field; the output neurons (rgb and σ, padded to <see cref="OutputNeurons"/> in every tcnn NeRF) are
    /// the same in every architecture, and the per-edge 1024-d readout, the costliest step, goes.
    /// </summary>
    public EncoderReadout Readout { get; init; } = EncoderReadout.Edges;

    /// <summary>Output neurons read by <see cref="EncoderReadout.Outputs"/> (tcnn pads every NeRF's output to 16).</summary>
    public int OutputNeurons { get; init; } = 16;

    /// <summary>
    /// With <see cref="EncoderReadout.Outputs"/> and probe points: the first n output neurons (rgb and σ are outputs
    /// 0–3 in every architecture) also hand their raw probe values — the field itself at the K points — to the embedding
    /// through a Linear(n·K → out) added to the state readout. Otherwise the probe values reach the embedding only through
    /// the pre-encoder's Linear(K, d), d numbers per neuron, however many points are probed. Not in the reference; 0 (the
    /// reference and the cpu preset): none.
    /// </summary>
    public int ProbeReadout { get; init; }

    public static readonly GmnOptions Paper = new();

    /// <summary>Largest sizes accepted (the paper's are 128, 1024 and 4).</summary>
    public const int MaxHiddenDim = 1024, MaxOutputDim = 16384, MaxLayers = 32;

    public void Validate()
    {
        if (OutputNeurons < 1) throw new ArgumentException($"OutputNeurons must be positive, got {OutputNeurons}");
        if (ProbeReadout < 0 || ProbeReadout > OutputNeurons)
            throw new ArgumentException($"ProbeReadout must be 0..{OutputNeurons} (output neurons), got {ProbeReadout}");
        if (ProbeReadout > 0 && (Readout != EncoderReadout.Outputs || ProbePoints < 1))
            throw new ArgumentException($"ProbeReadout {ProbeReadout} needs the outputs readout and probe points (readout {Readout.ToString().ToLowerInvariant()}, {ProbePoints} probe points)");
        if (ProbePoints < 0) throw new ArgumentException($"ProbePoints must be 0 or more, got {ProbePoints}");
        if (!(GridEdgeFraction > 0 && GridEdgeFraction <= 1)) throw new ArgumentException($"GridEdgeFraction must be in (0, 1], got {GridEdgeFraction}");
        if (!(ValueEncoderScale > 0)) throw new ArgumentException($"ValueEncoderScale must be positive, got {ValueEncoderScale}");
        if (HiddenDim < 1 || OutputDim < 1 || Layers < 1 || NodeTypes < 1 || EdgeTypes < 1)
            throw new ArgumentException($"invalid GMN size: d={HiddenDim}, out={OutputDim}, layers={Layers}");
        // Upper bounds keep a hostile encoder file from asking for terabytes before its tensors are compared.
        if (HiddenDim > MaxHiddenDim || OutputDim > MaxOutputDim || Layers > MaxLayers || NodeTypes > 1024 || EdgeTypes > 1024
            || ProbePoints > 4096 || OutputNeurons > 1024)
            throw new ArgumentException($"GMN size beyond the limits (d ≤ {MaxHiddenDim}, out ≤ {MaxOutputDim}, layers ≤ {MaxLayers}, "
                                        + $"probes ≤ 4096, output neurons ≤ 1024): d={HiddenDim}, out={OutputDim}, layers={Layers}, "
                                        + $"probes={ProbePoints}, output neurons={OutputNeurons}");
    }
}

/// <summary>Where a GMN reads its embedding from (<see cref="GmnOptions.Readout"/>).</summary>
public enum EncoderReadout
{
    /// <summary>Mean over edges (the reference).</summary>
    Edges,
    /// <summary>The NeRF's output neurons' final node states, concatenated.</summary>
    Outputs,
}
