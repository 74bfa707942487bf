using TorchSharp;

namespace NerfGmn.Runtime;

/// <summary>
/// Numbers for TorchSharp operations (<c>t * S(0.5)</c>, <c>t.clamp_min(S(1e-9))</c>). A Scalar made by TorchSharp's
/// implicit conversion is unreferenced while the native call that reads it runs, so the finalizer thread can free it
/// mid-call (libtorch then fails in <c>toDouble</c>/<c>isIntegral</c> at random). These Scalars stay referenced by a
/// per-thread ring and are disposed on the same thread <see cref="RingSize"/> creations later, long after the
/// synchronous operation that used them. Only for arguments used at once — never store the result.
/// The analyzer rule NGT001 flags the implicit conversions.
/// </summary>
public static class ScalarArgs
{
    public const int RingSize = 256;

    [ThreadStatic] static IDisposable?[]? _ring;
    [ThreadStatic] static int _next;

    public static Scalar S(double value) => Keep(value.ToScalar());
    public static Scalar S(float value) => Keep(value.ToScalar());
    public static Scalar S(long value) => Keep(value.ToScalar());
    public static Scalar S(int value) => Keep(value.ToScalar());
    public static Scalar S(bool value) => Keep(value.ToScalar());

    /// <summary>A 0-d tensor for an argument that must be a Tensor (the implicit number → Tensor conversion has the same hazard).</summary>
    public static torch.Tensor T(double value) => Keep(torch.tensor(value));
    public static torch.Tensor T(float value) => Keep(torch.tensor(value));
    public static torch.Tensor T(long value) => Keep(torch.tensor(value));
    public static torch.Tensor T(int value) => Keep(torch.tensor(value));

    static TD Keep<TD>(TD s) where TD : class, IDisposable
    {
        // A tensor made inside a dispose scope belongs to it; the ring must not dispose it under the scope's owner.
        if (s is torch.Tensor t) t.DetachFromDisposeScope();
        var ring = _ring ??= new IDisposable?[RingSize];
        ring[_next]?.Dispose();
        ring[_next] = s;
        _next = (_next + 1) % RingSize;
        return s;
    }
}
