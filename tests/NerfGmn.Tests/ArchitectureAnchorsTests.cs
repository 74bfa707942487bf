using NerfGmn.Architectures;
using NerfGmn.IO;
using NerfGmn.Training;
using static TorchSharp.torch;

namespace NerfGmn.Tests;

[TestClass]
public class ArchitectureAnchorsTests
{
    [TestMethod]
    public void TheAnchorIsTheElementWiseMeanOfTheArchitecturesWeights()
    {
        var a = NerfWeightsFile.Read(TestPaths.Fixture("hash.pth"));
        // A second NeRF of the same architecture: every tensor shifted by +1 (weights) or scaled by 3 (table).
        var b = new NerfWeights(a.Architecture, a.Layers.Select(l => l with { Weight = l.Weight.Select(w => w + 1).ToArray() }).ToList(),
            hashTable: a.HashTable!.Select(v => 3 * v).ToArray());
        var mean = ArchitectureAnchors.MeanWeights([a, b]);
        for (int i = 0; i < a.Layers.Count; i++)
            CollectionAssert.AreEqual(a.Layers[i].Weight.Select(w => (float)(((double)w + (w + 1f)) / 2)).ToArray(), mean.Layers[i].Weight, $"layer {i}");
        CollectionAssert.AreEqual(a.HashTable!.Select(v => (float)(((double)v + 3f * v) / 2)).ToArray(), mean.HashTable!);
        Assert.IsNull(mean.Triplane);

        var other = NerfWeightsFile.Read(TestPaths.Fixture("mlp.pth"));
        var e = Assert.ThrowsExactly<ArgumentException>(() => ArchitectureAnchors.MeanWeights([a, other]));
        StringAssert.Contains(e.Message, "mlp.pth");
    }

    [TestMethod]
    public void EmbeddingsBecomeTheirDifferenceFromTheirAnchorAtUnitRms()
    {
        // Rows: graphs (mlp, tri, mlp), then the anchors (tri, mlp).
        var z = tensor(new float[] { 4, 1, 0, 3, 2, 5, 0, 0, 1, 1 }, [5, 2]);
        var rel = ArchitectureAnchors.Relative(z, ["mlp", "tri", "mlp"], ["tri", "mlp"]);
        // mlp: (4,1)−(1,1) = (3,0) → rms √4.5; tri: (0,3)−(0,0) = (0,3); mlp: (2,5)−(1,1) = (1,4) → rms √8.5.
        var expected = new[] { 3 / Math.Sqrt(4.5), 0, 0, 3 / Math.Sqrt(4.5), 1 / Math.Sqrt(8.5), 4 / Math.Sqrt(8.5) };
        var got = rel.data<float>().ToArray();
        for (int k = 0; k < expected.Length; k++) Assert.AreEqual(expected[k], got[k], 1e-6, $"element {k}");
        var e = Assert.ThrowsExactly<ArgumentException>(() => ArchitectureAnchors.Relative(z.narrow(0, 0, 4), ["mlp", "hash", "mlp"], ["mlp"]));
        StringAssert.Contains(e.Message, "hash");
    }
}
