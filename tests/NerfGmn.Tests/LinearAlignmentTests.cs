using NerfGmn.Retrieval;

namespace NerfGmn.Tests;

[TestClass]
public class LinearAlignmentTests
{
    /// <summary>Objects as random vectors; architecture B sees them through a fixed random linear map plus noise.</summary>
    static (float[][] A, float[][] B) Objects(int n, double[,] map, Random rng, double noise, bool related = true)
    {
        int d = map.GetLength(0);
        double G() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var a = new float[n][]; var b = new float[n][];
        for (int i = 0; i < n; i++)
        {
            var x = Enumerable.Range(0, d).Select(_ => G()).ToArray();
            var y = related ? x : Enumerable.Range(0, d).Select(_ => G()).ToArray();
            a[i] = x.Select(v => (float)v).ToArray();
            b[i] = Enumerable.Range(0, d).Select(j => (float)(Enumerable.Range(0, d).Sum(k => y[k] * map[k, j]) + 5 + noise * G())).ToArray();
        }
        return (a, b);
    }

    static double[,] RandomMap(int d, Random rng)
    {
        var m = new double[d, d];
        for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) m[i, j] = rng.NextDouble() * 2 - 1;
        return m;
    }

    [TestMethod]
    public void AMapFittedOnSharedObjectsFindsTheSameObjectInTheOtherSpace()
    {
        var rng = new Random(1);
        var map = RandomMap(24, rng);
        var (fa, fb) = Objects(300, map, rng, noise: 0.5);
        var (qa, qb) = Objects(50, map, rng, noise: 0.5);
        var ids = Enumerable.Range(0, 50).Select(i => $"o{i}").ToList();
        var r = LinearAlignment.Run(fa, fb, qa, ids, qb, ids, 1, 5);
        Assert.IsTrue(r.Recall[1] > 0.9, $"R@1 {r.Recall[1]}");
        Assert.AreEqual(300, r.TrainingObjects);
        CollectionAssert.Contains(LinearAlignment.Lambdas, r.Lambda);
        // Without the map the spaces do not line up.
        var plain = RetrievalMetrics.InstanceRecall(qa, ids, qb, ids, 1);
        Assert.IsTrue(plain[1] < 0.3, $"plain R@1 {plain[1]}");
    }

    [TestMethod]
    public void UnrelatedSpacesStayNearChance()
    {
        var rng = new Random(2);
        var map = RandomMap(24, rng);
        var (fa, fb) = Objects(300, map, rng, noise: 0.5, related: false);
        var (qa, qb) = Objects(50, map, rng, noise: 0.5, related: false);
        var ids = Enumerable.Range(0, 50).Select(i => $"o{i}").ToList();
        var r = LinearAlignment.Run(fa, fb, qa, ids, qb, ids, 1);
        Assert.IsTrue(r.Recall[1] < 0.15, $"R@1 {r.Recall[1]} (chance 0.02)");
    }

    [TestMethod]
    public void BadInputIsRefusedWithTheReason()
    {
        var rng = new Random(3);
        var (a, b) = Objects(12, RandomMap(4, rng), rng, 0.1);
        var ids = Enumerable.Range(0, 12).Select(i => $"o{i}").ToList();
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => LinearAlignment.Run(a, b[..11], a, ids, b, ids, 1)).Message, "pair up");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => LinearAlignment.Run(a[..9], b[..9], a, ids, b, ids, 1)).Message, "at least 10");
    }
}
