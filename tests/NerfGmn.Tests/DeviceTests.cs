using NerfGmn.Encoder;
using NerfGmn.Graphs;
using NerfGmn.Fitting;
using NerfGmn.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NerfGmn.Tests;

/// <summary>
/// Device placement without a GPU. The model and its inputs stay on the CPU while TorchSharp's default device is
/// PyTorch's <c>meta</c> device (shapes, no data): a tensor the computation creates without naming a device lands on
/// meta, and the first operation mixing it with the CPU tensors raises or leaves a meta result — exactly the stray
/// tensor that would break a CUDA run. (The model cannot sit on meta itself: libtorch's C++ build has no meta kernels
/// for index_select, index_add and sort, which PyTorch registers from Python.)
/// </summary>
[TestClass]
[DoNotParallelize]   // the default device is process-wide
public class DeviceTests
{
    static readonly Device Meta = new(DeviceType.META);

    /// <summary>Runs <paramref name="work"/> with TorchSharp's default device set to meta.</summary>
    static T WithMetaDefault<T>(Func<T> work)
    {
        var previous = get_default_device();
        set_default_device(Meta);
        try { return work(); }
        finally { set_default_device(previous); }
    }

    static List<ParameterGraph> PairGraphs(GraphMetaNetwork gmn)
    {
        var data = new TrainingData(TestPaths.Overfit4, "train");
        var options = gmn.GraphOptions(TriplanePositionLayout.Reference);
        // Rows 2i and 2i + 1 are one object in two architectures, as the trainer lays pairs out.
        return data.Objects.Keys.Take(2).SelectMany(o => new[] { data.Graph(o, "mlp", options), data.Graph(o, "triplane", options) }).ToList();
    }

    [TestMethod]
    public void TheDetectorCatchesATensorCreatedWithoutADevice()
    {
        using var x = ones(3);
        Assert.ThrowsExactly<System.Runtime.InteropServices.ExternalException>(() => WithMetaDefault(() => (x + zeros(3)).sum().item<float>()));
        Assert.AreEqual(3f, WithMetaDefault(() => (x + zeros(3, device: x.device)).sum().item<float>()));
    }

    [TestMethod]
    [DataRow(EncoderReadout.Outputs)]
    [DataRow(EncoderReadout.Edges)]
    public void EncoderForwardAndATrainingStepCreateEveryTensorOnTheModelsDevice(EncoderReadout readout)
    {
        random.manual_seed(2);
        // The CPU recipe with its grid-edge sampling, probes and standardised output; raw weights (no statistics needed).
        using var gmn = new GraphMetaNetwork(GmnPresets.Cpu with { StandardizeWeights = false, Readout = readout, Checkpointing = readout == EncoderReadout.Edges });
        using var siglip = new SigLipLoss();
        var optimizer = optim.AdamW(gmn.parameters().Concat(siglip.parameters()), lr: 1e-3);
        var graphs = PairGraphs(gmn);                          // data preparation: on the CPU, before the model runs
        using var batch = GraphBatch.From(graphs);
        gmn.train();
        using var draw = new Generator(5);
        gmn.EdgeSampling = draw;
        float loss = WithMetaDefault(() =>
        {
            using var z = gmn.forward(batch);
            using var l = siglip.Pairs(z);
            optimizer.zero_grad();
            l.backward();
            optimizer.step();
            return l.item<float>();
        });
        Assert.IsTrue(float.IsFinite(loss));
        Assert.IsTrue(gmn.parameters().All(p => p.device_type == DeviceType.CPU && (p.grad is null || p.grad.device_type == DeviceType.CPU)));
        Assert.IsTrue(gmn.parameters().Count(p => p.grad is not null) > gmn.parameters().Count() / 2, "the step reached the parameters");

        // Evaluation mode and the batched embedding path (which assembles its batches on the CPU itself).
        gmn.eval();
        var rows = WithMetaDefault(() => gmn.Embed(graphs, batchSize: 3));
        Assert.AreEqual(4, rows.Length);
        Assert.IsTrue(rows.All(r => r.Length == gmn.Options.OutputDim && r.All(float.IsFinite)));
    }

    [TestMethod]
    public void TheDecoderAndRenderingLossCreateEveryTensorOnTheEmbeddingsDevice()
    {
        var weights = IO.NerfWeightsFile.Read(TestPaths.Fixture("nerf_scene/nerf_weights.pth"));
        using var nerf = new Fields.RadianceField(weights);
        var grid = Rendering.OccupancyGrid.Load(TestPaths.Fixture("nerf_scene/grid.pth"));
        var cameras = Rendering.CameraSet.Load(TestPaths.Fixture("nerf_scene/transforms_train.json"));
        var o = new RenderingLossOptions { CandidateRays = 512, ForegroundRays = 8, MaxForegroundSamples = 300, BackgroundCells = 200, TotalPoints = 400, ImageSize = 8 };
        using var target = RenderTarget.Create(nerf, grid, cameras, o, new Generator(1));
        random.manual_seed(4);
        using var decoder = new Decoder.ImplicitDecoder(new Decoder.ImplicitDecoderOptions { EmbeddingDim = 16, HiddenDim = 32, LayersBeforeSkip = 1, LayersAfterSkip = 1 });
        using var z = randn(2, 16).requires_grad_();
        using var draw = RenderingLoss.Draw([target, target], o, new Generator(2));   // the data side: on the CPU
        var (loss, mse) = WithMetaDefault(() =>
        {
            var (l, m) = RenderingLoss.Loss(decoder, z, draw, o);
            l.backward();
            return (l.item<float>(), m);
        });
        Assert.IsTrue(float.IsFinite(loss) && double.IsFinite(mse));
        Assert.IsTrue(z.grad is { } g && g.device_type == DeviceType.CPU && g.abs().sum().item<float>() > 0, "the loss reached the embeddings");
    }

    [TestMethod]
    [DataRow("mlp.pth")]
    [DataRow("tri.pth")]
    [DataRow("hash.pth")]
    public void FieldsAndTheVolumeRendererCreateEveryTensorOnTheRaysDevice(string file)
    {
        using var field = new Fields.RadianceField(IO.NerfWeightsFile.Read(TestPaths.Fixture(file)));
        var cameras = Rendering.CameraSet.Load(TestPaths.Fixture("nerf_scene/transforms_train.json"));
        var grid = Rendering.OccupancyGrid.Load(TestPaths.Fixture("nerf_scene/grid.pth"));
        var (o, d) = cameras.Rays(0, 6, 6);   // the data side: on the CPU
        var rgb = WithMetaDefault(() =>
        {
            using var _ = no_grad();
            using var r = Rendering.VolumeRenderer.Render(p => field.forward(p), o, d, grid, new Rendering.RenderOptions { Background = [1, 1, 1], Stratified = true, Generator = new Generator(3) });
            return r.Rgb.data<double>().ToArray();
        });
        Assert.AreEqual(6 * 6 * 3, rgb.Length);
        Assert.IsTrue(rgb.All(double.IsFinite));
    }

    [TestMethod]
    [DataRow("mlp")]
    [DataRow("triplane")]
    [DataRow("hash")]
    public void AFittingStepCreatesEveryTensorOnThePointsDevice(string arch)
    {
        using var gen = new Generator(6);
        using var model = new Fitting.BatchedRadianceField(Architectures.ArchitecturePresets.Get(arch), 2, [gen, gen]);
        var (optimizer, _) = model.CreateAdam(1e-3, 1e-2);
        using var points = rand([2, 50, 3], generator: gen) * 1.4 - 0.7;
        float loss = WithMetaDefault(() =>
        {
            var (rgb, sigma, _) = model.forward(points);
            using var l = rgb.square().mean() + sigma.mean();
            optimizer.zero_grad();
            l.backward();
            optimizer.step();
            return l.item<float>();
        });
        Assert.IsTrue(float.IsFinite(loss));
        Assert.AreEqual(arch, model.Export(1).Architecture.Name);
    }

    [TestMethod]
    public void TheDatasetBuildersBatchedFitCreatesEveryTensorOnItsDevice()
    {
        var arch = Architectures.ArchitecturePresets.Get("hash");
        using var gen = new Generator(8);
        // Sample pools (the data side, on the CPU) from a ball of colour.
        FieldFitter.TrueField ball = p => (p.abs(), (p.norm(1).lt(0.4)).to_type(ScalarType.Float32) * 50);
        var samples = FieldFitter.Sample(ball, p => p.norm(1) - 0.4, gen, uniform: 256, surface: 256);
        var options = new Fitting.FieldFitOptions { Steps = 3, PointsPerStep = 128 };
        var weights = WithMetaDefault(() =>
        {
            using var model = FieldFitter.Fit(arch, [samples, samples], options, 50, device: CPU);
            return model.Export(1);
        });
        Assert.IsTrue(weights.Layers.All(l => l.Weight.All(float.IsFinite)));
    }

    [TestMethod]
    public void TheClassifierHeadTrainsWithEveryTensorOnItsDevice()
    {
        var rng = new Random(1);
        var x = Enumerable.Range(0, 24).Select(i => Enumerable.Range(0, 8).Select(j => (float)(rng.NextDouble() + (j == i % 3 ? 2 : 0))).ToArray()).ToList();
        var labels = Enumerable.Range(0, 24).Select(i => $"c{i % 3}").ToList();
        var options = new Classification.ClassifierHeadOptions { Hidden = [16], Epochs = 3, BatchSize = 12, Device = "cpu" };
        var model = WithMetaDefault(() => Classification.ClassifierHeadTrainer.Train(x, labels, options));
        Assert.AreEqual(3, model.Classes.Length);
    }

    [TestMethod]
    public void TheMLNetStageEmbedsWithTheModelOnItsDevice()
    {
        var ml = new Microsoft.ML.MLContext(seed: 0);
        var rows = MLNet.MLNetTestData.Rows("test", "mlp", "triplane").Take(3).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);
        var options = new NerfGmn.MLNet.NerfEmbeddingOptions { Encoder = MLNet.MLNetTestData.Encoder, Device = "cpu" };
        var model = NerfGmn.MLNet.NerfEmbeddingCatalog.NerfEmbedding(ml.Transforms, "Features", "Path", options).Fit(data);
        var embedded = WithMetaDefault(() => ml.Data.CreateEnumerable<Embedded>(model.Transform(data), reuseRowObject: false).ToList());
        Assert.AreEqual(3, embedded.Count);
        Assert.IsTrue(embedded.All(e => e.Features.Length == 1024 && e.Features.All(float.IsFinite)));
    }

    [TestMethod]
    public void ADeviceThisBuildCannotUseIsOneLineNamingTheBuildSwitch()
    {
        Assert.AreEqual(DeviceType.CPU, Runtime.ComputeDevice.Resolve("cpu").type);
        Assert.AreEqual(DeviceType.CPU, Runtime.ComputeDevice.Resolve(null).type, "no CUDA in this build: the default is the CPU");
        var e = Assert.ThrowsExactly<ArgumentException>(() => Runtime.ComputeDevice.Resolve("cuda:1"));
        StringAssert.Contains(e.Message, "libtorch-cuda-12.8-linux-x64");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => Runtime.ComputeDevice.Resolve("gpu")).Message, "expected cpu, cuda or cuda:N");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => Runtime.ComputeDevice.Resolve("cuda:x")).Message, "cuda:N");
    }

    public sealed class Embedded
    {
        [Microsoft.ML.Data.VectorType(1024)] public float[] Features = [];
    }
}
