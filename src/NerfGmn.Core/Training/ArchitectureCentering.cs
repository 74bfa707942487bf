using static NerfGmn.Runtime.ScalarArgs;
using static TorchSharp.torch;

namespace NerfGmn.Training;

/// <summary>
/// Subtracts each graph's architecture mean embedding so that SigLIP compares what distinguishes objects rather than the
/// per-architecture offset every positive pair straddles (not in the reference; <c>--center</c>).
/// <para>
/// In training, an architecture with two or more graphs in the batch is centred on its batch mean, exactly and
/// differentiably: a running mean lags the encoder, and with a batch-standardised output the lags of two architectures
/// are equal and opposite, which puts positive pairs at cosine −1, where SigLIP's gradient through the cosine vanishes
/// (measured: training loss stuck at 19.9 from step 2 on). A lone graph uses the running mean
/// (not differentiated); training batches move it towards the batch mean with <see cref="Momentum"/>, the first batch
/// setting it. Validation centres on the validation split's own means (<see cref="CentreOnOwnMeans"/>), as evaluation does.
/// </para>
/// </summary>
public sealed class ArchitectureCentering(double momentum)
{
    readonly Dictionary<string, float[]> _means = new(StringComparer.Ordinal);

    public double Momentum { get; } = momentum;

    /// <summary>The running means, for checkpoints.</summary>
    public Dictionary<string, float[]> Snapshot() => _means.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray(), StringComparer.Ordinal);

    public void Restore(IReadOnlyDictionary<string, float[]>? means)
    {
        _means.Clear();
        foreach (var (arch, mean) in means ?? new Dictionary<string, float[]>()) _means[arch] = mean.ToArray();
    }

    /// <summary>
    /// Rows of <paramref name="z"/> minus the mean of the rows of their architecture in <paramref name="z"/> itself: how
    /// a whole validation or evaluation set is centred, in the mode it was embedded in.
    /// </summary>
    public static Tensor CentreOnOwnMeans(Tensor z, IReadOnlyList<string> archs)
    {
        var (_, group, means, _) = GroupMeans(z, archs);
        return z.Minus(means.index_select(0, group));
    }

    /// <summary>The architectures in order of appearance, each row's index into them, their mean rows (one scatter, differentiable) and sizes.</summary>
    static (List<string> Names, Tensor Group, Tensor Means, Dictionary<string, int> Counts) GroupMeans(Tensor z, IReadOnlyList<string> archs)
    {
        if (z.shape[0] != archs.Count) throw new ArgumentException($"{z.shape[0]} embeddings but {archs.Count} architectures");
        var names = archs.Distinct().ToList();
        var group = tensor(archs.Select(a => (long)names.IndexOf(a)).ToArray(), device: z.device);
        var counts = archs.GroupBy(a => a).ToDictionary(g => g.Key, g => g.Count());
        var sizes = tensor(names.Select(n => (float)counts[n]).ToArray(), device: z.device).to_type(z.dtype).unsqueeze(1);
        var means = zeros(names.Count, z.shape[1], dtype: z.dtype, device: z.device).index_add_(0, group, z, S(1.0)) / sizes;
        return (names, group, means, counts);
    }

    /// <summary>Rows of <paramref name="z"/> (one per graph, architectures <paramref name="archs"/>) minus their architecture's mean.</summary>
    public Tensor Apply(Tensor z, IReadOnlyList<string> archs, bool training)
    {
        // Batch means are differentiable: the offsets of groups of two or more.
        var (names, group, batchMeans, counts) = GroupMeans(z, archs);
        int dim = (int)z.shape[1];
        if (training)
        {
            var values = batchMeans.detach().to_type(ScalarType.Float32).cpu();
            for (int j = 0; j < names.Count; j++)
            {
                var mean = values[j].data<float>().ToArray();
                if (_means.TryGetValue(names[j], out var r))
                    for (int k = 0; k < dim; k++) r[k] += (float)Momentum * (mean[k] - r[k]);
                else _means[names[j]] = mean;
            }
        }
        var running = tensor(names.SelectMany(n => _means.TryGetValue(n, out var m) ? m : new float[dim]).ToArray(), [names.Count, dim])
            .to_type(z.dtype).to(z.device);
        var offsets = training
            ? where(tensor(names.Select(n => counts[n] >= 2).ToArray(), device: z.device).unsqueeze(1), batchMeans, running)
            : running;
        return z.Minus(offsets.index_select(0, group));
    }
}
