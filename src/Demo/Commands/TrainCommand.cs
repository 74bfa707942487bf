using System.CommandLine;
using NerfGmn.Training;
using Spectre.Console;

namespace NerfGmn.Demo.Commands;

/// <summary><c>nerfgmn train --data DIR --loss l_con --preset cpu --out RUN [--resume] [--epochs N]</c></summary>
static class TrainCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "dataset root (train.txt, val.txt, <arch>/<class>/<object>/)", Required = true };
        var loss = new Option<string>("--loss") { Description = "l_rec, l_con, l_rec_con, or the CPU field objective l_field / l_field_con (not in the paper)", DefaultValueFactory = _ => Objective.Contrastive };
        loss.AcceptOnlyFromAmong(Objective.All);
        var preset = new Option<string>("--preset") { Description = "paper (reference hyper-parameters) or cpu", DefaultValueFactory = _ => "cpu" };
        preset.AcceptOnlyFromAmong("paper", "cpu");
        var output = new Option<string>("--out", "-o") { Description = "run folder (checkpoints, log.csv, loss.png)", Required = true };
        var resume = new Option<bool>("--resume") { Description = "continue the run in --out from its last checkpoint" };
        var epochs = new Option<int?>("--epochs") { Description = "override the preset's epoch count" };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 0 };
        var exclude = new Option<string[]>("--exclude") { Description = "split files (<class>/<object> lines) whose objects are left out, e.g. datasets/shapes13-mini/test.txt", AllowMultipleArgumentsPerToken = true };
        var maxLr = new Option<double?>("--max-lr") { Description = "override the preset's OneCycle peak learning rate" };
        var siglipRate = new Option<double?>("--siglip-rate-factor") { Description = "SigLIP's temperature and bias learn at this multiple of the schedule's rate (reference: 1)" };
        var lambda = new Option<double?>("--lambda") { Description = "override λ in L_R + λ·L_C" };
        var standardize = new Option<bool>("--standardize") { Description = "standardise embeddings (running mean/variance; not in the reference) so short runs escape the collapsed start; the cpu preset does, --standardize false does not" };
        var center = new Option<bool>("--center") { Description = "L_C on embeddings minus their architecture's mean (batch mean in training; not in the reference)" };
        var anchor = new Option<bool>("--anchor") { Description = "both losses on embeddings minus their architecture's anchor (the mean training weights, embedded in the same batch), unit RMS; not in the reference" };
        var valueScale = new Option<double?>("--value-scale") { Description = "initial scale of the edge-value sine encoder (reference: 1); larger spreads objects apart at init" };
        var overfit = new Option<int>("--overfit") { Description = "overfit gate: train and validate on the first N training objects (round-robin over classes); logs instance R@1 per direction" };
        var probes = new Option<int?>("--probes") { Description = "probe points K: neurons also read their activation at K fixed points (0: none, the reference)" };
        var probeReadout = new Option<int?>("--probe-readout") { Description = "the first N output neurons (rgb, σ: 4) also hand their raw probe values to the embedding (0: none, the reference); needs --probes and the outputs readout" };
        var standardizeWeights = new Option<bool?>("--standardize-weights") { Description = "edge values as per-entry z-scores over the training split (statistics saved with the encoder); the reference: raw" };
        var gridFraction = new Option<double?>("--grid-edge-fraction") { Description = "share of tri-plane/hash edges each graph keeps per training step (1: all)" };
        var hidden = new Option<int?>("--hidden-dim") { Description = "override the preset's GMN width d" };
        var layers = new Option<int?>("--layers") { Description = "override the preset's number of GMN blocks" };
        var pairs = new Option<int?>("--pairs") { Description = "override the preset's pairs per batch (a batch is twice as many NeRFs)" };
        var readout = new Option<NerfGmn.Encoder.EncoderReadout?>("--readout") { Description = "edges (mean over edges, the reference) or outputs (the NeRF's output neurons' final states)" };
        var checkpointing = new Option<bool?>("--checkpointing") { Description = "recompute block activations in the backward pass (less memory, ~1/3 more time)" };
        var layout = new Option<string?>("--triplane-layout") { Description = "tri-plane edge positions: reference (gmnerf's scrambled x/y/z, for its checkpoints) or clean (each cell's true position; the preset's default otherwise)" };
        layout.AcceptOnlyFromAmong("reference", "clean");
        var initFrom = new Option<string?>("--init-from") { Description = "warm start: begin with this finished run's last encoder and decoder (fresh schedule and optimiser; not in the paper)" };
        var initDecoder = new Option<string?>("--init-decoder") { Description = "warm start's decoder instead of the run's last one, e.g. fit-decoder's decoder.safetensors" };
        var graphCache = new Option<string?>("--graph-cache") { Description = "keep the run's parameter graphs as files in this folder instead of in memory (for training splits whose graphs do not fit; reused by --resume and by runs with the same graph options)" };
        var decoderRate = new Option<double?>("--decoder-rate-factor") { Description = "the decoder learns at this multiple of the schedule's rate (reference: 1)" };
        var decoderWidth = new Option<int?>("--decoder-width") { Description = "override the preset's decoder width (cpu 256, paper 1024)" };
        var decoderLayers = new Option<int?>("--decoder-layers") { Description = "override the preset's decoder hidden layers on each side of the skip (cpu 1, paper 2)" };
        var selectBy = new Option<string?>("--select-by") { Description = "what picks best.safetensors: loss (the validation loss, the reference; the paper preset's) or render-median (decoding objectives: the median per-NeRF render PSNR; the cpu preset's)" };
        selectBy.AcceptOnlyFromAmong("loss", "render-median");
        var device = CommonOptions.Device();
        var cmd = new Command("train", "Train the GMN encoder") { device, graphCache, data, loss, preset, output, resume, epochs, seed, exclude, maxLr, siglipRate, lambda, valueScale, standardize, center, anchor, layout, overfit, probes, probeReadout, standardizeWeights, gridFraction, hidden, layers, pairs, readout, checkpointing, initFrom, initDecoder, selectBy, decoderWidth, decoderLayers, decoderRate };
        cmd.SetAction((p, cancel) =>
        {
            var options = TrainingOptions.ForPreset(p.GetValue(preset)!, p.GetValue(data)!, p.GetValue(output)!, p.GetValue(loss)!);
            var excluded = new HashSet<string>(StringComparer.Ordinal);
            foreach (var f in p.GetValue(exclude) ?? [])
            {
                if (!File.Exists(f)) throw new FileNotFoundException($"--exclude file not found: {f}");
                excluded.UnionWith(File.ReadAllLines(f).Select(l => l.Trim()).Where(l => l.Length > 0));
            }
            options = options with
            {
                Device = p.GetValue(device), Seed = p.GetValue(seed), Overfit = p.GetValue(overfit), PairsPerBatch = p.GetValue(pairs) ?? options.PairsPerBatch, Epochs = p.GetValue(epochs) ?? options.Epochs, Exclude = excluded,
                InitFrom = p.GetValue(initFrom), InitDecoder = p.GetValue(initDecoder), GraphCache = p.GetValue(graphCache),
                SelectBy = p.GetValue(selectBy) switch { "loss" => CheckpointSelection.Loss, "render-median" => CheckpointSelection.RenderMedian, _ => options.SelectBy },
                Layout = p.GetValue(layout) is { } l ? Enum.Parse<NerfGmn.Graphs.TriplanePositionLayout>(l, ignoreCase: true) : options.Layout,
                MaxLearningRate = p.GetValue(maxLr) ?? options.MaxLearningRate, SigLipRateFactor = p.GetValue(siglipRate) ?? options.SigLipRateFactor, DecoderRateFactor = p.GetValue(decoderRate) ?? options.DecoderRateFactor, CenterPerArchitecture = p.GetValue(center) || options.CenterPerArchitecture, AnchorPerArchitecture = p.GetValue(anchor) || options.AnchorPerArchitecture, ContrastiveWeight = p.GetValue(lambda) ?? options.ContrastiveWeight,
                Decoder = options.Decoder with
                {
                    HiddenDim = p.GetValue(decoderWidth) ?? options.Decoder.HiddenDim,
                    LayersBeforeSkip = p.GetValue(decoderLayers) ?? options.Decoder.LayersBeforeSkip,
                    LayersAfterSkip = p.GetValue(decoderLayers) ?? options.Decoder.LayersAfterSkip,
                },
                Encoder = options.Encoder with
                {
                    ValueEncoderScale = p.GetValue(valueScale) ?? options.Encoder.ValueEncoderScale,
                    StandardizeOutput = p.GetResult(standardize) is null ? options.Encoder.StandardizeOutput : p.GetValue(standardize),
                    ProbePoints = p.GetValue(probes) ?? options.Encoder.ProbePoints,
                    ProbeReadout = p.GetValue(probeReadout) ?? options.Encoder.ProbeReadout,
                    StandardizeWeights = p.GetValue(standardizeWeights) ?? options.Encoder.StandardizeWeights,
                    GridEdgeFraction = p.GetValue(gridFraction) ?? options.Encoder.GridEdgeFraction,
                    HiddenDim = p.GetValue(hidden) ?? options.Encoder.HiddenDim,
                    Layers = p.GetValue(layers) ?? options.Encoder.Layers,
                    Readout = p.GetValue(readout) ?? options.Encoder.Readout,
                    Checkpointing = p.GetValue(checkpointing) ?? options.Encoder.Checkpointing,
                },
            };
            options.Encoder.Validate();
            options.Decoder.Validate();
            if (options.MaxLearningRate <= 0 || options.ContrastiveWeight < 0 || !(options.SigLipRateFactor > 0) || !(options.DecoderRateFactor > 0))
                throw new ArgumentException("--max-lr, --siglip-rate-factor and --decoder-rate-factor must be positive and --lambda non-negative");
            bool hasCheckpoint = File.Exists(Path.Combine(options.Output, "last", "trainer.json"));
            if (hasCheckpoint && !p.GetValue(resume))
                throw new ArgumentException($"{options.Output} already holds a run; pass --resume to continue it or choose another --out");
            // Ctrl+C: stop after the current step and write a checkpoint.
            CommonOptions.ResolveDevice(options.Device);   // a bad --device fails before any work, and the choice is printed
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
            Console.CancelKeyPress += onCancel;
            // `kill` and session ends send SIGTERM (background jobs ignore SIGINT): stop the same way, with a checkpoint.
            using var onTerm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM,
                ctx => { ctx.Cancel = true; cts.Cancel(); });
            try
            {
                TrainerState state = null!;
                AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask("training");
                        state = new EncoderTrainer(options).Train(pr =>
                        {
                            task.MaxValue = pr.TotalSteps;
                            task.Value = pr.GlobalStep;
                            task.Description = pr.Validation is { } v
                                ? $"epoch {pr.Epoch + 1}: val {v:F4}{(pr.ValidationRenderPsnr is { } db ? $", renders {db:F2} dB (median)" : "")}" +
                                  (pr.ValidationPairRecall is { } r ? $", pair R@1 {100 * r:F1}%" : "") +
                                  (pr.InstanceRecall is { Count: > 0 } ir ? $", instance R@1 min {100 * ir.Values.Min():F0}% mean {100 * ir.Values.Average():F0}%" : "")
                                : $"epoch {pr.Epoch + 1} loss {pr.Loss:F4}";
                        }, cts.Token);
                    });
                string best = state.BestRenderPsnr is { } db && options.SelectBy == CheckpointSelection.RenderMedian
                    ? $"renders {db:F2} dB (median)"
                    : double.IsFinite(state.BestValidation) ? $"val {state.BestValidation:F4}" : "n/a (no val split)";
                AnsiConsole.MarkupLineInterpolated($"done: {state.Epoch} epochs, {state.GlobalStep} steps, best {best}; encoder [green]{Path.Combine(options.Output, "best.safetensors")}[/]");
                return Task.FromResult(0);
            }
            catch (OperationCanceledException)
            {
                AnsiConsole.MarkupLineInterpolated($"[yellow]interrupted[/]: checkpoint written to {Path.Combine(options.Output, "last")}; continue with --resume");
                return Task.FromResult(130);
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
        });
        return cmd;
    }
}
