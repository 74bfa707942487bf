using System.Text.Json;
using NerfGmn.Decoder;
using NerfGmn.IO;
using NerfGmn.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NerfGmn.Tests;

[TestClass]
public class DecoderAndLossTests
{
    static (Tensor Emb, Tensor Points, IReadOnlyDictionary<string, SafeTensor> Io) DecoderIo()
    {
        var io = SafeTensorsFile.Read(TestPaths.Fixture("decoder_io.safetensors")).Tensors;
        return (tensor(io["embedding"].ToFloats(), [2, 1024]), tensor(io["points"].ToFloats(), [2, 64, 3]), io);
    }

    static void AssertClose(float[] want, Tensor got, double tol, string what)
    {
        var g = got.contiguous().data<float>().ToArray();
        Assert.AreEqual(want.Length, g.Length, what);
        double max = want.Zip(g).Max(p => Math.Abs(p.First - p.Second));
        Assert.IsTrue(max <= tol, $"{what}: max abs diff {max}");
    }

    [TestMethod]
    public void DecoderWithDeterministicWeightsMatchesTheReference()
    {
        using var decoder = new ImplicitDecoder();
        using (no_grad())
            foreach (var (name, p) in decoder.named_parameters())
            {
                // weight.flatten()[i] = bias[i] = sin(i + 1)/sqrt(fan_in), in float64 then rounded to float32.
                long fanIn = name.EndsWith("weight") ? p.shape[1] : decoder.named_parameters().First(q => q.name == name.Replace("bias", "weight")).parameter.shape[1];
                var values = Enumerable.Range(0, (int)p.numel()).Select(i => (float)(Math.Sin(i + 1) / Math.Sqrt(fanIn))).ToArray();
                p.copy_(tensor(values).reshape(p.shape));
            }
        AssertDecoderOutputs(decoder, "rgb_det", "sigma_det");
    }

    /// <summary>Runs the decoder on the fixture inputs and compares with the named fixture outputs (≤ 1e-5).</summary>
    static void AssertDecoderOutputs(ImplicitDecoder decoder, string rgbName, string sigmaName)
    {
        decoder.eval();
        var (emb, points, io) = DecoderIo();
        using var _ = no_grad();
        var (rgb, sigma) = decoder.forward((emb, points));
        AssertClose(io[rgbName].ToFloats(), rgb, 1e-5, rgbName);
        AssertClose(io[sigmaName].ToFloats(), sigma, 1e-5, sigmaName);
    }

    [TestMethod]
    public void DecoderSeededInitialisationMatchesTheReference()
    {
        manual_seed(0);
        using var decoder = new ImplicitDecoder();
        AssertDecoderOutputs(decoder, "rgb", "sigma");
    }

    /// <summary>Every way to a decoder (train, fit-decoder, a library caller) refuses a size no decoder can have, naming it.</summary>
    [TestMethod]
    public void ADecoderOfASizeNoDecoderCanHaveIsRefused()
    {
        var ok = new ImplicitDecoderOptions { HiddenDim = 8, LayersBeforeSkip = 0, LayersAfterSkip = 0, Frequencies = 2, EmbeddingDim = 4 };
        using (new ImplicitDecoder(ok)) { }
        var e = Assert.ThrowsExactly<ArgumentException>(() => new ImplicitDecoder(ok with { HiddenDim = 0 }));
        Assert.AreEqual("decoder width must be 1..4096, got 0", e.Message);
        e = Assert.ThrowsExactly<ArgumentException>(() => new ImplicitDecoder(ok with { LayersAfterSkip = 17 }));
        Assert.AreEqual("decoder hidden layers on each side of the skip must be 0..16, got 0 before and 17 after", e.Message);
        e = Assert.ThrowsExactly<ArgumentException>(() => new ImplicitDecoder(ok with { EmbeddingDim = 0 }));
        Assert.AreEqual("decoder embedding size and frequencies must be positive, got 0 and 2", e.Message);
    }

    [TestMethod]
    public void DecoderEncodingIsTheFixtureIntermediate()
    {
        var (_, points, io) = DecoderIo();
        using var enc = new Fields.FrequencyEncoding(48);
        var u = (points.reshape(128, 3) + 0.7f) / 1.4f;
        AssertClose(io["encoding"].ToFloats(), enc.forward(u), 1e-6, "encoding");
    }

    static float[][] Matrix(JsonElement e) => e.EnumerateArray().Select(r => r.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray()).ToArray();

    [TestMethod]
    [DataRow("float64"), DataRow("float32")]
    public void SigLipMatchesTheReferenceLossAndGradients(string precision)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("siglip.json")));
        var root = doc.RootElement;
        var block = root.GetProperty(precision);
        bool f64 = precision == "float64";
        var dtype = f64 ? ScalarType.Float64 : ScalarType.Float32;
        double[] Flat(JsonElement e) => e.EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetDouble())).ToArray();
        using var loss = new SigLipLoss(block.GetProperty("t_prime").GetDouble(), block.GetProperty("b").GetDouble());
        loss.to(dtype);
        if (f64)
            using (no_grad())
            {
                loss.TPrime.copy_(tensor(block.GetProperty("t_prime").GetDouble(), ScalarType.Float64));
                loss.Bias.copy_(tensor(block.GetProperty("b").GetDouble(), ScalarType.Float64));
            }
        var x = tensor(Flat(root.GetProperty("X")), ScalarType.Float64).reshape(4, 16).to_type(dtype).requires_grad_();
        var y = tensor(Flat(root.GetProperty("Y")), ScalarType.Float64).reshape(4, 16).to_type(dtype).requires_grad_();
        var l = loss.forward(x, y);
        l.backward();
        double rel = f64 ? 1e-12 : 1e-5;
        void Close(double want, double got, string what) =>
            Assert.IsTrue(Math.Abs(want - got) <= rel * Math.Max(1e-3, Math.Abs(want)), $"{what}: {got} vs {want}");
        Close(block.GetProperty("loss").GetDouble(), l.to_type(ScalarType.Float64).item<double>(), "loss");
        Close(block.GetProperty("dL_dt_prime").GetDouble(), loss.TPrime.grad!.to_type(ScalarType.Float64).item<double>(), "dL/dt'");
        Close(block.GetProperty("dL_db").GetDouble(), loss.Bias.grad!.to_type(ScalarType.Float64).item<double>(), "dL/db");
        var gx = x.grad!.to_type(ScalarType.Float64).data<double>().ToArray();
        var gy = y.grad!.to_type(ScalarType.Float64).data<double>().ToArray();
        var wx = Flat(block.GetProperty("dL_dX"));
        var wy = Flat(block.GetProperty("dL_dY"));
        double scale = wx.Concat(wy).Max(Math.Abs);
        for (int i = 0; i < 64; i++)
        {
            Assert.IsTrue(Math.Abs(wx[i] - gx[i]) <= rel * scale, $"dL/dX[{i}]: {gx[i]} vs {wx[i]}");
            Assert.IsTrue(Math.Abs(wy[i] - gy[i]) <= rel * scale, $"dL/dY[{i}]: {gy[i]} vs {wy[i]}");
        }
    }

    [TestMethod]
    public void SigLipTV8()
    {
        using var loss = new SigLipLoss();
        loss.to(ScalarType.Float64);
        using (no_grad()) { loss.TPrime.copy_(tensor(Math.Log(10), ScalarType.Float64)); loss.Bias.copy_(tensor(-10.0, ScalarType.Float64)); }
        using var i2 = eye(2, dtype: ScalarType.Float64);
        Assert.AreEqual(0.6931925794591612, loss.forward(i2, i2).item<double>(), 1e-12);
        var x = tensor(new double[] { 3, 4, 1, 0, 0, 2 }, [3, 2]);
        var y = tensor(new double[] { 4, 3, 1, 1, 0, -1 }, [3, 2]);
        var l = loss.forward(x, y);
        Assert.AreEqual(8.24512543833285, l.item<double>(), 1e-11);
        l.backward();
        Assert.AreEqual(1.220628972724296, loss.TPrime.grad!.item<double>(), 1e-11);
        Assert.AreEqual(-0.6283582608083097, loss.Bias.grad!.item<double>(), 1e-11);
    }

    [TestMethod]
    public void OneCycleMatchesPyTorch()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("onecycle.json")));
        var root = doc.RootElement;
        var schedule = new OneCycleSchedule(root.GetProperty("max_lr").GetDouble(), root.GetProperty("total_steps").GetInt32());
        foreach (var s in root.GetProperty("steps").EnumerateArray())
        {
            var (lr, beta1) = schedule.At(s.GetProperty("step").GetInt32());
            double wantLr = s.GetProperty("lr").GetDouble(), wantB = s.GetProperty("beta1").GetDouble();
            Assert.IsTrue(Math.Abs(lr - wantLr) <= 1e-12 * wantLr, $"step {s.GetProperty("step")}: lr {lr} vs {wantLr}");
            Assert.IsTrue(Math.Abs(beta1 - wantB) <= 1e-12 * wantB, $"step {s.GetProperty("step")}: β1 {beta1} vs {wantB}");
        }
    }
}
