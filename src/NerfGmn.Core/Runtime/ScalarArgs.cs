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

    // TorchSharp's add/add_ overloads without alpha pass a temporary Scalar 1 of their own (the same hazard, rule NGT004).
    // This one is rooted in a static field for the life of the process, so it is never finalized; c10::Scalar is
    // read-only, so all threads may share it.
    static readonly Scalar One = 1.ToScalar(), Two = 2.ToScalar();

    public static torch.Tensor Plus(this torch.Tensor a, torch.Tensor b) => a.add(b, One);
    public static torch.Tensor Plus(this torch.Tensor a, Scalar b) => a.add(b, One);
    public static torch.Tensor Plus(this Scalar a, torch.Tensor b) => b.add(a, One);
    public static torch.Tensor Minus(this torch.Tensor a, torch.Tensor b) => a.sub(b);   // sub has no alpha: safe as is
    public static torch.Tensor Minus(this torch.Tensor a, Scalar b) => a.sub(b);
    /// <summary>a − b as −b + a (IEEE negation and addition are exact/commutative: same bits).</summary>
    public static torch.Tensor Minus(this Scalar a, torch.Tensor b) => b.neg().add_(a, One);
    public static torch.Tensor AddInPlace(this torch.Tensor a, torch.Tensor b) => a.add_(b, One);
    public static torch.Tensor AddInPlace(this torch.Tensor a, Scalar b) => a.add_(b, One);
    public static torch.Tensor SubInPlace(this torch.Tensor a, torch.Tensor b) => a.sub_(b);
    public static torch.Tensor SubInPlace(this torch.Tensor a, Scalar b) => a.sub_(b);
    /// <summary>
    /// <paramref name="target"/> ← <paramref name="value"/> in <paramref name="target"/>'s dtype. The converted temporary
    /// stays referenced until the native copy has read it (the hazard above, for a Tensor argument).
    /// </summary>
    public static void CopyConverted(this torch.Tensor target, torch.Tensor value)
    {
        var converted = value.to(target.dtype);
        target.copy_(converted);
        GC.KeepAlive(converted);
    }
    /// <summary>a² element-wise: TorchSharp's <c>square()</c> is <c>pow(2)</c> with a temporary Scalar 2 (rule NGT004).</summary>
    public static torch.Tensor Squared(this torch.Tensor a) => a.pow(Two);

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
