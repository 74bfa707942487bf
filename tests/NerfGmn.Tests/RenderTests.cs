using NerfGmn.Fields;
using NerfGmn.IO;
using NerfGmn.Rendering;
using static TorchSharp.torch;

namespace NerfGmn.Tests;

[TestClass]
public class RenderTests
{
    static string Scene(string f) => TestPaths.Fixture(Path.Combine("nerf_scene", f));

    [TestMethod]
    public void RenderCheckPixelsMatchTheReference()
    {
        var weights = NerfWeightsFile.Read(Scene("nerf_weights.pth"));
        var grid = OccupancyGrid.Load(Scene("grid.pth"));
        var cams = CameraSet.Load(Scene("transforms_train.json"));
        var check = SafeTensorsFile.Read(Scene("render_check.safetensors")).Tensors;
        var views = check["views"].ToLongs();
        var pixels = check["pixels_xy"].ToLongs();
        var wantRgb = check["rgb"].ToFloats();
        var wantA = check["opacity"].ToFloats();
        using var field = new RadianceField(weights);
        using var _ = no_grad();
        for (int v = 0; v < views.Length; v++)
        {
            using var px = tensor(pixels[(v * 4096 * 2)..((v + 1) * 4096 * 2)], [4096, 2]);
            var (o, d) = cams.Rays((int)views[v], 224, 224, px);
            using var r = VolumeRenderer.Render(p => field.forward(p), o, d, grid);
            var rgb = r.Rgb.to_type(ScalarType.Float32).data<float>().ToArray();
            var a = r.Opacity.to_type(ScalarType.Float32).data<float>().ToArray();
            double maxRgb = 0, maxA = 0;
            for (int i = 0; i < 4096 * 3; i++) maxRgb = Math.Max(maxRgb, Math.Abs(rgb[i] - wantRgb[v * 4096 * 3 + i]));
            for (int i = 0; i < 4096; i++) maxA = Math.Max(maxA, Math.Abs(a[i] - wantA[v * 4096 + i]));
            Assert.IsTrue(maxRgb <= 1e-4, $"view {views[v]}: rgb max abs diff {maxRgb}");
            Assert.IsTrue(maxA <= 1e-4, $"view {views[v]}: opacity max abs diff {maxA}");
        }
    }

    [TestMethod]
    [DataRow(0), DataRow(18)]
    public void FullViewsReproduceTheReferencePngsAbove45dB(int view)
    {
        var weights = NerfWeightsFile.Read(Scene("nerf_weights.pth"));
        var grid = OccupancyGrid.Load(Scene("grid.pth"));
        var cams = CameraSet.Load(Scene("transforms_train.json"));
        using var field = new RadianceField(weights);
        using var _ = no_grad();
        var (o, d) = cams.Rays(view, 224, 224);
        using var r = VolumeRenderer.Render(p => field.forward(p), o, d, grid);
        var rgb = r.Rgb.to_type(ScalarType.Float32).data<float>().ToArray();
        var png = RgbaImage.Load(Scene($"train/{view:00}.png"));
        double psnr = RgbaImage.Psnr(rgb, png.CompositeOn([0, 0, 0]));
        Assert.IsTrue(psnr >= 45, $"PSNR {psnr:F2} dB");
    }
}
