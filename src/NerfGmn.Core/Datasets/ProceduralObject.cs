using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Datasets;

/// <summary>
/// An object NeRFs are fitted to, given by a signed distance and a palette: σ = σ_max·sigmoid(−sdf/ε) and a
/// view-independent colour (the albedo of the nearest part or group, with fixed, baked Lambert shading from the SDF
/// normal). Scene z-up, inside the ±0.7 box.
/// </summary>
public abstract class SceneObject
{
    public string ClassName { get; }
    /// <summary>RGB albedo per palette index, in [0, 1].</summary>
    public IReadOnlyList<double[]> Palette { get; }
    public double MaxDensity { get; init; } = 60;
    public double Softness { get; init; } = 0.008;
    static readonly double[] Light = Normalize([0.4, 0.3, 0.85]);

    protected SceneObject(string className, IReadOnlyList<double[]> palette)
    {
        ClassName = className; Palette = palette;
    }

    /// <summary>Signed distance [P] and the palette index of the nearest part [P] for points [P, 3].</summary>
    public abstract (Tensor Sdf, Tensor Color) Distance(Tensor points);

    public abstract (double[] Min, double[] Max) Bounds();

    /// <summary>Density σ = σ_max·sigmoid(−sdf/ε) at world points [P, 3] (float32 out).</summary>
    public Tensor Density(Tensor points)
    {
        using var scope = NewDisposeScope();
        var (sdf, _) = Distance(points.to_type(ScalarType.Float32));
        return (S(MaxDensity) * (-sdf / S(Softness)).sigmoid()).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>Ground-truth field at world points [P, 3]: rgb [P, 3] and σ [P], float32.</summary>
    public (Tensor Rgb, Tensor Sigma) Field(Tensor points)
    {
        using var scope = NewDisposeScope();
        var p = points.to_type(ScalarType.Float32);
        var (sdf, color) = Distance(p);
        var sigma = S(MaxDensity) * (-sdf / S(Softness)).sigmoid();

        // Normal from central differences of the distance.
        const double h = 1e-3;
        var grads = new List<Tensor>(3);
        for (int a = 0; a < 3; a++)
        {
            var e = zeros(3, dtype: ScalarType.Float32); e[a] = T((float)h);
            grads.Add(Distance(p.Plus(e)).Sdf - Distance(p.Minus(e)).Sdf);
        }
        var n = stack(grads, 1);
        n = n / n.norm(1, keepdim: true).clamp_min(S(1e-12));
        var lambert = (n * tensor(Light, dtype: ScalarType.Float32)).sum(1).clamp_min(S(0));
        var shade = (S(0.6).Plus(S(0.4) * lambert)).unsqueeze(1);
        var colours = tensor(Palette.SelectMany(c => c).ToArray(), dtype: ScalarType.Float32).reshape(Palette.Count, 3);
        var rgb = (colours.index_select(0, color) * shade).clamp(S(0), S(1));
        return (rgb.to_type(ScalarType.Float32).MoveToOuterDisposeScope(), sigma.to_type(ScalarType.Float32).MoveToOuterDisposeScope());
    }

    static double[] Normalize(double[] v)
    {
        double n = Math.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / n).ToArray();
    }
}

/// <summary>A procedural object: a union of SDF parts (shapes13), each with a palette colour.</summary>
public sealed class ProceduralObject : SceneObject
{
    public IReadOnlyList<SdfPart> Parts { get; }

    public ProceduralObject(string className, IReadOnlyList<SdfPart> parts, IReadOnlyList<double[]> palette) : base(className, palette)
    {
        if (parts.Count == 0) throw new ArgumentException("an object needs at least one part", nameof(parts));
        Parts = parts;
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

    public override (double[] Min, double[] Max) Bounds()
    {
        var b = Parts.Select(p => p.Bounds()).ToArray();
        return (Enumerable.Range(0, 3).Select(i => b.Min(x => x.Min[i])).ToArray(),
                Enumerable.Range(0, 3).Select(i => b.Max(x => x.Max[i])).ToArray());
    }

    public override (Tensor Sdf, Tensor Color) Distance(Tensor points)
    {
        var d = stack(Parts.Select(p => p.Distance(points)).ToArray(), 1);   // [P, parts]
        var (values, indices) = d.min(1);
        var colorOfPart = tensor(Parts.Select(p => (long)p.Color).ToArray());
        return (values, colorOfPart.index_select(0, indices));
    }
}
