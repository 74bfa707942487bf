using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Fields;

/// <summary>
/// exp(x) whose gradient is exp(min(x, 15)) (torch-ngp's <c>trunc_exp</c>): forward exact, backward bounded, so one
/// large density pre-activation cannot blow up training.
/// </summary>
public static class TruncatedExp
{
    public static Tensor Apply(Tensor x)
    {
        if (!x.requires_grad) return x.exp();
        using var clamped = x.detach().clamp_max(S(15));
        // value: exp(x); derivative w.r.t. x: exp(min(x, 15)).
        return x.detach().exp().Plus(clamped.exp() * (x.Minus(x.detach())));
    }
}
