using static TorchSharp.torch;

namespace NerfGmn.Runtime;

/// <summary>Managed embedding rows (float[] per row) to and from one [rows, d] float32 tensor, in one copy each way.</summary>
public static class TensorRows
{
    public static Tensor FromRows(IReadOnlyList<float[]> rows)
    {
        if (rows.Count == 0) throw new ArgumentException("no rows");
        int d = rows[0].Length;
        var flat = new float[(long)rows.Count * d];
        for (int i = 0; i < rows.Count; i++)
        {
            if (rows[i].Length != d) throw new ArgumentException($"row {i} has {rows[i].Length} values, row 0 has {d}");
            rows[i].CopyTo(flat, (long)i * d);
        }
        return tensor(flat, [rows.Count, d], device: CPU);   // managed data lands on the CPU; callers move it
    }

    public static float[][] ToRows(Tensor m)
    {
        if (m.dim() != 2) throw new ArgumentException($"expected a [rows, d] tensor, got {m.dim()} dimensions");
        using var f = m.to_type(ScalarType.Float32).cpu().contiguous();
        int n = (int)f.shape[0], d = (int)f.shape[1];
        var all = f.data<float>().ToArray();
        return Enumerable.Range(0, n).Select(i => all.AsSpan(i * d, d).ToArray()).ToArray();
    }
}
