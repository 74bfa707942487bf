namespace NerfGmn.Fitting;

/// <summary>
/// Fast NeRF fitting by direct field supervision (where the true field is known: procedural objects, meshes).
/// Not the reference recipe (unpublished): chosen so that thousands of NeRFs fit in hours on 2 cores.
/// </summary>
public sealed record FieldFitOptions
{
    public int Steps { get; init; } = 300;
    public int PointsPerStep { get; init; } = 2048;
    /// <summary>Share of each step's points drawn near the surface (the rest uniform in the box).</summary>
    public double NearSurfaceFraction { get; init; } = 0.6;
    public double MlpLearningRate { get; init; } = 3e-3;
    public double GridLearningRate { get; init; } = 2e-2;
    /// <summary>Densities below this are treated as empty (targets clamp at its log).</summary>
    public double MinDensity { get; init; } = 1e-3;
    public double ColorWeight { get; init; } = 10;
    public int Seed { get; init; } = 0;
}
