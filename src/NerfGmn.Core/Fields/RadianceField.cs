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

    /// <summary>Evaluates in chunks without gradients, on the field's device.</summary>
    public (float[] Rgb, float[] Sigma) Evaluate(float[] points, int chunk = 65536)
    {
        using var _ = no_grad();
        int n = points.Length / 3;
        var rgb = new float[n * 3];
        var sigma = new float[n];
        for (int start = 0; start < n; start += chunk)
        {
            using var scope = NewDisposeScope();
            int m = Math.Min(chunk, n - start);
            var (r, s) = forward(tensor(points.AsSpan(start * 3, m * 3).ToArray(), [m, 3], device: ParameterDevice));
            r.cpu().contiguous().data<float>().CopyTo(rgb, start * 3);
            s.cpu().contiguous().data<float>().CopyTo(sigma, start);
        }
        return (rgb, sigma);
    }
}
