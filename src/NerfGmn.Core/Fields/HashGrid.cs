using NerfGmn.Architectures;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NerfGmn.Fields;

/// <summary>
/// Multi-resolution hash grid with tiny-cuda-nn's semantics (the ones released hash NeRFs were trained with): level l
/// has scale = base·s^l − 1 and resolution ceil(scale) + 1; pos = u·scale + 0.5; trilinear over the 8 corners;
/// corner index x + y·res + z·res² for dense levels (res³ ≤ T_l) or (x·1 ⊕ y·2654435761 ⊕ z·805459861) in uint32
/// for hashed ones, in both cases mod T_l. Output: the L·F features, level-major.
/// </summary>
public sealed class HashGrid : nn.Module<Tensor, Tensor>
{
    readonly Parameter table;   // [Σ T_l, F]
    readonly HashGridSpec _spec;
    readonly int[] _sizes, _offsets, _resolutions;
    readonly float[] _scales;

    public int OutputDims => _spec.Levels * _spec.Features;

    public HashGrid(float[] values, HashGridSpec spec) : base(nameof(HashGrid))
    {
        _spec = spec;
        _sizes = spec.TableSizes ?? spec.ComputeTableSizes();
        _offsets = new int[_sizes.Length];
        for (int l = 1; l < _sizes.Length; l++) _offsets[l] = _offsets[l - 1] + _sizes[l - 1];
        _scales = new float[spec.Levels];
        _resolutions = new int[spec.Levels];
        for (int l = 0; l < spec.Levels; l++)
        {
            _scales[l] = (float)(spec.BaseResolution * Math.Pow(spec.PerLevelScale, l) - 1.0);
            _resolutions[l] = spec.TcnnResolution(l);
        }
        table = new Parameter(tensor(values, [_sizes.Sum(), spec.Features]));
        RegisterComponents();
    }

    public Tensor Values => table;

    /// <param name="u">[B, 3] coordinates in [0, 1].</param>
    /// <returns>[B, L·F].</returns>
    public override Tensor forward(Tensor u)
    {
        using var scope = NewDisposeScope();
        var outputs = new List<Tensor>(_spec.Levels);
        for (int l = 0; l < _spec.Levels; l++)
        {
            var pos = u * _scales[l] + 0.5f;
            var cell = pos.floor();
            var frac = pos - cell;
            var ci = cell.to_type(ScalarType.Int64);
            long res = _resolutions[l], size = _sizes[l];
            bool dense = res * res * res <= size;
            Tensor? acc = null;
            for (int corner = 0; corner < 8; corner++)
            {
                var bits = new[] { corner & 1, (corner >> 1) & 1, (corner >> 2) & 1 };
                var c = ci + tensor(bits.Select(b => (long)b).ToArray());                      // [B, 3]
                var w = ones_like(frac[.., 0]);
                for (int d = 0; d < 3; d++) w = w * (bits[d] == 1 ? frac[.., d] : 1f - frac[.., d]);
                Tensor index;
                if (dense)
                    index = c[.., 0] + c[.., 1] * res + c[.., 2] * (res * res);
                else
                    index = (c[.., 0] ^ (c[.., 1] * 2654435761L) ^ (c[.., 2] * 805459861L)).bitwise_and(0xFFFFFFFFL);
                index = index.remainder(size) + _offsets[l];
                var term = table.index_select(0, index) * w.unsqueeze(-1);
                acc = acc is null ? term : acc + term;
            }
            outputs.Add(acc!);
        }
        return cat(outputs, 1).MoveToOuterDisposeScope();
    }
}
