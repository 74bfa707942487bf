using NerfGmn.Datasets;
using NerfGmn.Retrieval;

namespace NerfGmn.Tests;

[TestClass]
public class RawWeightBaselineTests
{
    [TestMethod]
    public void QueriesEqualToTheGalleryFindThemselvesAndArchitecturesWithoutAGalleryAreSkipped()
    {
        var mini = new DatasetLayout(TestPaths.MiniDataset);
        // Query the training split against itself: every NeRF's nearest neighbour is itself.
        var self = RawWeightBaseline.Run(mini, split: "train", gallery: "train");
        CollectionAssert.AreEquivalent(new[] { "mlp/linear layers", "triplane/tri-plane", "triplane/linear layers", "hash/hash table", "hash/linear layers" },
            self.Select(r => $"{r.Arch}/{r.View}").ToArray(), "the unseen variants (mlp_32h, triplane_8c) have no training NeRFs");
        foreach (var r in self)
        {
            Assert.AreEqual(52, r.Queries);
            Assert.AreEqual(1.0, r.Accuracy, r.Arch + " " + r.View);
            Assert.AreEqual(1.0, r.CentredAccuracy, r.Arch + " " + r.View);
        }
        // Test against train: real accuracies, within [0, 1], over the 26 test objects.
        var test = RawWeightBaseline.Run(mini, architectures: ["mlp"]);
        Assert.AreEqual(26, test.Single().Queries);
        Assert.IsTrue(test.Single().Accuracy is >= 0 and < 1, $"{test.Single().Accuracy}");
    }
}
