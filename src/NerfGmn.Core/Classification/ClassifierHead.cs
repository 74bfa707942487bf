using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Classification;

/// <summary>
/// <c>FcClassifier([in, 512, 256], classes)</c>: blocks of Linear → BatchNorm1d → ReLU → Dropout, then a Linear to
/// class logits. Built on the CPU (seeded draws are the same everywhere); the trainer moves it to its device.
/// </summary>
public sealed class ClassifierHead : nn.Module<Tensor, Tensor>
{
    readonly ModuleList<Linear> linears = new();
    readonly ModuleList<BatchNorm1d> norms = new();
    readonly Dropout dropout;
    readonly Linear output;

    public ClassifierHead(int inputDim, IReadOnlyList<int> hidden, int classes, double dropoutRate) : base(nameof(ClassifierHead))
    {
        int width = inputDim;
        foreach (var h in hidden)
        {
            linears.Add(nn.Linear(width, h, device: CPU));
            norms.Add(nn.BatchNorm1d(h, device: CPU));
            width = h;
        }
        dropout = nn.Dropout(dropoutRate);
        output = nn.Linear(width, classes, device: CPU);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        for (int i = 0; i < linears.Count; i++) x = dropout.forward(nn.functional.relu(norms[i].forward(linears[i].forward(x))));
        return output.forward(x).MoveToOuterDisposeScope();
    }

    /// <summary>The eval-mode network as plain arrays, BatchNorm folded into the preceding Linear.</summary>
    public ClassifierHeadModel ToModel(IReadOnlyList<string> classes)
    {
        var layers = new List<ClassifierHeadModel.Layer>();
        using var _ = no_grad();
        for (int i = 0; i < linears.Count; i++)
        {
            var bn = norms[i];
            var scale = bn.weight! / ((bn.running_var!).Plus(S(bn.eps))).sqrt();
            var w = linears[i].weight! * scale.unsqueeze(1);
            var b = (((linears[i].bias!).Minus(bn.running_mean!)) * scale).Plus(bn.bias!);
            layers.Add(new(Floats(w), Floats(b), (int)w.shape[1], (int)w.shape[0], Relu: true));
        }
        layers.Add(new(Floats(output.weight!), Floats(output.bias!), (int)output.weight!.shape[1], (int)output.weight!.shape[0], Relu: false));
        return new ClassifierHeadModel(layers, classes.ToArray());
    }

    static float[] Floats(Tensor t) => t.detach().cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
}
