using NerfGmn.Decoder;
using NerfGmn.Fields;
using NerfGmn.Rendering;
using TorchSharp;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Training;

/// <summary>
/// Sizes of the field objective (<see cref="FieldLoss"/>): how many points each NeRF's pool holds, how many a step
/// queries and where they lie, and the density scale of the loss.
/// </summary>
public sealed record FieldLossOptions
{
    /// <summary>Pool points per NeRF inside occupied cells (jittered), queried from the NeRF once per run.</summary>
    public int OccupiedPool { get; init; } = 16_384;
    /// <summary>Pool points in the empty shell around the object (within <see cref="ShellCells"/> of an occupied cell).</summary>
    public int ShellPool { get; init; } = 4_096;
    /// <summary>Pool points in empty cells anywhere in the grid.</summary>
    public int EmptyPool { get; init; } = 4_096;
    public int ShellCells { get; init; } = 3;
    /// <summary>Decoder queries per NeRF per step, split over the three groups by the fractions below (the rest: empty).</summary>
    public int PointsPerNerf { get; init; } = 4_000;
    public double OccupiedFraction { get; init; } = 0.5;
    public double ShellFraction { get; init; } = 0.25;
    /// <summary>
    /// Densities are compared as log(σ + ε) with ε = <see cref="TransparentOpacity"/>/Δ (Δ: the renderer's step): below
    /// that a sample is transparent, and its exact σ does not matter. Targets are capped at σ·Δ = <see cref="OpaqueDepth"/>
    /// (a step then lets through e^−5 of the light): above it, more density renders the same.
    /// </summary>
    public double TransparentOpacity { get; init; } = 0.01;
    public double OpaqueDepth { get; init; } = 5;
    /// <summary>Weight of the colour term (a squared error weighted by the NeRF's per-step opacity at each point).</summary>
    public double ColourWeight { get; init; } = 1;

    public static readonly FieldLossOptions Cpu = new();
}

/// <summary>
/// What the field objective needs of one NeRF, computed once per run: a pool of points inside, around and away from
/// its occupied cells, with the NeRF's own density and colour there.
/// </summary>
public sealed record FieldTarget(OccupancyGrid Grid, Tensor Points, Tensor Sigma, Tensor Rgb, long Occupied, long Shell) : IDisposable
{
    public static FieldTarget Create(RadianceField nerf, OccupancyGrid grid, FieldLossOptions o, Generator gen)
    {
        using var scope = NewDisposeScope();
        var occupancy = tensor(grid.Occupied);
        var occupied = occupancy.nonzero().squeeze(1);
        var near = grid.DilatedIndices(o.ShellCells);
        var shell = near.masked_select(occupancy.index_select(0, near).logical_not());
        var empty = occupancy.logical_not().nonzero().squeeze(1);
        // Cells drawn with replacement (a small object has fewer occupied cells than pool points), jittered inside the cell.
        Tensor Points(Tensor cells, int count)
        {
            if (cells.shape[0] == 0) return zeros(0, 3);
            var pick = cells.index_select(0, randint(0, cells.shape[0], [count], generator: gen));
            return grid.CellPoints(pick, rand([count, 3], generator: gen));
        }
        var parts = new[] { Points(occupied, o.OccupiedPool), Points(shell, o.ShellPool), Points(empty, o.EmptyPool) };
        var points = cat(parts, 0);
        var (rgb, sigma) = nerf.ForwardInChunks(points);
        return new FieldTarget(grid, points.DetachFromDisposeScope(), sigma.DetachFromDisposeScope(), rgb.DetachFromDisposeScope(),
            parts[0].shape[0], parts[1].shape[0]);
    }

    public void Dispose()
    {
        foreach (var t in new[] { Points, Sigma, Rgb }) t.Dispose();
    }
}

/// <summary>
/// The field objective L_F (not in the paper): the decoder, given a NeRF's embedding, regresses that NeRF's own density
/// and colour at points drawn from its <see cref="FieldTarget"/> pool — half inside occupied cells, a quarter in the
/// empty shell around the object, a quarter anywhere empty. L_F = smooth-L1(log(σ̂ + ε), log(min(σ, σ_max) + ε)) +
/// w·Σ α(σ)·|ĉ − c|² / Σ α(σ), α = 1 − exp(−σΔ). Volume rendering hands the decoder a few hundred rays per NeRF and a
/// gradient that vanishes where σΔ ≪ 1, which is everywhere at initialisation; here every query is supervised
/// directly, in a scale where empty and opaque are a few units apart.
/// </summary>
public static class FieldLoss
{
    /// <summary>One step's draw: every NeRF's query points and the NeRF's values there, on the CPU.</summary>
    public static FieldDraw Draw(IReadOnlyList<FieldTarget> targets, FieldLossOptions o, Generator gen)
    {
        using var scope = NewDisposeScope();
        int nOcc = (int)Math.Round(o.PointsPerNerf * o.OccupiedFraction), nShell = (int)Math.Round(o.PointsPerNerf * o.ShellFraction);
        int nEmpty = o.PointsPerNerf - nOcc - nShell;
        var picks = targets.Select(t =>
        {
            long empty = t.Points.shape[0] - t.Occupied - t.Shell;
            // A group a NeRF lacks (no occupied cell, no shell) gives its share to the empty group.
            Tensor From(long start, long size, int count) => size == 0 ? zeros(0, dtype: ScalarType.Int64) : randint(0, size, [count], generator: gen).Plus(S(start));
            int occ = t.Occupied > 0 ? nOcc : 0, shell = t.Shell > 0 ? nShell : 0;
            return cat([From(0, t.Occupied, occ), From(t.Occupied, t.Shell, shell), From(t.Occupied + t.Shell, empty, o.PointsPerNerf - occ - shell)], 0);
        }).ToList();
        var points = stack(targets.Select((t, k) => t.Points.index_select(0, picks[k])).ToArray(), 0);
        var sigma = stack(targets.Select((t, k) => t.Sigma.index_select(0, picks[k])).ToArray(), 0);
        var rgb = stack(targets.Select((t, k) => t.Rgb.index_select(0, picks[k])).ToArray(), 0);
        return new FieldDraw(points.MoveToOuterDisposeScope(), sigma.MoveToOuterDisposeScope(), rgb.MoveToOuterDisposeScope());
    }

    /// <summary>L_F of one draw on the decoder's device (the draw moves there once).</summary>
    public static Tensor Loss(ImplicitDecoder decoder, Tensor embeddings, FieldDraw draw, FieldLossOptions o)
    {
        var device = embeddings.device;
        var (rgb, sigma) = decoder.forward((embeddings, draw.Points.to(device)));
        double step = new RenderOptions().StepSize;
        var eps = S(o.TransparentOpacity / step);
        var targetSigma = draw.Sigma.to(device).clamp(S(0), S(o.OpaqueDepth / step));
        var density = nn.functional.smooth_l1_loss(sigma.to_type(ScalarType.Float32).Plus(eps).log(), targetSigma.Plus(eps).log());
        var alpha = S(1).Minus((targetSigma * S(-step)).exp());
        var colour = (rgb.to_type(ScalarType.Float32) - draw.Rgb.to(device)).Squared().sum(-1).mul(alpha).sum() / alpha.sum().clamp_min(S(1e-6));
        return density.Plus(S(o.ColourWeight) * colour);
    }

    public static Tensor Compute(ImplicitDecoder decoder, Tensor embeddings, IReadOnlyList<FieldTarget> targets, FieldLossOptions o, Generator gen)
    {
        using var draw = Draw(targets, o, gen);
        return Loss(decoder, embeddings, draw, o);
    }
}

/// <summary>One step's draw for <see cref="FieldLoss"/>, on the CPU (<see cref="FieldLoss.Draw"/>).</summary>
/// <param name="Points">[NeRFs, P, 3] float32 query points.</param>
/// <param name="Sigma">[NeRFs, P] the NeRF's density there.</param>
/// <param name="Rgb">[NeRFs, P, 3] the NeRF's colour there.</param>
public sealed record FieldDraw(Tensor Points, Tensor Sigma, Tensor Rgb) : IDisposable
{
    public void Dispose()
    {
        foreach (var t in new[] { Points, Sigma, Rgb }) t.Dispose();
    }
}
