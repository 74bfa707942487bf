using NerfGmn.Architectures;
using NerfGmn.Fields;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

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
    readonly HashGridIndexing? _hashIndexing;

    public int Count => _b;
    public NerfArchitecture Architecture => _arch;

    /// <param name="generators">One generator per NeRF (initialisation independent of batch composition), or null.
    /// Initialised on the CPU whatever the default device (the generators are CPU ones); move the model afterwards.</param>
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
            triplane = new Parameter(PerNerf(g => normal(0, 0.01, [3, tp.Resolution, tp.Resolution, tp.Channels], generator: g, device: CPU)));
        if (_arch.Hash is { } h)
        {
            _hashIndexing = new HashGridIndexing(h);
            hash_table = new Parameter(PerNerf(g => (rand([_hashIndexing.TotalEntries, h.Features], generator: g, device: CPU) * S(2) - S(1)) * S(1e-4f)));
        }
        var layers = _arch.Layers();
        bool sine = _arch.Activation == NerfActivation.Sine;
        for (int k = 0; k < layers.Count; k++)
        {
            var (o, i) = layers[k];
            // tcnn initialisation: Xavier-uniform for ReLU nets; Sine: U(±30/fan_in) first, U(±√(6/fan_in)) after.
            double bound = sine ? (k == 0 ? 30.0 / i : Math.Sqrt(6.0 / i)) : Math.Sqrt(6.0 / (i + o));
            weights.Add(new Parameter(PerNerf(g => (rand([o, i], generator: g, device: CPU) * S(2) - S(1)) * S(bound))));
        }
        RegisterComponents();
    }

    /// <param name="points">[B, P, 3] world points.</param>
    /// <returns>rgb [B, P, 3], σ [B, P] and the raw log-density o₃ − 1 [B, P].</returns>
    public override (Tensor Rgb, Tensor Sigma, Tensor LogSigma) forward(Tensor points)
    {
        using var scope = NewDisposeScope();
        long b = points.shape[0], p = points.shape[1];
        var min = tensor(_box[..3], device: points.device);
        var max = tensor(_box[3..], device: points.device);
        var u = (points.Minus(min)) / (max.Minus(min));
        var inside = (u > S(0f)).logical_and(u < S(1f)).all(-1);

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
            if (triplane is not null) h = cat([h, TriplaneFeatures(S(2f) * (points.Minus(min)) / (max.Minus(min)) - S(1f))], 2);
        }
        bool sine = _arch.Activation == NerfActivation.Sine;
        for (int k = 0; k < weights.Count; k++)
        {
            h = h.bmm(weights[k].transpose(1, 2));
            if (k < weights.Count - 1) h = sine ? h.sin() : h.relu();
        }
        var rgb = h[.., .., 0..3].sigmoid();
        var logSigma = h[.., .., 3].Minus(S(1f));
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
        long b = u.shape[0];
        long total = _hashIndexing!.TotalEntries;
        var nerfOffset = (arange(S(b), dtype: ScalarType.Int64, device: u.device) * S(total)).unsqueeze(1);      // [B, 1]: each NeRF's block of the flat table
        return _hashIndexing.Encode(u, hash_table!.reshape(b * total, _arch.Hash!.Features), nerfOffset);
    }

    /// <summary>Adam (eps 1e-15, as nerfacc's recipe) with the MLP and the grids (tri-plane, hash) in two groups.</summary>
    public (Adam Optimizer, IReadOnlyList<Adam.ParamGroup> Groups) CreateAdam(double mlpLearningRate, double gridLearningRate)
    {
        var grid = named_parameters().Where(p => !p.name.StartsWith("weights")).Select(p => p.parameter).ToList();
        var mlp = named_parameters().Where(p => p.name.StartsWith("weights")).Select(p => p.parameter).ToList();
        var groups = new List<Adam.ParamGroup> { new(mlp, new Adam.Options { LearningRate = mlpLearningRate }) };
        if (grid.Count > 0) groups.Add(new(grid, new Adam.Options { LearningRate = gridLearningRate }));
        return (optim.Adam(groups, eps: 1e-15), groups);
    }

    /// <summary>The weights of NeRF <paramref name="index"/> in architecture-neutral form.</summary>
    public NerfWeights Export(int index)
    {
        using var _ = no_grad();
        var layers = _arch.Layers();
        var lin = layers.Select((l, k) => new LinearWeights(l.Out, l.In, weights[k][index].cpu().contiguous().data<float>().ToArray(), null)).ToArray();
        return new NerfWeights(_arch, lin,
            triplane?[index].cpu().contiguous().data<float>().ToArray(),
            hash_table?[index].cpu().contiguous().data<float>().ToArray());
    }
}
