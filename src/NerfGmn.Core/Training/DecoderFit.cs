using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using NerfGmn.Decoder;
using NerfGmn.Encoder;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Training;

/// <summary>The settings of a decoder fit (<see cref="DecoderFit"/>).</summary>
public sealed record DecoderFitOptions
{
    /// <summary>The training run (L_R, L_R+C, L_F or L_F+C) whose encoder embeds and whose decoder is fitted further.</summary>
    public required string Run { get; init; }
    /// <summary>Folder of the fitted decoder, its log and its resumable state.</summary>
    public required string Output { get; init; }
    /// <summary>Wall-time budget of this invocation; it stops at whichever of this and <see cref="MaxSteps"/> comes first.</summary>
    public double Minutes { get; init; } = 30;
    /// <summary>Total steps of the fit (a resumed fit counts the steps done before).</summary>
    public int MaxSteps { get; init; } = int.MaxValue;
    /// <summary>NeRFs per step (the cpu preset's encoder step: 4 pairs, 8 NeRFs).</summary>
    public int NerfsPerStep { get; init; } = 8;
    /// <summary>AdamW rate (constant; the cpu preset's peak).</summary>
    public double LearningRate { get; init; } = 1e-3;
    public int EvaluateEvery { get; init; } = 250;
    /// <summary>Validation objects (the run's validation split, round-robin over classes), every architecture of each.</summary>
    public int ValidationObjects { get; init; } = 26;
    /// <summary>Start from a new decoder instead of the run's.</summary>
    public bool FromScratch { get; init; }
    /// <summary>Width and hidden layers on each side of the skip of a new decoder (null: the run's); implies <see cref="FromScratch"/>.</summary>
    public int? Width { get; init; }
    public int? LayersPerSide { get; init; }
    /// <summary>
    /// Gaussian noise added to each step's training embeddings, in units of each dimension's standard deviation over the
    /// training NeRFs (0: none). A decoder fitted on a thousand frozen embeddings renders its training NeRFs ever better
    /// while held-out ones stay flat; noise asks it to draw the same field for every embedding near a training one, so
    /// that a new object's embedding falls among codes it has learnt to decode (DeepSDF's and nf2vec's decoders see
    /// fixed codes; this is the usual regulariser of a conditional decoder, not from either paper).
    /// </summary>
    public double EmbeddingNoise { get; init; }
    /// <summary>Continue the fit in <see cref="Output"/> from its saved state.</summary>
    public bool Resume { get; init; }
    public int Seed { get; init; }
}

/// <summary>One evaluation: median per-NeRF foreground PSNR on the validation NeRFs and on as many training NeRFs.</summary>
public sealed record DecoderFitPoint(int Step, double Seconds, double Loss, double TrainPsnr, double ValidationPsnr);

/// <summary>
/// Fits a run's decoder further on its encoder's frozen embeddings (not in the paper). A joint run gives the decoder as
/// many steps as the encoder, ~20 visits per training NeRF in the cpu preset, and its L_F validation renders stay near
/// the background: the decoder is underfitted (training NeRFs render no better than held-out ones). A decoder step
/// without the encoder costs a fraction of a joint step, so the decoder can see each NeRF hundreds of times. The
/// embeddings are the encoder's eval-mode ones, those every user of the encoder gets. Each evaluation renders the
/// validation NeRFs and as many training NeRFs through the decoder (median per-NeRF foreground PSNR, the probe's
/// measure), so the log tells learning from memorising. Resumable: the state is saved at every evaluation.
/// </summary>
public static class DecoderFit
{
    const string StateName = "fit.json", SettingsName = "options.json", DecoderName = "decoder.safetensors", OptimizerName = "optimizer.bin", LogName = "log.csv";

    sealed record FitState(int Step, double Seconds);

    /// <summary>
    /// Settings a resume may change: where things are, how long this invocation runs, how often it reports; the decoder's
    /// shape is checked on its own (a resumed fit reads it from its decoder).
    /// </summary>
    static readonly string[] ResumableSettings =
    [
        nameof(DecoderFitOptions.Run), nameof(DecoderFitOptions.Output), nameof(DecoderFitOptions.Minutes), nameof(DecoderFitOptions.MaxSteps),
        nameof(DecoderFitOptions.EvaluateEvery), nameof(DecoderFitOptions.Resume), nameof(DecoderFitOptions.FromScratch),
        nameof(DecoderFitOptions.Width), nameof(DecoderFitOptions.LayersPerSide),
    ];

    public static IReadOnlyList<DecoderFitPoint> Run(DecoderFitOptions o, Action<DecoderFitPoint>? progress = null, Action<string>? status = null,
        CancellationToken cancel = default)
    {
        var run = TrainingOptions.FromRun(o.Run);
        if (!Objective.Decodes(run.Objective)) throw new ArgumentException($"{o.Run} was trained with {run.Objective}, which has no decoder to fit");
        if (o.NerfsPerStep < 1) throw new ArgumentOutOfRangeException(nameof(o.NerfsPerStep), "a step needs at least one NeRF");
        if (!(o.EmbeddingNoise >= 0 && double.IsFinite(o.EmbeddingNoise)))
            throw new ArgumentOutOfRangeException(nameof(o.EmbeddingNoise), $"embedding noise must be 0 or more (standard deviations), got {o.EmbeddingNoise}");
        IO.OutputFolder.Create(o.Output, "decoder-fit folder");
        string last = Path.Combine(o.Run, "last");
        var (encoder, _) = EncoderCheckpoint.Load(Path.Combine(last, "encoder.safetensors"));
        using var encoderOwner = encoder;
        bool resuming = File.Exists(Path.Combine(o.Output, StateName));
        if (resuming != o.Resume)
            throw new ArgumentException(resuming ? $"{o.Output} holds a decoder fit already: resume it, or choose another output folder"
                : $"{o.Output} holds no decoder fit to resume ({StateName} missing)");
        var shape = run.Decoder with { EmbeddingDim = run.Encoder.OutputDim };
        bool reshaped = o.Width is not null || o.LayersPerSide is not null;
        if (reshaped && resuming) throw new ArgumentException("a resumed fit keeps its decoder's shape: leave out the width and layers");
        string settingsPath = Path.Combine(o.Output, SettingsName);
        var settings = System.Text.Json.Nodes.JsonNode.Parse(JsonSerializer.Serialize(o))!.AsObject();
        // As train does: resuming with other settings would not continue the same fit (fits before this file have none to compare).
        if (resuming && File.Exists(settingsPath)
            && SettingsDiff.Of(System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(settingsPath))!.AsObject(), settings, ResumableSettings) is { Length: > 0 } differ)
            throw new ArgumentException($"{o.Output} was fitted with other settings ({string.Join("; ", differ)}); resume with the same");
        if (!resuming) IO.AtomicFile.WriteAllText(settingsPath, settings.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        shape = resuming ? ImplicitDecoder.OptionsOf(Path.Combine(o.Output, DecoderName), shape)
            : shape with { HiddenDim = o.Width ?? shape.HiddenDim, LayersBeforeSkip = o.LayersPerSide ?? shape.LayersBeforeSkip, LayersAfterSkip = o.LayersPerSide ?? shape.LayersAfterSkip };
        using var decoder = new ImplicitDecoder(shape);
        if (resuming) decoder.Load(Path.Combine(o.Output, DecoderName));
        else if (!o.FromScratch && !reshaped) decoder.Load(Path.Combine(last, DecoderName));
        var optimizer = optim.AdamW(decoder.parameters(), lr: o.LearningRate, weight_decay: run.WeightDecay);
        var state = new FitState(0, 0);
        if (resuming)
        {
            state = JsonSerializer.Deserialize<FitState>(File.ReadAllText(Path.Combine(o.Output, StateName)))!;
            optimizer.load_state_dict(Path.Combine(o.Output, OptimizerName));
        }
        string logPath = Path.Combine(o.Output, LogName);
        KeepLogUpTo(logPath, resuming ? state.Step : -1);

        var train = new TrainingData(run.Data, "train", exclude: run.Exclude);
        var val = new TrainingData(run.Data, "val");
        var anchors = run.AnchorPerArchitecture ? ArchitectureAnchors.From(train, encoder.GraphOptions(run.Layout)) : null;
        var trainNerfs = Nerfs(train, train.Objects.Count, anchors);
        var valNerfs = Nerfs(val, o.ValidationObjects, anchors);
        if (trainNerfs.Count == 0) throw new NerfFormatException(run.Data, "no training NeRFs");
        // As many training NeRFs as validation ones are rendered at each evaluation, spread over the classes likewise.
        var monitored = Nerfs(train, o.ValidationObjects, anchors).Select(n => trainNerfs.IndexOf(n)).ToList();

        var cache = new NerfTargetCache(run);
        try
        {
            status?.Invoke($"embedding {trainNerfs.Count} training and {valNerfs.Count} validation NeRFs");
            using var zTrain = Embed(encoder, run, train, trainNerfs, anchors);
            using var zVal = Embed(encoder, run, val, valNerfs, anchors);
            using var noiseScale = o.EmbeddingNoise > 0 ? zTrain.std(0, keepdim: true).mul(S(o.EmbeddingNoise)) : null;

            var sw = Stopwatch.StartNew();
            double seconds() => state.Seconds + sw.Elapsed.TotalSeconds;
            var curve = new List<DecoderFitPoint>();
            double lossSum = 0; int lossCount = 0;
            DecoderFitPoint Evaluate(int step)
            {
                decoder.eval();
                double Median(TrainingData data, IReadOnlyList<(string Object, string Arch)> nerfs, IReadOnlyList<int> rows, Tensor z) =>
                    DecoderProbe.Median(rows.Select(i => cache.RenderPsnr(decoder, z.narrow(0, i, 1), data, nerfs[i].Object, nerfs[i].Arch, o.Seed)));
                var point = new DecoderFitPoint(step, Math.Round(seconds(), 1), lossCount > 0 ? lossSum / lossCount : double.NaN,
                    Median(train, trainNerfs, monitored, zTrain), Median(val, valNerfs, Enumerable.Range(0, valNerfs.Count).ToList(), zVal));
                decoder.train();
                lossSum = 0; lossCount = 0;
                return point;
            }
            void Record(DecoderFitPoint point)
            {
                if (!File.Exists(logPath)) File.WriteAllText(logPath, "step,seconds,loss,train_psnr,val_psnr\n");
                File.AppendAllText(logPath, string.Join(',', new[] { point.Step, point.Seconds, point.Loss, point.TrainPsnr, point.ValidationPsnr }
                    .Select(v => Convert.ToDouble(v).ToString("G6", CultureInfo.InvariantCulture))) + "\n");
                curve.Add(point);
                progress?.Invoke(point);
            }
            void Save(int step)
            {
                decoder.Save(Path.Combine(o.Output, DecoderName));
                IO.AtomicFile.Write(Path.Combine(o.Output, OptimizerName), tmp => optimizer.save_state_dict(tmp));
                // The state last: a fit killed before it resumes from the previous state with the new decoder, a step's difference.
                state = new FitState(step, seconds());
                sw.Restart();
                IO.AtomicFile.WriteAllText(Path.Combine(o.Output, StateName), JsonSerializer.Serialize(state));
            }

            int step = state.Step;
            if (!resuming)
            {
                status?.Invoke($"rendering the {monitored.Count + valNerfs.Count} evaluated NeRFs' targets (once); each training NeRF's targets are read at its first step");
                Record(Evaluate(0));
            }
            var budget = Stopwatch.StartNew();
            try
            {
                while (step < o.MaxSteps && budget.Elapsed.TotalMinutes < o.Minutes)
                {
                    cancel.ThrowIfCancellationRequested();
                    using (var scope = NewDisposeScope())
                    {
                        // The step's NeRFs and points from the step number: a resumed fit draws what an unbroken one would.
                        using var gen = new Generator(StableHash.Of(o.Seed, "decoder-fit", step));
                        var picked = randperm(trainNerfs.Count, generator: gen)[..Math.Min(o.NerfsPerStep, trainNerfs.Count)].data<long>().ToArray();
                        var z = zTrain.index_select(0, tensor(picked));
                        if (noiseScale is not null) z = z.Plus(randn(z.shape, generator: gen, dtype: z.dtype) * noiseScale);
                        var loss = cache.Loss(decoder, z, train, picked.Select(i => trainNerfs[(int)i]).ToList(), gen);
                        optimizer.zero_grad();
                        loss.backward();
                        optimizer.step();
                        lossSum += loss.item<float>(); lossCount++;
                    }
                    step++;
                    if (step % o.EvaluateEvery == 0)
                    {
                        Record(Evaluate(step));
                        Save(step);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                Save(step);   // nothing lost on Ctrl+C
                throw;
            }
            if (curve.Count == 0 || curve[^1].Step != step)
            {
                Record(Evaluate(step));
                Save(step);
            }
            return curve;
        }
        finally
        {
            cache.Dispose();
        }
    }

    /// <summary>Every architecture of the first <paramref name="objects"/> objects, round-robin over classes.</summary>
    internal static List<(string Object, string Arch)> Nerfs(TrainingData data, int objects, ArchitectureAnchors? anchors) =>
        TrainingData.ClassRoundRobin(data.Objects.Keys.Order(StringComparer.Ordinal)).Take(objects)
            .SelectMany(obj => data.Objects[obj].Keys.Order(StringComparer.Ordinal).Select(a => (obj, a)))
            .Where(n => anchors?.Has(n.Item2) != false)
            .ToList();

    /// <summary>Eval-mode embeddings [NeRFs, E], the graphs built a chunk at a time (a thousand graphs held at once take gigabytes).</summary>
    internal static Tensor Embed(GraphMetaNetwork encoder, TrainingOptions run, TrainingData data, IReadOnlyList<(string Object, string Arch)> nerfs,
        ArchitectureAnchors? anchors)
    {
        const int chunk = 64;
        var parts = new List<Tensor>();
        for (int start = 0; start < nerfs.Count; start += chunk)
        {
            var some = nerfs.Skip(start).Take(chunk).ToList();
            var graphs = some.Select(n => data.Graph(n.Object, n.Arch, encoder.GraphOptions(run.Layout))).ToList();
            parts.Add(anchors?.EmbedRelative(encoder, graphs, some.Select(n => n.Arch).ToList(), 8) ?? encoder.EmbedTensor(graphs, 8));
        }
        var z = cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return z;
    }

    /// <summary>The writes of a fit's log after <paramref name="step"/> are redone on resume; a fresh fit (−1) starts a new log.</summary>
    static void KeepLogUpTo(string path, int step)
    {
        if (!File.Exists(path)) return;
        if (step < 0) { File.Delete(path); return; }
        var lines = File.ReadAllLines(path);
        File.WriteAllLines(path, lines.Take(1).Concat(lines.Skip(1).Where(l => double.Parse(l.Split(',')[0], CultureInfo.InvariantCulture) <= step)));
    }
}
