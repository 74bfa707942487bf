using NerfGmn.Datasets;
using NerfGmn.Encoder;
using NerfGmn.Graphs;
using NerfGmn.IO;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Tests;

/// <summary><see cref="GmnOptions.StandardizeOutput"/>: the embedding standardised with batch, then running, statistics.</summary>
[TestClass]
public class StandardizedOutputTests
{
    static List<ParameterGraph> MiniGraphs(int n) => new DatasetLayout(TestPaths.MiniDataset).Entries("test", ["mlp"]).Take(n)
        .Select(e => ParameterGraphBuilder.Build(NerfWeightsFile.Read(e.WeightsPath))).ToList();

    static GraphMetaNetwork Encoder(bool standardize)
    {
        manual_seed(1);   // the standardiser has no parameters: both encoders get the same weights
        return new GraphMetaNetwork(GmnPresets.Small with { StandardizeOutput = standardize, Checkpointing = false });
    }

    [TestMethod]
    public void TrainingUsesBatchStatisticsAndTracksRunningOnes()
    {
        var graphs = MiniGraphs(4);
        using var batch = GraphBatch.From(graphs);
        using var plain = Encoder(false);
        using var standardized = Encoder(true);
        Assert.AreEqual(plain.ParameterCount, standardized.ParameterCount, "no trainable parameters added");
        plain.eval();
        using var raw = plain.forward(batch).detach();

        standardized.train();
        using var y = standardized.forward(batch).detach();
        var mean = y.mean([0L]).data<float>().ToArray();
        var var = y.var(0L, unbiased: false).data<float>().ToArray();
        var rawVar = raw.var(0L, unbiased: false).data<float>().ToArray();
        for (int k = 0; k < mean.Length; k++)
        {
            Assert.AreEqual(0, mean[k], 1e-4, $"dim {k} mean");
            // A dimension constant over the batch (a ReLU that never fires) maps to 0.
            Assert.AreEqual(rawVar[k] > 1e-6 ? 1 : 0, var[k], 2e-2, $"dim {k} variance");
        }
        // Running estimates moved from (0, 1) by momentum 0.1 towards the batch mean and unbiased variance.
        var state = standardized.state_dict();
        Assert.IsTrue(state["output_norm.running_mean"].allclose(raw.mean([0L]) * S(0.1), 1e-4, 1e-6), "running mean");
        Assert.IsTrue(state["output_norm.running_var"].allclose((raw.var(0L, unbiased: true) * S(0.1)).Plus(S(0.9)), 1e-4, 1e-6), "running variance");

        standardized.eval();
        using var e = standardized.forward(batch);
        var expected = (raw - state["output_norm.running_mean"]) / state["output_norm.running_var"].Plus(S(1e-5)).sqrt();
        Assert.IsTrue(e.allclose(expected, 1e-4, 1e-5), "eval uses the running statistics");
    }

    [TestMethod]
    public void StatisticsSurviveTheCheckpoint()
    {
        using var dir = TestPaths.NewTempDir();
        var graphs = MiniGraphs(3);
        using var gmn = Encoder(true);
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
            Assert.AreNotEqual(0f, loaded.state_dict()["output_norm.running_mean"].abs().sum().item<float>());
        }
    }
}
