using NerfGmn.Architectures;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

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
    readonly HashGridIndexing _indexing;

    public int OutputDims => _indexing.Spec.Levels * _indexing.Spec.Features;

    public HashGrid(float[] values, HashGridSpec spec) : base(nameof(HashGrid))
    {
        _indexing = new HashGridIndexing(spec);
        table = new Parameter(tensor(values, [_indexing.TotalEntries, spec.Features]));
        RegisterComponents();
    }

    public Tensor Values => table;

    /// <param name="u">[B, 3] coordinates in [0, 1].</param>
    /// <returns>[B, L·F].</returns>
    public override Tensor forward(Tensor u)
    {
        using var scope = NewDisposeScope();
        return _indexing.Encode(u, table, null).MoveToOuterDisposeScope();
    }

}

/// <summary>
/// tcnn hash-grid lookup and trilinear interpolation, separate from where the tables live (a <see cref="HashGrid"/>
/// module, or the batched fitter's stacked tables).
/// </summary>
public sealed class HashGridIndexing
{
    readonly int[] _sizes, _offsets, _resolutions;
    readonly float[] _scales;
    readonly HashGridSpec _spec;

    public HashGridSpec Spec => _spec;
    public int TotalEntries => _sizes.Sum();

    public HashGridIndexing(HashGridSpec spec)
    {
        _spec = spec;
        _sizes = spec.TableSizes ?? spec.ComputeTableSizes();
        _offsets = new int[_sizes.Length];
        for (int l = 1; l < _sizes.Length; l++) _offsets[l] = _offsets[l - 1] + _sizes[l - 1];
        _scales = Enumerable.Range(0, spec.Levels).Select(l => (float)(spec.BaseResolution * Math.Pow(spec.PerLevelScale, l) - 1.0)).ToArray();
        _resolutions = Enumerable.Range(0, spec.Levels).Select(spec.TcnnResolution).ToArray();
    }

    /// <summary>
    /// The tcnn hash encoding of points <paramref name="u"/> [..., 3] from a flat table [entries, F]; with
    /// <paramref name="entryOffset"/> (broadcastable to u's leading dims) several NeRFs' tables can share one flat
    /// tensor (the batched fitter). Returns [..., L·F].
    /// </summary>
    public Tensor Encode(Tensor u, Tensor flatTable, Tensor? entryOffset)
    {
        var outputs = new List<Tensor>(_spec.Levels);
        var lead = u.shape[..^1];
        for (int l = 0; l < _spec.Levels; l++)
        {
            var pos = (u * S(_scales[l])).Plus(S(0.5f));
            var cell = pos.floor();
            var frac = pos.Minus(cell);
            var ci = cell.to_type(ScalarType.Int64);
            long res = _resolutions[l], size = _sizes[l];
            bool dense = res * res * res <= size;
            Tensor? acc = null;
            for (int corner = 0; corner < 8; corner++)
            {
                int bx = corner & 1, by = (corner >> 1) & 1, bz = (corner >> 2) & 1;
                var cx = ci[TensorIndex.Ellipsis, 0].Plus(S(bx)); var cy = ci[TensorIndex.Ellipsis, 1].Plus(S(by)); var cz = ci[TensorIndex.Ellipsis, 2].Plus(S(bz));
                var fx = frac[TensorIndex.Ellipsis, 0]; var fy = frac[TensorIndex.Ellipsis, 1]; var fz = frac[TensorIndex.Ellipsis, 2];
                var w = (bx == 1 ? fx : S(1f).Minus(fx)) * (by == 1 ? fy : S(1f).Minus(fy)) * (bz == 1 ? fz : S(1f).Minus(fz));
                var index = dense ? cx.Plus(cy * S(res)).Plus(cz * (S(res * res)))
                    : (cx ^ (cy * S(2654435761L)) ^ (cz * S(805459861L))).remainder(S(1L << 32));   // uint32 arithmetic (the low 32 bits, also of negatives)
                index = index.remainder(S(size)).Plus(S(_offsets[l]));
                if (entryOffset is not null) index = index.Plus(entryOffset);
                var term = flatTable.index_select(0, index.reshape(-1)).reshape([.. lead, _spec.Features]) * w.unsqueeze(-1);
                acc = acc is null ? term : acc.Plus(term);
            }
            outputs.Add(acc!);
        }
        return cat(outputs, -1);
    }
}
