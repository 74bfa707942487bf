using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using NerfGmn.Decoder;
using NerfGmn.Encoder;
using NerfGmn.Graphs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Training;

/// <summary>Where a run stands: enough to continue it exactly.</summary>
public sealed record TrainerState
{
    public int Epoch { get; init; }
    /// <summary>Batches of <see cref="Epoch"/> already done.</summary>
    public int Batch { get; init; }
    public int GlobalStep { get; init; }
    public double BestValidation { get; init; } = double.PositiveInfinity;
    /// <summary>Highest validation render median so far (decoding objectives; null before the first, and in states saved before it was kept).</summary>
    public double? BestRenderPsnr { get; init; }
    public float TPrime { get; init; }
    public float Bias { get; init; }
    /// <summary>
    /// Whether an epoch's validation beats the best so far by <paramref name="by"/>. The render median falls back to the
    /// loss for objectives without a decoder; a state saved before the median was kept takes the first one.
    /// </summary>
    public bool IsImprovedBy(CheckpointSelection by, double? loss, double? renderPsnr) =>
        by == CheckpointSelection.RenderMedian && renderPsnr is { } db
            ? BestRenderPsnr is not { } b || db > b
            : loss is not { } v || v < BestValidation;

    /// <summary>Running mean embedding per architecture (<see cref="TrainingOptions.CenterPerArchitecture"/>; null otherwise).</summary>
    public Dictionary<string, float[]>? ArchitectureMeans { get; init; }
}

/// <summary>Progress of training: epoch, batch, step, losses.</summary>
/// <param name="ValidationPairRecall">For contrastive objectives, the share of validation pairs whose partner is the
/// nearest (cosine) of all partners, both directions: what SigLIP ranks, without its learnt temperature and bias
/// (chance = 1 / pairs).</param>
/// <param name="InstanceRecall">For contrastive objectives, instance R@1 on the validation objects in every direction
/// between architectures (<c>mlp→hash</c>: an MLP queries all hash NeRFs; a hit when the nearest is the same object).</param>
/// <param name="ValidationRenderPsnr">For decoding objectives, the median over the validation NeRFs of each one's foreground
/// PSNR through the decoder from its embedding, on the probe's draws: the render target's measure, the number
/// <c>probe-decoder</c> and <c>invert-decoder</c> (step 0) report for the same NeRFs.</param>
public sealed record TrainingProgress(int Epoch, int Batch, int BatchesPerEpoch, int GlobalStep, int TotalSteps, double Loss, double? Validation,
    double? ValidationPairRecall = null, IReadOnlyDictionary<string, double>? InstanceRecall = null, double? ValidationRenderPsnr = null);

/// <summary>
/// Trains the GMN encoder (gmnerf <c>trainers/l_con.py</c>, <c>l_rec.py</c>, <c>l_rec_con.py</c>) on batches of pairs of
/// the same object in two architectures: L_C = SigLIP over the pairs, L_R = the rendering loss through the nf2vec
/// decoder over every graph of the batch, L_R+C = L_R + λ·L_C; the CPU field objective L_F (<see cref="FieldLoss"/>) and L_F + λ·L_C
/// in place of L_R (not in the reference). AdamW (weight decay also on t′ and b) with OneCycle
/// (β₁ cycling) stepped per batch. Checkpoints (<c>last/</c>, written into a temporary folder then renamed) after every epoch, every
/// <see cref="TrainingOptions.CheckpointMinutes"/> inside one, and when cancelled; <see cref="Train"/> resumes from <c>last/</c> with the optimiser, schedule position and sampler order
/// restored (per-step randomness is derived from the step number). Validation on the val split: the decoder's
/// foreground PSNR for L_R and L_R+C (logged as −PSNR, so lower is better throughout), the SigLIP loss for L_C; the
/// best epoch by <see cref="TrainingOptions.SelectBy"/> is kept as <c>best.safetensors</c>. A CSV log and a PNG loss curve.
/// </summary>
public sealed class EncoderTrainer(TrainingOptions options)
{
    public TrainingOptions Options { get; } = options;
    string LastDir => Path.Combine(Options.Output, "last");
    public string LogPath => Path.Combine(Options.Output, "log.csv");
    public string BestPath => Path.Combine(Options.Output, "best.safetensors");
    /// <summary>Validation instance R@1 per direction between architectures, one row per validation (contrastive objectives).</summary>
    public string RecallPath => Path.Combine(Options.Output, "retrieval.csv");

    public TrainerState Train(Action<TrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        if (!Objective.All.Contains(Options.Objective))
            throw new ArgumentException($"unknown objective '{Options.Objective}' ({string.Join(", ", Objective.All)})");
        if (Options.CenterPerArchitecture && Options.AnchorPerArchitecture)
            throw new ArgumentException("--center and --anchor both remove the architecture's offset; choose one");
        // "rendering": a decoder is trained (L_R or the field objective) and validation renders through it.
        bool rendering = Objective.Decodes(Options.Objective), contrastive = Objective.Contrasts(Options.Objective);
        var train = new TrainingData(Options.Data, "train", exclude: Options.Exclude);
        if (train.Objects.Count == 0) throw new NerfFormatException(Options.Data, "no training NeRFs (train.txt and <arch>/<class>/<object>/nerf_weights.*)");
        // The overfit gate validates on the very objects it trains on.
        if (Options.Overfit > 0) train = train.Balanced(Options.Overfit);
        var val = Options.Overfit > 0 ? train
            : File.Exists(Path.Combine(Options.Data, "val.txt")) ? new TrainingData(Options.Data, "val", exclude: Options.Exclude) : null;
        var sampler = new PairSampler(train.Families(), Options.Seed);
        int batchesPerEpoch = Math.Max(1, sampler.Epoch(0).Count / Options.PairsPerBatch);
        if (Options.Epochs * batchesPerEpoch < 2)
            throw new ArgumentException($"{Options.Epochs} epoch(s) × {batchesPerEpoch} batch(es) of {Options.PairsPerBatch} pairs ({train.Objects.Count} training objects) " +
                "is fewer than the 2 optimiser steps a OneCycle schedule needs; train for more epochs");
        var schedule = new OneCycleSchedule(Options.MaxLearningRate, Options.Epochs * batchesPerEpoch);
        string? initEncoder = Options.InitFrom is null ? null : Path.Combine(Options.InitFrom, "last", "encoder.safetensors");
        string? initDecoder = Options.InitDecoder ?? (Options.InitFrom is null ? null : Path.Combine(Options.InitFrom, "last", "decoder.safetensors"));
        if (Options.InitDecoder is not null && Options.InitFrom is null) throw new ArgumentException("a warm start's decoder needs the run whose encoder starts with it (--init-from)");
        foreach (var f in new[] { initEncoder, rendering ? initDecoder : null })
            if (f is not null && !File.Exists(f)) throw new FileNotFoundException($"warm start: {f} not found", f);

        manual_seed(Options.Seed);
        using var encoder = new GraphMetaNetwork(Options.Encoder);
        using var siglip = new SigLipLoss();
        using var decoder = new ImplicitDecoder(Options.Decoder with { EmbeddingDim = Options.Encoder.OutputDim });
        // Built (and seeded) on the CPU, then moved once, before the optimiser takes their parameters.
        var device = Runtime.ComputeDevice.Resolve(Options.Device);
        Runtime.ComputeDevice.Place(encoder, device);
        Runtime.ComputeDevice.Place(siglip, device);
        Runtime.ComputeDevice.Place(decoder, device);
        // One group per rate factor, the model's first: SigLIP's t′ and b and the decoder join it (the reference) unless
        // given a factor of their own. The rate and β1 are set on every group before each step.
        var parts = new List<(IEnumerable<Parameter> Parameters, double RateFactor)> { (encoder.parameters(), 1), (siglip.parameters(), Options.SigLipRateFactor) };
        if (rendering) parts.Add((decoder.parameters(), Options.DecoderRateFactor));
        var groups = parts.GroupBy(p => p.RateFactor).Select(g => (Group: Group(g.SelectMany(p => p.Parameters).ToList()), RateFactor: g.Key)).ToList();
        AdamW.ParamGroup Group(IEnumerable<Parameter> ps) => new(ps, new AdamW.Options
        {
            LearningRate = schedule.InitialLr, weight_decay = Options.WeightDecay, beta1 = 0.95, beta2 = 0.999, eps = 1e-8,
        });
        var optimizer = optim.AdamW(groups.Select(g => g.Group), lr: schedule.InitialLr, weight_decay: Options.WeightDecay);
        var state = new TrainerState();
        _centering = Options.CenterPerArchitecture ? new ArchitectureCentering(Options.CenterMomentum) : null;

        // Killed between the two renames of SaveCheckpoint: the previous checkpoint is complete under last.old.
        if (!Directory.Exists(LastDir) && Directory.Exists(LastDir + ".old")) Directory.Move(LastDir + ".old", LastDir);
        bool resuming = File.Exists(Path.Combine(LastDir, "trainer.json"));
        // Input statistics come from the training split once; a resumed run reads them from its checkpoint.
        // A warm start reads them from its encoder (the same training split's, or the shapes would not match).
        if (Options.Encoder.StandardizeWeights && !resuming && initEncoder is null)
        {
            var raw = new ParameterGraphOptions { TriplaneLayout = Options.Layout };
            encoder.Statistics = WeightStatistics.FromGraphs(train.Objects.SelectMany(o => o.Value.Keys.Select(a => (a, train.Graph(o.Key, a, raw)))));
        }
        // Recorded so that a user's NeRF can start where the training NeRFs did (fit --init-from).
        encoder.SharedInit = File.Exists(Path.Combine(Options.Data, "build.json")) ? Datasets.SharedInitialization.OfDataset(Options.Data) : null;
        if (resuming)
        {
            CheckSameRun();
            state = JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(Path.Combine(LastDir, "trainer.json")), StateJson)!;
            _centering?.Restore(state.ArchitectureMeans);
            var (loaded, _) = EncoderCheckpoint.Load(Path.Combine(LastDir, "encoder.safetensors"));
            encoder.Statistics = loaded.Statistics;
            using (no_grad())
            {
                var target = encoder.state_dict();
                foreach (var (name, t) in loaded.state_dict()) target[name].copy_(t);
                siglip.TPrime.fill_(S(state.TPrime));
                siglip.Bias.fill_(S(state.Bias));
            }
            loaded.Dispose();
            if (rendering) decoder.Load(Path.Combine(LastDir, "decoder.safetensors"));
            optimizer.load_state_dict(Path.Combine(LastDir, "optimizer.bin"));
            TruncateLog(LogPath, 2, state.GlobalStep);
            TruncateLog(RecallPath, 1, state.GlobalStep);
        }
        else
        {
            if (File.Exists(LogPath)) File.Delete(LogPath);
            if (File.Exists(RecallPath)) File.Delete(RecallPath);
            if (initEncoder is not null) WarmStart(encoder, initEncoder, rendering ? decoder : null, initDecoder!);
        }
        // Created only once the data, settings and any warm start are known to be usable: a refused run leaves no folder behind.
        IO.OutputFolder.Create(Options.Output, "run folder");
        _graphOptions = encoder.GraphOptions(Options.Layout);
        _graphs = new ParameterGraphCache(Options.GraphCache, _graphOptions);
        _anchors = Options.AnchorPerArchitecture ? ArchitectureAnchors.From(train, _graphOptions) : null;
        WriteLogHeader(LogPath);
        _renderMeasure = rendering ? new NerfTargetCache(Options) : null;

        var sw = Stopwatch.StartNew();
        var sinceCheckpoint = Stopwatch.StartNew();
        // t′, b and the architecture means live in their objects; the state copies them whenever it is saved or returned.
        TrainerState Snapshot() => state with
        {
            TPrime = siglip.TPrime.item<float>(), Bias = siglip.Bias.item<float>(),
            ArchitectureMeans = _centering?.Snapshot(),
        };
        void Checkpoint()
        {
            state = Snapshot();
            SaveCheckpoint(encoder, rendering ? decoder : null, optimizer, state);
            sinceCheckpoint.Restart();
        }
        try
        {
            for (int epoch = state.Epoch; epoch < Options.Epochs; epoch++)
            {
                var pairs = sampler.Epoch(epoch);
                encoder.train();
                for (int b = epoch == state.Epoch ? state.Batch : 0; b < batchesPerEpoch; b++)
                {
                    cancel.ThrowIfCancellationRequested();
                    var (lr, beta1) = schedule.At(state.GlobalStep);
                    foreach (var (g, factor) in groups)
                    {
                        g.Options.LearningRate = lr * factor;
                        g.Options.beta1 = beta1;
                    }
                    double loss;
                    using (var scope = NewDisposeScope())
                    {
                        var chunk = pairs.Skip(b * Options.PairsPerBatch).Take(Options.PairsPerBatch).ToArray();
                        // Grid-edge subsamples drawn from the step number: a resumed run draws the same ones.
                        using var edgeDraw = new Generator(StableHash.Of(Options.Seed, "edges", state.GlobalStep));
                        encoder.EdgeSampling = edgeDraw;
                        var (l, _) = BatchLoss(encoder, siglip, decoder, train, chunk, rendering, contrastive, state.GlobalStep);
                        optimizer.zero_grad();
                        l.backward();
                        optimizer.step();
                        loss = l.item<float>();
                        encoder.EdgeSampling = null;
                    }
                    state = state with { Batch = b + 1, GlobalStep = state.GlobalStep + 1 };
                    AppendLog(epoch, b, state.GlobalStep, lr, beta1, loss, null, sw.Elapsed.TotalSeconds);
                    progress?.Invoke(new TrainingProgress(epoch, b + 1, batchesPerEpoch, state.GlobalStep, schedule.TotalSteps, loss, null));
                    if (Options.CheckpointMinutes > 0 && sinceCheckpoint.Elapsed.TotalMinutes >= Options.CheckpointMinutes && b + 1 < batchesPerEpoch)
                        Checkpoint();
                }
                var (valLoss, pairRecall, instanceRecall, renderPsnr) = val is { Objects.Count: > 1 } ? Validate(encoder, siglip, decoder, val, rendering, contrastive) : (null, null, null, null);
                bool best = state.IsImprovedBy(Options.SelectBy, valLoss, renderPsnr);
                state = state with
                {
                    Epoch = epoch + 1, Batch = 0,
                    BestValidation = valLoss is { } vv && vv < state.BestValidation ? vv : state.BestValidation,
                    BestRenderPsnr = renderPsnr is { } r ? Math.Max(r, state.BestRenderPsnr ?? double.NegativeInfinity) : state.BestRenderPsnr,
                };
                if (best) EncoderCheckpoint.Save(encoder, BestPath, Options.Layout, Options.Objective);
                AppendLog(epoch, batchesPerEpoch, state.GlobalStep, double.NaN, double.NaN, double.NaN, valLoss, sw.Elapsed.TotalSeconds, pairRecall, renderPsnr);
                if (instanceRecall is not null) AppendRecall(epoch, state.GlobalStep, instanceRecall);
                Checkpoint();
                LossCurve.Write(LogPath, Path.Combine(Options.Output, "loss.png"), validationIsPsnr: rendering);
                progress?.Invoke(new TrainingProgress(epoch, batchesPerEpoch, batchesPerEpoch, state.GlobalStep, schedule.TotalSteps, double.NaN, valLoss, pairRecall, instanceRecall, renderPsnr));
            }
        }
        catch (OperationCanceledException)
        {
            Checkpoint();   // nothing lost on Ctrl+C
            throw;
        }
        finally
        {
            foreach (var t in _targets.Values) t.Dispose();
            _targets.Clear();
            foreach (var t in _fieldTargets.Values) t.Dispose();
            _fieldTargets.Clear();
            _renderMeasure?.Dispose();
            _renderMeasure = null;
        }
        return Snapshot();
    }

    readonly Dictionary<string, RenderTarget> _targets = new(StringComparer.Ordinal);
    // The render target's measure: the probe's targets and draws, so that validation equals probe-decoder's number.
    NerfTargetCache? _renderMeasure;

    // The best validation loss starts at +∞.
    /// <summary>
    /// Resuming with other settings would not continue the same run (schedule, sampler, loss): refuse, naming what differs.
    /// Paths may be spelled differently and are not compared.
    /// </summary>
    void CheckSameRun()
    {
        string saved = Path.Combine(LastDir, "options.json");
        if (!File.Exists(saved)) return;
        var before = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(saved))!.AsObject();
        var now = System.Text.Json.Nodes.JsonNode.Parse(JsonSerializer.Serialize(Options))!.AsObject();
        var differ = SettingsDiff.Of(before, now, [nameof(TrainingOptions.Data), nameof(TrainingOptions.Output), nameof(TrainingOptions.Device)]);
        if (differ.Length > 0)
            throw new ArgumentException($"{Options.Output} was started with other settings ({string.Join("; ", differ)}); resume with the same options");
    }

    static readonly JsonSerializerOptions StateJson = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>The NeRFs of pairs in row order: pair i is rows 2i (architecture A) and 2i + 1 (B).</summary>
    static List<(string Object, string Arch)> PairRows(IEnumerable<(string Object, string A, string B)> pairs) =>
        pairs.SelectMany(p => new[] { (p.Object, p.A), (p.Object, p.B) }).ToList();

    /// <summary>A training batch: its embeddings (in one forward pass with the anchors, whose batch statistics they share) and loss.</summary>
    /// <returns>The batch loss and, for rendering objectives, the decoder's foreground colour MSE (NaN otherwise).</returns>
    (Tensor Loss, double ForegroundMse) BatchLoss(GraphMetaNetwork encoder, SigLipLoss siglip, ImplicitDecoder decoder, TrainingData data,
        (string Object, string A, string B)[] pairs, bool rendering, bool contrastive, int step)
    {
        var nerfs = PairRows(pairs);
        var archs = nerfs.Select(n => n.Arch).ToList();
        var graphs = nerfs.Select(n => Graph(data, n.Object, n.Arch)).ToList();
        var anchorArchs = _anchors is null ? [] : archs.Distinct().ToList();
        graphs.AddRange(anchorArchs.Select(a => _anchors!.Graph(a)));
        using var batch = GraphBatch.From(graphs);
        var z = encoder.forward(batch);
        if (_anchors is not null) z = ArchitectureAnchors.Relative(z, archs, anchorArchs);
        var zc = contrastive ? _centering?.Apply(z, archs, training: true) ?? z : z;
        return PairLoss(siglip, decoder, data, nerfs, z, zc, rendering, contrastive, step);
    }

    /// <summary>
    /// The loss of pairs from their embeddings <paramref name="z"/> (rows as <see cref="PairRows"/>; the decoder's input)
    /// and <paramref name="zc"/> (what SigLIP compares).
    /// </summary>
    (Tensor Loss, double ForegroundMse) PairLoss(SigLipLoss siglip, ImplicitDecoder decoder, TrainingData data,
        IReadOnlyList<(string Object, string Arch)> nerfs, Tensor z, Tensor zc, bool rendering, bool contrastive, int step)
    {
        Tensor? loss = null;
        double foregroundMse = double.NaN;
        if (contrastive)
        {
            loss = siglip.Pairs(zc);
        }
        if (rendering && Objective.UsesField(Options.Objective) && step >= 0)
        {
            using var gen = new Generator(StableHash.Of(Options.Seed, "field", step));
            var lf = FieldLoss.Compute(decoder, z, nerfs.Select(n => FieldTargetOf(data, n.Object, n.Arch)).ToList(), Options.Field, gen);
            loss = loss is null ? lf : lf.Plus(S(Options.ContrastiveWeight) * loss);
        }
        else if (rendering)
        {
            // Per-step randomness from the step number: a resumed run draws the same rays. Validation (step −1) renders
            // for every decoding objective: its PSNR is what they are judged by.
            var gen = new Generator(StableHash.Of(Options.Seed, "render", step));
            var targets = nerfs.Select(n => Target(data, n.Object, n.Arch)).ToList();
            var (lr, mse) = RenderingLoss.ComputeWithMetrics(decoder, z, targets, Options.Rendering, gen);
            foregroundMse = mse;
            loss = loss is null ? lr : lr.Plus(S(Options.ContrastiveWeight) * loss);
        }
        return (loss!, foregroundMse);
    }

    ArchitectureCentering? _centering;
    ArchitectureAnchors? _anchors;
    ParameterGraphOptions _graphOptions = ParameterGraphOptions.Default;
    ParameterGraphCache? _graphs;

    /// <summary>
    /// An object's graph as the encoder reads it, built once per run (<see cref="TrainingOptions.GraphCache"/>: in memory,
    /// or on disk when a run's graphs would not fit).
    /// </summary>
    ParameterGraph Graph(TrainingData data, string obj, string arch) =>
        _graphs!.GetOrBuild($"{arch}/{obj}@{data.Root}", data.Objects[obj][arch], () => data.Graph(obj, arch, _graphOptions));

    readonly Dictionary<string, FieldTarget> _fieldTargets = new(StringComparer.Ordinal);

    /// <summary>An object's field-objective pool (<see cref="FieldTarget"/>), queried from its NeRF once per run.</summary>
    FieldTarget FieldTargetOf(TrainingData data, string obj, string arch)
    {
        string key = $"{data.Split}:{arch}/{obj}";
        if (_fieldTargets.TryGetValue(key, out var t)) return t;
        using var nerf = new Fields.RadianceField(IO.NerfWeightsFile.Read(data.Objects[obj][arch]));
        t = FieldTarget.Create(nerf, data.Grid(obj, arch, nerf), Options.Field, new Generator(StableHash.Of(Options.Seed, "field-target", key)));
        _fieldTargets[key] = t;
        return t;
    }

    RenderTarget Target(TrainingData data, string obj, string arch)
    {
        string key = $"{data.Split}:{arch}/{obj}";
        if (_targets.TryGetValue(key, out var t)) return t;
        string file = data.Objects[obj][arch];
        using var nerf = new Fields.RadianceField(IO.NerfWeightsFile.Read(file));
        t = RenderTarget.ForWeightsFile(nerf, data.Grid(obj, arch, nerf), file, Options.Rendering, new Generator(StableHash.Of(Options.Seed, "target", key)));
        _targets[key] = t;
        return t;
    }

    /// <summary>
    /// Validation loss: every validation NeRF is embedded once in eval mode (each anchor once too), then the pairs are
    /// scored in training-sized chunks. <c>--center</c> centres on the split's own per-architecture means, as
    /// <c>evaluate</c> does: the training running means are in train-mode coordinates of the standardised output and lag
    /// the encoder (measured: validation 18.7–19.3 against a training loss of 5–6 on the same objects). Contrastive
    /// objectives also get instance R@1 in every direction between the split's architectures.
    /// </summary>
    (double? Loss, double? PairRecall, IReadOnlyDictionary<string, double>? InstanceRecall, double? RenderPsnr) Validate(GraphMetaNetwork encoder,
        SigLipLoss siglip, ImplicitDecoder decoder, TrainingData val, bool rendering, bool contrastive)
    {
        var chunks = new PairSampler(val.Families(), Options.Seed).Epoch(0).Chunk(Options.PairsPerBatch).Where(c => c.Length > 1).ToList();
        if (chunks.Count == 0) return (double.NaN, null, null, null);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        // Every NeRF of the split once, object-major.
        var all = val.Objects.SelectMany(o => o.Value.Keys.Select(a => (Object: o.Key, Arch: a))).ToList();
        var rowOf = all.Select((n, i) => (n, i)).ToDictionary(t => t.n, t => (long)t.i);
        var allArchs = all.Select(n => n.Arch).ToList();
        var graphs = all.Select(n => Graph(val, n.Object, n.Arch)).ToList();
        int batchSize = Options.PairsPerBatch * 2;
        var zAll = _anchors?.EmbedRelative(encoder, graphs, allArchs, batchSize) ?? encoder.EmbedTensor(graphs, batchSize);
        var zcAll = contrastive && _centering is not null ? ArchitectureCentering.CentreOnOwnMeans(zAll, allArchs) : zAll;

        var nerfs = PairRows(chunks.SelectMany(c => c));
        var rows = tensor(nerfs.Select(n => rowOf[n]).ToArray(), device: zAll.device);
        var (z, zc) = (zAll.index_select(0, rows), zcAll.index_select(0, rows));
        var losses = new List<double>(); var mses = new List<double>();
        int row = 0;
        foreach (var chunk in chunks)
        {
            using var chunkScope = NewDisposeScope();   // a chunk's rendering intermediates go before the next
            int n = 2 * chunk.Length;
            var (l, mse) = PairLoss(siglip, decoder, val, nerfs.GetRange(row, n), z.narrow(0, row, n), zc.narrow(0, row, n), rendering, contrastive, -1);
            losses.Add(l.item<float>());
            mses.Add(mse);
            row += n;
        }
        // Rendering objectives are judged by the decoder's foreground PSNR (higher is better; stored negated so
        // that lower is better for every objective), L_C by its SigLIP loss.
        double loss = rendering ? 10 * Math.Log10(Math.Max(mses.Average(), 1e-6)) : losses.Average();   // PSNR capped at 60 dB
        // The pooled number above (chunks of NeRFs rendered together) read 1.4–3.2 dB above the per-NeRF median that the
        // render target uses (16 overfit objects: 22.4 against 19.2 dB), so that median is logged beside it.
        double? renderPsnr = rendering
            ? DecoderProbe.Median(all.Select((n, i) => _renderMeasure!.RenderPsnr(decoder, zAll.narrow(0, i, 1), val, n.Object, n.Arch, Options.Seed)))
            : null;
        if (!contrastive) return (loss, null, null, renderPsnr);
        return (loss, nerfs.Count >= 4 ? PairRecall(zc) : null, InstanceRecall(zcAll, all), renderPsnr);
    }

    /// <summary>
    /// Instance R@1 for every ordered pair of architectures (a, b): each object's a-NeRF queries the b-NeRFs of the
    /// objects that have both; a hit when its own is the nearest (cosine).
    /// </summary>
    public static IReadOnlyDictionary<string, double> InstanceRecall(Tensor z, IReadOnlyList<(string Object, string Arch)> rows)
    {
        var families = rows.Select(r => r.Arch).Distinct().Order(StringComparer.Ordinal).ToList();
        var rowOf = rows.Select((n, i) => (n, i)).ToDictionary(t => t.n, t => (long)t.i);
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var a in families)
            foreach (var b in families.Where(f => f != a))
            {
                var objects = rows.Where(r => r.Arch == a).Select(r => r.Object).Where(o => rowOf.ContainsKey((o, b))).ToList();
                if (objects.Count < 2) continue;
                using var scope = NewDisposeScope();
                var qa = z.index_select(0, tensor(objects.Select(o => rowOf[(o, a)]).ToArray(), device: z.device));
                var gb = z.index_select(0, tensor(objects.Select(o => rowOf[(o, b)]).ToArray(), device: z.device));
                result[$"{a}→{b}"] = Retrieval.RetrievalMetrics.PairedRecallAt1(qa, gb);
            }
        return result;
    }

    /// <summary>
    /// Rows 2i and 2i+1 of <paramref name="z"/> are pair i (<see cref="PairRows"/>; a validation epoch holds each
    /// object once). Each side queries the other side's rows; a hit when the nearest (cosine) is its partner. Mean of
    /// both directions.
    /// </summary>
    public static double PairRecall(Tensor z)
    {
        if (z.shape[0] % 2 != 0 || z.shape[0] < 4)
            throw new ArgumentException($"{z.shape[0]} rows: need an even number of rows, at least two pairs");
        using var scope = NewDisposeScope();
        var (a, b) = (z.index_select(0, arange(S(0), S(z.shape[0]), S(2), device: z.device)), z.index_select(0, arange(S(1), S(z.shape[0]), S(2), device: z.device)));
        return (Retrieval.RetrievalMetrics.PairedRecallAt1(a, b) + Retrieval.RetrievalMetrics.PairedRecallAt1(b, a)) / 2;
    }

    void SaveCheckpoint(GraphMetaNetwork encoder, ImplicitDecoder? decoder, OptimizerHelper optimizer, TrainerState state)
    {
        string tmp = LastDir + ".tmp-" + Environment.ProcessId;
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        Directory.CreateDirectory(tmp);
        EncoderCheckpoint.Save(encoder, Path.Combine(tmp, "encoder.safetensors"), Options.Layout, Options.Objective);
        optimizer.save_state_dict(Path.Combine(tmp, "optimizer.bin"));
        decoder?.Save(Path.Combine(tmp, "decoder.safetensors"));
        File.WriteAllText(Path.Combine(tmp, "trainer.json"), JsonSerializer.Serialize(state, StateJson));
        File.WriteAllText(Path.Combine(tmp, "options.json"), JsonSerializer.Serialize(Options, new JsonSerializerOptions { WriteIndented = true }));
        // Swap in: the old checkpoint is removed only once the new one is complete.
        string old = LastDir + ".old";
        if (Directory.Exists(old)) Directory.Delete(old, true);
        if (Directory.Exists(LastDir)) Directory.Move(LastDir, old);
        Directory.Move(tmp, LastDir);
        if (Directory.Exists(old)) Directory.Delete(old, true);
    }

    /// <summary>
    /// Copies a finished run's encoder (weights and input statistics) and a decoder into this run's new models; a shape
    /// that differs is named, since the run's options, not the checkpoint's, decide the models' shapes.
    /// </summary>
    static void WarmStart(GraphMetaNetwork encoder, string encoderPath, ImplicitDecoder? decoder, string decoderPath)
    {
        var (loaded, _) = EncoderCheckpoint.Load(encoderPath);
        using (loaded)
        using (no_grad())
        {
            var target = encoder.state_dict();
            var source = loaded.state_dict();
            foreach (var (name, t) in target)
            {
                if (!source.TryGetValue(name, out var s)) throw new NerfFormatException(encoderPath, $"warm start: the encoder has no '{name}'; start from a run with this run's encoder options");
                if (!s.shape.SequenceEqual(t.shape))
                    throw new NerfFormatException(encoderPath, $"warm start: '{name}' is [{string.Join(", ", s.shape)}], this run's encoder needs [{string.Join(", ", t.shape)}]");
                t.copy_(s);
            }
            if (encoder.Options.StandardizeWeights && loaded.Statistics is null)
                throw new NerfFormatException(encoderPath, "warm start: this run standardises weights, and the encoder has no input statistics to start from");
            encoder.Statistics = loaded.Statistics;
        }
        decoder?.Load(decoderPath);
    }

    /// <summary>A killed run may have logged steps after its last checkpoint; they are redone on resume, so drop them.</summary>
    static void TruncateLog(string path, int stepColumn, int lastStep)
    {
        if (!File.Exists(path)) return;
        var lines = File.ReadAllLines(path);
        var kept = lines.Take(1).Concat(lines.Skip(1).Where(l => int.Parse(l.Split(',')[stepColumn], CultureInfo.InvariantCulture) <= lastStep)).ToArray();
        if (kept.Length < lines.Length) File.WriteAllLines(path, kept);
    }

    void AppendRecall(int epoch, int step, IReadOnlyDictionary<string, double> recall)
    {
        static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
        if (!File.Exists(RecallPath)) File.WriteAllText(RecallPath, $"epoch,step,{string.Join(",", recall.Keys)},mean,min\n");
        File.AppendAllText(RecallPath, $"{epoch},{step},{string.Join(",", recall.Values.Select(F))},{F(recall.Values.DefaultIfEmpty(double.NaN).Average())},{F(recall.Values.DefaultIfEmpty(double.NaN).Min())}\n");
    }

    void AppendLog(int epoch, int batch, int step, double lr, double beta1, double loss, double? val, double seconds, double? pairRecall = null,
        double? renderPsnr = null)
    {
        static string F(double? v) => v is { } x && !double.IsNaN(x) ? x.ToString("G6", CultureInfo.InvariantCulture) : "";
        File.AppendAllText(LogPath, $"{epoch},{batch},{step},{F(lr)},{F(beta1)},{F(loss)},{F(val)},{F(seconds)},{F(pairRecall)},{F(renderPsnr)}\n");
    }

    /// <summary>The columns of <c>log.csv</c>; later columns were appended over time, so older logs have a prefix of them.</summary>
    public const string LogHeader = "epoch,batch,step,lr,beta1,loss,val_loss,seconds,val_pair_r1,val_render_psnr";

    /// <summary>Writes the header of a new log, or brings a resumed log's older header up to date (its old rows lack only trailing fields).</summary>
    static void WriteLogHeader(string path)
    {
        if (!File.Exists(path)) { File.WriteAllText(path, LogHeader + "\n"); return; }
        var lines = File.ReadAllLines(path);
        if (lines.Length > 0 && lines[0] != LogHeader && LogHeader.StartsWith(lines[0] + ",", StringComparison.Ordinal))
        {
            lines[0] = LogHeader;
            IO.AtomicFile.Write(path, tmp => File.WriteAllLines(tmp, lines), ".csv");
        }
    }
}
