using NerfGmn.IO;
using static TorchSharp.torch;

namespace NerfGmn.Rendering;

/// <summary>
/// nerfacc occupancy grid over a region of interest: a dense boolean grid, x-major (flat index i·R² + j·R + k).
/// Read from nf2vec's <c>grid.pth</c>: <c>_roi_aabb</c> fp16[6] (so ±0.7 reads back as ±0.7001953125),
/// <c>_binary</c> sparse COO bool (R, R, R), <c>resolution</c> fp16[3].
/// </summary>
public sealed class OccupancyGrid
{
    public float[] Roi { get; }
    public int Resolution { get; }
    public bool[] Occupied { get; }
    public int OccupiedCount => Occupied.Count(o => o);

    public OccupancyGrid(float[] roi, int resolution, bool[] occupied)
    {
        if (roi.Length != 6) throw new ArgumentException("roi must have 6 values", nameof(roi));
        if (occupied.LongLength != (long)resolution * resolution * resolution)
            throw new ArgumentException("occupied must have resolution³ cells", nameof(occupied));
        Roi = roi; Resolution = resolution; Occupied = occupied;
    }

    public static OccupancyGrid Load(string path)
    {
        var entries = PyTorchCheckpoint.Load(path);
        try
        {
            object Need(string key) => entries.TryGetValue(key, out var v) ? v
                : throw new NerfFormatException(path, $"occupancy grid has no '{key}' entry (keys: {string.Join(", ", entries.Keys)})");
            if (Need("_roi_aabb") is not Tensor roiT || roiT.numel() != 6)
                throw new NerfFormatException(path, "'_roi_aabb' must be a tensor of 6 values");
            float[] roi = roiT.to_type(ScalarType.Float32).data<float>().ToArray();
            if (Need("resolution") is not Tensor resT || resT.numel() != 3)
                throw new NerfFormatException(path, "'resolution' must be a tensor of 3 values");
            float[] res = resT.to_type(ScalarType.Float32).data<float>().ToArray();
            if (res[0] != res[1] || res[1] != res[2] || res[0] < 1 || res[0] > 1024 || res[0] != MathF.Floor(res[0]))
                throw new NerfFormatException(path, $"unsupported grid resolution ({string.Join(", ", res)}); a cubic grid is expected");
            int r = (int)res[0];
            var occupied = new bool[(long)r * r * r];
            switch (Need("_binary"))
            {
                case SparseCooTensor sparse:
                {
                    if (sparse.Size.Length != 3 || sparse.Size.Any(s => s != r))
                        throw new NerfFormatException(path, $"'_binary' has size [{string.Join(", ", sparse.Size)}], expected [{r}, {r}, {r}]");
                    if (sparse.Indices.dim() != 2 || sparse.Indices.shape[0] != 3 || sparse.Indices.dtype != ScalarType.Int64)
                        throw new NerfFormatException(path, "'_binary' indices must be int64 [3, nnz]");
                    long nnz = sparse.Indices.shape[1];
                    if (sparse.Values.numel() != nnz) throw new NerfFormatException(path, "'_binary' has a different number of values and indices");
                    var idx = sparse.Indices.contiguous().data<long>().ToArray();
                    var vals = sparse.Values.to_type(ScalarType.Bool).contiguous().data<bool>().ToArray();
                    for (long k = 0; k < nnz; k++)
                    {
                        long i = idx[k], j = idx[nnz + k], l = idx[2 * nnz + k];
                        if ((ulong)i >= (ulong)r || (ulong)j >= (ulong)r || (ulong)l >= (ulong)r)
                            throw new NerfFormatException(path, $"'_binary' index ({i}, {j}, {l}) lies outside the {r}³ grid");
                        if (vals[k]) occupied[(i * r + j) * r + l] = true;
                    }
                    break;
                }
                case Tensor dense when dense.numel() == occupied.LongLength:
                    dense.to_type(ScalarType.Bool).contiguous().data<bool>().CopyTo(occupied);
                    break;
                default:
                    throw new NerfFormatException(path, $"'_binary' must be a sparse COO or dense bool tensor of {r}³ cells");
            }
            return new OccupancyGrid(roi, r, occupied);
        }
        finally
        {
            foreach (var v in entries.Values)
            {
                if (v is Tensor t) t.Dispose();
                else if (v is SparseCooTensor s) { s.Indices.Dispose(); s.Values.Dispose(); }
            }
        }
    }
}
