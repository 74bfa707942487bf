using NerfGmn.Datasets;
using NerfGmn.Encoder;
using NerfGmn.Graphs;
using NerfGmn.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace NerfGmn.Tests;

[TestClass]
public class EmbeddingStandardizerTests
{
    [TestMethod]
    public void TrainingUsesBatchStatisticsAndTracksRunningOnes()
    {
        using var norm = new EmbeddingStandardizer(3, momentum: 0.5);
        norm.train();
        using var z = tensor(new float[] { 1, 10, 100, 3, 14, 100, 5, 18, 100 }, [3, 3]);
        using var y = norm.forward(z);
        var mean = y.mean([0L]).data<float>().ToArray();
        var var = y.var(0L, unbiased: false).data<float>().ToArray();
        for (int k = 0; k < 2; k++)
        {
            Assert.AreEqual(0, mean[k], 1e-6);
            Assert.AreEqual(1, var[k], 1e-3);
        }
        Assert.AreEqual(0, y[.., 2].abs().max().item<float>(), 1e-6, "a constant dimension maps to 0");
        // Running estimates moved halfway from (0, 1) to the batch mean and unbiased variance.
        var state = norm.state_dict();
        CollectionAssert.AreEqual(new[] { 1.5f, 7f, 50f }, state["mean"].data<float>().ToArray());
        Assert.AreEqual(0.5 + 0.5 * 4, state["variance"][0].item<float>(), 1e-5);

        norm.eval();
        using var e = norm.forward(tensor(new float[] { 1.5f, 7, 50 }, [1, 3]));
        Assert.AreEqual(0, e.abs().max().item<float>(), 1e-6, "eval uses the running mean");
    }

    [TestMethod]
    public void StatisticsSurviveTheCheckpointAndAreNotTrained()
    {
        using var dir = TestPaths.NewTempDir();
        var mini = new DatasetLayout(TestPaths.MiniDataset);
        var graphs = mini.Entries("test", ["mlp"]).Take(3).Select(e => ParameterGraphBuilder.Build(NerfWeightsFile.Read(e.WeightsPath))).ToList();
        manual_seed(1);
        using var gmn = new GraphMetaNetwork(GmnPresets.Cpu with { StandardizeOutput = true });
        Assert.IsTrue(gmn.parameters().Count(p => !p.requires_grad) == 2, "running mean and variance are frozen");
        gmn.train();
        using (var batch = GraphBatch.From(graphs)) gmn.forward(batch).Dispose();   // updates the running statistics
        var before = gmn.Embed(graphs);

        string path = dir.File("enc.safetensors");
        EncoderCheckpoint.Save(gmn, path, TriplanePositionLayout.Reference, "l_con");
        var (loaded, info) = EncoderCheckpoint.Load(path);
        using (loaded)
        {
            Assert.IsTrue(info.Options.StandardizeOutput);
            var after = loaded.Embed(graphs);
            for (int i = 0; i < graphs.Count; i++)
                CollectionAssert.AreEqual(before[i], after[i], $"graph {i}");
            // Not the identity: the running statistics moved away from (0, 1).
            Assert.AreNotEqual(0f, loaded.state_dict()["output_norm.mean"].abs().sum().item<float>());
        }
    }
}
