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
}
