using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Datasets;

/// <summary>Kinds of signed-distance primitives the procedural objects are built from.</summary>
public enum SdfShape { Box, Ellipsoid, CylinderX, CylinderY, CylinderZ, CapsuleX, Torus, ConeZ }

/// <summary>
/// One part of a procedural object: a primitive with centre, half-extents (size per axis), rounding radius and a
/// colour index into the object's palette. Distances are exact for boxes, cylinders and capsules and a bound for
/// ellipsoids and cones (enough for a soft density and normals).
/// </summary>
public sealed record SdfPart(SdfShape Shape, double[] Center, double[] Half, int Color, double Rounding = 0)
{
    /// <summary>Axis-aligned bounds (min xyz, max xyz).</summary>
    public (double[] Min, double[] Max) Bounds()
    {
        var h = Shape == SdfShape.Torus ? new[] { Half[0] + Half[1], Half[0] + Half[1], Half[1] } : Half;
        return (Center.Select((c, i) => c - h[i]).ToArray(), Center.Select((c, i) => c + h[i]).ToArray());
    }

    public SdfPart Transformed(double[] offset, double scale) => this with
    {
        Center = Center.Select((c, i) => (c + offset[i]) * scale).ToArray(),
        Half = Half.Select(h => h * scale).ToArray(),
        Rounding = Rounding * scale,
    };

    /// <summary>Signed distance of points [P, 3] (in their dtype).</summary>
    public Tensor Distance(Tensor p)
    {
        var q = p.Minus(tensor(Center, dtype: p.dtype));
        var h = tensor(Half, dtype: p.dtype);
        switch (Shape)
        {
            case SdfShape.Box:
            {
                var r = Rounding;
                var d = q.abs() - (h.Minus(S(r)));
                var outside = d.clamp_min(S(0)).norm(1);
                var inside = d.amax(1).clamp_max(S(0));
                return outside.Plus(inside) - S(r);
            }
            case SdfShape.Ellipsoid:
            {
                // Bound by the scaled-sphere distance (Quilez): k0 (k0 − 1) / k1.
                var k0 = (q / h).norm(1);
                var k1 = (q / (h * h)).norm(1).clamp_min(S(1e-9));
                return k0 * (k0.Minus(S(1))) / k1;
            }
            case SdfShape.CylinderX or SdfShape.CylinderY or SdfShape.CylinderZ:
            {
                int axis = Shape == SdfShape.CylinderX ? 0 : Shape == SdfShape.CylinderY ? 1 : 2;
                int[] others = Enumerable.Range(0, 3).Where(a => a != axis).ToArray();
                // Elliptic cross-section approximated by scaling to the unit circle.
                var radial = stack([q[.., others[0]] / S(Half[others[0]]), q[.., others[1]] / S(Half[others[1]])], 1).norm(1);
                double rMin = Math.Min(Half[others[0]], Half[others[1]]);
                var dRadial = (radial.Minus(S(1))) * S(rMin);
                var dAxis = q[.., axis].abs() - S(Half[axis]);
                var d = stack([dRadial, dAxis], 1);
                return d.clamp_min(S(0)).norm(1).Plus(d.amax(1).clamp_max(S(0)));
            }
            case SdfShape.CapsuleX:
            {
                double r = Math.Min(Half[1], Half[2]);
                double half = Math.Max(0, Half[0] - r);
                var x = q[.., 0].clamp(S(-half), S(half));
                var rel = q.Minus(stack([x, zeros_like(x), zeros_like(x)], 1));
                var scaled = stack([rel[.., 0], rel[.., 1] * (S(r / Half[1])), rel[.., 2] * (S(r / Half[2]))], 1);
                return scaled.norm(1) - S(r);
            }
            case SdfShape.Torus:
            {
                // Ring in the xy plane: major radius Half[0], tube radius Half[1].
                var ring = stack([q[.., 0], q[.., 1]], 1).norm(1) - S(Half[0]);
                return stack([ring, q[.., 2]], 1).norm(1) - S(Half[1]);
            }
            case SdfShape.ConeZ:
            {
                // Frustum along z: bottom radius Half[0], top radius Half[1], half height Half[2].
                double r1 = Half[0], r2 = Half[1], hh = Half[2];
                var radial = stack([q[.., 0], q[.., 1]], 1).norm(1);
                var t = ((q[.., 2].Plus(S(hh))) / (S(2 * hh))).clamp(S(0), S(1));
                var rAt = S(r1).Plus((S(r2 - r1)) * t);
                var dRadial = (radial.Minus(rAt)) * (S(2 * hh / Math.Sqrt(4 * hh * hh + (r1 - r2) * (r1 - r2))));
                var dAxis = q[.., 2].abs() - S(hh);
                var d = stack([dRadial, dAxis], 1);
                return d.clamp_min(S(0)).norm(1).Plus(d.amax(1).clamp_max(S(0)));
            }
            default:
                throw new NotSupportedException(Shape.ToString());
        }
    }
}
