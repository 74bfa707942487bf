using NerfGmn.Architectures;
using NerfGmn.Graphs;

namespace NerfGmn.Tests;

/// <summary>The spec's hand-derived test vectors TV1–TV7 (parameter-graphs.md §9), built from in-memory weights.</summary>
[TestClass]
public class GraphTestVectorTests
{
    static NerfArchitecture Sequential(bool bias, params int[][] layers) => new NerfArchitecture
    {
        Name = "tv", Family = NerfFamily.Mlp,
        Encoding = new EncodingSpec { Type = EncodingType.None, OutputDims = layers[0][1] },
        LinearLayers = layers, Bias = bias,
    }.Normalize().Validate();

    static long[] Col(ParameterGraph g, int c) => Enumerable.Range(0, g.NodeCount).Select(n => g.X[3 * n + c]).ToArray();
    static float[] Attr(ParameterGraph g, int c) => Enumerable.Range(0, g.EdgeCount).Select(e => g.EdgeAttr[6 * e + c]).ToArray();

    static ParameterGraph Tv1(bool bias)
    {
        var arch = Sequential(bias, [3, 2], [1, 3]);
        return ParameterGraphBuilder.Build(new NerfWeights(arch, [
            new LinearWeights(3, 2, [1, 2, 3, 4, 5, 6], bias ? [0.1f, 0.2f, 0.3f] : null),
            new LinearWeights(1, 3, [7, 8, 9], bias ? [0.4f] : null)]));
    }

    [TestMethod]
    public void TV1_MlpWithBiases()
    {
        var g = Tv1(bias: true);
        Assert.AreEqual(8, g.NodeCount);
        Assert.AreEqual(13, g.EdgeCount);
        CollectionAssert.AreEqual(new long[] { 0, 0, 0, 0, 1, 0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 1, -1, 1, 2, 0, 0, 2, -1, 1 }, g.X);
        CollectionAssert.AreEqual(new long[] { 0, 1, 0, 1, 0, 1, 5, 5, 5, 2, 3, 4, 7 }, g.Sources.ToArray());
        CollectionAssert.AreEqual(new long[] { 2, 2, 3, 3, 4, 4, 2, 3, 4, 6, 6, 6, 6 }, g.Targets.ToArray());
        CollectionAssert.AreEqual(new float[] { 1, 2, 3, 4, 5, 6, 0.1f, 0.2f, 0.3f, 7, 8, 9, 0.4f }, Attr(g, 0));
        CollectionAssert.AreEqual(new float[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1 }, Attr(g, 1));
        CollectionAssert.AreEqual(new float[] { 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1 }, Attr(g, 2));
        for (int c = 3; c < 6; c++) Assert.IsTrue(Attr(g, c).All(v => v == -1f));
    }

    [TestMethod]
    public void TV2_MlpWithoutBiases()
    {
        var g = Tv1(bias: false);
        Assert.AreEqual(6, g.NodeCount);
        Assert.AreEqual(9, g.EdgeCount);
        CollectionAssert.AreEqual(new long[] { 0, 0, 0, 0, 1, 0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 2, 0, 0 }, g.X);
        CollectionAssert.AreEqual(new long[] { 0, 1, 0, 1, 0, 1, 2, 3, 4 }, g.Sources.ToArray());
        CollectionAssert.AreEqual(new long[] { 2, 2, 3, 3, 4, 4, 5, 5, 5 }, g.Targets.ToArray());
        CollectionAssert.AreEqual(new float[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, Attr(g, 0));
        CollectionAssert.AreEqual(new float[] { 0, 0, 0, 0, 0, 0, 1, 1, 1 }, Attr(g, 1));
    }

    [TestMethod]
    public void TV3_ThreeLayersWithBiases()
    {
        var arch = Sequential(true, [3, 2], [3, 3], [2, 3]);
        LinearWeights L(int l, int o, int i) => new(o, i,
            Enumerable.Range(0, o * i).Select(k => (l + 1) + 0.1f * (k / i) + 0.01f * (k % i)).ToArray(),
            Enumerable.Range(0, o).Select(k => -0.5f * (l + 1) + 0.05f * k).ToArray());
        var g = ParameterGraphBuilder.Build(new NerfWeights(arch, [L(0, 3, 2), L(1, 3, 3), L(2, 2, 3)]));
        Assert.AreEqual(13, g.NodeCount);
        Assert.AreEqual(29, g.EdgeCount);
        CollectionAssert.AreEqual(new long[] { 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3 }, Col(g, 0));
        CollectionAssert.AreEqual(new long[] { 0, 1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 1, -1 }, Col(g, 1));
        CollectionAssert.AreEqual(new long[] { 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1 }, Col(g, 2));
        CollectionAssert.AreEqual(new long[] { 0, 1, 0, 1, 0, 1, 5, 5, 5, 2, 3, 4, 2, 3, 4, 2, 3, 4, 9, 9, 9, 6, 7, 8, 6, 7, 8, 12, 12 }, g.Sources.ToArray());
        CollectionAssert.AreEqual(new long[] { 2, 2, 3, 3, 4, 4, 2, 3, 4, 6, 6, 6, 7, 7, 7, 8, 8, 8, 6, 7, 8, 10, 10, 10, 11, 11, 11, 10, 11 }, g.Targets.ToArray());
        CollectionAssert.AreEqual(Enumerable.Repeat(0f, 9).Concat(Enumerable.Repeat(1f, 12)).Concat(Enumerable.Repeat(2f, 8)).ToArray(), Attr(g, 1));
        CollectionAssert.AreEqual(new float[] { 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1 }, Attr(g, 2));
    }

    static NerfArchitecture TinyTriplane() => new NerfArchitecture
    {
        Name = "tv4", Family = NerfFamily.Triplane,
        Encoding = new EncodingSpec { Type = EncodingType.Identity, OutputDims = 3 },
        Triplane = new TriplaneSpec { Resolution = 2, Channels = 2 },
        LinearLayers = [[2, 5], [1, 2]],
    }.Normalize().Validate();

    static readonly LinearWeights[] Tv4Mlp =
        [new LinearWeights(2, 5, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], null), new LinearWeights(1, 2, [11, 12], null)];

    [TestMethod]
    public void TV4_TinyTriplaneReferenceLayout()
    {
        var triplane = Enumerable.Range(0, 24).Select(k => 100f + k).ToArray();
        var g = ParameterGraphBuilder.Build(new NerfWeights(TinyTriplane(), Tv4Mlp, triplane: triplane));
        Assert.AreEqual(20, g.NodeCount);
        Assert.AreEqual(36, g.EdgeCount);
        CollectionAssert.AreEqual(Enumerable.Repeat(0L, 17).Concat(new long[] { 2, 2, 3 }).ToArray(), Col(g, 0));
        CollectionAssert.AreEqual(new long[] { 0, 1, 2 }.Concat(Enumerable.Range(0, 12).Select(k => (long)k)).Concat(new long[] { -1, -1, -1, -1, 0 }).ToArray(), Col(g, 1));
        CollectionAssert.AreEqual(new long[] { 0, 0, 0 }.Concat(Enumerable.Repeat(16L, 14)).Concat(new long[] { 0, 0, 0 }).ToArray(), Col(g, 2));
        CollectionAssert.AreEqual(Enumerable.Range(0, 24).Select(e => 3L + e / 2).Concat(new long[] { 0, 1, 2, 15, 16, 0, 1, 2, 15, 16, 17, 18 }).ToArray(), g.Sources.ToArray());
        CollectionAssert.AreEqual(Enumerable.Range(0, 24).Select(e => 15L + e % 2).Concat(new long[] { 17, 17, 17, 17, 17, 18, 18, 18, 18, 18, 19, 19 }).ToArray(), g.Targets.ToArray());
        float[][] pos =
        [
            [-1, -1, 0], [-1, 1, 0], [1, -1, 0], [1, 1, 0], [-1, -1, 0], [-1, 1, 0], [1, -1, 0], [1, 1, 0],
            [0, -1, -1], [0, -1, 1], [0, 1, -1], [0, 1, 1], [0, -1, -1], [0, -1, 1], [0, 1, -1], [0, 1, 1],
            [-1, 0, -1], [1, 0, -1], [-1, 0, 1], [1, 0, 1], [-1, 0, -1], [1, 0, -1], [-1, 0, 1], [1, 0, 1],
        ];
        for (int e = 0; e < 24; e++)
        {
            CollectionAssert.AreEqual(new[] { 100f + e, 0, 13 }.Concat(pos[e]).ToArray(), g.EdgeAttr[(6 * e)..(6 * e + 6)], $"edge {e}");
        }
        CollectionAssert.AreEqual(Enumerable.Range(1, 12).Select(v => (float)v).ToArray(), Attr(g, 0)[24..]);
        CollectionAssert.AreEqual(Enumerable.Repeat(1f, 10).Concat(new[] { 2f, 2f }).ToArray(), Attr(g, 1)[24..]);
    }

    [TestMethod]
    public void TV5_GmnerfMemoryLayoutKeepsValuesWithTheirCells()
    {
        var triplane = new float[24];
        for (int p = 0; p < 3; p++) for (int i = 0; i < 2; i++) for (int j = 0; j < 2; j++) for (int c = 0; c < 2; c++)
            triplane[((p * 2 + i) * 2 + j) * 2 + c] = 1000 * p + 100 * i + 10 * j + c;
        var g = ParameterGraphBuilder.Build(new NerfWeights(TinyTriplane(), Tv4Mlp, triplane: triplane));
        Assert.AreEqual(3 + 2, g.Sources[5]);          // e=5: spatial 2 → channel 1, value 101
        Assert.AreEqual(15 + 1, g.Targets[5]);
        Assert.AreEqual(101f, g.EdgeAttr[6 * 5]);
        Assert.AreEqual(3 + 4, g.Sources[9]);          // e=9: spatial 4 → channel 1, value 1001
        Assert.AreEqual(1001f, g.EdgeAttr[6 * 9]);
        CollectionAssert.AreEqual(new[] { -1f, 1f, 0f }, g.EdgeAttr[(6 + 3)..(6 + 6)]);   // e=1 gets (−1, 1, 0) though its cell is (p0, i0, j0)
    }

    [TestMethod]
    public void CleanLayoutGivesEachEdgeItsCellPosition()
    {
        var triplane = Enumerable.Range(0, 24).Select(k => 100f + k).ToArray();
        var weights = new NerfWeights(TinyTriplane(), Tv4Mlp, triplane: triplane);
        var reference = ParameterGraphBuilder.Build(weights);
        var clean = ParameterGraphBuilder.Build(weights, new ParameterGraphOptions { TriplaneLayout = TriplanePositionLayout.Clean });
        CollectionAssert.AreEqual(reference.X, clean.X);
        CollectionAssert.AreEqual(reference.EdgeIndex, clean.EdgeIndex);
        for (int e = 0; e < clean.EdgeCount; e++)
            for (int c = 0; c < 3; c++)
                Assert.AreEqual(reference.EdgeAttr[6 * e + c], clean.EdgeAttr[6 * e + c]);
        // Edge e = s·C + c with s = p·R² + i·R + j; plane 0 (x ← j, y ← i), plane 1 (x ← j, z ← i), plane 2 (y ← j, z ← i).
        for (int e = 0; e < 24; e++)
        {
            int s = e / 2, p = s / 4, i = s / 2 % 2, j = s % 2;
            float li = i == 0 ? -1 : 1, lj = j == 0 ? -1 : 1;
            float[] want = p switch { 0 => [lj, li, 0], 1 => [lj, 0, li], _ => [0, lj, li] };
            CollectionAssert.AreEqual(want, clean.EdgeAttr[(6 * e + 3)..(6 * e + 6)], $"edge {e}");
        }
    }

    [TestMethod]
    public void TV6_RealSizes()
    {
        var rnd = new Random(1);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)rnd.NextDouble()).ToArray();
        NerfWeights Make(NerfArchitecture a) => new(a,
            a.Layers().Select(l => new LinearWeights(l.Out, l.In, R(l.Out * l.In), null)).ToArray(),
            a.Triplane is { } t ? R(3 * t.Resolution * t.Resolution * t.Channels) : null,
            a.Hash is { } h ? R(h.TotalEntries * h.Features) : null);
        foreach (var (arch, n, e, maxIndex) in new[]
                 {
                     (ArchitecturePresets.Mlp(), 352, 18432, 143L),
                     (ArchitecturePresets.Triplane(), 3584, 77824, 3071L),
                     (ArchitecturePresets.Hash(), 16624, 43008, 16383L),
                 })
        {
            var g = ParameterGraphBuilder.Build(Make(arch));
            Assert.AreEqual(n, g.NodeCount, arch.Name);
            Assert.AreEqual(e, g.EdgeCount, arch.Name);
            Assert.AreEqual(maxIndex, Col(g, 1).Max(), arch.Name);
        }
    }

    [TestMethod]
    public void TV7_TinyHashWithTheLayerQuirk()
    {
        var arch = NerfArchitecture.Load(TestPaths.Fixture("tv7.arch.json"));
        var table = Enumerable.Range(1, 32).Select(k => 0.01f * k).ToArray();
        var w1 = Enumerable.Range(1, 32).Select(k => 0.1f * k).ToArray();
        var weights = new NerfWeights(arch, [new LinearWeights(2, 16, w1, null), new LinearWeights(1, 2, [-1, 2], null)], hashTable: table);
        var g = ParameterGraphBuilder.Build(weights);
        Assert.AreEqual(51, g.NodeCount);
        Assert.AreEqual(66, g.EdgeCount);
        for (int n = 0; n < 16; n++) CollectionAssert.AreEqual(new long[] { 0, n, 17 }, g.X[(3 * n)..(3 * n + 3)]);
        for (int n = 16; n < 32; n++) CollectionAssert.AreEqual(new long[] { 0, -1, 17 }, g.X[(3 * n)..(3 * n + 3)]);
        for (int n = 32; n < 48; n++) CollectionAssert.AreEqual(new long[] { 0, n - 32, 0 }, g.X[(3 * n)..(3 * n + 3)]);
        CollectionAssert.AreEqual(new long[] { 1, -1, 0, 1, -1, 0, 2, 0, 0 }, g.X[(3 * 48)..]);
        var endpoints = g.Sources.ToArray().Concat(g.Targets.ToArray()).ToHashSet();
        Assert.IsFalse(Enumerable.Range(32, 16).Any(n => endpoints.Contains(n)), "nodes 32–47 are isolated");
        for (int e = 0; e < 32; e++)
        {
            Assert.AreEqual(e / 2, g.Sources[e]);
            Assert.AreEqual(16 + 2 * (e / 16) + e % 2, g.Targets[e]);
            CollectionAssert.AreEqual(new[] { table[e], 0, 14, e / 16, e % 16, -1 }, g.EdgeAttr[(6 * e)..(6 * e + 6)]);
        }
        Assert.AreEqual(32, Enumerable.Range(32, 34).Count(e => g.EdgeAttr[6 * e + 1] == 0f));
        Assert.AreEqual(2, Enumerable.Range(32, 34).Count(e => g.EdgeAttr[6 * e + 1] == 1f));
        Assert.IsTrue(Enumerable.Range(32, 32).All(e => g.Sources[e] >= 16 && g.Sources[e] < 32), "first Linear starts at the feature nodes");

        var fixedNumbering = ParameterGraphBuilder.Build(weights, new ParameterGraphOptions { HashGridLayerQuirk = false });
        Assert.AreEqual(35, fixedNumbering.NodeCount, "no isolated input nodes without the quirk");
        Assert.AreEqual(66, fixedNumbering.EdgeCount);
    }

    [TestMethod]
    public void BatchOffsetsEdgesAndNumbersGraphs()
    {
        var a = Tv1(true);
        var b = Tv1(false);
        using var batch = GraphBatch.From([a, b]);
        Assert.AreEqual(14, batch.NodeCount);
        Assert.AreEqual(22, batch.EdgeCount);
        var ei = batch.EdgeIndex.data<long>().ToArray();
        CollectionAssert.AreEqual(a.Sources.ToArray().Concat(b.Sources.ToArray().Select(s => s + 8)).ToArray(), ei[..22]);
        CollectionAssert.AreEqual(a.Targets.ToArray().Concat(b.Targets.ToArray().Select(s => s + 8)).ToArray(), ei[22..]);
        CollectionAssert.AreEqual(Enumerable.Repeat(0L, 8).Concat(Enumerable.Repeat(1L, 6)).ToArray(), batch.Batch.data<long>().ToArray());
        CollectionAssert.AreEqual(a.EdgeAttr.Concat(b.EdgeAttr).ToArray(), batch.EdgeAttr.data<float>().ToArray());
    }
}
