using NerfGmn.Architectures;
using NerfGmn.Datasets;
using NerfGmn.Fitting;
using NerfGmn.Rendering;

namespace NerfGmn.Tests;

[TestClass]
public class ImageFitTests
{
    [TestMethod]
    // 120 steps on 24-px views: enough to separate learning from not learning (an empty render scores ~10–12 dB);
    // the MLP family converges slowest.
    [DataRow("mlp_32h", 12.5), DataRow("triplane_16w", 14.0), DataRow("hash", 14.0)]
    public void FittingFromImagesLearnsTheObject(string arch, double minPsnr)
    {
        using var dir = TestPaths.NewTempDir();
        var obj = Shapes13.Create("table", 1, 0);
        var cams = CameraRigs.Shapenet(new Random(3), 10);
        Directory.CreateDirectory(dir.File("train"));
        for (int v = 0; v < 10; v++) SdfImageRenderer.Render(obj, cams, v, 24).Save(dir.File($"train/{v:00}.png"));
        cams.Save(dir.File("transforms_train.json"));

        var data = ImageFitter.Load(dir.Path);
        Assert.AreEqual(10, data.Views.Count);
        var losses = new List<double>();
        var result = ImageFitter.Fit(ArchitecturePresets.Get(arch), data,
            new ImageFitOptions { Steps = 120, RaysPerStep = 256, GridWarmup = 40, GridEvery = 40, TrainingGridResolution = 32, HeldOutViews = 2 },
            (_, loss) => losses.Add(loss));
        Assert.IsTrue(losses[^1] < 0.6 * losses[0], $"loss {losses[0]:F4} → {losses[^1]:F4}");
        Assert.IsTrue(result.HeldOutPsnr > minPsnr, $"held-out PSNR {result.HeldOutPsnr:F2}");
        Assert.AreEqual(2, result.HeldOutViews.Count);
    }

    [TestMethod]
    public void MissingImagesAreReported()
    {
        using var dir = TestPaths.NewTempDir();
        CameraRigs.Shapenet(new Random(1), 3).Save(dir.File("transforms_train.json"));
        var e = Assert.ThrowsExactly<NerfFormatException>(() => ImageFitter.Load(dir.Path));
        StringAssert.Contains(e.Message, "no frame has its image");
    }
}
