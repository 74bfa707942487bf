using NerfGmn.IO;
using TorchSharp;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

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

    /// <summary>nf2vec's grid: 96³ over the scene box stored in fp16 (±0.7 reads back as ±0.7001953125).</summary>
    public static float[] DefaultRoi => [(float)(Half)(-0.7f), (float)(Half)(-0.7f), (float)(Half)(-0.7f), (float)(Half)0.7f, (float)(Half)0.7f, (float)(Half)0.7f];

    /// <summary>
    /// Occupancy of a field: σ·Δ &gt; <paramref name="threshold"/> at the cell centres, dilated by one cell (26-neighbourhood)
    /// so the grid boundary keeps away from non-negligible density.
    /// </summary>
    /// <param name="candidates">Optional: only these cells (flat x-major indices) are evaluated; the others count as empty.</param>
    /// <param name="adaptive">Use min(mean σΔ, threshold) as the cut (nerfacc's rule during training).</param>
    public static OccupancyGrid FromDensity(Func<Tensor, Tensor> density, int resolution = 96, double step = 0.002368038287386298,
        double threshold = 0.01, int dilation = 1, float[]? roi = null, Tensor? candidates = null, bool adaptive = false)
    {
        roi ??= DefaultRoi;
        using var scope = NewDisposeScope();
        var centres = CellPoints(roi, resolution, candidates ?? arange(S((long)resolution * resolution * resolution), dtype: ScalarType.Int64));
        var occupied = new List<Tensor>();
        using (no_grad())
            for (long start = 0; start < centres.shape[0]; start += 65536)
            {
                var chunk = centres.narrow(0, start, Math.Min(65536, centres.shape[0] - start));
                occupied.Add(density(chunk).to_type(ScalarType.Float64).mul(S(step)));
            }
        var values = occupied.Count > 0 ? cat(occupied, 0) : zeros(0, dtype: ScalarType.Float64);
        // nerfacc's rule while training: occupied above min(mean, threshold), so a young field never empties the grid.
        double cut = adaptive && values.numel() > 0 ? Math.Min(values.mean().item<double>(), threshold) : threshold;
        var flatOcc = values.gt(S(cut));
        if (candidates is not null)
            flatOcc = zeros((long)resolution * resolution * resolution, dtype: ScalarType.Bool).index_put_(flatOcc, candidates);
        var occ = flatOcc.reshape(1, 1, resolution, resolution, resolution).to_type(ScalarType.Float32);
        if (dilation > 0)
            occ = nn.functional.max_pool3d(occ, [2 * dilation + 1, 2 * dilation + 1, 2 * dilation + 1], [1, 1, 1], [dilation, dilation, dilation], [1, 1, 1], false);
        var flat = occ.reshape(-1).gt(S(0.5f)).data<bool>().ToArray();
        return new OccupancyGrid(roi, resolution, flat);
    }

    /// <summary>
    /// World positions of one point in each of <paramref name="cells"/> (flat x-major indices): at
    /// <paramref name="offset"/> ([n, 3] in [0, 1)³, e.g. random jitter) inside the cell, or at its centre.
    /// </summary>
    public static Tensor CellPoints(float[] roi, int resolution, Tensor cells, Tensor? offset = null)
    {
        long r = resolution;
        // Integer division: `/` on an int64 tensor divides exactly (448.7, not 448), which moved points up to a cell off theirs.
        var ijk = stack([cells.div(S(r * r), RoundingMode.floor), cells.div(S(r), RoundingMode.floor) % S(r), cells % S(r)], 1).to_type(ScalarType.Float32);
        var lo = tensor(roi[..3], device: cells.device); var hi = tensor(roi[3..], device: cells.device);
        return lo.Plus((offset is null ? ijk.Plus(S(0.5f)) : ijk.Plus(offset)) / S(resolution) * (hi.Minus(lo)));
    }

    /// <inheritdoc cref="CellPoints(float[], int, Tensor, Tensor?)"/>
    public Tensor CellPoints(Tensor cells, Tensor? offset = null) => CellPoints(Roi, Resolution, cells, offset);

    /// <summary>Flat indices of the occupied cells after dilating by <paramref name="cells"/> (a search region for <see cref="FromDensity"/>).</summary>
    public Tensor DilatedIndices(int cells)
    {
        using var scope = NewDisposeScope();
        var occ = tensor(Occupied).reshape(1, 1, Resolution, Resolution, Resolution).to_type(ScalarType.Float32);
        int k = 2 * cells + 1;
        var dilated = nn.functional.max_pool3d(occ, [k, k, k], [1, 1, 1], [cells, cells, cells], [1, 1, 1], false);
        return dilated.reshape(-1).gt(S(0.5f)).nonzero().squeeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Writes a <c>grid.pth</c> in nf2vec's keys (<c>_roi_aabb</c> fp16[6], <c>_binary</c> bool, <c>resolution</c> fp16[3]).
    /// <c>_binary</c> is stored dense (R, R, R): TorchSharp cannot pickle sparse tensors; torch.load and the
    /// reference loaders' <c>.to_dense()</c> accept it.
    /// </summary>
    public void Save(string path)
    {
        using var roi = tensor(Roi).to_type(ScalarType.Float16);
        using var binary = tensor(Occupied).reshape(Resolution, Resolution, Resolution);
        using var res = full(3, S((float)Resolution)).to_type(ScalarType.Float16);
        var dict = new System.Collections.Hashtable { ["_roi_aabb"] = roi, ["_binary"] = binary, ["resolution"] = res };
        // Read back before the file takes its name: a dataset build once wrote one grid of 1,752 with resolution
        // (−inf, 0, 0), in a process that later crashed inside libtorch; a wrong grid must stop the build, not enter the dataset.
        IO.AtomicFile.Write(path, tmp =>
        {
            TorchSharp.PyBridge.PyTorchPickler.PickleStateDict(tmp, dict);
            string? problem;
            try { problem = Load(tmp).DiffersFrom(this); }
            catch (NerfFormatException e) { problem = e.Message; }
            if (problem is not null) throw new IOException($"{path}: the occupancy grid written does not read back as itself ({problem}); not kept");
        });
    }

    /// <summary>What differs between this grid, read from a file, and <paramref name="other"/>, which was written (null: nothing).</summary>
    string? DiffersFrom(OccupancyGrid other) =>
        Resolution != other.Resolution ? $"resolution {Resolution}, expected {other.Resolution}"
        : !Roi.SequenceEqual(other.Roi.Select(v => (float)(Half)v)) ? $"region [{string.Join(", ", Roi)}], expected [{string.Join(", ", other.Roi)}]"   // stored in fp16
        : !Occupied.SequenceEqual(other.Occupied) ? "other occupied cells"
        : null;

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
