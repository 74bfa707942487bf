using System.Diagnostics;
using NerfGmn.Decoder;
using NerfGmn.Encoder;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Training;

/// <summary>The settings of a decoder inversion (<see cref="DecoderInversion"/>).</summary>
public sealed record DecoderInversionOptions
{
    /// <summary>The training run (L_R, L_R+C, L_F or L_F+C) whose encoder gives the starting codes.</summary>
    public required string Run { get; init; }
    /// <summary>The decoder inverted: a fit's <c>decoder.safetensors</c> (any width), or null for the run's last one.</summary>
    public string? Decoder { get; init; }
    public string Split { get; init; } = "val";
    /// <summary>Objects (round-robin over classes, as fit-decoder's validation NeRFs), every architecture of each.</summary>
    public int Objects { get; init; } = 26;
    public int Steps { get; init; } = 300;
    /// <summary>Adam rate of the codes (DeepSDF infers its codes at 5e-3; the codes here start from an embedding, not from 0).</summary>
    public double LearningRate { get; init; } = 1e-2;
    /// <summary>Field points per NeRF per step (every NeRF's code steps at once, so fewer than a training step's 4,000).</summary>
    public int PointsPerNerf { get; init; } = 1000;
    public int EvaluateEvery { get; init; } = 100;
    public int Seed { get; init; }
}

/// <summary>One evaluation: the objective, the median render PSNR, and how far the codes have moved from the embeddings.</summary>
/// <param name="CodeShift">Median ‖code − embedding‖ / ‖embedding‖ over the NeRFs.</param>
public sealed record DecoderInversionPoint(int Step, double Seconds, double Loss, double MedianPsnr, double CodeShift);

/// <summary>One NeRF: its render PSNR from the encoder's embedding and from the code inferred for it.</summary>
public sealed record DecoderInversionRow(string Object, string Arch, double EmbeddingPsnr, double InvertedPsnr, double CodeShift);

public sealed record DecoderInversionReport(IReadOnlyList<DecoderInversionPoint> Curve, IReadOnlyList<DecoderInversionRow> Rows)
{
    public double MedianEmbeddingPsnr => DecoderProbe.Median(Rows.Select(r => r.EmbeddingPsnr));
    public double MedianInvertedPsnr => DecoderProbe.Median(Rows.Select(r => r.InvertedPsnr));
}

/// <summary>
/// How well could this decoder draw these NeRFs with the best code it could be given? DeepSDF's inference: the decoder
/// frozen, one free code per NeRF, started at the encoder's embedding and optimised with the run's objective against
/// the NeRF's own field. A held-out render at 19 dB from the embedding is either a decoder that cannot draw new shapes
/// (inverted codes render no better: more objects or another decoder are the lever) or an embedding that does not say
/// enough about the shape (inverted codes render well: the encoder is the lever). The inverted code is a diagnostic,
/// not an embedding: it reads the NeRF's field, which the encoder must not.
/// </summary>
public static class DecoderInversion
{
    public static DecoderInversionReport Run(DecoderInversionOptions o, Action<DecoderInversionPoint>? progress = null, Action<string>? status = null,
        CancellationToken cancel = default)
    {
        var run = TrainingOptions.FromRun(o.Run);
        if (!Objective.Decodes(run.Objective)) throw new ArgumentException($"{o.Run} was trained with {run.Objective}, which has no decoder to invert");
        if (o.Steps < 0) throw new ArgumentOutOfRangeException(nameof(o.Steps), "steps must be 0 or more");
        if (o.Objects < 1) throw new ArgumentOutOfRangeException(nameof(o.Objects), "invert at least one object");
        if (o.PointsPerNerf < 4) throw new ArgumentOutOfRangeException(nameof(o.PointsPerNerf), "a NeRF needs at least 4 points per step (one per group)");
        string last = Path.Combine(o.Run, "last");
        var (encoder, _) = EncoderCheckpoint.Load(Path.Combine(last, "encoder.safetensors"));
        using var encoderOwner = encoder;
        using var decoder = DecoderProbe.DecoderOf(o.Run, run, o.Decoder);
        foreach (var p in decoder.parameters()) p.requires_grad = false;

        var data = new TrainingData(run.Data, o.Split, exclude: o.Split == "train" ? run.Exclude : null);
        var anchors = DecoderProbe.AnchorsOf(run, encoder);
        var nerfs = DecoderFit.Nerfs(data, o.Objects, anchors);
        if (nerfs.Count == 0) throw new NerfFormatException(run.Data, $"no NeRFs in split '{o.Split}'");
        var field = run.Field with { PointsPerNerf = o.PointsPerNerf };

        using var cache = new NerfTargetCache(run);
        status?.Invoke($"embedding {nerfs.Count} NeRFs of split '{o.Split}'");
        using var z = DecoderFit.Embed(encoder, run, data, nerfs, anchors);
        using var zNorm = z.norm(1, keepdim: true);
        var codes = new Parameter(z.clone());
        var optimizer = optim.Adam([codes], lr: o.LearningRate);

        var sw = Stopwatch.StartNew();
        var curve = new List<DecoderInversionPoint>();
        double lossSum = 0; int lossCount = 0;
        double[] Psnrs(Tensor c) => Enumerable.Range(0, nerfs.Count).Select(i => cache.RenderPsnr(decoder, c.narrow(0, i, 1), data, nerfs[i].Object, nerfs[i].Arch, o.Seed)).ToArray();
        double[] Shifts()
        {
            using var noGrad = no_grad();
            using var shift = (codes - z).norm(1, keepdim: true).div(zNorm.clamp_min(S(1e-12))).squeeze(1);
            return shift.to_type(ScalarType.Float64).data<double>().ToArray();
        }
        double[] Evaluate(int step)
        {
            var psnr = Psnrs(codes.detach());
            var point = new DecoderInversionPoint(step, Math.Round(sw.Elapsed.TotalSeconds, 1), lossCount > 0 ? lossSum / lossCount : double.NaN,
                DecoderProbe.Median(psnr), DecoderProbe.Median(Shifts()));
            lossSum = 0; lossCount = 0;
            curve.Add(point);
            progress?.Invoke(point);
            return psnr;
        }

        status?.Invoke($"rendering the {nerfs.Count} NeRFs' targets and reading their fields (once)");
        var fromEmbedding = Evaluate(0);
        var latest = fromEmbedding;
        for (int step = 1; step <= o.Steps; step++)
        {
            cancel.ThrowIfCancellationRequested();
            using (var scope = NewDisposeScope())
            {
                using var gen = new Generator(StableHash.Of(o.Seed, "decoder-inversion", step));
                var loss = cache.Loss(decoder, codes, data, nerfs, gen, field);
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                lossSum += loss.item<float>(); lossCount++;
            }
            if (step % o.EvaluateEvery == 0 || step == o.Steps) latest = Evaluate(step);
        }
        var shifts = Shifts();
        var rows = nerfs.Select((n, i) => new DecoderInversionRow(n.Object, n.Arch, fromEmbedding[i], latest[i], shifts[i])).ToList();
        return new DecoderInversionReport(curve, rows);
    }
}
