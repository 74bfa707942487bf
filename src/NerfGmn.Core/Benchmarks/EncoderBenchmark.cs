using NerfGmn.Architectures;
using NerfGmn.Decoder;
using NerfGmn.Encoder;
using NerfGmn.Graphs;
using TorchSharp;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Benchmarks;

/// <summary>
/// GMN encoder forward and training-step times on paper-size graphs (batches of 8, AdamW), and decoder throughput.
/// Keys follow the project's bench JSON names: <c>encoder.&lt;mlp|tri|hash&gt;.fwd_ms_per_graph</c>,
/// <c>.train_ms_per_graph</c>, <c>.train_peak_rss_mb</c>, the same under <c>encoder_cpu_preset.</c>, <c>decoder_points_per_s</c>.
/// </summary>
public static class EncoderBenchmark
{
    /// <param name="partial">Called with the results so far after every family (a long run killed midway keeps them).</param>
    /// <param name="matmulGflops">
    /// When given, measured right before and after each family's timings; <c>.fwd_normalized</c>/<c>.train_normalized</c>
    /// (ms per graph × GFLOP/s ÷ 1000) then use the mean of those two, so the host's drifting speed cancels per family.
    /// </param>
    public static Dictionary<string, double> Run(IReadOnlyDictionary<string, GmnOptions> encoders, int runs = 3, Action<string>? progress = null,
        IReadOnlyCollection<string>? only = null, Func<double>? matmulGflops = null, Action<IReadOnlyDictionary<string, double>>? partial = null,
        Device? device = null)
    {
        device ??= CPU;
        var result = new Dictionary<string, double>();
        var families = new (string Key, string Preset)[] { ("mlp", "mlp"), ("tri", "triplane"), ("hash", "hash") }
            .Where(f => only is null || only.Contains(f.Key)).ToArray();
        var graphs = families.ToDictionary(f => f.Key, f => Enumerable.Range(0, 8)
            .Select(s => ParameterGraphBuilder.Build(GraphBenchmark.RandomWeights(ArchitecturePresets.Get(f.Preset), s))).ToList());
        foreach (var (prefix, options) in encoders)
        {
            manual_seed(0);
            using var gmn = new GraphMetaNetwork(options);
            Runtime.ComputeDevice.Place(gmn, device);
            var optimizer = optim.AdamW(gmn.parameters(), lr: 1e-4, weight_decay: 1e-2);
            foreach (var (key, _) in families)
            {
                progress?.Invoke($"{prefix}.{key}");
                double? before = matmulGflops?.Invoke();
                using var batch = GraphBatch.From(graphs[key], device);
                gmn.eval();
                double fwd = BenchmarkStats.MedianMs(() =>
                {
                    using var scope = NewDisposeScope();
                    using var _ = no_grad();
                    gmn.forward(batch);
                    Synchronize(device);
                }, runs, 1);
                gmn.train();
                bool peakReset = BenchmarkStats.ResetPeakRss();
                double train = BenchmarkStats.MedianMs(() =>
                {
                    using var scope = NewDisposeScope();
                    optimizer.zero_grad();
                    var z = gmn.forward(batch);
                    z.Squared().mean().backward();
                    optimizer.step();
                    Synchronize(device);
                }, runs, 1);
                result[$"{prefix}.{key}.fwd_ms_per_graph"] = fwd / 8;
                result[$"{prefix}.{key}.train_ms_per_graph"] = train / 8;
                // Resident peak of the training steps of this batch (what "training memory" means; includes what the process already holds).
                if (peakReset) result[$"{prefix}.{key}.train_peak_rss_mb"] = BenchmarkStats.PeakRssSinceResetMb();
                if (before is { } b && matmulGflops!.Invoke() is var after)
                {
                    double gflops = (b + after) / 2;
                    result[$"{prefix}.{key}.matmul_gflops"] = gflops;
                    result[$"{prefix}.{key}.fwd_normalized"] = fwd / 8 * gflops / 1000;
                    result[$"{prefix}.{key}.train_normalized"] = train / 8 * gflops / 1000;
                }
                partial?.Invoke(result);
            }
            result[$"{prefix}.parameters"] = gmn.ParameterCount;
        }
        return result;
    }

    /// <summary>
    /// One L_C training step of an encoder recipe as <c>train</c> runs it: a batch of 4 pairs (8 graphs: 3 MLP, 3
    /// tri-plane, 2 hash, with the recipe's weight statistics and probe features), train-mode forward (grid edges
    /// subsampled), SigLIP, backward, AdamW. Median ms per step.
    /// </summary>
    public static double ContrastiveStepMs(GmnOptions options, int runs = 5, Device? device = null)
    {
        device ??= CPU;
        var archs = new[] { "mlp", "triplane", "hash", "mlp", "triplane", "hash", "mlp", "triplane" };
        var weights = archs.Select((a, s) => GraphBenchmark.RandomWeights(ArchitecturePresets.Get(a), s)).ToList();
        manual_seed(0);
        using var gmn = new GraphMetaNetwork(options);
        if (options.StandardizeWeights)
            gmn.Statistics = WeightStatistics.FromGraphs(weights.Select(w => (w.Architecture.Name, ParameterGraphBuilder.Build(w))));
        var graphOptions = gmn.GraphOptions(TriplanePositionLayout.Clean);
        var graphs = weights.Select(w => ParameterGraphBuilder.Build(w, graphOptions)).ToList();
        using var siglip = new Training.SigLipLoss();
        Runtime.ComputeDevice.Place(gmn, device);
        Runtime.ComputeDevice.Place(siglip, device);
        var optimizer = optim.AdamW(gmn.parameters().Concat(siglip.parameters()), lr: 1e-4, weight_decay: 1e-2);
        gmn.train();
        return BenchmarkStats.MedianMs(() =>
        {
            using var scope = NewDisposeScope();
            using var batch = GraphBatch.From(graphs);   // assembled on the CPU every step, as train does
            optimizer.zero_grad();
            siglip.Pairs(gmn.forward(batch)).backward();
            optimizer.step();
            Synchronize(device);
        }, runs, 1);
    }

    /// <summary>Decoder forward+backward query points per second (one NeRF batch of 8 × 4,096 points).</summary>
    public static double DecoderPointsPerSecond(ImplicitDecoderOptions options, int runs = 3, Device? device = null)
    {
        device ??= CPU;
        manual_seed(0);
        using var decoder = new ImplicitDecoder(options);
        Runtime.ComputeDevice.Place(decoder, device);
        using var emb = randn(8, options.EmbeddingDim, device: device);
        using var pts = rand(8, 4096, 3, device: device) * S(1.4f) - S(0.7f);
        var optimizer = optim.AdamW(decoder.parameters(), lr: 1e-4);
        double ms = BenchmarkStats.MedianMs(() =>
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var (rgb, sigma) = decoder.forward((emb, pts));
            (rgb.mean().Plus(sigma.mean())).backward();
            optimizer.step();
            Synchronize(device);
        }, runs, 1);
        return 8 * 4096 / (ms / 1000);
    }

    // A GPU runs asynchronously: a timed step ends when its kernels have.
    static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA) cuda.synchronize(device);
    }
}
