using NerfGmn.Classification;
using NerfGmn.Datasets;

namespace NerfGmn.Tests;

[TestClass]
public sealed class ClassificationProtocolTests
{
    /// <summary>
    /// Three classes whose MLP embeddings carry the class in dimensions 0–2 and whose tri-plane embeddings carry it in
    /// dimensions 3–5: a head trained on one family classifies that family and fails on the other, a head trained on
    /// BOTH classifies both — the protocol's matrix shows whether an embedding space is shared.
    /// </summary>
    [TestMethod]
    public void HeadsTrainedOnOneFamilyAreTestedOnEveryFamilyAndOnBoth()
    {
        var rng = new Random(3);
        string[] classes = ["chair", "lamp", "table"];
        LabelledEmbeddings Split(string split, int perClass, string[] families)
        {
            var entries = new List<DatasetEntry>(); var z = new List<float[]>();
            foreach (var (c, ci) in classes.Select((c, i) => (c, i)))
                for (int o = 0; o < perClass; o++)
                    foreach (var f in families)
                    {
                        entries.Add(new DatasetEntry(f, c, $"obj_{o:D3}", split, $"{f}/{c}/obj_{o:D3}/nerf_weights.pth"));
                        var v = Enumerable.Range(0, 8).Select(_ => (float)(0.3 * (rng.NextDouble() - 0.5))).ToArray();
                        v[(f == "mlp" ? 0 : 3) + ci] += 1;
                        z.Add(v);
                    }
            return new LabelledEmbeddings(entries, z);
        }
        var train = Split("train", 20, ["mlp", "triplane"]);
        var val = Split("val", 5, ["mlp", "triplane"]);
        var test = Split("test", 10, ["mlp", "triplane"]);
        var head = new ClassifierHeadOptions { Hidden = [16], Epochs = 60, BatchSize = 32, MaxLearningRate = 1e-2, Dropout = 0, Mixing = false, EvaluateEvery = 5 };
        var cells = ClassificationProtocol.Run(train, val, test, head);

        // No hash embeddings: three training sets (BOTH, MLP, TRI) × three test sets (BOTH, MLP, TRI).
        CollectionAssert.AreEqual(new[] { "mlp+triplane", "mlp", "triplane" }, cells.Select(c => c.Train).Distinct().ToArray());
        CollectionAssert.AreEqual(new[] { "mlp+triplane", "mlp", "triplane" }, cells.Select(c => c.Test).Distinct().ToArray());
        double At(string trainOn, string testOn) => cells.Single(c => c.Train == trainOn && c.Test == testOn).Accuracy;
        Assert.AreEqual((120, 60), (cells.First(c => c.Train == "mlp+triplane").TrainRows, cells.First(c => c.Test == "mlp+triplane").TestRows));
        foreach (var t in new[] { "mlp+triplane", "mlp", "triplane" }) Assert.AreEqual(1.0, At("mlp+triplane", t), t);
        Assert.AreEqual(1.0, At("mlp", "mlp"));
        Assert.AreEqual(1.0, At("triplane", "triplane"));
        Assert.IsTrue(At("mlp", "triplane") < 0.7, $"mlp → triplane {At("mlp", "triplane")}");
        Assert.IsTrue(At("mlp", "mlp+triplane") is > 0.4 and < 0.9, $"mlp → both {At("mlp", "mlp+triplane")}");
    }
}
