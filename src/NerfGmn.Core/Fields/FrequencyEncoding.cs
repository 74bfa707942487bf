using TorchSharp;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Fields;

/// <summary>
/// tiny-cuda-nn Frequency encoding of points u ∈ [0,1]³: output j = d·2F + 2k + s is sin(2^k·π·u_d + s·π/2).
/// The argument is formed exactly as tcnn/the reference fixtures do in float32 (a = u·float32(2^k·π), cos via
/// a + π/2 in float32), because high frequencies are chaotic in the last bit. libtorch's float32 sine reduces large
/// arguments accurately (the fixture agrees to 1e-6 up to 2^47·π), so no float64 detour is needed.
/// </summary>
public sealed class FrequencyEncoding : nn.Module<Tensor, Tensor>
{
    readonly int _frequencies;
    readonly float[] _scales;   // float32(2^k · π_f); not a tensor field, so it is no module state

    public int Frequencies => _frequencies;
    public int OutputDims(int inputDims = 3) => inputDims * 2 * _frequencies;

    public FrequencyEncoding(int frequencies) : base(nameof(FrequencyEncoding))
    {
        if (frequencies < 1) throw new ArgumentOutOfRangeException(nameof(frequencies));
        _frequencies = frequencies;
        _scales = new float[frequencies];
        for (int k = 0; k < frequencies; k++) _scales[k] = MathF.ScaleB(MathF.PI, k);
    }

    /// <param name="u">[B, D] normalised coordinates (float32).</param>
    /// <returns>[B, D·2F] float32.</returns>
    public override Tensor forward(Tensor u)
    {
        using var scope = NewDisposeScope();
        long b = u.shape[0], d = u.shape[1];
        var a = u.to_type(ScalarType.Float32).unsqueeze(-1) * tensor(_scales, device: u.device);   // [B, D, F] float32
        var aCos = a.Plus(S((float)(MathF.PI / 2f)));                                              // float32 add, as tcnn
        var enc = stack([a.sin(), aCos.sin()], dim: -1); // [B, D, F, 2]
        return enc.to_type(ScalarType.Float32).reshape(b, d * 2 * _frequencies).MoveToOuterDisposeScope();
    }
}
