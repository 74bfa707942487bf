namespace NerfGmn.Datasets;

/// <summary>
/// The <c>shapes13</c> recipe: procedural objects of the 13 ShapeNet classes used by the paper (same names and label
/// order), each a parametric composition of SDF parts with random proportions and part counts. Colours come from
/// one class-independent distribution, so colour alone does not give the class away. Objects are z-up, centred and
/// scaled to a bounding sphere of radius 0.6 (inside the ±0.7 scene box with a margin).
/// </summary>
public static class Shapes13
{
    /// <summary>Class names in label order (nf2vec's LABELS_TO_IDS).</summary>
    public static readonly string[] Classes =
        ["airplane", "bench", "cabinet", "car", "chair", "display", "lamp", "speaker", "rifle", "sofa", "table", "phone", "watercraft"];

    public static int Label(string className) => Array.IndexOf(Classes, className) is var i and >= 0 ? i
        : throw new ArgumentException($"unknown class '{className}'");

    /// <summary>The object with id <paramref name="objectIndex"/> of a class, deterministic for (seed, class, index).</summary>
    public static ProceduralObject Create(string className, int objectIndex, int seed)
    {
        var rng = new Random(StableHash.Seed(seed, className, objectIndex));
        var palette = Palette(rng);
        var parts = className switch
        {
            "airplane" => Airplane(rng),
            "bench" => Bench(rng),
            "cabinet" => Cabinet(rng),
            "car" => Car(rng),
            "chair" => Chair(rng),
            "display" => Display(rng),
            "lamp" => Lamp(rng),
            "speaker" => Speaker(rng),
            "rifle" => Rifle(rng),
            "sofa" => Sofa(rng),
            "table" => Table(rng),
            "phone" => Phone(rng),
            "watercraft" => Watercraft(rng),
            _ => throw new ArgumentException($"unknown class '{className}'"),
        };
        // A random turn about z so the class is not recognisable from its orientation alone.
        return new ProceduralObject(className, RotateZ(parts, rng.Next(4) * Math.PI / 2 + U(rng, -0.4, 0.4)), palette).Fitted();
    }

    // ---- colours ----

    /// <summary>Three colours from one class-independent distribution (random hue, saturation 0.15–0.85, value 0.35–0.95).</summary>
    public static double[][] Palette(Random rng) => Enumerable.Range(0, 3).Select(_ =>
        Hsv(rng.NextDouble(), U(rng, 0.15, 0.85), U(rng, 0.35, 0.95))).ToArray();

    static double[] Hsv(double h, double s, double v)
    {
        double c = v * s, x = c * (1 - Math.Abs(h * 6 % 2 - 1)), m = v - c;
        var (r, g, b) = (int)(h * 6) switch
        {
            0 => (c, x, 0.0), 1 => (x, c, 0.0), 2 => (0.0, c, x), 3 => (0.0, x, c), 4 => (x, 0.0, c), _ => (c, 0.0, x),
        };
        return [r + m, g + m, b + m];
    }

    // ---- helpers ----

    static double U(Random r, double a, double b) => a + (b - a) * r.NextDouble();
    static SdfPart Box(double x, double y, double z, double hx, double hy, double hz, int color, double round = 0.01) =>
        new(SdfShape.Box, [x, y, z], [hx, hy, hz], color, Math.Min(round, Math.Min(hx, Math.Min(hy, hz)) * 0.9));
    static SdfPart Cyl(SdfShape axis, double x, double y, double z, double hx, double hy, double hz, int color) =>
        new(axis, [x, y, z], [hx, hy, hz], color);

    static IReadOnlyList<SdfPart> RotateZ(IReadOnlyList<SdfPart> parts, double angle)
    {
        // Rotating boxes would need oriented primitives; quarter turns swap axes exactly, the residual small angle
        // only moves centres (parts stay axis-aligned, a mild and consistent approximation).
        int quarter = (int)Math.Round(angle / (Math.PI / 2));
        double residual = angle - quarter * Math.PI / 2;
        var result = new List<SdfPart>();
        foreach (var p in parts)
        {
            var c = p.Center; var h = p.Half; var shape = p.Shape;
            for (int q = 0; q < ((quarter % 4) + 4) % 4; q++)
            {
                c = [-c[1], c[0], c[2]];
                if (shape != SdfShape.Torus && shape != SdfShape.ConeZ) h = [h[1], h[0], h[2]];
                shape = shape switch { SdfShape.CylinderX => SdfShape.CylinderY, SdfShape.CylinderY => SdfShape.CylinderX, _ => shape };
            }
            double cos = Math.Cos(residual * 0.25), sin = Math.Sin(residual * 0.25);
            c = [c[0] * cos - c[1] * sin, c[0] * sin + c[1] * cos, c[2]];
            if (shape == SdfShape.CapsuleX && ((quarter % 2) + 2) % 2 == 1)
                result.Add(p with { Shape = SdfShape.CylinderY, Center = c, Half = h });   // capsules run along x only
            else
                result.Add(p with { Shape = shape, Center = c, Half = h });
        }
        return result;
    }

    // ---- classes (sizes in metres-like units; normalised afterwards) ----

    static List<SdfPart> Airplane(Random r)
    {
        double len = U(r, 0.9, 1.3), rad = U(r, 0.06, 0.1), span = U(r, 0.8, 1.4), chord = U(r, 0.12, 0.25);
        double wingX = U(r, -0.1, 0.15), wingZ = U(r, -0.5, 0.3) * rad;
        var p = new List<SdfPart>
        {
            new(SdfShape.CapsuleX, [0, 0, 0], [len / 2, rad, rad * U(r, 0.9, 1.2)], 0),
            Box(wingX, 0, wingZ, chord / 2, span / 2, 0.02, 1),
            Box(-len / 2 + chord * 0.4, 0, rad + U(r, 0.08, 0.16), chord * 0.35, 0.02, U(r, 0.08, 0.16), 1),
            Box(-len / 2 + chord * 0.35, 0, rad * 0.3, chord * 0.3, span * U(r, 0.18, 0.3), 0.018, 1),
        };
        int engines = r.Next(3) * 2;   // 0, 2 or 4
        for (int k = 0; k < engines; k++)
        {
            double y = (k / 2 + 1) * span / (engines + 2) * (k % 2 == 0 ? 1 : -1);
            p.Add(Cyl(SdfShape.CylinderX, wingX + 0.02, y, wingZ - 0.05, chord * 0.5, 0.035, 0.035, 2));
        }
        return p;
    }

    static List<SdfPart> Bench(Random r)
    {
        double w = U(r, 0.9, 1.5), d = U(r, 0.25, 0.4), h = U(r, 0.3, 0.45), t = U(r, 0.025, 0.05);
        var p = new List<SdfPart> { Box(0, 0, h, w / 2, d / 2, t, 0) };
        if (r.Next(2) == 0)
        {
            foreach (var sx in new[] { -1, 1 }) foreach (var sy in new[] { -1, 1 })
                p.Add(Box(sx * (w / 2 - 0.05), sy * (d / 2 - 0.04), h / 2, 0.025, 0.025, h / 2, 1));
        }
        else
            foreach (var sx in new[] { -1, 1 }) p.Add(Box(sx * (w / 2 - 0.06), 0, h / 2, 0.03, d / 2 - 0.02, h / 2, 1));
        if (r.Next(3) > 0)
        {
            double bh = U(r, 0.2, 0.4);
            p.Add(Box(0, -d / 2 + 0.02, h + bh / 2 + t, w / 2, 0.02, bh / 2, 0));
            int slats = r.Next(2, 5);
            for (int k = 0; k < slats; k++) p.Add(Box(-w / 2 + (k + 0.5) * w / slats, -d / 2 + 0.02, h + t + 0.02, 0.02, 0.025, 0.04, 2));
        }
        return p;
    }

    static List<SdfPart> Cabinet(Random r)
    {
        double w = U(r, 0.5, 1.0), d = U(r, 0.35, 0.6), h = U(r, 0.6, 1.3);
        var p = new List<SdfPart> { Box(0, 0, h / 2, w / 2, d / 2, h / 2, 0, 0.02) };
        int doors = r.Next(1, 4);
        for (int k = 0; k < doors; k++)
        {
            double z = (k + 0.5) * h / doors;
            p.Add(Box(0, -d / 2 - 0.01, z, w / 2 - 0.04, 0.012, h / doors / 2 - 0.03, 1));
            p.Add(Box(w * U(r, 0.1, 0.35), -d / 2 - 0.035, z, 0.05, 0.015, 0.015, 2));
        }
        if (r.Next(2) == 0)
            foreach (var sx in new[] { -1, 1 }) foreach (var sy in new[] { -1, 1 })
                p.Add(Box(sx * (w / 2 - 0.05), sy * (d / 2 - 0.05), -0.04, 0.03, 0.03, 0.04, 2));
        return p;
    }

    static List<SdfPart> Car(Random r)
    {
        double len = U(r, 1.0, 1.4), w = U(r, 0.45, 0.6), h = U(r, 0.18, 0.28), wheel = U(r, 0.1, 0.15);
        double cabinLen = len * U(r, 0.35, 0.6), cabinH = U(r, 0.14, 0.24);
        var p = new List<SdfPart>
        {
            Box(0, 0, wheel + h / 2, len / 2, w / 2, h / 2, 0, 0.05),
            Box(U(r, -0.15, 0.05) * len, 0, wheel + h + cabinH / 2 - 0.02, cabinLen / 2, w / 2 * 0.85, cabinH / 2, 1, 0.05),
        };
        foreach (var sx in new[] { -1, 1 }) foreach (var sy in new[] { -1, 1 })
            p.Add(Cyl(SdfShape.CylinderY, sx * len * 0.32, sy * (w / 2 - 0.03), wheel, wheel, 0.05, wheel, 2));
        if (r.Next(3) == 0) p.Add(Box(-len / 2 + 0.05, 0, wheel + h + 0.05, 0.04, w / 2 * 0.8, 0.015, 2));   // spoiler
        return p;
    }

    static List<SdfPart> Chair(Random r)
    {
        double w = U(r, 0.4, 0.6), d = U(r, 0.4, 0.6), h = U(r, 0.4, 0.5), t = U(r, 0.03, 0.07), back = U(r, 0.35, 0.6);
        var p = new List<SdfPart> { Box(0, 0, h, w / 2, d / 2, t / 2, 0) };
        double leg = U(r, 0.02, 0.04);
        if (r.Next(4) > 0)
            foreach (var sx in new[] { -1, 1 }) foreach (var sy in new[] { -1, 1 })
                p.Add(Box(sx * (w / 2 - leg), sy * (d / 2 - leg), h / 2, leg, leg, h / 2, 1));
        else
        {
            p.Add(Cyl(SdfShape.CylinderZ, 0, 0, h / 2, 0.035, 0.035, h / 2, 1));
            p.Add(Cyl(SdfShape.CylinderZ, 0, 0, 0.02, w * 0.45, d * 0.45, 0.02, 1));
        }
        if (r.Next(2) == 0) p.Add(Box(0, -d / 2 + 0.02, h + back / 2, w / 2, 0.02, back / 2, 0));
        else
        {
            int slats = r.Next(2, 5);
            foreach (var sx in new[] { -1, 1 }) p.Add(Box(sx * (w / 2 - 0.02), -d / 2 + 0.02, h + back / 2, 0.02, 0.02, back / 2, 1));
            for (int k = 0; k < slats; k++) p.Add(Box(0, -d / 2 + 0.02, h + back * (k + 1) / (slats + 1), w / 2, 0.018, 0.025, 2));
        }
        if (r.Next(3) == 0)
            foreach (var sx in new[] { -1, 1 }) p.Add(Box(sx * (w / 2 + 0.02), 0, h + 0.18, 0.025, d / 2 * 0.9, 0.02, 2));
        return p;
    }

    static List<SdfPart> Display(Random r)
    {
        double w = U(r, 0.7, 1.2), h = w * U(r, 0.5, 0.75), t = U(r, 0.025, 0.06), neck = U(r, 0.1, 0.3);
        var p = new List<SdfPart>
        {
            Box(0, 0, neck + h / 2, w / 2, t / 2, h / 2, 0),
            Box(0, -t / 2 - 0.004, neck + h / 2, w / 2 - 0.03, 0.006, h / 2 - 0.03, 1),
            Box(0, t, neck / 2 + 0.02, 0.04, 0.025, neck / 2 + 0.02, 2),
        };
        p.Add(r.Next(2) == 0 ? Box(0, t, 0.015, w * U(r, 0.15, 0.3), U(r, 0.1, 0.18), 0.015, 2)
                             : Cyl(SdfShape.CylinderZ, 0, t, 0.015, w * 0.2, 0.14, 0.015, 2));
        return p;
    }

    static List<SdfPart> Lamp(Random r)
    {
        double h = U(r, 0.8, 1.5), baseR = U(r, 0.12, 0.22), shadeR = U(r, 0.15, 0.3), shadeH = U(r, 0.15, 0.3);
        var p = new List<SdfPart>
        {
            Cyl(SdfShape.CylinderZ, 0, 0, 0.03, baseR, baseR, 0.03, 0),
            Cyl(SdfShape.CylinderZ, 0, 0, h / 2, 0.022, 0.022, h / 2, 1),
        };
        if (r.Next(2) == 0)
            p.Add(new SdfPart(SdfShape.ConeZ, [0, 0, h], [shadeR, shadeR * U(r, 0.4, 0.8), shadeH / 2], 2));
        else
        {
            double arm = U(r, 0.2, 0.4);
            p.Add(Box(arm / 2, 0, h, arm / 2, 0.02, 0.02, 1));
            p.Add(new SdfPart(SdfShape.ConeZ, [arm, 0, h - shadeH / 2], [shadeR * 0.8, shadeR * 0.3, shadeH / 2], 2));
        }
        return p;
    }

    static List<SdfPart> Speaker(Random r)
    {
        double w = U(r, 0.3, 0.55), d = U(r, 0.25, 0.45), h = U(r, 0.5, 1.2);
        var p = new List<SdfPart> { Box(0, 0, h / 2, w / 2, d / 2, h / 2, 0, 0.02) };
        int drivers = r.Next(1, 4);
        for (int k = 0; k < drivers; k++)
        {
            double rad = Math.Min(w * 0.4, h / drivers * 0.4) * U(r, 0.6, 1.0);
            p.Add(Cyl(SdfShape.CylinderY, 0, -d / 2, h * (k + 0.5) / drivers, rad, 0.03, rad, 1));
        }
        if (r.Next(2) == 0) p.Add(Box(0, 0, -0.03, w / 2 * 0.9, d / 2 * 0.9, 0.03, 2));
        return p;
    }

    static List<SdfPart> Rifle(Random r)
    {
        double len = U(r, 1.2, 1.6), body = U(r, 0.3, 0.45);
        var p = new List<SdfPart>
        {
            Cyl(SdfShape.CylinderX, len * 0.25, 0, 0.1, len * 0.3, 0.022, 0.022, 0),
            Box(0, 0, 0.1, body / 2, 0.035, 0.06, 1),
            Box(-body / 2 - len * 0.13, 0, 0.06, len * 0.14, 0.03, U(r, 0.06, 0.1), 2),
            Box(-0.05, 0, 0.0, 0.03, 0.025, 0.07, 1),
        };
        if (r.Next(2) == 0) p.Add(Box(0.06, 0, -0.02, 0.035, 0.025, U(r, 0.06, 0.12), 0));               // magazine
        if (r.Next(2) == 0) p.Add(Cyl(SdfShape.CylinderX, 0.02, 0, 0.2, U(r, 0.1, 0.18), 0.03, 0.03, 2)); // scope
        return p;
    }

    static List<SdfPart> Sofa(Random r)
    {
        double w = U(r, 1.2, 1.9), d = U(r, 0.6, 0.9), seat = U(r, 0.35, 0.45), back = U(r, 0.3, 0.5), arm = U(r, 0.1, 0.2);
        var p = new List<SdfPart>
        {
            Box(0, 0, seat / 2, w / 2, d / 2, seat / 2, 0, 0.05),
            Box(0, -d / 2 + 0.08, seat + back / 2, w / 2, 0.08, back / 2, 0, 0.05),
        };
        if (r.Next(4) > 0)
            foreach (var sx in new[] { -1, 1 }) p.Add(Box(sx * (w / 2 + arm / 2), 0, seat * 0.8, arm / 2, d / 2, seat * 0.8, 1, 0.05));
        int cushions = r.Next(2, 4);
        for (int k = 0; k < cushions; k++)
            p.Add(Box(-w / 2 + (k + 0.5) * w / cushions, 0.04, seat + 0.04, w / cushions / 2 - 0.02, d / 2 - 0.12, 0.04, 2, 0.03));
        return p;
    }

    static List<SdfPart> Table(Random r)
    {
        double w = U(r, 0.8, 1.6), d = U(r, 0.5, 1.0), h = U(r, 0.55, 0.8), t = U(r, 0.03, 0.06);
        var p = new List<SdfPart>();
        bool round = r.Next(3) == 0;
        p.Add(round ? Cyl(SdfShape.CylinderZ, 0, 0, h, w / 2, w / 2, t / 2, 0) : Box(0, 0, h, w / 2, d / 2, t / 2, 0));
        if (round || r.Next(4) == 0)
        {
            p.Add(Cyl(SdfShape.CylinderZ, 0, 0, h / 2, 0.05, 0.05, h / 2, 1));
            p.Add(Cyl(SdfShape.CylinderZ, 0, 0, 0.02, w * 0.25, w * 0.25, 0.02, 1));
        }
        else
        {
            double leg = U(r, 0.025, 0.05);
            foreach (var sx in new[] { -1, 1 }) foreach (var sy in new[] { -1, 1 })
                p.Add(Box(sx * (w / 2 - leg * 2), sy * (d / 2 - leg * 2), h / 2, leg, leg, h / 2, 1));
            if (r.Next(2) == 0) p.Add(Box(0, 0, h * 0.25, w / 2 - leg * 2, d / 2 - leg * 2, 0.015, 2));   // shelf
        }
        return p;
    }

    static List<SdfPart> Phone(Random r)
    {
        double w = U(r, 0.3, 0.45), h = w * U(r, 1.8, 2.2), t = U(r, 0.03, 0.05);
        var p = new List<SdfPart>
        {
            Box(0, 0, h / 2, w / 2, t / 2, h / 2, 0, 0.04),
            Box(0, -t / 2 - 0.004, h / 2, w / 2 - 0.02, 0.006, h / 2 - 0.04, 1),
        };
        if (r.Next(2) == 0) p.Add(Box(w * 0.2, t / 2 + 0.006, h * 0.85, 0.05, 0.01, 0.05, 2));   // camera bump
        if (r.Next(3) == 0) p.Add(Box(0, t, 0.04, w * 0.4, 0.12, 0.04, 2));                     // dock
        return p;
    }

    static List<SdfPart> Watercraft(Random r)
    {
        double len = U(r, 1.1, 1.6), w = U(r, 0.25, 0.4), h = U(r, 0.12, 0.22);
        var p = new List<SdfPart>
        {
            new(SdfShape.Ellipsoid, [0, 0, 0], [len / 2, w / 2, h], 0),
            Box(0, 0, h * 0.2, len * 0.45, w / 2 * 0.95, 0.02, 1),
        };
        if (r.Next(2) == 0)
        {
            double mast = U(r, 0.4, 0.8);
            p.Add(Cyl(SdfShape.CylinderZ, len * 0.05, 0, mast / 2 + h * 0.2, 0.015, 0.015, mast / 2, 2));
            p.Add(Box(-len * 0.08, 0, mast * 0.55, len * 0.12, 0.012, mast * 0.4, 1));
        }
        else
        {
            p.Add(Box(-len * 0.1, 0, h * 0.2 + 0.08, len * U(r, 0.12, 0.25), w / 2 * 0.7, 0.08, 1));
            if (r.Next(2) == 0) p.Add(Cyl(SdfShape.CylinderZ, -len * 0.15, 0, h * 0.2 + 0.22, 0.03, 0.03, 0.06, 2));
        }
        return p;
    }
}
