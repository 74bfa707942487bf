using static TorchSharp.torch;

namespace NerfGmn.Datasets;

/// <summary>
/// A procedural object: a union of SDF parts with a small palette, scene z-up. Its radiance field is what NeRFs
/// are fitted to: σ = σ_max·sigmoid(−sdf/ε) and a view-independent colour (the nearest part's albedo with fixed,
/// baked Lambert shading from the SDF normal).
/// </summary>
public sealed class ProceduralObject
{
    public string ClassName { get; }
    public IReadOnlyList<SdfPart> Parts { get; }
    /// <summary>RGB albedo per palette index, in [0, 1].</summary>
    public IReadOnlyList<double[]> Palette { get; }
    public double MaxDensity { get; init; } = 60;
    public double Softness { get; init; } = 0.008;
    static readonly double[] Light = Normalize([0.4, 0.3, 0.85]);

    public ProceduralObject(string className, IReadOnlyList<SdfPart> parts, IReadOnlyList<double[]> palette)
    {
        if (parts.Count == 0) throw new ArgumentException("an object needs at least one part", nameof(parts));
        ClassName = className; Parts = parts; Palette = palette;
    }

    /// <summary>Centres the object and scales it so its bounding sphere has radius <paramref name="radius"/>.</summary>
    public ProceduralObject Fitted(double radius = 0.6)
    {
        var (min, max) = Bounds();
        var centre = min.Select((m, i) => -(m + max[i]) / 2).ToArray();
        double halfDiagonal = Math.Sqrt(min.Select((m, i) => Math.Pow((max[i] - m) / 2, 2)).Sum());
        double scale = radius / halfDiagonal;
        return new ProceduralObject(ClassName, Parts.Select(p => p.Transformed(centre, scale)).ToArray(), Palette)
        {
            MaxDensity = MaxDensity, Softness = Softness,
        };
    }

    public (double[] Min, double[] Max) Bounds()
    {
        var b = Parts.Select(p => p.Bounds()).ToArray();
        return (Enumerable.Range(0, 3).Select(i => b.Min(x => x.Min[i])).ToArray(),
                Enumerable.Range(0, 3).Select(i => b.Max(x => x.Max[i])).ToArray());
    }

    /// <summary>Union distance [P] and the index of the nearest part [P] for points [P, 3].</summary>
    public (Tensor Sdf, Tensor Part) Distance(Tensor points)
    {
        var d = stack(Parts.Select(p => p.Distance(points)).ToArray(), 1);   // [P, parts]
        var (values, indices) = d.min(1);
        return (values, indices);
    }

    /// <summary>Density σ = σ_max·sigmoid(−sdf/ε) at world points [P, 3] (float32 out).</summary>
    public Tensor Density(Tensor points)
    {
        using var scope = NewDisposeScope();
        var (sdf, _) = Distance(points.to_type(ScalarType.Float32));
        return (MaxDensity * (-sdf / Softness).sigmoid()).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>Ground-truth field at world points [P, 3] (any float dtype): rgb [P, 3] and σ [P], float32.</summary>
    public (Tensor Rgb, Tensor Sigma) Field(Tensor points)
    {
        using var scope = NewDisposeScope();
        var p = points.to_type(ScalarType.Float32);
        var (sdf, part) = Distance(p);
        var sigma = MaxDensity * (-sdf / Softness).sigmoid();

        // Normal from central differences of the union SDF.
        const double h = 1e-3;
        var grads = new List<Tensor>(3);
        for (int a = 0; a < 3; a++)
        {
            var e = zeros(3, dtype: ScalarType.Float32); e[a] = (float)h;
            grads.Add(Distance(p + e).Sdf - Distance(p - e).Sdf);
        }
        var n = stack(grads, 1);
        n = n / n.norm(1, keepdim: true).clamp_min(1e-12);
        var lambert = (n * tensor(Light, dtype: ScalarType.Float32)).sum(1).clamp_min(0);
        var shade = (0.6 + 0.4 * lambert).unsqueeze(1);

        var colours = tensor(Parts.Select(pt => Palette[pt.Color]).SelectMany(c => c).ToArray(), dtype: ScalarType.Float32).reshape(Parts.Count, 3);
        var albedo = colours.index_select(0, part);
        var rgb = (albedo * shade).clamp(0, 1);
        return (rgb.to_type(ScalarType.Float32).MoveToOuterDisposeScope(), sigma.to_type(ScalarType.Float32).MoveToOuterDisposeScope());
    }

    static double[] Normalize(double[] v)
    {
        double n = Math.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / n).ToArray();
    }
}
