using NerfGmn.Training;

namespace NerfGmn.Tests;

[TestClass]
public sealed class DecoderProbeTests
{
    [TestMethod]
    public void AucIsTheShareOfPositiveNegativePairsInOrderWithTiesHalf()
    {
        Assert.AreEqual(1.0, DecoderProbe.Auc([3, 4], [1, 2]));
        Assert.AreEqual(0.0, DecoderProbe.Auc([1, 2], [3, 4]));
        Assert.AreEqual(0.5, DecoderProbe.Auc([1, 1], [1, 1]));
        // pairs (p, n): (2,1) ✓ (2,3) ✗ (4,1) ✓ (4,3) ✓ → 3/4; a tie (3,3) counts ½.
        Assert.AreEqual(0.75, DecoderProbe.Auc([2, 4], [1, 3]));
        Assert.AreEqual((1 + 0.5 + 1 + 1) / 4.0, DecoderProbe.Auc([3, 4], [1, 3]));
        Assert.IsTrue(double.IsNaN(DecoderProbe.Auc([], [1])));
    }

    /// <summary>
    /// On visible density only, σ a render cannot see ties: the invisible tail (1 below 2 and 3) no longer decides
    /// the order, the one visible σ does.
    /// </summary>
    [TestMethod]
    public void VisibleAucTiesTheDensitiesARenderCannotSee()
    {
        float v = DecoderProbe.VisibleSigma;
        Assert.AreEqual(4.22, v, 0.01, "0.01 opacity per renderer step of 1.4·√3/1024");
        float[] occupied = [0.1f * v, 2 * v], empty = [0.2f * v, 0.3f * v];
        Assert.AreEqual(0.5, DecoderProbe.Auc(occupied, empty));
        static float[] Visible(float[] s) => DecoderProbe.VisibleOnly(TorchSharp.torch.tensor(s)).data<float>().ToArray();
        CollectionAssert.AreEqual(new[] { 0f, 2 * v }, Visible(occupied));
        Assert.AreEqual(0.75, DecoderProbe.Auc(Visible(occupied), Visible(empty)));
    }

    /// <summary>The decoder gate runs the auto-decoder end to end: a PSNR curve on fixed draws and a probe per object.</summary>
    [TestMethod]
    public void TheDecoderGateTrainsFreeCodesAndProbesEveryObject()
    {
        var report = Training.DecoderGate.Run(new Training.DecoderGateOptions
        {
            Data = TestPaths.MiniDataset, Objects = 2, MaxSteps = 4, EvaluateEvery = 2, NerfsPerStep = 2, ProbePoints = 200,
            Decoder = new Decoder.ImplicitDecoderOptions { HiddenDim = 32, LayersBeforeSkip = 1, LayersAfterSkip = 1 },
        });
        CollectionAssert.AreEqual(new[] { 0, 2, 4 }, report.Curve.Select(p => p.Step).ToArray());
        Assert.IsTrue(report.Curve.All(p => double.IsFinite(p.MedianPsnr) && p.MedianPsnr > 5), string.Join(", ", report.Curve));
        Assert.AreEqual(2, report.Probe.Count);
        Assert.IsTrue(report.Probe.All(r => r.OccupancyAuc is >= 0 and <= 1 && r.OccupancyAucOtherObject is >= 0 and <= 1 && r.OccupancyAucOtherNerf is >= 0 and <= 1
            && r.VisibleAuc is { Own: >= 0 and <= 1, OtherObject: >= 0 and <= 1, OtherNerf: >= 0 and <= 1, OwnNerf: >= 0 and <= 1 }), string.Join(", ", report.Probe));
        // The other object is of another class (objects round-robin over classes).
        Assert.AreNotEqual(report.Probe[0].Object.Split('/')[0], report.Probe[1].Object.Split('/')[0]);
        Assert.ThrowsExactly<ArgumentException>(() => Training.DecoderGate.Run(new Training.DecoderGateOptions { Data = TestPaths.MiniDataset, Objects = 1 }));
    }
}
