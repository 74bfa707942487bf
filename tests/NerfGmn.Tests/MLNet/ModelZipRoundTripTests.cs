using Microsoft.ML;
using Microsoft.ML.Data;
using NerfGmn.MLNet;
using NerfGmn.MLNet.Search;
using static NerfGmn.Tests.MLNet.MLNetTestData;

namespace NerfGmn.Tests.MLNet;

/// <summary>Pipelines with NerfGmn stages saved to a zip and applied by a separate process (plain Model.Load).</summary>
[TestClass]
public class ModelZipRoundTripTests
{
    static MLContext _ml = null!;
    static IDataView _train = null!, _embedded = null!, _queries = null!;
    static NerfEmbeddingTransformer _embedding = null!;
    static NerfRow[] _queryRows = null!;

    [ClassInitialize]
    public static void Setup(TestContext _)
    {
        _ml = new MLContext(seed: 0);
        _train = _ml.Data.LoadFromEnumerable(Rows("train", "mlp", "triplane"));
        _embedding = _ml.Transforms.NerfEmbedding("Features", "Path", Options).Fit(_train);
        _embedded = _ml.Data.EmbedNerfs(_train, "Features", "Path", Options);
        // Architectures the downstream stages never saw: hash and an unseen variant.
        _queryRows = Rows("test", "hash", "triplane_8c").Take(4).ToArray();
        _queries = _ml.Data.LoadFromEnumerable(_queryRows);
    }

    static void AssertChildProcessAgrees(ITransformer model, string name)
    {
        using var dir = TestPaths.NewTempDir();
        string zip = dir.File(name + ".zip");
        _ml.Model.Save(model, _train.Schema, zip);
        string inProcess = Outputs(_queries, model.Transform(_queries));
        string child = PredictInChildProcess(zip, "Path", _queryRows.Select(r => r.Path));
        StringAssert.Contains(inProcess, "PredictedLabel");
        Assert.AreEqual(inProcess, child, "the reloaded model in a fresh process must give identical outputs");
    }

    [TestMethod]
    public void EmbeddingTransformAloneRoundTrips()
    {
        using var dir = TestPaths.NewTempDir();
        string zip = dir.File("embedding.zip");
        _ml.Model.Save(_embedding, _train.Schema, zip);
        string inProcess = Outputs(_queries, _embedding.Transform(_queries));
        Assert.AreEqual(inProcess, PredictInChildProcess(zip, "Path", _queryRows.Select(r => r.Path)));
        // The encoder lives inside the zip: nothing outside it is referenced.
        long weightBytes = MLNetTestData.Encoder.ParameterCount * 4;
        Assert.IsTrue(new FileInfo(zip).Length > 0.8 * weightBytes, $"the zip ({new FileInfo(zip).Length} bytes) must hold the encoder weights ({weightBytes} bytes)");
    }

    [TestMethod]
    public void PredictNamesAMissingNerfOrABadModelInOneLineWithExitTwo()
    {
        using var dir = TestPaths.NewTempDir();
        string zip = dir.File("embedding.zip"), json = dir.File("out.json");
        _ml.Model.Save(_embedding, _train.Schema, zip);
        string missing = dir.File("missing.pth");
        // ML.NET's cursor wraps the row's NerfFormatException; the CLI reports the cause.
        var (exit, _, error) = MLNetTestData.RunApp(["predict", "--model", zip, "--column", "Path", "--json", json, _queryRows[0].Path, missing]);
        Assert.AreEqual(2, exit, error);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual(1, lines.Length, error);
        StringAssert.StartsWith(lines[0], "error: ");
        StringAssert.Contains(lines[0], "missing.pth");
        Assert.IsFalse(File.Exists(json), "no output for a failed run");

        File.WriteAllText(dir.File("not-a-model.zip"), "this is not a zip");
        (exit, _, error) = MLNetTestData.RunApp(["predict", "--model", dir.File("not-a-model.zip"), "--column", "Path", _queryRows[0].Path]);
        Assert.AreEqual(2, exit, error);
        Assert.AreEqual(1, error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length, error);
        StringAssert.Contains(error, "not-a-model.zip");
    }

    [TestMethod]
    public void PaperHeadAndNearestNeighborsRoundTrip()
    {
        var head = _ml.MulticlassClassification.Trainers.NerfClassifierHead(new NerfClassifierHeadOptions
        {
            Head = new Classification.ClassifierHeadOptions { Epochs = 30 },
        }).Fit(_embedded);
        var knn = _ml.Transforms.NearestNeighbors(new NearestNeighborsOptions
        {
            K = 3, IdColumnName = "Object", PredictedLabelColumnName = "KnnLabel",
        }).Fit(_embedded);
        AssertChildProcessAgrees(new TransformerChain<ITransformer>(_embedding, head, knn), "head-knn");
    }

    [TestMethod]
    public void SearchedClassifierRoundTrips()
    {
        var search = _ml.CreateClassifierSearch(new ClassifierSearchSettings
        {
            MaxExperimentTimeInSeconds = 20, Trainers = [SearchTrainer.SdcaMaximumEntropy, SearchTrainer.LbfgsMaximumEntropy], MaxTrials = 3,
        });
        var result = search.Execute(_embedded, groupColumnName: "Object");
        Assert.IsTrue(result.Trials.Any(t => t.Status == TrialStatus.Completed));
        AssertChildProcessAgrees(new TransformerChain<ITransformer>(_embedding, result.Model), "searched");
    }

    [TestMethod]
    public void ParallelPredictionEnginesMatchBatchTransform()
    {
        var head = _ml.MulticlassClassification.Trainers.NerfClassifierHead(new NerfClassifierHeadOptions
        {
            Head = new Classification.ClassifierHeadOptions { Epochs = 10 },
        }).Fit(_embedded);
        var model = new TransformerChain<ITransformer>(_embedding, head);
        var batch = _ml.Data.CreateEnumerable<Scored>(model.Transform(_queries), reuseRowObject: false).ToArray();
        var results = new Scored[4][];
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
        {
            using var engine = _ml.Model.CreatePredictionEngine<NerfRow, Scored>(model);
            results[t] = _queryRows.Select(r => engine.Predict(r)).ToArray();
        });
        foreach (var r in results)
            for (int i = 0; i < batch.Length; i++)
            {
                Assert.AreEqual(batch[i].PredictedLabel, r[i].PredictedLabel);
                CollectionAssert.AreEqual(batch[i].Features, r[i].Features);
                CollectionAssert.AreEqual(batch[i].Score, r[i].Score);
            }
    }

    public sealed class Scored
    {
        public string PredictedLabel = "";
        [VectorType(1024)] public float[] Features = [];
        [VectorType] public float[] Score = [];
    }

    [TestMethod]
    public void BulkEmbeddingsMatchTheRowTransform()
    {
        var rowWise = _ml.Data.CreateEnumerable<Embedded>(_embedding.Transform(_queries), reuseRowObject: false).ToArray();
        var bulk = _ml.Data.CreateEnumerable<Embedded>(_ml.Data.EmbedNerfs(_queries, "Features", "Path", Options, batchSize: 3), reuseRowObject: false).ToArray();
        Assert.AreEqual(rowWise.Length, bulk.Length);
        for (int i = 0; i < bulk.Length; i++)
        {
            Assert.AreEqual(rowWise[i].Path, bulk[i].Path);
            double diff = rowWise[i].Features.Zip(bulk[i].Features).Max(p => Math.Abs(p.First - p.Second));
            Assert.IsTrue(diff <= 1e-4, $"row {i}: batched and single embeddings differ by {diff}");
        }
    }

    public sealed class Embedded
    {
        public string Path = "";
        [VectorType(1024)] public float[] Features = [];
    }
}
