using NerfGmn.Fields;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Decoder;

/// <summary>
/// The nf2vec implicit decoder: (embedding, point) → (rgb, σ). z = [embedding; freq_enc(u)],
/// x = ReLU(L_in z) → ReLU(Linear)×before → x += ReLU(L_skip z) → ReLU(Linear)×after → Linear(→4);
/// rgb = sigmoid(o[0..2]), σ = trunc_exp(o[3] − 1) zeroed outside the scene box.
/// The embedding's share of the first projections is computed once per NeRF, not once per point.
/// </summary>
public sealed class ImplicitDecoder : nn.Module<(Tensor Embedding, Tensor Points), (Tensor Rgb, Tensor Sigma)>
{
    readonly FrequencyEncoding encoding;
    readonly Linear in_layer, skip_proj;
    readonly ModuleList<Linear> before_skip = new(), after_skip = new();
    readonly Linear output;
    readonly float[] _box;

    public ImplicitDecoderOptions Options { get; }

    public ImplicitDecoder(ImplicitDecoderOptions? options = null) : base(nameof(ImplicitDecoder))
    {
        Options = options ?? ImplicitDecoderOptions.Paper;
        Options.Validate();
        var o = Options;
        _box = o.SceneBox;
        encoding = new FrequencyEncoding(o.Frequencies);
        int inDim = o.EmbeddingDim + encoding.OutputDims();
        // Creation order = the reference's (seeded initialisation matches it).
        in_layer = nn.Linear(inDim, o.HiddenDim);
        skip_proj = nn.Linear(inDim, o.HiddenDim);
        for (int k = 0; k < o.LayersBeforeSkip; k++) before_skip.Add(nn.Linear(o.HiddenDim, o.HiddenDim));
        for (int k = 0; k < o.LayersAfterSkip; k++) after_skip.Add(nn.Linear(o.HiddenDim, o.HiddenDim));
        output = nn.Linear(o.HiddenDim, 4);
        RegisterComponents();
    }

    /// <param name="input">embeddings [B, E] and world points [B, P, 3].</param>
    /// <returns>rgb [B, P, 3], σ [B, P].</returns>
    public override (Tensor Rgb, Tensor Sigma) forward((Tensor Embedding, Tensor Points) input)
    {
        var (emb, points) = input;
        long b = points.shape[0], p = points.shape[1];
        int e = Options.EmbeddingDim;
        var dtype = output.weight!.dtype;
        var min = tensor(_box[..3], device: points.device);
        var max = tensor(_box[3..], device: points.device);
        var pf = points.to_type(ScalarType.Float32);
        var u = (pf.Minus(min)) / (max.Minus(min));
        var inside = (u > S(0f)).logical_and(u < S(1f)).all(-1);
        var enc = encoding.forward(u.reshape(b * p, 3)).reshape(b, p, -1).to_type(dtype);
        emb = emb.to_type(dtype);

        Tensor Project(Linear layer)
        {
            var w = layer.weight!;
            var perNerf = nn.functional.linear(emb, w[.., 0..e], layer.bias).unsqueeze(1);      // [B, 1, H]
            return nn.functional.linear(enc, w[.., e..]).Plus(perNerf);                               // [B, P, H]
        }

        var x = Project(in_layer).relu();
        foreach (var layer in before_skip) x = layer.forward(x).relu();
        x = x.Plus(Project(skip_proj).relu());
        foreach (var layer in after_skip) x = layer.forward(x).relu();
        var o = output.forward(x);
        var rgb = o[.., .., 0..3].sigmoid();
        var sigma = TruncatedExp.Apply(o[.., .., 3].Minus(S(1))) * inside.to_type(dtype);
        return (rgb, sigma);
    }

    /// <summary>Reference (nf2vec/gmnerf) state-dict name of each of our parameters.</summary>
    public string ToReferenceName(string ours)
    {
        var parts = ours.Split('.');
        return parts[0] switch
        {
            "in_layer" => "in_layer.0." + parts[1],
            "skip_proj" => "skip_proj.0." + parts[1],
            "before_skip" => $"before_skip.{parts[1]}.0.{parts[2]}",
            "after_skip" => $"after_skip.{parts[1]}.0.{parts[2]}",
            "output" => $"after_skip.{Options.LayersAfterSkip}.{parts[1]}",   // the final Linear sits in after_skip
            _ => throw new ArgumentException($"no reference name for '{ours}'"),
        };
    }

    /// <summary>Saves the decoder as training does (<c>decoder.safetensors</c>, reference parameter names), whole or not at all.</summary>
    public void Save(string path) =>
        IO.AtomicFile.Write(path, tmp => IO.SafeTensorsFile.Write(tmp, state_dict().ToDictionary(
            kv => ToReferenceName(kv.Key), kv => IO.SafeTensor.FromFloats(kv.Value.detach().contiguous().data<float>().ToArray(), kv.Value.shape))));

    /// <summary>
    /// The options of a saved decoder: <paramref name="like"/>'s embedding size and point encoding with the width and the
    /// layer counts its tensors have (a fitted decoder may be wider or deeper than its run's).
    /// </summary>
    public static ImplicitDecoderOptions OptionsOf(string path, ImplicitDecoderOptions like)
    {
        var names = IO.SafeTensorsFile.Read(path).Tensors;
        if (!names.TryGetValue("in_layer.0.weight", out var first))
            throw new NerfFormatException(path, "decoder state dict has no 'in_layer.0.weight'");
        int Count(string prefix) => names.Keys.Count(k => k.StartsWith(prefix, StringComparison.Ordinal) && k.EndsWith(".0.weight", StringComparison.Ordinal));
        // The final Linear sits in after_skip too, without the ".0." of the hidden layers.
        return like with { HiddenDim = (int)first.Shape[0], LayersBeforeSkip = Count("before_skip."), LayersAfterSkip = Count("after_skip.") };
    }

    /// <summary>Loads a decoder saved by training (<c>decoder.safetensors</c>, reference parameter names).</summary>
    public void Load(string path)
    {
        var contents = IO.SafeTensorsFile.Read(path);
        var tensors = contents.Tensors.ToDictionary(kv => kv.Key, kv => tensor(kv.Value.ToFloats(), kv.Value.Shape));
        try { LoadReference(tensors, path); }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
    }

    /// <summary>Loads a reference decoder state dict (names <c>in_layer.0.*</c>, <c>after_skip.2.*</c>, …).</summary>
    public void LoadReference(IReadOnlyDictionary<string, Tensor> reference, string? source)
    {
        var ours = state_dict();
        using var _ = no_grad();
        var used = new HashSet<string>();
        foreach (var (name, target) in ours)
        {
            string refName = ToReferenceName(name);
            if (!reference.TryGetValue(refName, out var value))
                throw new NerfFormatException(source, $"decoder state dict has no '{refName}'");
            if (!value.shape.SequenceEqual(target.shape))
                throw new NerfFormatException(source, $"'{refName}' has shape [{string.Join(", ", value.shape)}], the decoder expects [{string.Join(", ", target.shape)}]");
            target.CopyConverted(value);
            used.Add(refName);
        }
        var unexpected = reference.Keys.Where(k => !used.Contains(k)).ToList();
        if (unexpected.Count > 0) throw new NerfFormatException(source, $"unexpected decoder entries: {string.Join(", ", unexpected.Take(5))}");
    }
}
