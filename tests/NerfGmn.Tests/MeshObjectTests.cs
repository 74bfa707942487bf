using NerfGmn.Datasets;
using static TorchSharp.torch;

namespace NerfGmn.Tests;

[TestClass]
public class MeshObjectTests
{
    // A y-up box 1 wide (x), 3 tall (y), 1 deep (z), as two groups: group 0 holds the faces at z = ±0.5 and y = ±1.5
    // (top and bottom), group 1 the faces at x = ±0.5.
    const string TallBox = """
        v -0.5 -1.5 -0.5
        v  0.5 -1.5 -0.5
        v  0.5  1.5 -0.5
        v -0.5  1.5 -0.5
        v -0.5 -1.5  0.5
        v  0.5 -1.5  0.5
        v  0.5  1.5  0.5
        v -0.5  1.5  0.5
        g first
        f 1 4 3 2
        f 5 6 7 8
        f 1 2 6 5
        f 4 8 7 3
        g second
        f 1 5 8 4
        f 2 3 7 6
        """;

    static readonly double[][] Palette = [[1, 0, 0], [0, 0, 1]];

    [TestMethod]
    public void ObjIsTurnedZUpScaledToTheBoundingSphereAndSigned()
    {
        using var dir = TestPaths.NewTempDir();
        File.WriteAllText(dir.File("box.obj"), TallBox);
        var mesh = MeshObject.Load(dir.File("box.obj"), "cabinet", Palette);
        Assert.AreEqual(12, mesh.TriangleCount);
        var (min, max) = mesh.Bounds();
        // Bounding sphere radius of the box = √(0.5² + 1.5² + 0.5²) = 1.6583 → scale 0.6/1.6583.
        double s = 0.6 / Math.Sqrt(0.25 + 2.25 + 0.25);
        Assert.AreEqual(1.5 * s, max[2], 1e-5, "the tall OBJ y axis becomes scene z");
        Assert.AreEqual(0.5 * s, max[0], 1e-5);
        Assert.AreEqual(0.5 * s, max[1], 1e-5);

        using var p = tensor(new float[] { 0, 0, 0, 0, 0, 0.7f, (float)(0.5 * s) + 0.1f, 0, 0 }, [3, 3]);
        var (sdf, color) = mesh.Distance(p);
        var d = sdf.data<float>().ToArray();
        Assert.AreEqual(-0.5 * s, d[0], 1e-4, "inside: minus the distance to the nearest side");
        Assert.AreEqual(0.7 - 1.5 * s, d[1], 1e-4, "above the top cap");
        Assert.AreEqual(0.1, d[2], 1e-4, "beside a side");
        var c = color.data<long>().ToArray();
        Assert.AreEqual(0L, c[1], "nearest to the top face (group 0)");
        Assert.AreEqual(1L, c[2], "nearest to the +x face (group 1)");
    }

    [TestMethod]
    public void BadObjFilesAreNamed()
    {
        using var dir = TestPaths.NewTempDir();
        File.WriteAllText(dir.File("bad.obj"), "v 0 0 0\nf 1 2 3\n");
        StringAssert.Contains(Assert.ThrowsExactly<NerfFormatException>(() => MeshObject.Load(dir.File("bad.obj"), "x", Palette)).Message,
            "line 2: face refers to a vertex that does not exist");
        File.WriteAllText(dir.File("empty.obj"), "# nothing\n");
        StringAssert.Contains(Assert.ThrowsExactly<NerfFormatException>(() => MeshObject.Load(dir.File("empty.obj"), "x", Palette)).Message, "no faces");
    }
}

[TestClass]
public class MeshDatasetTests
{
    [TestMethod]
    public void ObjRecipeBuildsNerfsOfMeshes()
    {
        using var meshes = TestPaths.NewTempDir();
        using var root = TestPaths.NewTempDir();
        string box = "v -0.5 -1 -0.5\nv 0.5 -1 -0.5\nv 0.5 1 -0.5\nv -0.5 1 -0.5\nv -0.5 -1 0.5\nv 0.5 -1 0.5\nv 0.5 1 0.5\nv -0.5 1 0.5\n" +
                     "f 1 4 3 2\nf 5 6 7 8\nf 1 2 6 5\nf 4 8 7 3\nf 1 5 8 4\nf 2 3 7 6\n";
        foreach (var (cls, name) in new[] { ("cabinet", "tall"), ("cabinet", "short"), ("speaker", "box") })
        {
            Directory.CreateDirectory(Path.Combine(meshes.Path, cls));
            File.WriteAllText(Path.Combine(meshes.Path, cls, name + ".obj"), box);
        }
        var records = new DatasetBuilder(new DatasetBuildOptions
        {
            Root = root.Path, Recipe = "obj", MeshFolder = meshes.Path, Architectures = ["mlp"], TestOnlyArchitectures = [],
            ImageSize = 16, Views = 2, PsnrViews = 1, MinPsnr = 0, WriteGrids = false,
            Fit = new NerfGmn.Fitting.FieldFitOptions { Steps = 10, PointsPerStep = 128 },
        }).Build();
        CollectionAssert.AreEquivalent(new[] { "cabinet/short", "cabinet/tall", "speaker/box" }, records.Select(r => $"{r.Class}/{r.Object}").ToArray());
        Assert.IsTrue(File.Exists(Path.Combine(root.Path, "mlp", "cabinet", "tall", "nerf_weights.safetensors")));
    }

    [TestMethod]
    public void ObjRecipeWithoutAFolderSaysSo()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => new DatasetBuildOptions { Root = "x", Recipe = "obj" }.Validate());
        StringAssert.Contains(e.Message, "needs --meshes");
    }
}
