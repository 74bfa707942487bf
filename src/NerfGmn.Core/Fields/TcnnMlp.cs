using NerfGmn.Architectures;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NerfGmn.Fields;

/// <summary>
/// The NeRF's MLP as tiny-cuda-nn runs it: Linear layers (bias-free in tcnn networks) with ReLU or plain sin
/// (no ω₀ at run time) between them and no output activation.
/// </summary>
public sealed class TcnnMlp : nn.Module<Tensor, Tensor>
{
    readonly ModuleList<Linear> layers = new();
    readonly bool _sine;

    public TcnnMlp(IReadOnlyList<LinearWeights> weights, string activation) : base(nameof(TcnnMlp))
    {
        _sine = activation == NerfActivation.Sine;
        foreach (var w in weights)
        {
            var lin = nn.Linear(w.In, w.Out, hasBias: w.Bias is not null);
            using (no_grad())
            {
                // The sources stay referenced until their copy has run: an unreferenced temporary outside a dispose
                // scope can be finalised while the native copy still reads it (as ScalarArgs explains for Scalars).
                using var weight = tensor(w.Weight, [w.Out, w.In]);
                lin.weight!.copy_(weight);
                if (w.Bias is not null)
                {
                    using var bias = tensor(w.Bias);
                    lin.bias!.copy_(bias);
                }
            }
            layers.Add(lin);
        }
        RegisterComponents();
    }

    public override Tensor forward(Tensor h)
    {
        for (int k = 0; k < layers.Count; k++)
        {
            var next = layers[k].forward(h);
            if (k < layers.Count - 1) next = _sine ? next.sin_() : next.relu_();
            h = next;
        }
        return h;
    }

    /// <summary>Every layer's output: hidden layers after their activation, the last one raw.</summary>
    public Tensor[] Activations(Tensor h)
    {
        var result = new Tensor[layers.Count];
        for (int k = 0; k < layers.Count; k++)
        {
            var next = layers[k].forward(h);
            if (k < layers.Count - 1) next = _sine ? next.sin() : next.relu();
            result[k] = h = next;
        }
        return result;
    }

    /// <summary>Current weights (for writing fitted NeRFs).</summary>
    public IReadOnlyList<LinearWeights> Export() => layers.Select(l =>
    {
        var w = l.weight!.detach().contiguous().data<float>().ToArray();
        var b = l.bias?.detach().contiguous().data<float>().ToArray();
        return new LinearWeights((int)l.weight!.shape[0], (int)l.weight.shape[1], w, b);
    }).ToArray();
}
