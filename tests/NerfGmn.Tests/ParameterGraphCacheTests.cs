using NerfGmn.Graphs;

namespace NerfGmn.Tests;

/// <summary>Graphs kept on disk for a run come back exactly as built, are built once per NeRF and options, and follow their NeRF file.</summary>
[TestClass]
public sealed class ParameterGraphCacheTests
{
    static readonly string Weights = Path.Combine(TestPaths.Overfit4, "hash", "car/obj_000", "nerf_weights.safetensors");

    static ParameterGraphOptions WithProbes(int k) => new() { ProbePoints = ProbeFeatures.UnitPoints(k) };

    static void AssertSameGraph(ParameterGraph expected, ParameterGraph actual)
    {
        CollectionAssert.AreEqual(expected.X, actual.X);
        CollectionAssert.AreEqual(expected.EdgeIndex, actual.EdgeIndex);
        CollectionAssert.AreEqual(expected.EdgeAttr, actual.EdgeAttr);
        CollectionAssert.AreEqual(expected.ProbeNodes, actual.ProbeNodes);
        CollectionAssert.AreEqual(expected.NodeProbes, actual.NodeProbes);
        Assert.AreEqual(expected.ProbeCount, actual.ProbeCount);
    }

    [TestMethod]
    public void AGraphWithProbeFeaturesRoundTripsThroughItsFile()
    {
        var graph = ParameterGraphBuilder.Build(IO.NerfWeightsFile.Read(Weights), WithProbes(8));
        using var dir = new TempDir();
        string path = dir.File("g.safetensors");
        graph.Save(path);
        AssertSameGraph(graph, ParameterGraph.Load(path));
    }

    /// <summary>Loads a probed graph's file after <paramref name="edit"/> has changed its tensors; returns the refusal.</summary>
    static NerfFormatException RefusalOfEdited(Action<ParameterGraph, Dictionary<string, IO.SafeTensor>> edit)
    {
        var graph = ParameterGraphBuilder.Build(IO.NerfWeightsFile.Read(Weights), WithProbes(4));
        using var dir = new TempDir();
        string path = dir.File("g.safetensors");
        graph.Save(path);
        var t = IO.SafeTensorsFile.Read(path).Tensors.ToDictionary(kv => kv.Key, kv => kv.Value);
        edit(graph, t);
        IO.SafeTensorsFile.Write(path, t);
        return Assert.ThrowsExactly<NerfFormatException>(() => ParameterGraph.Load(path));
    }

    [TestMethod]
    public void ProbeFeaturesWithoutTheirNodesAreRefusedByName()
    {
        var e = RefusalOfEdited((_, t) => t.Remove(ParameterGraph.ProbeNodesName));
        StringAssert.Contains(e.Message, "probe_nodes");
    }

    [TestMethod]
    public void ProbeRowsOfNodesOutOfOrderAreRefusedAsProbeFeatures()
    {
        var e = RefusalOfEdited((g, t) => t[ParameterGraph.ProbeNodesName] =
            IO.SafeTensor.FromLongs(g.ProbeNodes!.Reverse().Select(n => (long)n).ToArray(), g.ProbeNodes!.Length));
        StringAssert.Contains(e.Message, "probe features that do not fit the graph");
        StringAssert.Contains(e.Message, "ascending");
    }

    [TestMethod]
    public void AGraphIsBuiltOncePerNerfAndOptionsAndRebuiltWhenItsNerfChanges()
    {
        using var dir = new TempDir();
        string nerf = dir.File("nerf_weights.safetensors");
        File.Copy(Weights, nerf);
        int builds = 0;
        ParameterGraph Get(ParameterGraphOptions o) =>
            new ParameterGraphCache(dir.File("cache"), o).GetOrBuild("hash/car/obj_000", nerf, () =>
            {
                builds++;
                return ParameterGraphBuilder.Build(IO.NerfWeightsFile.Read(nerf), o);
            });

        var built = Get(WithProbes(8));
        var read = Get(WithProbes(8));                 // another cache over the same folder: a resumed run
        Assert.AreEqual(1, builds, "the second cache read the first one's file");
        AssertSameGraph(built, read);

        Get(WithProbes(4));
        Assert.AreEqual(2, builds, "other probe points are other graphs");

        File.SetLastWriteTimeUtc(nerf, File.GetLastWriteTimeUtc(nerf).AddMinutes(1));
        Get(WithProbes(8));
        Assert.AreEqual(3, builds, "a rewritten NeRF file gets a new graph");
    }

    [TestMethod]
    public void WithoutAFolderGraphsStayInMemory()
    {
        var cache = new ParameterGraphCache(null, WithProbes(4));
        int builds = 0;
        var a = cache.GetOrBuild("k", Weights, () => { builds++; return ParameterGraphBuilder.Build(IO.NerfWeightsFile.Read(Weights), WithProbes(4)); });
        var b = cache.GetOrBuild("k", Weights, () => { builds++; return null!; });
        Assert.AreSame(a, b);
        Assert.AreEqual(1, builds);
        Assert.IsNull(cache.Folder);
    }
}
