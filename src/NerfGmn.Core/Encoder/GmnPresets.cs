namespace NerfGmn.Encoder;

/// <summary>
/// Named encoders: <c>paper</c> (the reference), <c>small</c> (the reference at half width) and <c>cpu</c> (the recipe
/// that trains on two CPU cores; every difference from the reference is a <see cref="GmnOptions"/> property, and the
/// README's "CPU recipe" section says why each is there).
/// </summary>
public static class GmnPresets
{
    public static GmnOptions Paper => GmnOptions.Paper;

    /// <summary>The reference encoder at half width (d = 64), same depth and embedding size.</summary>
    public static GmnOptions Small => new() { HiddenDim = 64, Layers = 4, OutputDim = 1024 };

    /// <summary>
    /// The CPU recipe: probe features at 64 points, per-entry weight standardisation, 10% of grid/table edges per
    /// training step, the output-neuron readout, standardised embeddings, no activation checkpointing (a subsampled
    /// batch is small).
    /// </summary>
    public static GmnOptions Cpu => new()
    {
        HiddenDim = 32, Layers = 3, OutputDim = 1024,
        ProbePoints = 64, StandardizeWeights = true, GridEdgeFraction = 0.1, Readout = EncoderReadout.Outputs,
        StandardizeOutput = true, Checkpointing = false,
    };

    public static GmnOptions Get(string name) => name switch
    {
        "paper" => Paper,
        "small" => Small,
        "cpu" => Cpu,
        _ => throw new ArgumentException($"unknown encoder preset '{name}' (paper, small, cpu)"),
    };
}
