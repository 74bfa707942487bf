using NerfGmn.Architectures;
using NerfGmn.Fields;
using NerfGmn.Rendering;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Fitting;

/// <summary>Result of fitting a NeRF to images: weights, the final 96³ occupancy grid and the held-out PSNR.</summary>
public sealed record ImageFitResult(NerfWeights Weights, OccupancyGrid Grid, double HeldOutPsnr, IReadOnlyList<int> HeldOutViews);

/// <summary>Fits one NeRF of any supported architecture to posed RGBA images (Blender <c>transforms_train.json</c> layout).</summary>
public static class ImageFitter
{
    public sealed record PosedImages(CameraSet Cameras, IReadOnlyList<int> Views, IReadOnlyList<RgbaImage> Images);

    /// <summary>Loads the frames of a transforms file whose images exist (<c>file_path</c> + ".png").</summary>
    public static PosedImages Load(string folder, string transforms = "transforms_train.json")
    {
        var cams = CameraSet.Load(Path.Combine(folder, transforms));
        var views = new List<int>(); var images = new List<RgbaImage>();
        for (int v = 0; v < cams.Frames.Count; v++)
        {
            string path = Path.GetFullPath(Path.Combine(folder, cams.Frames[v].FilePath + ".png"));
            if (!File.Exists(path)) continue;
            views.Add(v);
            images.Add(RgbaImage.Load(path));
        }
        if (images.Count == 0) throw new NerfFormatException(Path.Combine(folder, transforms), "no frame has its image next to it (<file_path>.png)");
        if (images.Any(i => i.Width != images[0].Width || i.Height != images[0].Height))
            throw new NerfFormatException(folder, "images differ in size");
        return new PosedImages(cams, views, images);
    }

    public static ImageFitResult Fit(NerfArchitecture arch, PosedImages data, ImageFitOptions options, Action<int, double>? progress = null)
    {
        int n = data.Views.Count;
        int held = n > options.HeldOutViews ? options.HeldOutViews : 0;
        var heldIdx = Enumerable.Range(0, held).Select(k => (k * n / Math.Max(1, held) + n / (2 * Math.Max(1, held))) % n).Distinct().ToArray();
        var trainIdx = Enumerable.Range(0, n).Where(k => !heldIdx.Contains(k)).ToArray();
        int w = data.Images[0].Width, h = data.Images[0].Height;

        // All training rays and their RGBA targets, precomputed once.
        var origins = new List<Tensor>(); var dirs = new List<Tensor>(); var targets = new List<Tensor>();
        foreach (int k in trainIdx)
        {
            var (o, d) = data.Cameras.Rays(data.Views[k], w, h);
            origins.Add(o); dirs.Add(d);
            targets.Add(tensor(data.Images[k].Pixels, [w * h, 4]));
        }
        using var allO = cat(origins, 0); using var allD = cat(dirs, 0); using var allT = cat(targets, 0);
        foreach (var t in origins.Concat(dirs).Concat(targets)) t.Dispose();

        var gen = new Generator((ulong)options.Seed);
        using var initGen = options.InitSeed is { } initSeed ? new Generator(initSeed) : null;
        using var model = new BatchedRadianceField(arch, 1, [initGen ?? gen]);
        // Initialised on the CPU (the same weights on any device), then moved before the optimiser takes its parameters.
        var device = Runtime.ComputeDevice.Resolve(options.Device);
        Runtime.ComputeDevice.Place(model, device);
        var (optimizer, groups) = model.CreateAdam(options.MlpLearningRate, options.GridLearningRate);
        var baseRates = groups.Select(g => g.Options.LearningRate!.Value).ToArray();

        (Tensor, Tensor) Field(Tensor p) { var (rgb, sigma, _) = model.forward(p.unsqueeze(0)); return (rgb[0], sigma[0]); }
        // The grid is found on the CPU from the field's density on the device.
        Tensor Density(Tensor p) => Field(p.to(device)).Item2.cpu();
        OccupancyGrid? occupancy = null;
        for (int step = 0; step < options.Steps; step++)
        {
            using var scope = NewDisposeScope();
            // MultiStepLR-like decay at 1/2, 3/4 and 9/10 of the steps (×0.33 each), as nerfacc's example.
            double factor = Math.Pow(0.33, new[] { 0.5, 0.75, 0.9 }.Count(m => step >= m * options.Steps));
            for (int g = 0; g < groups.Count; g++) groups[g].Options.LearningRate = baseRates[g] * factor;

            if (step >= options.GridWarmup && (step - options.GridWarmup) % options.GridEvery == 0)
                using (no_grad())
                    occupancy = OccupancyGrid.FromDensity(Density, options.TrainingGridResolution,
                        threshold: 0.01, dilation: 1, adaptive: true);

            // Rays and targets are drawn on the CPU and moved once per step.
            var pick = randint(0, allO.shape[0], [options.RaysPerStep], generator: gen, device: CPU);
            var bg = rand(3, generator: gen, dtype: ScalarType.Float64, device: CPU);
            var rgba = allT.index_select(0, pick).to_type(ScalarType.Float64);
            var gt = (rgba[.., 0..3] * rgba[.., 3..4]).Plus(bg * S(1).Minus(rgba[.., 3..4])).to(device);
            var render = VolumeRenderer.Render(p => Field(p), allO.index_select(0, pick).to(device), allD.index_select(0, pick).to(device), occupancy,
                new RenderOptions { Stratified = true, Background = bg.data<double>().ToArray(), Generator = gen, ChunkRays = options.RaysPerStep });
            var loss = nn.functional.smooth_l1_loss(render.Rgb, gt);
            if (loss.requires_grad)   // false only when no sample of this batch fell in an occupied cell
            {
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
            }
            if (progress is not null && (step % 25 == 0 || step == options.Steps - 1)) progress(step, loss.item<double>());
        }

        var weights = model.Export(0);
        using var field = new RadianceField(weights);
        var finalGrid = OccupancyGrid.FromDensity(p => field.forward(p).Sigma);
        double psnr = double.NaN;
        if (heldIdx.Length > 0)
            using (no_grad())
            {
                psnr = heldIdx.Average(k =>
                {
                    var (o, d) = data.Cameras.Rays(data.Views[k], w, h);
                    using var r = VolumeRenderer.Render(p => field.forward(p), o, d, finalGrid);
                    return RgbaImage.Psnr(r.Rgb.to_type(ScalarType.Float32).data<float>().ToArray(), data.Images[k].CompositeOn([0, 0, 0]));
                });
            }
        return new ImageFitResult(weights, finalGrid, psnr, heldIdx.Select(k => data.Views[k]).ToArray());
    }
}
