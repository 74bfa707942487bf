using NerfGmn.Architectures;
using NerfGmn.Fields;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NerfGmn.Fitting;

/// <summary>
/// B NeRFs of one architecture trained together: every parameter carries a leading NeRF dimension and the MLP runs
/// as batched matrix products, so one optimizer step fits all B. Same field semantics as <see cref="RadianceField"/>
/// (tcnn frequency layout, summed tri-plane samples, tcnn hash grid, bias-free MLP, sigmoid / exp(x − 1) heads).
/// </summary>
public sealed class BatchedRadianceField : nn.Module<Tensor, (Tensor Rgb, Tensor Sigma, Tensor LogSigma)>
{
    readonly FrequencyEncoding? frequency;
    readonly Parameter? triplane;       // [B, 3, R, R, C]
    readonly Parameter? hash_table;     // [B, ΣT, F]
    readonly ParameterList weights = new();   // each [B, out, in]
    readonly NerfArchitecture _arch;
    readonly int _b;
    readonly float[] _box;
    readonly int[] _hashSizes = [], _hashOffsets = [], _hashRes = [];
    readonly float[] _hashScales = [];

    public int Count => _b;
    public NerfArchitecture Architecture => _arch;

    /// <param name="generators">One generator per NeRF (initialisation independent of batch composition), or null.</param>
    public BatchedRadianceField(NerfArchitecture arch, int count, IReadOnlyList<Generator>? generators = null) : base(nameof(BatchedRadianceField))
    {
        if (generators is not null && generators.Count != count) throw new ArgumentException("one generator per NeRF", nameof(generators));
        Tensor PerNerf(Func<Generator?, Tensor> make) =>
            stack(Enumerable.Range(0, count).Select(k => make(generators?[k])).ToArray(), 0);
        _arch = arch.Normalize().Validate();
        _b = count;
        _box = _arch.SceneBox;
        if (_arch.Encoding.Type == EncodingType.Frequency) frequency = new FrequencyEncoding(_arch.Encoding.NFrequencies!.Value);
        else if (_arch.Encoding.Type != EncodingType.Hash)
            throw new NotSupportedException($"cannot fit encoding '{_arch.Encoding.Type}'");

        if (_arch.Triplane is { } tp)
            triplane = new Parameter(PerNerf(g => normal(0, 0.01, [3, tp.Resolution, tp.Resolution, tp.Channels], generator: g)));
        if (_arch.Hash is { } h)
        {
            _hashSizes = h.TableSizes ?? h.ComputeTableSizes();
            _hashOffsets = new int[_hashSizes.Length];
            for (int l = 1; l < _hashSizes.Length; l++) _hashOffsets[l] = _hashOffsets[l - 1] + _hashSizes[l - 1];
            _hashRes = Enumerable.Range(0, h.Levels).Select(h.TcnnResolution).ToArray();
            _hashScales = Enumerable.Range(0, h.Levels).Select(l => (float)(h.BaseResolution * Math.Pow(h.PerLevelScale, l) - 1.0)).ToArray();
            hash_table = new Parameter(PerNerf(g => (rand([_hashSizes.Sum(), h.Features], generator: g) * 2 - 1) * 1e-4f));
        }
        var layers = _arch.Layers();
        bool sine = _arch.Activation == NerfActivation.Sine;
        for (int k = 0; k < layers.Count; k++)
        {
            var (o, i) = layers[k];
            // tcnn initialisation: Xavier-uniform for ReLU nets; Sine: U(±30/fan_in) first, U(±√(6/fan_in)) after.
            double bound = sine ? (k == 0 ? 30.0 / i : Math.Sqrt(6.0 / i)) : Math.Sqrt(6.0 / (i + o));
            weights.Add(new Parameter(PerNerf(g => (rand([o, i], generator: g) * 2 - 1) * bound)));
        }
        RegisterComponents();
    }

    /// <param name="points">[B, P, 3] world points.</param>
    /// <returns>rgb [B, P, 3], σ [B, P] and the raw log-density o₃ − 1 [B, P].</returns>
    public override (Tensor Rgb, Tensor Sigma, Tensor LogSigma) forward(Tensor points)
    {
        using var scope = NewDisposeScope();
        long b = points.shape[0], p = points.shape[1];
        var min = tensor(_box[..3]);
        var max = tensor(_box[3..]);
        var u = (points - min) / (max - min);
        var inside = (u > 0f).logical_and(u < 1f).all(-1);

        Tensor h;
        if (hash_table is not null)
        {
            h = HashFeatures(u);
            int pad = _arch.Hash!.PaddedFeatures - (int)h.shape[2];
            if (pad > 0) h = nn.functional.pad(h, [0, pad]);
        }
        else
        {
            h = frequency!.forward(u.reshape(b * p, 3)).reshape(b, p, -1);
            if (triplane is not null) h = cat([h, TriplaneFeatures(2f * (points - min) / (max - min) - 1f)], 2);
        }
        bool sine = _arch.Activation == NerfActivation.Sine;
        for (int k = 0; k < weights.Count; k++)
        {
            h = h.bmm(weights[k].transpose(1, 2));
            if (k < weights.Count - 1) h = sine ? h.sin() : h.relu();
        }
        var rgb = h[.., .., 0..3].sigmoid();
        var logSigma = h[.., .., 3] - 1f;
        var sigma = TruncatedExp.Apply(logSigma) * inside.to_type(ScalarType.Float32);
        return (rgb.MoveToOuterDisposeScope(), sigma.MoveToOuterDisposeScope(), logSigma.MoveToOuterDisposeScope());
    }

    Tensor TriplaneFeatures(Tensor s)
    {
        long b = s.shape[0], p = s.shape[1];
        var tp = _arch.Triplane!;
        var planes = triplane!.permute(0, 1, 4, 2, 3).reshape(b * 3, tp.Channels, tp.Resolution, tp.Resolution);
        var x = s[.., .., 0]; var y = s[.., .., 1]; var z = s[.., .., 2];
        var grid = stack([stack([x, y], -1), stack([x, z], -1), stack([y, z], -1)], 1)     // [B, 3, P, 2]
            .reshape(b * 3, 1, p, 2);
        var sampled = nn.functional.grid_sample(planes, grid, mode: GridSampleMode.Bilinear,
            padding_mode: GridSamplePaddingMode.Zeros, align_corners: true);                // [B·3, C, 1, P]
        return sampled.reshape(b, 3, tp.Channels, p).sum(dim: 1).transpose(1, 2);           // [B, P, C]
    }

    Tensor HashFeatures(Tensor u)
    {
        var spec = _arch.Hash!;
        long b = u.shape[0], p = u.shape[1];
        long total = _hashSizes.Sum();
        var nerfOffset = (arange(b, dtype: ScalarType.Int64) * total).unsqueeze(1);      // [B, 1]
        var flatTable = hash_table!.reshape(b * total, spec.Features);
        var outputs = new List<Tensor>();
        for (int l = 0; l < spec.Levels; l++)
        {
            var pos = u * _hashScales[l] + 0.5f;
            var cell = pos.floor();
            var frac = pos - cell;
            var ci = cell.to_type(ScalarType.Int64);
            long res = _hashRes[l], size = _hashSizes[l];
            bool dense = res * res * res <= size;
            Tensor? acc = null;
            for (int corner = 0; corner < 8; corner++)
            {
                int bx = corner & 1, by = (corner >> 1) & 1, bz = (corner >> 2) & 1;
                var cx = ci[.., .., 0] + bx; var cy = ci[.., .., 1] + by; var cz = ci[.., .., 2] + bz;
                var w = (bx == 1 ? frac[.., .., 0] : 1f - frac[.., .., 0]) * (by == 1 ? frac[.., .., 1] : 1f - frac[.., .., 1])
                        * (bz == 1 ? frac[.., .., 2] : 1f - frac[.., .., 2]);
                var index = dense ? cx + cy * res + cz * (res * res)
                    : (cx ^ (cy * 2654435761L) ^ (cz * 805459861L)).bitwise_and(0xFFFFFFFFL);
                index = index.remainder(size) + _hashOffsets[l] + nerfOffset;
                var term = flatTable.index_select(0, index.reshape(-1)).reshape(b, p, spec.Features) * w.unsqueeze(-1);
                acc = acc is null ? term : acc + term;
            }
            outputs.Add(acc!);
        }
        return cat(outputs, 2);
    }

    /// <summary>The weights of NeRF <paramref name="index"/> in architecture-neutral form.</summary>
    public NerfWeights Export(int index)
    {
        using var _ = no_grad();
        var layers = _arch.Layers();
        var lin = layers.Select((l, k) => new LinearWeights(l.Out, l.In, weights[k][index].contiguous().data<float>().ToArray(), null)).ToArray();
        return new NerfWeights(_arch, lin,
            triplane?[index].contiguous().data<float>().ToArray(),
            hash_table?[index].contiguous().data<float>().ToArray());
    }
}
