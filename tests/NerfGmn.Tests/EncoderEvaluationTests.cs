using NerfGmn.Datasets;
using NerfGmn.Encoder;
using NerfGmn.Graphs;
using NerfGmn.Retrieval;
using TorchSharp;

namespace NerfGmn.Tests;

[TestClass]
public class EncoderEvaluationTests
{
    /// <summary>
    /// A dataset whose training split holds exact copies of the test objects' MLP NeRFs (under other ids): kNN must find
    /// each copy at distance 0 and so classify every MLP query correctly.
    /// </summary>
    [TestMethod]
    public void KnnFindsExactCopiesAndRetrievalIsOverSharedObjects()
    {
        using var dir = TestPaths.NewTempDir();
        var mini = new DatasetLayout(TestPaths.MiniDataset);
        var objects = mini.Entries("test", ["mlp"]).Take(4).ToList();
        var data = new DatasetLayout(dir.Path);
        foreach (var e in objects)
        {
            foreach (var arch in new[] { "mlp", "hash" })
                Copy(mini.NerfFolder(arch, e.Class, e.Object), data.NerfFolder(arch, e.Class, e.Object));
            Copy(mini.NerfFolder("mlp", e.Class, e.Object), data.NerfFolder("mlp", e.Class, e.Object + "_copy"));
        }
        File.WriteAllLines(data.SplitFile("test"), objects.Select(e => e.ObjectKey));
        File.WriteAllLines(data.SplitFile("train"), objects.Select(e => e.ObjectKey + "_copy"));

        torch.manual_seed(0);
        using var embedder = new NerfEmbedder(new GraphMetaNetwork(GmnPresets.Small with { ValueEncoderScale = 30 }), TriplanePositionLayout.Reference);
        var report = EncoderEvaluation.Run(embedder, data);

        CollectionAssert.AreEquivalent(new[] { "hash", "mlp" }, report.Nerfs.Keys.ToArray());
        Assert.AreEqual(4, report.Nerfs["mlp"]);
        Assert.AreEqual(1.0, report.KnnAccuracy["mlp"], "each MLP query has its exact copy in the gallery");
        CollectionAssert.AreEquivalent(new[] { "mlp→hash", "hash→mlp" }, report.InstanceRecall.Keys.ToArray());
        foreach (var recall in report.InstanceRecall.Values)
        {
            Assert.IsTrue(recall.Values.All(v => v is >= 0 and <= 1));
            Assert.IsTrue(recall[1] <= recall[5] && recall[5] <= recall[10], "recall grows with k");
            Assert.AreEqual(1.0, recall[10], "k ≥ objects: every object is found");
        }
        Assert.IsTrue(report.MeanCosineBetweenObjects["mlp"] is > 0 and <= 1 + 1e-9);
        Assert.AreEqual(0, report.LinearMapInstanceRecall.Count, "the gallery has 4 objects in one family: nothing to fit a map on");

        // Centred per architecture: the gallery copies have the same mean as the queries, so kNN still finds them.
        var centred = report.CenteredPerArchitecture!;
        Assert.IsNull(centred.CenteredPerArchitecture);
        Assert.AreEqual(1.0, centred.KnnAccuracy["mlp"]);
        CollectionAssert.AreEquivalent(report.InstanceRecall.Keys.ToArray(), centred.InstanceRecall.Keys.ToArray());
        // Class retrieval is Euclidean within one architecture: a common shift changes nothing.
        foreach (var (arch, recall) in report.ClassRecall)
            CollectionAssert.AreEqual(recall.Values.ToArray(), centred.ClassRecall[arch].Values.ToArray(), arch);
        Assert.IsTrue(centred.MeanCosineBetweenObjects["mlp"] < report.MeanCosineBetweenObjects["mlp"], "the common offset is gone");
    }

    [TestMethod]
    public void CenteringSubtractsTheMean()
    {
        var centred = EncoderEvaluation.CenterEach([[1f, 10f], [3f, 20f], [5f, 60f]]);
        CollectionAssert.AreEqual(new[] { -2f, -20f }, centred[0]);
        CollectionAssert.AreEqual(new[] { 0f, -10f }, centred[1]);
        CollectionAssert.AreEqual(new[] { 2f, 30f }, centred[2]);
    }

    [TestMethod]
    public void MissingSplitFileIsNamed()
    {
        using var dir = TestPaths.NewTempDir();
        using var embedder = new NerfEmbedder(new GraphMetaNetwork(GmnPresets.Small), TriplanePositionLayout.Reference);
        var e = Assert.ThrowsExactly<NerfFormatException>(() => EncoderEvaluation.Run(embedder, new DatasetLayout(dir.Path)));
        StringAssert.Contains(e.Message, "test.txt");
    }

    [TestMethod]
    public void MeanCosineOfIdenticalAndOrthogonalVectors()
    {
        Assert.AreEqual(1.0, EncoderEvaluation.MeanCosine([[1f, 2f, 3f], [2f, 4f, 6f]]), 1e-12);
        Assert.AreEqual(0.0, EncoderEvaluation.MeanCosine([[1f, 0f], [0f, 1f]]), 1e-12);
        Assert.AreEqual(1.0 / 3, EncoderEvaluation.MeanCosine([[1f, 0f], [0f, 1f], [1f, 0f]]), 1e-12);
    }

    static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
    }
}
