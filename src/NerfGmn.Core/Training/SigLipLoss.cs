using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Training;

/// <summary>
/// SigLIP contrastive loss as gmnerf computes it: rows L2-normalised (no ε), logits = exp(t′)·X̂Ŷᵀ + b,
/// labels +1 on the diagonal and −1 elsewhere, L = −Σ log σ(z ⊙ logits) / n (n = rows). t′ (init ln 10) and b
/// (init −10) are learned.
/// </summary>
public sealed class SigLipLoss : nn.Module<Tensor, Tensor, Tensor>
{
    readonly Parameter t_prime, bias;

    public SigLipLoss(double tPrime = 2.302585092994046, double b = -10.0) : base(nameof(SigLipLoss))
    {
        t_prime = new Parameter(tensor((float)tPrime));
        bias = new Parameter(tensor((float)b));
        RegisterComponents();
    }

    public Parameter TPrime => t_prime;
    public Parameter Bias => bias;

    /// <param name="x">[n, d] embeddings of the first architecture of each pair.</param>
    /// <param name="y">[n, d] embeddings of the second architecture.</param>
    public override Tensor forward(Tensor x, Tensor y)
    {
        var xn = x / x.norm(1, keepdim: true);
        var yn = y / y.norm(1, keepdim: true);
        var logits = (t_prime.exp() * xn.matmul(yn.t())).Plus(bias);
        long n = x.shape[0];
        var labels = S(2) * eye(n, dtype: x.dtype, device: x.device) - S(1);
        return -nn.functional.logsigmoid(labels * logits).sum() / S(n);
    }

    /// <summary>The loss of pairs laid out as rows: row 2i (first architecture) against row 2i + 1 (second).</summary>
    public Tensor Pairs(Tensor z)
    {
        using var scope = NewDisposeScope();
        var first = arange(S(0), S(z.shape[0]), S(2), device: z.device);
        return forward(z.index_select(0, first), z.index_select(0, first.Plus(S(1)))).MoveToOuterDisposeScope();
    }
}
