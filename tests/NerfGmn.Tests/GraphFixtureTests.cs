using NerfGmn.Architectures;
using NerfGmn.Graphs;
using NerfGmn.IO;

namespace NerfGmn.Tests;

/// <summary>Every NeRF fixture file → graph, compared with the reference graph.</summary>
[TestClass]
public class GraphFixtureTests
{
    public static IEnumerable<object[]> GraphFixtures =>
        Directory.GetFiles(TestPaths.Fixtures, "*.graph.safetensors")
            .Select(f => new object[] { Path.GetFileName(f).Replace(".graph.safetensors", "") });

    [TestMethod]
    [DynamicData(nameof(GraphFixtures))]
    public void GraphEqualsReference(string name)
    {
        var weights = NerfWeightsFile.Read(TestPaths.Fixture(name + ".pth"));
        var expected = SafeTensorsFile.Read(TestPaths.Fixture(name + ".graph.safetensors")).Tensors;
        var graph = ParameterGraphBuilder.Build(weights);

        var x = expected["x"].ToLongs();
        var ei = expected["edge_index"].ToLongs();
        var ea = expected["edge_attr"].ToFloats();
        Assert.AreEqual(expected["x"].Shape[0], graph.NodeCount, "node count");
        Assert.AreEqual(expected["edge_index"].Shape[1], graph.EdgeCount, "edge count");
        CollectionAssert.AreEqual(x, graph.X, "x");
        CollectionAssert.AreEqual(ei, graph.EdgeIndex, "edge_index");
        for (int e = 0; e < graph.EdgeCount; e++)
        {
            for (int c = 0; c < 3; c++)
                if (ea[6 * e + c] != graph.EdgeAttr[6 * e + c])
                    Assert.Fail($"edge_attr[{e}, {c}] = {graph.EdgeAttr[6 * e + c]}, reference {ea[6 * e + c]}");
            // Positions: exact with the descriptor's recorded linspace values.
            for (int c = 3; c < 6; c++)
                if (ea[6 * e + c] != graph.EdgeAttr[6 * e + c])
                    Assert.Fail($"edge_attr[{e}, {c}] = {graph.EdgeAttr[6 * e + c]}, reference {ea[6 * e + c]}");
        }
        Assert.AreEqual(weights.Architecture.Graph!.Nodes, graph.NodeCount);
        Assert.AreEqual(weights.Architecture.Graph!.Edges, graph.EdgeCount);
    }

    [TestMethod]
    [DataRow("tri"), DataRow("tri_16w"), DataRow("tri_32h"), DataRow("tri_8c"), DataRow("tv4")]
    public void TriplanePositionsFromOurLinspaceAreWithin1e6(string name)
    {
        var arch = NerfArchitecture.Load(TestPaths.Fixture(name + ".arch.json"));
        arch = arch with { Triplane = arch.Triplane! with { PositionValues = null } };
        var weights = NerfWeightsFile.Read(TestPaths.Fixture(name + ".pth"), new NerfLoadOptions { Architecture = arch });
        var ea = SafeTensorsFile.Read(TestPaths.Fixture(name + ".graph.safetensors")).Tensors["edge_attr"].ToFloats();
        var graph = ParameterGraphBuilder.Build(weights);
        double max = 0;
        for (int k = 0; k < ea.Length; k++) max = Math.Max(max, Math.Abs(ea[k] - graph.EdgeAttr[k]));
        Assert.IsTrue(max <= 1e-6, $"max position difference {max}");
    }

    [TestMethod]
    public void OurLinspaceMatchesTheRecordedTorchValues()
    {
        foreach (var f in new[] { "tri.arch.json", "tri_16w.arch.json" })
        {
            var tp = NerfArchitecture.Load(TestPaths.Fixture(f)).Triplane!;
            var ours = TriplaneLayerGraphBuilder.Linspace(tp.Resolution);
            for (int k = 0; k < ours.Length; k++)
                Assert.AreEqual(tp.PositionValues![k], ours[k], 3e-7f, $"{f} k={k}");
        }
    }

    [TestMethod]
    public void Tri2LHasTheReferenceCounts()
    {
        var weights = NerfWeightsFile.Read(TestPaths.Fixture("tri_2l.pth"));
        var graph = ParameterGraphBuilder.Build(weights);
        Assert.AreEqual(3520, graph.NodeCount);
        Assert.AreEqual(73728, graph.EdgeCount);
    }

    [TestMethod]
    public void GraphFileRoundTrips()
    {
        var graph = ParameterGraphBuilder.Build(NerfWeightsFile.Read(TestPaths.Fixture("tv7.pth")));
        using var dir = TestPaths.NewTempDir();
        graph.Save(dir.File("g.safetensors"));
        var back = ParameterGraph.Load(dir.File("g.safetensors"));
        CollectionAssert.AreEqual(graph.X, back.X);
        CollectionAssert.AreEqual(graph.EdgeIndex, back.EdgeIndex);
        CollectionAssert.AreEqual(graph.EdgeAttr, back.EdgeAttr);
        var raw = SafeTensorsFile.Read(dir.File("g.safetensors")).Tensors;
        Assert.AreEqual("I64", raw["x"].DType);
        Assert.AreEqual("I64", raw["edge_index"].DType);
        Assert.AreEqual("F32", raw["edge_attr"].DType);
    }
}
