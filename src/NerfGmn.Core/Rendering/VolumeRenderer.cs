using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Rendering;

/// <summary>How to march and composite rays (nerfacc 0.3.5 semantics).</summary>
public sealed record RenderOptions
{
    /// <summary>Scene box for ray clipping (±0.7).</summary>
    public double[] SceneBox { get; init; } = [-0.7, -0.7, -0.7, 0.7, 0.7, 0.7];
    /// <summary>Step Δ = float32(max box side · √3 / 1024) = 0.002368038287…, as nerfacc stores it.</summary>
    public double StepSize { get; init; } = (double)(float)(1.4 * Math.Sqrt(3) / 1024);
    /// <summary>One uniform jitter of the first sample per ray (training renders of the decoder).</summary>
    public bool Stratified { get; init; }
    /// <summary>Drop samples whose transmittance fell below 1e-4 (nf2vec ground-truth renders).</summary>
    public bool SigmaCulling { get; init; }
    /// <summary>Background colour composited behind the ray (C + bg·(1 − A)).</summary>
    public double[] Background { get; init; } = [0, 0, 0];
    /// <summary>Rays per batch of the sample lattice: bounds memory (chunk × ~1,000 samples) and keeps the [R, K, 3] lattice near the cache: 512 renders 64 px views 30% faster than 2,048, with the same image.</summary>
    public int ChunkRays { get; init; } = 512;
    public Generator? Generator { get; init; }
}

/// <summary>Per-ray outputs: colour [R, 3], opacity A [R], expected depth [R].</summary>
public sealed record RenderResult(Tensor Rgb, Tensor Opacity, Tensor Depth) : IDisposable
{
    public void Dispose() { Rgb.Dispose(); Opacity.Dispose(); Depth.Dispose(); }
}

/// <summary>
/// Ray marching with occupancy-grid skipping and volume compositing, batched over a dense lattice of candidate
/// samples per ray (t_mid,k = t_min + (k + ½)Δ while t_mid &lt; t_max): a candidate is kept iff its cell is
/// occupied; the field runs on kept samples only. α = 1 − exp(−σΔ), T = exp(−Σ_{j&lt;i} σ_jΔ), w = Tα,
/// C = Σ w·rgb, A = Σ w. Geometry and compositing in float64, the field in float32.
/// </summary>
public static class VolumeRenderer
{
    /// <summary>Field: float32 world points [M, 3] → (rgb [M, 3], σ [M]).</summary>
    public delegate (Tensor Rgb, Tensor Sigma) Field(Tensor points);

    public static RenderResult Render(Field field, Tensor origins, Tensor directions, OccupancyGrid? grid, RenderOptions? options = null)
    {
        options ??= new RenderOptions();
        long n = origins.shape[0];
        var rgbs = new List<Tensor>(); var alphas = new List<Tensor>(); var depths = new List<Tensor>();
        using var gridTensor = grid is null ? null : tensor(grid.Occupied, device: origins.device);
        for (long start = 0; start < n; start += options.ChunkRays)
        {
            long m = Math.Min(options.ChunkRays, n - start);
            using var scope = NewDisposeScope();
            var r = RenderChunk(field, origins.narrow(0, start, m).to_type(ScalarType.Float64),
                directions.narrow(0, start, m).to_type(ScalarType.Float64), grid, gridTensor, options);
            rgbs.Add(r.Rgb.MoveToOuterDisposeScope());
            alphas.Add(r.Opacity.MoveToOuterDisposeScope());
            depths.Add(r.Depth.MoveToOuterDisposeScope());
        }
        var result = new RenderResult(cat(rgbs, 0), cat(alphas, 0), cat(depths, 0));
        foreach (var t in rgbs.Concat(alphas).Concat(depths)) t.Dispose();
        return result;
    }

    /// <summary>Slab intersection with the box; rays that miss get t_min = t_max = 1e10. t_min is clamped at 0.</summary>
    public static (Tensor TMin, Tensor TMax) IntersectBox(Tensor o, Tensor d, double[] box)
    {
        var lo = tensor(box[..3], ScalarType.Float64, device: o.device);
        var hi = tensor(box[3..], ScalarType.Float64, device: o.device);
        var inv = d.reciprocal();
        var t0 = (lo.Minus(o)) * inv;
        var t1 = (hi.Minus(o)) * inv;
        var tNear = minimum(t0, t1).nan_to_num(-1e10).amax(1);
        var tFar = maximum(t0, t1).nan_to_num(1e10).amin(1);
        tNear = tNear.clamp_min(S(0));
        var miss = tFar.le(tNear);
        return (tNear.masked_fill(miss, S(1e10)), tFar.masked_fill(miss, S(1e10)));
    }

    /// <summary>
    /// The sample lattice of rays [R] (float64): midpoints t [R, K], which samples are kept [R, K] (inside the box and,
    /// with a grid, in an occupied cell) and their world points [R, K, 3].
    /// </summary>
    public static (Tensor TMid, Tensor Valid, Tensor Points) Samples(Tensor o, Tensor d, OccupancyGrid? grid, Tensor? gridTensor, RenderOptions opt)
    {
        double step = opt.StepSize;
        var (tMin, tMax) = IntersectBox(o, d, opt.SceneBox);
        // nerfacc intersects in float32; the sample lattice hangs off that t_min (a boundary sample of the reference
        // render_check fixture flips cell with a float64 t_min).
        tMin = tMin.to_type(ScalarType.Float32).to_type(ScalarType.Float64);
        // Drawn on the CPU, where the generator lives, so any device sees the same jitter.
        if (opt.Stratified) tMin = tMin.Plus(rand(tMin.shape, dtype: ScalarType.Float64, generator: opt.Generator, device: CPU).to(o.device) * S(step));
        var span = (tMax.Minus(tMin)).clamp_min(S(0));
        long k = Math.Max(1, (long)Math.Ceiling(span.max().item<double>() / step));
        var tMid = tMin.unsqueeze(1).Plus((arange(S(k), dtype: ScalarType.Float64, device: o.device).Plus(S(0.5))) * S(step));    // [R, K]
        var valid = tMid.lt(tMax.unsqueeze(1));
        var points = o.unsqueeze(1).Plus(tMid.unsqueeze(2) * d.unsqueeze(1));                      // [R, K, 3]
        if (grid is not null) valid = valid.logical_and(Occupied(points, grid, gridTensor ?? tensor(grid.Occupied, device: o.device)));
        return (tMid, valid, points);
    }

    static RenderResult RenderChunk(Field field, Tensor o, Tensor d, OccupancyGrid? grid, Tensor? gridTensor, RenderOptions opt)
    {
        double step = opt.StepSize;
        var (tMid, valid, points) = Samples(o, d, grid, gridTensor, opt);
        long k = tMid.shape[1];

        long r = o.shape[0];
        var sigma = zeros(r, k, dtype: ScalarType.Float64, device: o.device);
        var rgb = zeros(r, k, 3, dtype: ScalarType.Float64, device: o.device);
        var flat = valid.reshape(-1).nonzero().squeeze(1);
        if (flat.shape[0] > 0)
        {
            var kept = points.reshape(-1, 3).index_select(0, flat).to_type(ScalarType.Float32);
            var (fr, fs) = field(kept);
            sigma = sigma.reshape(-1).index_put_(fs.to_type(ScalarType.Float64), flat).reshape(r, k);
            rgb = rgb.reshape(-1, 3).index_put_(fr.to_type(ScalarType.Float64), flat).reshape(r, k, 3);
        }
        return Composite(sigma, rgb, tMid, step, opt);
    }

    /// <summary>Volume compositing of dense [R, K] samples (zeros where nothing was sampled), any dtype, differentiable.</summary>
    public static RenderResult Composite(Tensor sigma, Tensor rgb, Tensor tMid, double step, RenderOptions opt)
    {
        var sdt = sigma * S(step);
        var alpha = S(1).Minus((-sdt).exp());
        var transmittance = (-(sdt.cumsum(1) - sdt)).exp();          // exclusive cumulative sum
        var weights = transmittance * alpha;
        if (opt.SigmaCulling) weights = weights * transmittance.ge(S(1e-4)).to_type(weights.dtype);
        var opacity = weights.sum(1);
        var color = (weights.unsqueeze(2) * rgb).sum(1);
        var bg = tensor(opt.Background, dtype: color.dtype, device: color.device);
        color = color.Plus(bg * S(1).Minus(opacity).unsqueeze(1));
        var depth = (weights * tMid.to_type(weights.dtype)).sum(1);
        return new RenderResult(color, opacity, depth);
    }

    /// <summary>Occupancy of world points [.., 3] (float64): inside the ROI and in an occupied cell.</summary>
    public static Tensor Occupied(Tensor points, OccupancyGrid grid, Tensor gridTensor)
    {
        var roi = grid.Roi;
        var lo = tensor(roi[..3].Select(v => (double)v).ToArray(), ScalarType.Float64, device: points.device);
        var hi = tensor(roi[3..].Select(v => (double)v).ToArray(), ScalarType.Float64, device: points.device);
        int res = grid.Resolution;
        var inside = points.ge(lo).logical_and(points.le(hi)).all(-1);
        var ijk = ((points.Minus(lo)) / (hi.Minus(lo)) * S(res)).floor().clamp(S(0), S(res - 1)).to_type(ScalarType.Int64);
        var index = (((ijk[TensorIndex.Ellipsis, 0] * S(res)).Plus(ijk[TensorIndex.Ellipsis, 1])) * S(res)).Plus(ijk[TensorIndex.Ellipsis, 2]);
        return gridTensor.index_select(0, index.reshape(-1)).reshape(index.shape).logical_and(inside);
    }
}
