using NerfGmn.Architectures;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

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

    /// <summary>Samples a field: <paramref name="uniform"/> points in the box and up to <paramref name="surface"/>
    /// points within <paramref name="band"/> of where σ crosses half its maximum (found by rejection).</summary>
    public static FieldSamples Sample(TrueField field, double maxDensity, Generator generator, int uniform = 65536, int surface = 65536, double band = 0.03)
    {
        using var scope = NewDisposeScope();
        var up = rand([uniform, 3], generator: generator) * 1.4f - 0.7f;
        var (ur, us) = field(up);
        // Near-surface: candidates whose density is between 1% and 99% of the maximum, jittered by ±band.
        var candidates = new List<Tensor>();
        long found = 0;
        for (int round = 0; round < 40 && found < surface; round++)
        {
            var c = rand([65536, 3], generator: generator) * 1.4f - 0.7f;
            var (_, cs) = field(c);
            var shell = cs.gt(0.01 * maxDensity).logical_and(cs.lt(0.99 * maxDensity)).nonzero().squeeze(1);
            // Interior points help too (they pin the density plateau); keep a few.
            var interior = cs.ge(0.99 * maxDensity).nonzero().squeeze(1);
            var pick = cat([c.index_select(0, shell), c.index_select(0, interior.narrow(0, 0, Math.Min(interior.shape[0], shell.shape[0] / 2 + 16)))], 0);
            candidates.Add(pick);
            found += pick.shape[0];
        }
        var surf = candidates.Count > 0 ? cat(candidates, 0) : up.narrow(0, 0, 1);
        if (surf.shape[0] > surface) surf = surf.narrow(0, 0, surface);
        surf = (surf + (rand(surf.shape, generator: generator) * 2 - 1) * (float)band).clamp(-0.7f, 0.7f);
        var (sr, ss) = field(surf);
        return new FieldSamples(up.MoveToOuterDisposeScope(), ur.MoveToOuterDisposeScope(), us.MoveToOuterDisposeScope(),
            surf.MoveToOuterDisposeScope(), sr.MoveToOuterDisposeScope(), ss.MoveToOuterDisposeScope());
    }

    /// <summary>Fits one NeRF per sample set; <paramref name="progress"/> gets (step, loss).</summary>
    public static BatchedRadianceField Fit(NerfArchitecture arch, IReadOnlyList<FieldSamples> targets, FieldFitOptions options,
        double maxDensity, Action<int, double>? progress = null)
    {
        var gen = new Generator((ulong)options.Seed);
        var model = new BatchedRadianceField(arch, targets.Count, gen);
        var gridParams = model.named_parameters().Where(p => !p.name.StartsWith("weights")).Select(p => p.parameter).ToList();
        var mlpParams = model.named_parameters().Where(p => p.name.StartsWith("weights")).Select(p => p.parameter).ToList();
        var groups = new List<Adam.ParamGroup> { new(mlpParams, new Adam.Options { LearningRate = options.MlpLearningRate }) };
        if (gridParams.Count > 0) groups.Add(new(gridParams, new Adam.Options { LearningRate = options.GridLearningRate }));
        var optimizer = optim.Adam(groups, eps: 1e-15);
        var baseRates = groups.Select(g => g.Options.LearningRate!.Value).ToArray();
        double minLog = Math.Log(options.MinDensity);
        int nSurface = (int)(options.PointsPerStep * options.NearSurfaceFraction), nUniform = options.PointsPerStep - nSurface;

        for (int step = 0; step < options.Steps; step++)
        {
            using var scope = NewDisposeScope();
            double decay = 0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * step / options.Steps));
            for (int g = 0; g < groups.Count; g++) groups[g].Options.LearningRate = baseRates[g] * decay;

            var pts = new List<Tensor>(); var rgbs = new List<Tensor>(); var sigmas = new List<Tensor>();
            foreach (var t in targets)
            {
                var iu = randint(0, t.UniformPoints.shape[0], [nUniform], generator: gen);
                var isf = randint(0, t.SurfacePoints.shape[0], [nSurface], generator: gen);
                pts.Add(cat([t.UniformPoints.index_select(0, iu), t.SurfacePoints.index_select(0, isf)], 0));
                rgbs.Add(cat([t.UniformRgb.index_select(0, iu), t.SurfaceRgb.index_select(0, isf)], 0));
                sigmas.Add(cat([t.UniformSigma.index_select(0, iu), t.SurfaceSigma.index_select(0, isf)], 0));
            }
            var p = stack(pts, 0); var rgbT = stack(rgbs, 0); var sigT = stack(sigmas, 0);
            var (rgb, _, logSigma) = model.forward(p);
            var target = sigT.clamp_min(options.MinDensity).log();
            var densityLoss = nn.functional.smooth_l1_loss(logSigma.clamp_min(minLog), target);
            var weight = (sigT / maxDensity).clamp(0, 1).unsqueeze(-1);
            var colorLoss = ((rgb - rgbT).square() * weight).sum() / (weight.sum() * 3 + 1e-6);
            var loss = densityLoss + options.ColorWeight * colorLoss;
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            if (progress is not null && (step % 50 == 0 || step == options.Steps - 1)) progress(step, loss.item<float>());
        }
        return model;
    }
}
