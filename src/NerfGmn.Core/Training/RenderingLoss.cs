using NerfGmn.Decoder;
using NerfGmn.Fields;
using NerfGmn.Rendering;
using TorchSharp;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Training;

/// <summary>Sizes of the rendering loss (the reference: 55,000 rays → 512 foreground rays, ≤ 25,000 foreground samples, 35,000 decoder queries).</summary>
public sealed record RenderingLossOptions
{
    public int CandidateRays { get; init; } = 55_000;
    public int ForegroundRays { get; init; } = 512;
    public int MaxForegroundSamples { get; init; } = 25_000;
    public int BackgroundCells { get; init; } = 32_000;
    public int TotalPoints { get; init; } = 35_000;
    public double ForegroundWeight { get; init; } = 0.8;
    public int ImageSize { get; init; } = 224;

    public static readonly RenderingLossOptions Paper = new();
    public static readonly RenderingLossOptions Cpu = new() { CandidateRays = 8_192, ForegroundRays = 64, MaxForegroundSamples = 3_000, BackgroundCells = 3_000, TotalPoints = 4_000, ImageSize = 64 };
}

/// <summary>
/// What the rendering loss needs of one input NeRF, computed once: its occupancy grid and a pool of foreground rays
/// (random pixels of random views whose ground-truth opacity is non-zero) with the NeRF's own render of them (colour on black C, opacity A; no stratification, σ-culling on, as nf2vec's GT renders).
/// Targets are cached for the whole run, so they hold nothing that is cheap to recompute: the unoccupied cells
/// (8 bytes each, 6.8 MB for a 96³ grid) are listed per step from the grid (2.5 ms).
/// </summary>
public sealed record RenderTarget(OccupancyGrid Grid, Tensor Origins, Tensor Directions, Tensor ColorOnBlack, Tensor Opacity) : IDisposable
{
    public static RenderTarget Create(RadianceField nerf, OccupancyGrid grid, CameraSet cameras, RenderingLossOptions o, Generator gen)
    {
        using var scope = NewDisposeScope();
        var views = randint(0, cameras.Frames.Count, [o.CandidateRays], generator: gen);
        var px = randint(0, o.ImageSize, [o.CandidateRays, 2], generator: gen);
        var origins = new List<Tensor>(); var dirs = new List<Tensor>();
        var viewIds = views.data<long>().ToArray();
        foreach (var v in viewIds.Distinct())
        {
            var sel = views.eq(S(v)).nonzero().squeeze(1);
            var (ov, dv) = cameras.Rays((int)v, o.ImageSize, o.ImageSize, px.index_select(0, sel));
            origins.Add(ov); dirs.Add(dv);
        }
        var allO = cat(origins, 0); var allD = cat(dirs, 0);
        RenderResult gt;
        using (no_grad())
            gt = VolumeRenderer.Render(p => nerf.forward(p), allO, allD, grid, new RenderOptions { SigmaCulling = true });
        var fg = gt.Opacity.gt(S(0)).nonzero().squeeze(1);
        if (fg.shape[0] == 0) fg = arange(S(Math.Min(o.ForegroundRays, allO.shape[0])));   // empty NeRF: any rays
        // Targets are cached across training steps: keep them out of every dispose scope (freed by Dispose).
        return new RenderTarget(grid, allO.index_select(0, fg).DetachFromDisposeScope(),
            allD.index_select(0, fg).DetachFromDisposeScope(), gt.Rgb.index_select(0, fg).DetachFromDisposeScope(),
            gt.Opacity.index_select(0, fg).DetachFromDisposeScope());
    }

    /// <summary>As <see cref="Create"/>, with the cameras a dataset keeps beside the NeRF's weight file.</summary>
    public static RenderTarget ForWeightsFile(RadianceField nerf, OccupancyGrid grid, string weightsFile, RenderingLossOptions o, Generator gen) =>
        Create(nerf, grid, CameraSet.Load(Path.Combine(Path.GetDirectoryName(weightsFile)!, Datasets.DatasetLayout.TransformsName)), o, gen);

    public void Dispose()
    {
        foreach (var t in new[] { Origins, Directions, ColorOnBlack, Opacity }) t.Dispose();
    }
}

/// <summary>
/// The nf2vec/gmnerf rendering loss L_R (training-and-losses.md §3): for each NeRF, 512 foreground rays with their
/// ground truth composited on one random background per batch — twice, as the reference does —, a stratified decoder
/// render of those rays through the NeRF's occupancy grid (foreground samples capped at 25,000 by a sorted random
/// subset), background points in unoccupied cells; L_R = 0.8·smooth-L1(foreground colour) + 0.2·smooth-L1(rgb·σ +
/// bg·(1 − σ) against bg) with the background term over zero-padded points.
/// </summary>
public static class RenderingLoss
{
    public static Tensor Compute(ImplicitDecoder decoder, Tensor embeddings, IReadOnlyList<RenderTarget> targets, RenderingLossOptions o, Generator gen) =>
        ComputeWithMetrics(decoder, embeddings, targets, o, gen).Loss;

    /// <summary>The loss and the foreground colour MSE (for the validation PSNR = −10·log10 MSE).</summary>
    public static (Tensor Loss, double ForegroundMse) ComputeWithMetrics(ImplicitDecoder decoder, Tensor embeddings, IReadOnlyList<RenderTarget> targets,
        RenderingLossOptions o, Generator gen)
    {
        using var draw = Draw(targets, o, gen);
        return Loss(decoder, embeddings, draw, o);
    }

    /// <summary>
    /// One NeRF's foreground PSNR through the decoder, −10·log10 of the colour MSE on a draw of its rays (no gradients):
    /// what the decoder gate and <c>probe-decoder</c> report per NeRF.
    /// </summary>
    public static double ForegroundPsnr(ImplicitDecoder decoder, Tensor embedding, RenderTarget target, RenderingLossOptions o, Generator gen)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (_, mse) = ComputeWithMetrics(decoder, embedding, [target], o, gen);
        return -10 * Math.Log10(Math.Max(mse, 1e-10));
    }

    /// <summary>
    /// Every random draw of one step, on the CPU where the targets and the generator live: the background colour,
    /// each NeRF's foreground rays and their sample lattice, its ground truth and its background points, and the
    /// decoder's query points of all NeRFs (zero-padded to the longest).
    /// </summary>
    public static RenderingDraw Draw(IReadOnlyList<RenderTarget> targets, RenderingLossOptions o, Generator gen)
    {
        using var scope = NewDisposeScope();
        var bg = rand(3, generator: gen, dtype: ScalarType.Float64, device: CPU);     // item 0's colour for the whole batch
        var opt = new RenderOptions { Stratified = true, Generator = gen };
        var fgPoints = new List<Tensor>(); var layouts = new List<RenderingDraw.Foreground>();
        var gts = new List<Tensor>(); var bgPoints = new List<Tensor>();
        foreach (var t in targets)
        {
            long pool = t.Origins.shape[0];
            var pick = pool >= o.ForegroundRays ? randperm(pool, generator: gen, device: CPU)[..o.ForegroundRays]
                : cat([arange(S(pool), device: CPU), full(o.ForegroundRays - pool, S(pool - 1), dtype: ScalarType.Int64, device: CPU)], 0);
            var occupancy = tensor(t.Grid.Occupied, device: CPU);   // once for the samples and the empty cells
            var (tMid, valid, points) = VolumeRenderer.Samples(t.Origins.index_select(0, pick), t.Directions.index_select(0, pick), t.Grid, occupancy, opt);
            var flat = valid.reshape(-1).nonzero().squeeze(1);
            if (flat.shape[0] > o.MaxForegroundSamples)
                flat = flat.index_select(0, randperm(flat.shape[0], generator: gen, device: CPU)[..o.MaxForegroundSamples].sort().Values);   // random subset, ray order kept
            fgPoints.Add(points.reshape(-1, 3).index_select(0, flat).to_type(ScalarType.Float32));
            layouts.Add(new RenderingDraw.Foreground(flat, tMid.shape[0], tMid.shape[1], tMid));
            // Ground truth with the reference's double background composite: C_out = C + bg(1 − A); gt = C_out·A + bg(1 − A).
            var a = t.Opacity.index_select(0, pick).unsqueeze(1);
            var cOut = t.ColorOnBlack.index_select(0, pick).Plus(bg * S(1).Minus(a));
            gts.Add((cOut * a).Plus(bg * S(1).Minus(a)));
            // Background points: unoccupied cells without replacement, jittered inside the cell.
            var empty = occupancy.logical_not().nonzero().squeeze(1);
            long nBg = Math.Max(0, Math.Min(o.TotalPoints - flat.shape[0], Math.Min(o.BackgroundCells, empty.shape[0])));
            var cells = empty.index_select(0, randperm(empty.shape[0], generator: gen, device: CPU)[..(int)nBg]);
            bgPoints.Add(t.Grid.CellPoints(cells, rand([cells.shape[0], 3], generator: gen, device: CPU)));
        }
        int b = targets.Count;
        long maxPoints = Enumerable.Range(0, b).Max(k => fgPoints[k].shape[0] + bgPoints[k].shape[0]);
        var all = stack(Enumerable.Range(0, b).Select(k =>
        {
            var p = cat([fgPoints[k], bgPoints[k]], 0);
            return p.shape[0] < maxPoints ? cat([p, zeros(maxPoints - p.shape[0], 3, device: CPU)], 0) : p;
        }).ToArray(), 0);
        return new RenderingDraw(bg, all, layouts, gts, fgPoints.Select(p => p.shape[0]).ToArray(), bgPoints.Select(p => p.shape[0]).ToArray()).Detach();
    }

    /// <summary>
    /// The loss of one draw on the decoder's device: the draw moves there once, the decoder renders every NeRF's points
    /// in one pass, and every tensor made here is made there.
    /// </summary>
    public static (Tensor Loss, double ForegroundMse) Loss(ImplicitDecoder decoder, Tensor embeddings, RenderingDraw draw, RenderingLossOptions o)
    {
        var device = embeddings.device;
        int b = draw.Targets.Count;
        var bg = draw.Background.to(device);
        var (rgb, sigma) = decoder.forward((embeddings, draw.Points.to(device)));

        var fgLosses = new List<Tensor>(); var fgSquared = new List<Tensor>(); var bgPred = new List<Tensor>(); long maxBg = draw.BackgroundCounts.Max();
        var background = draw.Background.data<double>().ToArray();
        double stepSize = new RenderOptions().StepSize;
        for (int k = 0; k < b; k++)
        {
            long nFg = draw.ForegroundCounts[k], nBg = draw.BackgroundCounts[k];
            var (flatCpu, rays, kk, tMidCpu) = draw.Layouts[k];
            var (flat, tMid, gt) = (flatCpu.to(device), tMidCpu.to(device), draw.Targets[k].to(device));
            var denseSigma = zeros(rays * kk, dtype: ScalarType.Float64, device: device).index_put_(sigma[k, ..(int)nFg].to_type(ScalarType.Float64), flat).reshape(rays, kk);
            var denseRgb = zeros(rays * kk, 3, dtype: ScalarType.Float64, device: device).index_put_(rgb[k, ..(int)nFg].to_type(ScalarType.Float64), flat).reshape(rays, kk, 3);
            using var composite = VolumeRenderer.Composite(denseSigma, denseRgb, tMid, stepSize, new RenderOptions { Background = background });
            fgLosses.Add(nn.functional.smooth_l1_loss(composite.Rgb, gt, reduction: nn.Reduction.Sum));
            fgSquared.Add((composite.Rgb.detach() - gt).Squared().mean());
            var s = sigma[k, (int)nFg..(int)(nFg + nBg)].unsqueeze(1).to_type(ScalarType.Float64);
            var pred = (rgb[k, (int)nFg..(int)(nFg + nBg)].to_type(ScalarType.Float64) * s).Plus(bg * S(1).Minus(s));
            bgPred.Add(nn.functional.pad(pred.Minus(bg), [0, 0, 0, maxBg - nBg]));   // padded entries compare 0 with 0
        }
        var lFg = stack(fgLosses, 0).sum() / (S(b * o.ForegroundRays * 3));
        var lBg = nn.functional.smooth_l1_loss(stack(bgPred, 0), zeros(b, maxBg, 3, dtype: ScalarType.Float64, device: device));
        double mse = stack(fgSquared, 0).mean().item<double>();
        return (((S(o.ForegroundWeight) * lFg).Plus((S(1 - o.ForegroundWeight)) * lBg)).to_type(ScalarType.Float32), mse);
    }
}

/// <summary>One step's random draws for <see cref="RenderingLoss"/>, on the CPU (see <see cref="RenderingLoss.Draw"/>).</summary>
/// <param name="Background">[3] float64 background colour of the batch.</param>
/// <param name="Points">[NeRFs, M, 3] float32 decoder queries: each NeRF's foreground samples, then its background points, zero-padded.</param>
/// <param name="Layouts">Per NeRF: which cells of its [rays, K] sample lattice the foreground samples fill, and the lattice's midpoints.</param>
/// <param name="Targets">Per NeRF: [rays, 3] ground-truth colours on the background.</param>
public sealed record RenderingDraw(Tensor Background, Tensor Points, IReadOnlyList<RenderingDraw.Foreground> Layouts, IReadOnlyList<Tensor> Targets,
    long[] ForegroundCounts, long[] BackgroundCounts) : IDisposable
{
    /// <param name="Flat">Flat indices into the [Rays·K] lattice of the kept samples.</param>
    public sealed record Foreground(Tensor Flat, long Rays, long K, Tensor TMid);

    /// <summary>Takes every tensor out of the current dispose scope (this draw disposes them).</summary>
    internal RenderingDraw Detach()
    {
        foreach (var t in All()) t.DetachFromDisposeScope();
        return this;
    }

    IEnumerable<Tensor> All() => new[] { Background, Points }.Concat(Targets).Concat(Layouts.SelectMany(l => new[] { l.Flat, l.TMid }));

    public void Dispose()
    {
        foreach (var t in All()) t.Dispose();
    }
}
