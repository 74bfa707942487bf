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
/// (measured: training loss stuck at 19.9 from step 2 on). A lone graph, and validation, use the running mean
/// (not differentiated); training batches move it towards the batch mean with <see cref="Momentum"/>, the first batch
/// setting it.
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

    /// <summary>Rows of <paramref name="z"/> (one per graph, architectures <paramref name="archs"/>) minus their architecture's mean.</summary>
    public Tensor Apply(Tensor z, IReadOnlyList<string> archs, bool training)
    {
        if (z.shape[0] != archs.Count) throw new ArgumentException($"{z.shape[0]} embeddings but {archs.Count} architectures");
        var groups = archs.Select((a, i) => (Arch: a, Row: i)).GroupBy(x => x.Arch).ToList();
        var values = z.detach().to_type(ScalarType.Float32).cpu();
        if (training)
            foreach (var group in groups)
            {
                var mean = values.index_select(0, tensor(group.Select(x => (long)x.Row).ToArray())).mean([0L]).data<float>().ToArray();
                if (_means.TryGetValue(group.Key, out var running))
                    for (int k = 0; k < mean.Length; k++) running[k] += (float)Momentum * (mean[k] - running[k]);
                else _means[group.Key] = mean;
            }
        int dim = (int)z.shape[1];
        var offsets = archs.SelectMany(a => _means.TryGetValue(a, out var m) ? m : new float[dim]).ToArray();
        var byRunningMean = z.Minus(tensor(offsets, [archs.Count, dim]).to_type(z.dtype));
        if (!training) return byRunningMean;

        var rows = new Tensor[archs.Count];
        foreach (var group in groups)
        {
            var idx = tensor(group.Select(x => (long)x.Row).ToArray());
            Tensor part;
            if (group.Count() >= 2)
            {
                var members = z.index_select(0, idx);
                part = members.Minus(members.mean([0L], keepdim: true));
            }
            else part = byRunningMean.index_select(0, idx);
            int j = 0;
            foreach (var (_, row) in group) rows[row] = part.select(0, j++);
        }
        return stack(rows, 0);
    }
}
