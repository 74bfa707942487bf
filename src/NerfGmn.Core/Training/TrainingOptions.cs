using NerfGmn.Encoder;

namespace NerfGmn.Training;

/// <summary>The training objectives of Embed Any NeRF.</summary>
public static class Objective
{
    public const string Rendering = "l_rec", Contrastive = "l_con", RenderingContrastive = "l_rec_con";
    /// <summary>The field objective (<see cref="FieldLoss"/>) alone and with L_C: not in the paper, the CPU stand-in for L_R.</summary>
    public const string Field = "l_field", FieldContrastive = "l_field_con";
    public static readonly string[] All = [Rendering, Contrastive, RenderingContrastive, Field, FieldContrastive];

    /// <summary>Whether the objective trains a decoder (L_R or the field objective, alone or with L_C).</summary>
    public static bool Decodes(string objective) => objective != Contrastive;
    public static bool UsesField(string objective) => objective is Field or FieldContrastive;
    public static bool Contrasts(string objective) => objective is Contrastive or RenderingContrastive or FieldContrastive;
}

/// <summary>One training run: data, objective, encoder size and the reference optimiser settings.</summary>
public sealed record TrainingOptions
{
    public required string Data { get; init; }
    public required string Output { get; init; }
    public string Objective { get; init; } = Training.Objective.Contrastive;
    public string Preset { get; init; } = "cpu";
    public GmnOptions Encoder { get; init; } = GmnPresets.Cpu;
    public int Epochs { get; init; } = 50;
    /// <summary>Pairs per batch (the reference: 4 pairs = 8 graphs).</summary>
    public int PairsPerBatch { get; init; } = 4;
    public double MaxLearningRate { get; init; } = 1e-4;
    public double WeightDecay { get; init; } = 1e-2;
    /// <summary>
    /// SigLIP's t′ and b learn at this multiple of the scheduled rate (1: the reference, one group for everything).
    /// b starts at −10, right for SigLIP's batches of thousands; with 4 pairs its optimum is near −1, and at a CPU run's
    /// rate of 1e-4–1e-3 per step it cannot get there in hundreds of steps, so the encoder lowers the loss by pulling
    /// every embedding together instead.
    /// </summary>
    public double SigLipRateFactor { get; init; } = 1;
    /// <summary>
    /// The decoder learns at this multiple of the scheduled rate (1: the reference, one group for everything; not in
    /// the paper). A joint run gives each training NeRF ~20 decoder visits, and its decoder ends underfitted: fitted
    /// further on the frozen embeddings it drew training NeRFs 2.7 dB better (docs/2026-12-07-decoder-fit.md).
    /// </summary>
    public double DecoderRateFactor { get; init; } = 1;
    /// <summary>λ of L_R + λ·L_C.</summary>
    public double ContrastiveWeight { get; init; } = 2e-2;
    public int Seed { get; init; }
    /// <summary>
    /// Where the models run: <c>cpu</c>, <c>cuda</c>, <c>cuda:N</c>; null: CUDA when the loaded libtorch has it, else the CPU
    /// (<see cref="Runtime.ComputeDevice"/>). A run may be resumed on another device: checkpoints hold CPU tensors.
    /// </summary>
    public string? Device { get; init; }
    /// <summary>
    /// L_C on embeddings minus their architecture's mean (<see cref="ArchitectureCentering"/>: the batch mean in
    /// training, a running mean for lone graphs, the whole split's mean in validation; not in the reference). Every positive pair spans two
    /// architectures, and a briefly trained GMN's embedding is mostly its architecture's offset.
    /// </summary>
    public bool CenterPerArchitecture { get; init; }
    public double CenterMomentum { get; init; } = 0.1;
    /// <summary>
    /// Both losses on each embedding minus its architecture anchor's (the mean training weights' embedding, in the same
    /// batch), scaled to unit RMS (<see cref="ArchitectureAnchors"/>; not in the reference). Replaces <see cref="CenterPerArchitecture"/>.
    /// </summary>
    public bool AnchorPerArchitecture { get; init; }
    /// <summary>
    /// The overfit gate: train on the first N training objects (round-robin over classes) and validate on the same N,
    /// logging instance R@1 in every direction between architectures (0: the whole split, validation on val).
    /// </summary>
    public int Overfit { get; init; }
    /// <summary>Objects (<c>&lt;class&gt;/&lt;object&gt;</c>) kept out of training and validation.</summary>
    public IReadOnlySet<string> Exclude { get; init; } = new HashSet<string>();
    /// <summary>
    /// Minutes between mid-epoch checkpoints (0: only at epoch ends). An epoch of the full dataset takes tens of minutes
    /// on a CPU, and a killed process (not Ctrl+C) would otherwise lose it all. Not part of what makes a run the same.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public double CheckpointMinutes { get; init; } = 5;
    public Graphs.TriplanePositionLayout Layout { get; init; } = Graphs.TriplanePositionLayout.Reference;
    /// <summary>
    /// A warm start (not in the paper): a run folder whose last encoder (and decoder, unless <see cref="InitDecoder"/>)
    /// this run starts from instead of new ones; the schedule and optimiser start afresh. A decoder fitted on a run's
    /// frozen embeddings renders held-out NeRFs 3.8 dB better from codes optimised for them than from their embeddings
    /// (docs/2026-12-07-inversion.md): the encoder, not the decoder, is what more training must improve, and starting it
    /// beside the fitted decoder gives its gradient a sharper decoder than a joint run's own.
    /// </summary>
    public string? InitFrom { get; init; }
    /// <summary>The decoder a warm start begins with (e.g. fit-decoder's <c>decoder.safetensors</c>); null: <see cref="InitFrom"/>'s last one.</summary>
    public string? InitDecoder { get; init; }
    /// <summary>
    /// A folder for the run's parameter graphs (<see cref="Graphs.ParameterGraphCache"/>); null: kept in memory. An L_F run
    /// on a doubled training split holds 15 GB in memory, most of it graphs; on disk they cost a file read per NeRF per step.
    /// Where graphs are kept does not change the run, so it is not saved with its settings and a resume may choose anew.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? GraphCache { get; init; }
    public Decoder.ImplicitDecoderOptions Decoder { get; init; } = CpuDecoder;
    public RenderingLossOptions Rendering { get; init; } = RenderingLossOptions.Cpu;
    /// <summary>The field objective's sizes (<c>l_field</c>, <c>l_field_con</c>); validation still renders.</summary>
    public FieldLossOptions Field { get; init; } = FieldLossOptions.Cpu;
    /// <summary>
    /// What picks <c>best.safetensors</c>. <see cref="CheckpointSelection.Loss"/> (the reference) pools the colour error of
    /// chunks of NeRFs rendered together; at the <c>cpu</c> sizes it does not follow the renders (a fresh decoder: pooled
    /// 20.8–21.1 dB flat while the per-NeRF median rose 12.8 → 15.7; docs/2026-12-07-x3-and-overfit.md), so the cpu
    /// preset selects by <see cref="CheckpointSelection.RenderMedian"/>, the render target's own measure.
    /// </summary>
    public CheckpointSelection SelectBy { get; init; } = CheckpointSelection.Loss;

    /// <summary>
    /// CPU decoder: width 256, one layer on each side of the skip, and 8 frequencies of the point encoding (gmnerf: 48).
    /// sin(2^k·π·u) for k ≥ 10 varies faster than the 96³ occupancy grid's cells and, in float32, is noise in the last
    /// bits of u: with 48 frequencies 228 of the 288 point inputs are noise the decoder must learn to ignore. With 8 the
    /// decoder gate reaches the same PSNR in fewer steps, and a step costs about half (docs/2026-12-03-decoder-gate.md).
    /// </summary>
    public static readonly Decoder.ImplicitDecoderOptions CpuDecoder = new() { HiddenDim = 256, LayersBeforeSkip = 1, LayersAfterSkip = 1, Frequencies = 8 };

    /// <summary>The options a run was started with (its <c>last/options.json</c>).</summary>
    public static TrainingOptions FromRun(string runDir)
    {
        string path = Path.Combine(runDir, "last", "options.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"{runDir} is not a training run with a checkpoint (no last/options.json)", path);
        try
        {
            // System.Text.Json cannot create an IReadOnlySet, so Exclude is read on its own.
            var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new NerfFormatException(path, "empty options");
            var exclude = json[nameof(Exclude)]?.AsArray().Select(n => n!.GetValue<string>()).ToHashSet() ?? [];
            json.Remove(nameof(Exclude));
            var options = System.Text.Json.JsonSerializer.Deserialize<TrainingOptions>(json) ?? throw new NerfFormatException(path, "empty options");
            return options with { Exclude = exclude };
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            throw new NerfFormatException(path, $"not training options: {e.Message}", e);
        }
    }

    public static TrainingOptions ForPreset(string preset, string data, string output, string objective) => preset switch
    {
        "paper" => new TrainingOptions
        {
            Data = data, Output = output, Objective = objective, Preset = preset, Encoder = GmnPresets.Paper, Epochs = 250,
            Decoder = NerfGmn.Decoder.ImplicitDecoderOptions.Paper, Rendering = RenderingLossOptions.Paper,
        },
        // The CPU recipe (GmnPresets.Cpu): a step of 4 pairs costs about a second on two cores, so 30 epochs of the
        // shapes13 training split (~97 steps each) fit in about an hour; held-out R@1 of a two-class slice was still
        // rising at 195 steps (docs/2026-12-03-cpu-recipe.md). The output is standardised (GmnOptions.StandardizeOutput).
        "cpu" => new TrainingOptions
        {
            Data = data, Output = output, Objective = objective, Preset = preset, Encoder = GmnPresets.Cpu,
            Epochs = 30, MaxLearningRate = 1e-3, SelectBy = CheckpointSelection.RenderMedian,
        },
        _ => throw new ArgumentException($"unknown preset '{preset}' (paper, cpu)"),
    };
}
