using Microsoft.ML;
using Microsoft.ML.Data;
using NerfGmn.Classification;
using NerfGmn.MLNet;
using NerfGmn.MLNet.Search;
using NerfGmn.Retrieval;

namespace NerfGmn.Tests.MLNet;

[TestClass]
public class DownstreamStageTests
{
    public sealed class Point
    {
        [VectorType(4)] public float[] Features = [];
        public string Label = "";
        public string Object = "";
    }

    /// <summary>Three well-separated clusters in 4-d (class c near the c-th axis), object ids in pairs.</summary>
    static Point[] Clusters(int perClass, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, 3 * perClass).Select(i =>
        {
            int c = i % 3;
            var f = Enumerable.Range(0, 4).Select(d => (float)((d == c ? 3 : 0) + rng.NextDouble() * 0.5)).ToArray();
            return new Point { Features = f, Label = "c" + c, Object = $"o{i / 2}" };
        }).ToArray();
    }

    [TestMethod]
    public void NearestNeighborsFindsTheQueryItselfFirstAndVotes()
    {
        var ml = new MLContext(seed: 0);
        var gallery = Clusters(5, 1);
        var data = ml.Data.LoadFromEnumerable(gallery);
        foreach (var metric in new[] { DistanceMetric.Cosine, DistanceMetric.Euclidean })
        {
            var knn = ml.Transforms.NearestNeighbors(new NearestNeighborsOptions { K = 3, Metric = metric, IdColumnName = "Object" }).Fit(data);
            var rows = ml.Data.CreateEnumerable<Neighbours>(knn.Transform(data), reuseRowObject: false).ToArray();
            for (int i = 0; i < gallery.Length; i++)
            {
                Assert.AreEqual(gallery[i].Object, rows[i].NeighborIds[0], $"{metric}: row {i} should find itself");
                Assert.AreEqual(0f, rows[i].NeighborDistances[0], 1e-6f);
                Assert.IsTrue(rows[i].NeighborDistances.Zip(rows[i].NeighborDistances.Skip(1)).All(p => p.First <= p.Second), "sorted by distance");
                Assert.AreEqual(gallery[i].Label, rows[i].PredictedLabel);
            }
        }
    }

    public sealed class Neighbours
    {
        public string PredictedLabel = "";
        [VectorType] public string[] NeighborIds = [];
        [VectorType] public float[] NeighborDistances = [];
    }

    [TestMethod]
    public void NearestNeighborIndexAgreesWithBruteForce()
    {
        var rng = new Random(3);
        var gallery = Enumerable.Range(0, 40).Select(_ => Enumerable.Range(0, 8).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray()).ToArray();
        var q = Enumerable.Range(0, 8).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var index = new NearestNeighborIndex(gallery, DistanceMetric.Cosine);
        var (idx, dist) = index.Query(q, 5);
        double Cos(float[] a, float[] b) => 1 - a.Zip(b).Sum(p => (double)p.First * p.Second) / Math.Sqrt(a.Sum(v => (double)v * v) * b.Sum(v => (double)v * v));
        var want = Enumerable.Range(0, 40).OrderBy(i => Cos(q, gallery[i])).Take(5).ToArray();
        CollectionAssert.AreEqual(want, idx);
        Assert.AreEqual(Cos(q, gallery[want[0]]), dist[0], 1e-6);
        Assert.AreEqual("b", NearestNeighborIndex.Vote(["a", "b", "b"]));
        Assert.AreEqual("a", NearestNeighborIndex.Vote(["a", "b"]), "a tie goes to the nearer label");
    }

    [TestMethod]
    public void RecallDefinitionsFollowTheProtocol()
    {
        // Queries: object A near gallery A, object B nearest to gallery C (a miss at 1, a hit at 2).
        float[][] gallery = [[1, 0], [0, 1], [0.7f, 0.7f]];
        string[] gIds = ["A", "B", "C"];
        float[][] queries = [[1, 0.05f], [0.6f, 0.65f]];
        var r = RetrievalMetrics.InstanceRecall(queries, ["A", "B"], gallery, gIds, 1, 2);
        Assert.AreEqual(1 / 3.0, r[1], 1e-12, "recall@k divides by the gallery size, as gmnerf");
        Assert.AreEqual(2 / 3.0, r[2], 1e-12);
        var c = RetrievalMetrics.ClassRecall([[0, 0], [0, 0.1f], [5, 5], [5, 5.1f], [0, 0.2f]], ["x", "x", "y", "y", "y"], 1);
        Assert.AreEqual(0.8, c[1], 1e-12, "the odd y near the x's misses at 1");
        var (micro, macro) = RetrievalMetrics.Accuracy(["a", "a", "a", "b"], ["a", "a", "a", "a"]);
        Assert.AreEqual(0.75, micro, 1e-12);
        Assert.AreEqual(0.5, macro, 1e-12);
    }

    [TestMethod]
    public void EmbeddingMixingAppendsSameClassMixturesOnly()
    {
        float[][] x = [[0, 0, 0], [1, 1, 1], [2, 2, 2], [9, 9, 9], [8, 8, 8]];
        long[] y = [0, 0, 0, 1, 1];
        using var xt = TorchSharp.torch.tensor(x.SelectMany(r => r).ToArray(), 5, 3);
        var (axt, ay) = EmbeddingMixing.Augment(xt, y, new Random(5), new TorchSharp.torch.Generator(5));
        var flat = axt.data<float>().ToArray();
        var ax = Enumerable.Range(0, (int)axt.shape[0]).Select(i => flat[(i * 3)..(i * 3 + 3)]).ToArray();
        Assert.AreEqual(8, ax.Length, "three class-0 samples get a mix; class 1 occurs only twice");
        CollectionAssert.AreEqual(new long[] { 0, 0, 0, 1, 1, 0, 0, 0 }, ay);
        for (int i = 0; i < 5; i++) CollectionAssert.AreEqual(x[i], ax[i], "the batch itself comes first, unchanged");
        for (int i = 5; i < 8; i++)
        {
            Assert.IsTrue(ax[i].All(v => v is 0 or 1 or 2), "mixed values come from same-class samples");
            Assert.IsTrue(ax[i].Distinct().Count(v => v != x[i - 5][0]) <= 1, "row i mixes e_i with a single partner");
        }
    }

    [TestMethod]
    public void ClassifierHeadLearnsSeparableClasses()
    {
        var data = Clusters(40, 2);
        var model = ClassifierHeadTrainer.Train(data.Select(p => p.Features).ToArray(), data.Select(p => p.Label).ToArray(),
            new ClassifierHeadOptions { Epochs = 60, MaxLearningRate = 1e-2, Hidden = [32, 16] });
        var test = Clusters(20, 9);
        double acc = RetrievalMetrics.Accuracy(test.Select(p => p.Label).ToArray(), test.Select(p => model.PredictLabel(p.Features)).ToArray()).Micro;
        Assert.IsTrue(acc >= 0.95, $"accuracy {acc}");
        var back = ClassifierHeadModel.FromBytes(model.ToBytes(), "test");
        CollectionAssert.AreEqual(model.Predict(test[0].Features), back.Predict(test[0].Features));
    }

    [TestMethod]
    public void SearchSkipsTrialsThatCannotFitTheBudgetAndRanksTheRest()
    {
        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromEnumerable(Clusters(12, 4));
        var trials = new List<TrialResult>();
        var result = ml.CreateClassifierSearch(new ClassifierSearchSettings
        {
            MaxExperimentTimeInSeconds = 15, MaxTrials = 6, CrossValidationFolds = 3,
            Trainers = [SearchTrainer.LbfgsMaximumEntropy, SearchTrainer.SdcaMaximumEntropy, SearchTrainer.LightGbm],
        }).Execute(data, groupColumnName: "Object", progress: trials.Add);
        CollectionAssert.AreEqual(trials, result.Trials.ToList(), "progress reports every trial");
        var board = result.Leaderboard(SearchMetric.MacroAccuracy);
        Assert.IsTrue(board.Count >= 1);
        Assert.AreEqual(board[0], result.BestRun);
        Assert.IsTrue(result.BestRun.MacroAccuracy >= 0.9, $"separable clusters: {result.BestRun.MacroAccuracy}");
        Assert.IsTrue(result.Seconds < 15 + 5, $"took {result.Seconds} s for a 15 s budget");

        // A budget too small for anything: every trial is skipped, with the estimate named.
        var tiny = ml.CreateClassifierSearch(new ClassifierSearchSettings { MaxExperimentTimeInSeconds = 1e-6, Trainers = [SearchTrainer.FastTreeOneVersusAll] });
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => tiny.Execute(data));
        StringAssert.Contains(e.Message, "estimated");
    }
}
