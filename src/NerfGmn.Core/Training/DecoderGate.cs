using System.Diagnostics;
using NerfGmn.Decoder;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Training;

/// <summary>The decoder gate's settings (<see cref="DecoderGate"/>).</summary>
public sealed record DecoderGateOptions
{
    public required string Data { get; init; }
    public string Split { get; init; } = "train";
    /// <summary>Objects, one code each (round-robin over classes, as the overfit set).</summary>
    public int Objects { get; init; } = 16;
    /// <summary>Whose NeRFs are rendered (one architecture: the gate is about the decoder, not alignment).</summary>
    public string Architecture { get; init; } = "mlp";
    /// <summary>Wall-time budget; the run stops at whichever of this and <see cref="MaxSteps"/> comes first.</summary>
    public double Minutes { get; init; } = 10;
    public int MaxSteps { get; init; } = int.MaxValue;
    public int NerfsPerStep { get; init; } = 8;
    /// <summary>AdamW rate of the decoder (constant; the cpu preset's peak rate) and of the codes.</summary>
    public double LearningRate { get; init; } = 1e-3;
    public double CodeLearningRate { get; init; } = 1e-3;
    public int EvaluateEvery { get; init; } = 50;
    public int CodeDim { get; init; } = 1024;
    public ImplicitDecoderOptions Decoder { get; init; } = TrainingOptions.CpuDecoder;
    public RenderingLossOptions Rendering { get; init; } = RenderingLossOptions.Cpu;
    /// <summary>What trains the decoder: <see cref="Objective.Rendering"/> (volume rendering, as the encoder runs) or <see cref="Objective.Field"/>. Validation renders either way.</summary>
    public string Loss { get; init; } = Objective.Rendering;
    public FieldLossOptions Field { get; init; } = FieldLossOptions.Cpu;
    /// <summary>Occupied and empty cells queried per object by the final probe.</summary>
    public int ProbePoints { get; init; } = 2000;
    public int Seed { get; init; }
}

/// <summary>Median foreground PSNR over the gate's objects after <paramref name="Step"/> steps.</summary>
public sealed record DecoderGatePoint(int Step, double Seconds, double MedianPsnr);

/// <summary>The PSNR curve and, at the end, where the decoder puts density with each object's own code and another's.</summary>
public sealed record DecoderGateReport(IReadOnlyList<DecoderGatePoint> Curve, IReadOnlyList<DecoderProbeRow> Probe)
{
    public double FinalPsnr => Curve[^1].MedianPsnr;
    public double MedianAuc => DecoderProbe.Median(Probe.Select(r => r.OccupancyAuc));
    public double MedianAucOtherObject => DecoderProbe.Median(Probe.Select(r => r.OccupancyAucOtherObject));
    /// <summary>What a perfect decoder would score with the other object's code: the other object's own NeRF as the scorer.</summary>
    public double MedianAucOtherNerf => DecoderProbe.Median(Probe.Select(r => r.OccupancyAucOtherNerf));
    /// <summary>The three medians on visible density only (<see cref="DecoderProbeRow.VisibleAuc"/>).</summary>
    public VisibleAuc MedianVisibleAuc => new(DecoderProbe.Median(Probe.Select(r => r.VisibleAuc?.Own ?? double.NaN)),
        DecoderProbe.Median(Probe.Select(r => r.VisibleAuc?.OtherObject ?? double.NaN)), DecoderProbe.Median(Probe.Select(r => r.VisibleAuc?.OtherNerf ?? double.NaN)),
        DecoderProbe.Median(Probe.Select(r => r.VisibleAuc?.OwnNerf ?? double.NaN)));
}

/// <summary>
/// Can the decoder and the rendering loss learn N shapes at all? An auto-decoder (DeepSDF): every object gets a free,
/// learnt code instead of an encoder's embedding, and the decoder is trained with the rendering loss of the encoder runs
/// on those codes. Validation is each object's foreground PSNR on a fixed draw of its rays; the final probe asks whether
/// density follows the code (occupancy AUC with the object's own code against another object's). If this cannot reach
/// a useful PSNR, no encoder trained through the same decoder and loss can.
/// </summary>
public static class DecoderGate
{
    public static DecoderGateReport Run(DecoderGateOptions o, Action<DecoderGatePoint>? progress = null, CancellationToken cancel = default)
    {
        if (o.Objects < 2) throw new ArgumentException("the gate needs at least two objects (the probe compares codes)");
        if (o.Loss is not (Objective.Rendering or Objective.Field)) throw new ArgumentException($"the gate trains with {Objective.Rendering} or {Objective.Field}, not '{o.Loss}'");
        var data = new TrainingData(o.Data, o.Split, [o.Architecture]).Balanced(o.Objects);
        // Round-robin over classes (as Balanced picks them), so that the probe's "another object", the next one, is of another class.
        var objects = TrainingData.ClassRoundRobin(data.Objects.Keys.Order(StringComparer.Ordinal));
        var nerfs = new List<Fields.RadianceField>();
        var grids = new List<Rendering.OccupancyGrid>();
        var targets = new List<RenderTarget>();
        var fields = new List<FieldTarget>();
        try
        {
            foreach (var obj in objects)
            {
                string file = data.Objects[obj][o.Architecture];
                var nerf = new Fields.RadianceField(IO.NerfWeightsFile.Read(file));
                nerfs.Add(nerf);
                grids.Add(data.Grid(obj, o.Architecture, nerf));
                targets.Add(RenderTarget.ForWeightsFile(nerf, grids[^1], file, o.Rendering, new Generator(StableHash.Of(o.Seed, "target", obj))));
                if (o.Loss == Objective.Field) fields.Add(FieldTarget.Create(nerf, grids[^1], o.Field, new Generator(StableHash.Of(o.Seed, "field", obj))));
            }

            random.manual_seed(o.Seed);
            using var decoder = new ImplicitDecoder(o.Decoder with { EmbeddingDim = o.CodeDim });
            // DeepSDF's code initialisation: N(0, 0.01²) per entry.
            var codes = new Parameter(randn(objects.Count, o.CodeDim) * S(0.01));
            var optimizer = optim.AdamW([
                new AdamW.ParamGroup(decoder.parameters(), new AdamW.Options { LearningRate = o.LearningRate }),
                new AdamW.ParamGroup([codes], new AdamW.Options { LearningRate = o.CodeLearningRate, weight_decay = 0 }),
            ], lr: o.LearningRate);

            var curve = new List<DecoderGatePoint>();
            var sw = Stopwatch.StartNew();
            void Evaluate(int step)
            {
                using var scope = NewDisposeScope();
                decoder.eval();
                // The same rays and background every time: a fixed generator per object.
                var psnr = Enumerable.Range(0, objects.Count).Select(k =>
                {
                    using var gen = new Generator(StableHash.Of(o.Seed, "gate-eval", objects[k]));
                    return RenderingLoss.ForegroundPsnr(decoder, codes.narrow(0, k, 1), targets[k], o.Rendering, gen);
                }).ToList();
                decoder.train();
                var point = new DecoderGatePoint(step, Math.Round(sw.Elapsed.TotalSeconds, 1), DecoderProbe.Median(psnr));
                curve.Add(point);
                progress?.Invoke(point);
            }

            Evaluate(0);
            var order = new Random(o.Seed);
            int step = 0;
            while (step < o.MaxSteps && sw.Elapsed.TotalMinutes < o.Minutes)
            {
                cancel.ThrowIfCancellationRequested();
                using (var scope = NewDisposeScope())
                {
                    var picked = Enumerable.Range(0, objects.Count).OrderBy(_ => order.Next()).Take(o.NerfsPerStep).ToArray();
                    using var gen = new Generator(StableHash.Of(o.Seed, "gate-step", step));
                    var z = codes.index_select(0, tensor(picked.Select(i => (long)i).ToArray(), device: codes.device));
                    var loss = o.Loss == Objective.Field
                        ? FieldLoss.Compute(decoder, z, picked.Select(i => fields[i]).ToList(), o.Field, gen)
                        : RenderingLoss.Compute(decoder, z, picked.Select(i => targets[i]).ToList(), o.Rendering, gen);
                    optimizer.zero_grad();
                    loss.backward();
                    optimizer.step();
                }
                step++;
                if (step % o.EvaluateEvery == 0) Evaluate(step);
            }
            if (curve[^1].Step != step) Evaluate(step);

            decoder.eval();
            using var probeGen = new Generator((ulong)o.Seed);
            var probe = Enumerable.Range(0, objects.Count).Select(k => DecoderProbe.Probe(decoder, codes.narrow(0, k, 1).detach(),
                codes.narrow(0, (k + 1) % objects.Count, 1).detach(), nerfs[k], grids[k], objects[k], o.Architecture, o.ProbePoints, probeGen,
                nerfs[(k + 1) % objects.Count])).ToList();
            return new DecoderGateReport(curve, probe);
        }
        finally
        {
            foreach (var t in targets) t.Dispose();
            foreach (var f in fields) f.Dispose();
            foreach (var n in nerfs) n.Dispose();
        }
    }
}
