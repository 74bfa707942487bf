namespace NerfGmn.Fitting;

/// <summary>
/// NeRF fitting from posed RGBA images by volume rendering. The reference recipe is unpublished; this one follows
/// the nerfacc 0.3.5 example it most likely came from: Adam (eps 1e-15), random background per step, smooth-L1 on
/// the composited colour, occupancy-grid skipping with a grid re-estimated from the NeRF every few steps.
/// </summary>
public sealed record ImageFitOptions
{
    public int Steps { get; init; } = 2000;
    public int RaysPerStep { get; init; } = 1024;
    public double MlpLearningRate { get; init; } = 5e-3;
    public double GridLearningRate { get; init; } = 2e-2;
    /// <summary>Re-estimate the occupancy grid every this many steps (after the warm-up, which marches densely).</summary>
    public int GridEvery { get; init; } = 16;
    public int GridWarmup { get; init; } = 64;
    /// <summary>Coarser than the 96³ of the saved grid, to keep updates cheap.</summary>
    public int TrainingGridResolution { get; init; } = 64;
    /// <summary>Views held out for the reported PSNR (taken evenly from the frames).</summary>
    public int HeldOutViews { get; init; } = 2;
    public int Seed { get; init; }
    /// <summary>Where the NeRF is fitted: <c>cpu</c>, <c>cuda</c>, <c>cuda:N</c>; null: CUDA when available, else the CPU.</summary>
    public string? Device { get; init; }
    /// <summary>
    /// Seed of the initial weights (<see cref="Datasets.SharedInitialization.InitSeed"/>: start where a dataset's NeRFs
    /// started); null: from <see cref="Seed"/>.
    /// </summary>
    public ulong? InitSeed { get; init; }
}
