using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Encoder;

/// <summary>
/// Optional last encoder stage (not in the reference): each embedding dimension standardised, BatchNorm-style without
/// affine parameters: batch statistics while training (updating running estimates), the running estimates otherwise.
/// gmnerf's mean-of-ReLU readout over tens of thousands of edges gives a barely trained GMN nearly the same embedding
/// for every NeRF of an architecture (cosine ≈ 0.9999); SigLIP then sits at its no-information optimum because its
/// gradient scales with the tiny differences. Standardising spreads whatever variation there is, so short CPU runs learn.
/// </summary>
public sealed class EmbeddingStandardizer : nn.Module<Tensor, Tensor>
{
    readonly Parameter mean, variance;
    readonly double _momentum, _eps;

    public EmbeddingStandardizer(int dim, double momentum = 0.1, double eps = 1e-5) : base(nameof(EmbeddingStandardizer))
    {
        _momentum = momentum;
        _eps = eps;
        // Buffers held as frozen parameters so they are saved and loaded with the rest of the encoder.
        mean = new Parameter(zeros(dim), requires_grad: false);
        variance = new Parameter(ones(dim), requires_grad: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor z)
    {
        using var scope = NewDisposeScope();
        Tensor mu, var;
        if (training && z.shape[0] > 1)
        {
            mu = z.mean([0L]);
            var = z.var(0L, unbiased: false);
            using (no_grad())
            {
                // Running estimates as BatchNorm's: unbiased batch variance.
                long n = z.shape[0];
                mean.mul_(S(1 - _momentum)).AddInPlace(mu.detach() * S(_momentum));
                variance.mul_(S(1 - _momentum)).AddInPlace(var.detach() * S(_momentum * n / (n - 1.0)));
            }
        }
        else (mu, var) = (mean.to(z.dtype), variance.to(z.dtype));
        return ((z.Minus(mu)) / (var.Plus(S(_eps))).sqrt()).MoveToOuterDisposeScope();
    }
}
