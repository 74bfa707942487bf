namespace NerfGmn.Graphs;

/// <summary>Node type ids of the parameter graph (Lim et al. plus gmnerf's tri-plane and hash grid): 18 in all.</summary>
public static class NodeType
{
    public const int Neuron = 0, Bias = 1, Channel = 2, ChannelBias = 3, Triplanar = 16, HashGrid = 17;
    public const int Count = 18;
}

/// <summary>Edge type ids: 15 in all.</summary>
public static class EdgeType
{
    public const int LinearWeight = 0, LinearBias = 1, Triplanar = 13, HashGrid = 14;
    public const int Count = 15;
}

/// <summary>Which x/y/z a tri-plane edge carries.</summary>
public enum TriplanePositionLayout
{
    /// <summary>As gmnerf computes them (scrambled by a reshape; needed for reference checkpoints and graphs).</summary>
    Reference,
    /// <summary>The true scene-box position of the edge's own cell.</summary>
    Clean,
}

/// <summary>Options of graph construction.</summary>
public sealed record ParameterGraphOptions
{
    public TriplanePositionLayout TriplaneLayout { get; init; } = TriplanePositionLayout.Reference;
    /// <summary>
    /// gmnerf does not advance the layer counter after a hash grid, so the first Linear runs as layer 0 and adds 16
    /// isolated input nodes. True (default) reproduces that; false numbers layers as for a tri-plane.
    /// </summary>
    public bool HashGridLayerQuirk { get; init; } = true;
    /// <summary>Edge values standardised with these statistics (<see cref="WeightStatistics"/>); null: raw, as the reference.</summary>
    public WeightStatistics? Statistics { get; init; }
    /// <summary>Probe points in the unit cube, xyz interleaved (<see cref="ProbeFeatures"/>); null: no probe features, as the reference.</summary>
    public float[]? ProbePoints { get; init; }

    public static readonly ParameterGraphOptions Default = new();
}
