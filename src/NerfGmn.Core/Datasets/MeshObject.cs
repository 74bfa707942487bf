using System.Globalization;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Datasets;

/// <summary>
/// A triangle mesh from a Wavefront OBJ file as an object source. OBJ is y-up, the scene z-up: (x, y, z) → (x, −z, y).
/// The mesh is centred on its bounding box and scaled so its bounding sphere (about that centre) has radius 0.6.
/// Signed distance: unsigned distance to the nearest triangle, negative where the generalised winding number
/// exceeds ½ (robust for meshes that are not perfectly closed). Each <c>o</c>/<c>g</c> group gets a palette colour.
/// Cost is O(points × triangles): meant for meshes of a few thousand triangles.
/// </summary>
public sealed class MeshObject : SceneObject
{
    readonly Tensor _a, _b, _c;      // [T, 3] triangle corners (scene frame)
    readonly Tensor _group;          // [T] palette index
    readonly double[] _min, _max;

    public int TriangleCount { get; }

    MeshObject(string className, float[] a, float[] b, float[] c, long[] group, IReadOnlyList<double[]> palette) : base(className, palette)
    {
        TriangleCount = a.Length / 3;
        _a = tensor(a, [TriangleCount, 3]).DetachFromDisposeScope();
        _b = tensor(b, [TriangleCount, 3]).DetachFromDisposeScope();
        _c = tensor(c, [TriangleCount, 3]).DetachFromDisposeScope();
        _group = tensor(group).DetachFromDisposeScope();
        var all = a.Concat(b).Concat(c).ToArray();
        _min = Enumerable.Range(0, 3).Select(i => (double)Enumerable.Range(0, all.Length / 3).Min(k => all[3 * k + i])).ToArray();
        _max = Enumerable.Range(0, 3).Select(i => (double)Enumerable.Range(0, all.Length / 3).Max(k => all[3 * k + i])).ToArray();
    }

    public static MeshObject Load(string path, string className, IReadOnlyList<double[]> palette, double radius = 0.6)
    {
        if (!File.Exists(path)) throw new NerfFormatException(path, "mesh file not found");
        var vertices = new List<double[]>();
        var faces = new List<(int[] Corners, int Group)>();
        int group = 0, lineNo = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            switch (parts[0])
            {
                case "v" when parts.Length >= 4:
                    var v = parts.Skip(1).Take(3).Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
                    vertices.Add([v[0], -v[2], v[1]]);   // y-up → z-up
                    break;
                case "o" or "g":
                    if (faces.Count > 0) group++;
                    break;
                case "f" when parts.Length >= 4:
                    var idx = parts.Skip(1).Select(x =>
                    {
                        int i = int.Parse(x.Split('/')[0], CultureInfo.InvariantCulture);
                        return i < 0 ? vertices.Count + i : i - 1;
                    }).ToArray();
                    if (idx.Any(i => i < 0 || i >= vertices.Count))
                        throw new NerfFormatException(path, $"line {lineNo}: face refers to a vertex that does not exist");
                    faces.Add((idx, group));
                    break;
            }
        }
        if (faces.Count == 0) throw new NerfFormatException(path, "no faces");
        var min = Enumerable.Range(0, 3).Select(i => vertices.Min(v => v[i])).ToArray();
        var max = Enumerable.Range(0, 3).Select(i => vertices.Max(v => v[i])).ToArray();
        var centre = min.Select((m, i) => (m + max[i]) / 2).ToArray();
        double r = vertices.Max(v => Math.Sqrt(Enumerable.Range(0, 3).Sum(i => Math.Pow(v[i] - centre[i], 2))));
        if (r <= 0) throw new NerfFormatException(path, "degenerate mesh (all vertices coincide)");
        float[] V(int i) => Enumerable.Range(0, 3).Select(k => (float)((vertices[i][k] - centre[k]) / r * radius)).ToArray();
        var a = new List<float>(); var b = new List<float>(); var c = new List<float>(); var g = new List<long>();
        foreach (var (corners, grp) in faces)
            for (int k = 1; k + 1 < corners.Length; k++)   // fan triangulation of polygons
            {
                a.AddRange(V(corners[0])); b.AddRange(V(corners[k])); c.AddRange(V(corners[k + 1]));
                g.Add(grp % palette.Count);
            }
        return new MeshObject(className, a.ToArray(), b.ToArray(), c.ToArray(), g.ToArray(), palette);
    }

    public override (double[] Min, double[] Max) Bounds() => (_min, _max);

    public override (Tensor Sdf, Tensor Color) Distance(Tensor points)
    {
        var p = points.to_type(ScalarType.Float32);
        var dists = new List<Tensor>(); var colors = new List<Tensor>();
        const int chunk = 2048;
        for (long s = 0; s < p.shape[0]; s += chunk)
        {
            using var scope = NewDisposeScope();
            var q = p.narrow(0, s, Math.Min(chunk, p.shape[0] - s)).unsqueeze(1);      // [P, 1, 3]
            var (d2, nearest) = SquaredDistance(q).min(1);
            var winding = WindingNumber(q);
            var sign = where(winding.gt(S(0.5f)), T(-1f), T(1f));
            dists.Add((d2.sqrt() * sign).MoveToOuterDisposeScope());
            colors.Add(_group.index_select(0, nearest).MoveToOuterDisposeScope());
        }
        return (cat(dists, 0), cat(colors, 0));
    }

    /// <summary>Squared distance from points [P, 1, 3] to every triangle [T]: [P, T] (closest point by regions).</summary>
    Tensor SquaredDistance(Tensor q)
    {
        var ab = _b.Minus(_a); var ac = _c.Minus(_a); var ap = q.Minus(_a);                           // [T,3], [P,T,3]
        var n = Cross(ab, ac);
        var nn2 = (n * n).sum(-1).clamp_min(S(1e-20));
        // Barycentric coordinates of the projection onto the plane.
        var d00 = (ab * ab).sum(-1); var d01 = (ab * ac).sum(-1); var d11 = (ac * ac).sum(-1);
        var d20 = (ap * ab).sum(-1); var d21 = (ap * ac).sum(-1);
        var denom = ((d00 * d11).Minus(d01 * d01)).clamp_min(S(1e-20));
        var v = ((d11 * d20).Minus(d01 * d21)) / denom; var w = ((d00 * d21).Minus(d01 * d20)) / denom;
        var inside = v.ge(S(0)).logical_and(w.ge(S(0))).logical_and((v.Plus(w)).le(S(1)));
        var plane = (ap * n).sum(-1).Squared() / nn2;
        var edges = minimum(minimum(SegmentSquared(q, _a, _b), SegmentSquared(q, _b, _c)), SegmentSquared(q, _c, _a));
        return where(inside, plane, edges);
    }

    static Tensor Cross(Tensor u, Tensor v)
    {
        var (ux, uy, uz) = (u[TensorIndex.Ellipsis, 0], u[TensorIndex.Ellipsis, 1], u[TensorIndex.Ellipsis, 2]);
        var (vx, vy, vz) = (v[TensorIndex.Ellipsis, 0], v[TensorIndex.Ellipsis, 1], v[TensorIndex.Ellipsis, 2]);
        return stack([(uy * vz).Minus(uz * vy), (uz * vx).Minus(ux * vz), (ux * vy).Minus(uy * vx)], -1);
    }

    static Tensor SegmentSquared(Tensor q, Tensor s0, Tensor s1)
    {
        var d = s1.Minus(s0);
        var t = (((q.Minus(s0)) * d).sum(-1) / (d * d).sum(-1).clamp_min(S(1e-20))).clamp(S(0), S(1));
        var closest = s0.Plus(t.unsqueeze(-1) * d);
        return (q.Minus(closest)).Squared().sum(-1);
    }

    /// <summary>Generalised winding number (Σ solid angles / 4π, Van Oosterom–Strackee) of points [P, 1, 3]: [P].</summary>
    Tensor WindingNumber(Tensor q)
    {
        var a = _a.Minus(q); var b = _b.Minus(q); var c = _c.Minus(q);                                 // [P, T, 3]
        var la = a.norm(-1); var lb = b.norm(-1); var lc = c.norm(-1);
        var det = (a * Cross(b, c)).sum(-1);
        var denom = (la * lb * lc).Plus((a * b).sum(-1) * lc).Plus((b * c).sum(-1) * la).Plus((c * a).sum(-1) * lb);
        return (S(2) * atan2(det, denom)).sum(1) / (S(4 * Math.PI));
    }
}
