using NerfGmn.Training;
using static TorchSharp.torch;

namespace NerfGmn.Tests;

[TestClass]
public class ArchitectureCenteringTests
{
    [TestMethod]
    public void TrainingCentresEachArchitectureOnItsBatchMeanAndKeepsARunningMean()
    {
        var centering = new ArchitectureCentering(momentum: 0.5);
        string[] archs = ["mlp", "tri", "mlp", "tri", "hash"];
        var first = tensor(new float[] { 1, 2, 10, 20, 3, 4, 30, 40, 7, 9 }, [5, 2]);
        centering.Apply(first, archs, training: true);   // sets the running means
        CollectionAssert.AreEqual(new float[] { 2, 3 }, centering.Snapshot()["mlp"]);
        CollectionAssert.AreEqual(new float[] { 7, 9 }, centering.Snapshot()["hash"]);

        // The next batch: mlp and tri are centred exactly on their own batch means, hash (alone) on its running mean,
        // which the batch has moved half way towards (8, 10); mlp moves half way to its batch mean (6, 8).
        var z = tensor(new float[] { 5, 6, 11, 21, 7, 10, 31, 41, 9, 11 }, [5, 2]).requires_grad_();
        var c = centering.Apply(z, archs, training: true);
        CollectionAssert.AreEqual(new float[] { -1, -2, -10, -10, 1, 2, 10, 10, 1, 1 }, c.data<float>().ToArray());
        CollectionAssert.AreEqual(new float[] { 4, 5.5f }, centering.Snapshot()["mlp"]);
        CollectionAssert.AreEqual(new float[] { 8, 10 }, centering.Snapshot()["hash"]);

        // Differentiable through the batch mean: d(sum of mlp row 0)/dz is (1 − 1/2) on row 0 and −1/2 on row 2.
        c.select(0, 0).sum().backward();
        CollectionAssert.AreEqual(new float[] { 0.5f, 0.5f, 0, 0, -0.5f, -0.5f, 0, 0, 0, 0 }, z.grad!.data<float>().ToArray());

        // Outside training: running means only, and they do not move.
        var v = centering.Apply(tensor(new float[] { 4, 5.5f, 0, 0 }, [2, 2]), ["mlp", "unseen"], training: false);
        CollectionAssert.AreEqual(new float[] { 0, 0, 0, 0 }, v.data<float>().ToArray());
        CollectionAssert.AreEqual(new float[] { 4, 5.5f }, centering.Snapshot()["mlp"]);
        Assert.IsFalse(centering.Snapshot().ContainsKey("unseen"));

        var restored = new ArchitectureCentering(0.5);
        restored.Restore(centering.Snapshot());
        CollectionAssert.AreEqual(centering.Snapshot()["tri"], restored.Snapshot()["tri"]);
        Assert.ThrowsExactly<ArgumentException>(() => centering.Apply(z, ["mlp"], training: true));
    }

    [TestMethod]
    public void AValidationSetIsCentredOnItsOwnArchitectureMeans()
    {
        // Whatever the running means say: each architecture's rows minus their mean within this set.
        var z = tensor(new float[] { 1, 2, 10, 20, 3, 4, 30, 40, 7, 9 }, [5, 2]);
        var c = ArchitectureCentering.CentreOnOwnMeans(z, ["mlp", "tri", "mlp", "tri", "hash"]);
        CollectionAssert.AreEqual(new float[] { -1, -1, -10, -10, 1, 1, 10, 10, 0, 0 }, c.data<float>().ToArray());
        Assert.ThrowsExactly<ArgumentException>(() => ArchitectureCentering.CentreOnOwnMeans(z, ["mlp"]));
    }
}
