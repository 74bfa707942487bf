using NerfGmn.Architectures;
using TorchSharp;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Fields;

/// <summary>
/// A NeRF's field: world points → (rgb, σ). Encoding (frequency, tri-plane + frequency, or hash grid), tcnn MLP,
/// heads rgb = sigmoid(o[0..2]), σ = exp(o[3] − 1) zeroed outside the scene box (strictly inside: 0 &lt; u &lt; 1).
/// </summary>
public sealed class RadianceField : nn.Module<Tensor, (Tensor Rgb, Tensor Sigma)>
{
    readonly FrequencyEncoding? frequency;
    readonly TriplaneGrid? triplane;
    readonly HashGrid? hash;
    readonly TcnnMlp mlp;
    readonly float[] _box;
    readonly int _paddedHashInputs;

    public NerfArchitecture Architecture { get; }

    public RadianceField(NerfWeights weights) : base(nameof(RadianceField))
    {
        var arch = weights.Architecture;
        Architecture = arch;
        _box = arch.SceneBox;
        switch (arch.Encoding.Type)
        {
            case EncodingType.Frequency:
                frequency = new FrequencyEncoding(arch.Encoding.NFrequencies!.Value);
                break;
            case EncodingType.Hash:
                hash = new HashGrid(weights.HashTable!, arch.Hash!);
                _paddedHashInputs = arch.Hash!.PaddedFeatures;
                break;
            default:
                throw new NotSupportedException($"architecture '{arch.Name}': encoding '{arch.Encoding.Type}' has no defined field (test networks only)");
        }
        if (arch.Triplane is { } tp) triplane = new TriplaneGrid(weights.Triplane!, tp);
        mlp = new TcnnMlp(weights.Layers, arch.Activation);
        RegisterComponents();
    }

    /// <param name="points">[B, 3] world coordinates (float32).</param>
    public override (Tensor Rgb, Tensor Sigma) forward(Tensor points)
    {
        using var scope = NewDisposeScope();
        var (h, inside) = Encode(points);
        var o = mlp.forward(h);
        var rgb = o[.., 0..3].sigmoid();
        var sigma = (o[.., 3].Minus(S(1f))).exp() * inside.to_type(ScalarType.Float32);
        return (rgb.MoveToOuterDisposeScope(), sigma.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The MLP's neuron values at <paramref name="points"/> (world coordinates): its input (the encoding), each hidden
    /// layer after its activation, and the raw output (before the rgb/σ heads), each [B, width].
    /// </summary>
    public Tensor[] NeuronActivations(Tensor points)
    {
        using var scope = NewDisposeScope();
        var (h, _) = Encode(points);
        return [h.MoveToOuterDisposeScope(), .. mlp.Activations(h).Select(a => a.MoveToOuterDisposeScope())];
    }

    /// <summary>The MLP's input at world points and whether each point is strictly inside the scene box.</summary>
    (Tensor H, Tensor Inside) Encode(Tensor points)
    {
        var p = points.to_type(ScalarType.Float32);
        var min = tensor(_box[..3], device: p.device);
        var max = tensor(_box[3..], device: p.device);
        var u = (p.Minus(min)) / (max.Minus(min));                                                    // one sub, one div (float32)
        var inside = (u > S(0f)).logical_and(u < S(1f)).all(1);

        Tensor h;
        if (hash is not null)
        {
            h = hash.forward(u);
            if (_paddedHashInputs > h.shape[1]) h = nn.functional.pad(h, [0, _paddedHashInputs - h.shape[1]]);
        }
        else
        {
            h = frequency!.forward(u);
            if (triplane is not null)
            {
                var s = S(2f) * (p.Minus(min)) / (max.Minus(min)) - S(1f);
                h = cat([h, triplane.forward(s)], 1);                                        // encoding first
            }
        }
        return (h, inside);
    }

    /// <summary>The scene box (min x, y, z, max x, y, z).</summary>
    public IReadOnlyList<float> SceneBox => _box;

    // Where this field's parameters are (any one of them tells).
    Device ParameterDevice => parameters().First().device;

    /// <summary>
    /// The field at many points [N, 3], <paramref name="chunk"/> points per forward pass and without gradients (the
    /// NeRF's own values as targets or answers): rgb [N, 3] and σ [N], float32.
    /// </summary>
    public (Tensor Rgb, Tensor Sigma) ForwardInChunks(Tensor points, int chunk = 65536)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var rgb = new List<Tensor>(); var sigma = new List<Tensor>();
        for (long start = 0; start < points.shape[0]; start += chunk)
        {
            var (r, s) = forward(points.narrow(0, start, Math.Min(chunk, points.shape[0] - start)));
            rgb.Add(r); sigma.Add(s);
        }
        if (rgb.Count == 0) return (zeros(0, 3).MoveToOuterDisposeScope(), zeros(0).MoveToOuterDisposeScope());
        return (cat(rgb, 0).to_type(ScalarType.Float32).MoveToOuterDisposeScope(), cat(sigma, 0).to_type(ScalarType.Float32).MoveToOuterDisposeScope());
    }

    /// <summary>Evaluates in chunks without gradients, on the field's device.</summary>
    public (float[] Rgb, float[] Sigma) Evaluate(float[] points, int chunk = 65536)
    {
        using var scope = NewDisposeScope();
        var (r, s) = ForwardInChunks(tensor(points, [points.Length / 3, 3], device: ParameterDevice), chunk);
        return (r.cpu().contiguous().data<float>().ToArray(), s.cpu().contiguous().data<float>().ToArray());
    }
}
