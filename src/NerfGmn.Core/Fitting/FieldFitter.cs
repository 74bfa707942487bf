using NerfGmn.Architectures;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Fitting;

/// <summary>Ground truth field sampled once per object: points with their rgb and σ, uniform and near-surface pools.</summary>
public sealed record FieldSamples(Tensor UniformPoints, Tensor UniformRgb, Tensor UniformSigma,
    Tensor SurfacePoints, Tensor SurfaceRgb, Tensor SurfaceSigma) : IDisposable
{
    public void Dispose()
    {
        foreach (var t in new[] { UniformPoints, UniformRgb, UniformSigma, SurfacePoints, SurfaceRgb, SurfaceSigma }) t.Dispose();
    }
}

/// <summary>
/// Fits B NeRFs of one architecture at once to known fields: each step draws points from every object's sample
/// pools and regresses log-density (Huber, targets clamped at log σ_min) and colour (MSE weighted by σ/σ_max).
/// Adam, cosine-decayed learning rates, the grid (tri-plane, hash table) at a higher rate than the MLP.
/// </summary>
public static class FieldFitter
{
    public delegate (Tensor Rgb, Tensor Sigma) TrueField(Tensor points);

    /// <summary>
    /// Samples a field with a known signed distance: <paramref name="uniform"/> points in the box, and
    /// <paramref name="surface"/> points projected onto the zero level set (p ← p − sdf·∇sdf, twice) then jittered by
    /// up to ±<paramref name="band"/>, so the density transition and the colours at the surface are densely covered.
    /// </summary>
    public static FieldSamples Sample(TrueField field, Func<Tensor, Tensor> sdf, Generator generator, int uniform = 32768, int surface = 49152, double band = 0.03)
    {
        using var scope = NewDisposeScope();
        var up = rand([uniform, 3], generator: generator) * S(1.4f) - S(0.7f);
        var (ur, us) = field(up);
        var p = rand([surface, 3], generator: generator) * S(1.4f) - S(0.7f);
        const double h = 1e-3;
        for (int iteration = 0; iteration < 3; iteration++)
        {
            var d = sdf(p);
            var grads = new List<Tensor>(3);
            for (int a = 0; a < 3; a++)
            {
                var e = zeros(3); e[a] = T((float)h);
                grads.Add((sdf(p.Plus(e)) - sdf(p.Minus(e))) / (S(2 * h)));
            }
            var n = stack(grads, 1);
            n = n / n.norm(1, keepdim: true).clamp_min(S(1e-9));
            p = p.Minus(d.unsqueeze(1) * n);
        }
        var jitter = (rand([surface, 3], generator: generator) * S(2) - S(1)) * S((float)band)
                     * rand([surface, 1], generator: generator);   // denser close to the surface
        var surf = (p.Plus(jitter)).clamp(S(-0.7f), S(0.7f));
        var (sr, ss) = field(surf);
        return new FieldSamples(up.MoveToOuterDisposeScope(), ur.MoveToOuterDisposeScope(), us.MoveToOuterDisposeScope(),
            surf.MoveToOuterDisposeScope(), sr.MoveToOuterDisposeScope(), ss.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Fits one NeRF per sample set. <paramref name="seeds"/> (one per NeRF) drive initialisation and point sampling
    /// so a NeRF does not depend on which others share its batch; <paramref name="initSeeds"/>, when given, drive the
    /// initialisation instead (equal seeds give equal initial weights); the loss is a sum of per-NeRF means, so batching
    /// does not rescale any NeRF's gradients. <paramref name="progress"/> gets (step, mean loss).
    /// </summary>
    /// <param name="device">Where the model is fitted (default: the CPU). It is initialised on the CPU and moved; each step's
    /// points are drawn from the CPU sample pools with the CPU generators and moved, so any device fits the same NeRFs up to
    /// floating-point order.</param>
    public static BatchedRadianceField Fit(NerfArchitecture arch, IReadOnlyList<FieldSamples> targets, FieldFitOptions options,
        double maxDensity, IReadOnlyList<ulong>? seeds = null, IReadOnlyList<ulong>? initSeeds = null, Action<int, double>? progress = null,
        Device? device = null)
    {
        device ??= CPU;
        seeds ??= Enumerable.Range(0, targets.Count).Select(k => (ulong)(options.Seed * 1000 + k)).ToArray();
        var gens = seeds.Select(s => new Generator(s)).ToArray();
        var model = new BatchedRadianceField(arch, targets.Count, initSeeds is null ? gens : initSeeds.Select(s => new Generator(s)).ToArray());
        Runtime.ComputeDevice.Place(model, device);
        var (optimizer, groups) = model.CreateAdam(options.MlpLearningRate, options.GridLearningRate);
        var baseRates = groups.Select(g => g.Options.LearningRate!.Value).ToArray();
        double minLog = Math.Log(options.MinDensity);
        int nSurface = (int)(options.PointsPerStep * options.NearSurfaceFraction), nUniform = options.PointsPerStep - nSurface;

        for (int step = 0; step < options.Steps; step++)
        {
            using var scope = NewDisposeScope();
            double decay = 0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * step / options.Steps));
            for (int g = 0; g < groups.Count; g++) groups[g].Options.LearningRate = baseRates[g] * decay;

            var pts = new List<Tensor>(); var rgbs = new List<Tensor>(); var sigmas = new List<Tensor>();
            for (int k = 0; k < targets.Count; k++)
            {
                var t = targets[k];
                var iu = randint(0, t.UniformPoints.shape[0], [nUniform], generator: gens[k], device: CPU);
                var isf = randint(0, t.SurfacePoints.shape[0], [nSurface], generator: gens[k], device: CPU);
                pts.Add(cat([t.UniformPoints.index_select(0, iu), t.SurfacePoints.index_select(0, isf)], 0));
                rgbs.Add(cat([t.UniformRgb.index_select(0, iu), t.SurfaceRgb.index_select(0, isf)], 0));
                sigmas.Add(cat([t.UniformSigma.index_select(0, iu), t.SurfaceSigma.index_select(0, isf)], 0));
            }
            var p = stack(pts, 0).to(device); var rgbT = stack(rgbs, 0).to(device); var sigT = stack(sigmas, 0).to(device);
            var (rgb, _, logSigma) = model.forward(p);
            var target = sigT.clamp_min(S(options.MinDensity)).log();
            var densityLoss = nn.functional.smooth_l1_loss(logSigma.clamp_min(S(minLog)), target, reduction: nn.Reduction.None).mean([1L]);
            var weight = (sigT / S(maxDensity)).clamp(S(0), S(1)).unsqueeze(-1);
            var colorLoss = ((rgb.Minus(rgbT)).Squared() * weight).sum([1L, 2L]) / ((weight.sum([1L, 2L]) * S(3)).Plus(S(1e-6)));
            var loss = (densityLoss.Plus(S(options.ColorWeight) * colorLoss)).sum();
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            if (progress is not null && (step % 50 == 0 || step == options.Steps - 1)) progress(step, loss.item<float>() / targets.Count);
        }
        return model;
    }
}
