using NerfGmn.Architectures;

namespace NerfGmn.Tests;

[TestClass]
public class ArchitectureTests
{
    public static IEnumerable<object[]> FixtureArchitectures =>
        Directory.GetFiles(TestPaths.Fixtures, "*.arch.json").Select(f => new object[] { Path.GetFileName(f) });

    [TestMethod]
    [DynamicData(nameof(FixtureArchitectures))]
    public void ReadsEveryFixtureDescriptorAndRoundTrips(string file)
    {
        var arch = NerfArchitecture.Load(TestPaths.Fixture(file));
        var again = NerfArchitecture.FromJson(arch.ToJson());
        Assert.AreEqual(arch.ToJson(), again.ToJson());
        Assert.AreEqual(arch.Layers().Count, again.Layers().Count);
        Assert.IsNotNull(arch.Graph, "fixture descriptors carry node/edge counts");
    }

    [TestMethod]
    public void FixtureDescriptorsMatchThePresets()
    {
        void Same(string fixture, string preset)
        {
            var f = NerfArchitecture.Load(TestPaths.Fixture(fixture));
            var p = ArchitecturePresets.Get(preset);
            Assert.AreEqual(f.Family, p.Family, fixture);
            CollectionAssert.AreEqual(f.Layers().ToArray(), p.Layers().ToArray(), fixture);
            Assert.AreEqual(f.Activation, p.Activation, fixture);
            Assert.AreEqual(f.Triplane?.Resolution, p.Triplane?.Resolution, fixture);
            Assert.AreEqual(f.Triplane?.Channels, p.Triplane?.Channels, fixture);
            CollectionAssert.AreEqual(f.Hash?.TableSizes, p.Hash?.TableSizes, fixture);
        }
        Same("mlp.arch.json", "mlp");
        Same("mlp_2l.arch.json", "mlp_2l");
        Same("mlp_32h.arch.json", "mlp_32h");
        Same("tri.arch.json", "triplane");
        Same("tri_2l.arch.json", "triplane_2l");
        Same("tri_32h.arch.json", "triplane_32h");
        Same("tri_16w.arch.json", "triplane_16w");
        Same("tri_8c.arch.json", "triplane_8c");
        Same("hash.arch.json", "hash");
    }

    [TestMethod]
    public void TcnnHashTableSizesMatchTheFixtures()
    {
        var tv7 = NerfArchitecture.Load(TestPaths.Fixture("tv7.arch.json")).Hash!;
        CollectionAssert.AreEqual(new[] { 8, 8 }, tv7.ComputeTableSizes());
        CollectionAssert.AreEqual(new[] { 2, 4 }, Enumerable.Range(0, 2).Select(tv7.TcnnResolution).ToArray());
        var paper = ArchitecturePresets.Hash().Hash!;
        CollectionAssert.AreEqual(new[] { 16, 32, 64, 128 }, Enumerable.Range(0, 4).Select(paper.TcnnResolution).ToArray());
        Assert.AreEqual(32768, paper.TotalEntries * paper.Features);
    }

    [TestMethod]
    public void InconsistentDescriptorsAreRejectedWithTheProblemNamed()
    {
        string Error(string json) => Assert.ThrowsExactly<NerfFormatException>(() => NerfArchitecture.FromJson(json, "bad.arch.json")).Message;

        StringAssert.Contains(Error("""{"family":"mlp","encoding":{"type":"frequency","n_frequencies":24},"linear_layers":[[64,144],[16,32]]}"""),
            "linear layer 1 takes 32 inputs but layer 0 gives 64");
        StringAssert.Contains(Error("""{"family":"mlp","encoding":{"type":"frequency","n_frequencies":24},"linear_layers":[[64,100],[16,64]]}"""),
            "the first linear layer takes 100 inputs but the encoding gives 144");
        StringAssert.Contains(Error("""{"family":"cone","linear_layers":[[1,1]]}"""), "unknown family 'cone'");
        StringAssert.Contains(Error("""{"family":"triplane","encoding":{"type":"frequency","n_frequencies":48},"linear_layers":[[64,304]]}"""),
            "needs a 'triplane' section");
        StringAssert.Contains(Error("""{"family": "mlp", "linear_layers": [[1, 1]"""), "invalid architecture JSON");
        StringAssert.Contains(Error("""{"family":"mlp","encoding":{"type":"none","output_dims":2},"activation":"gelu","linear_layers":[[1,2]]}"""),
            "unknown activation 'gelu'");
        var aabb = Error("""{"family":"mlp","encoding":{"type":"none","output_dims":2},"linear_layers":[[1,2]],"aabb":[1,0,0,0,1,1]}""");
        StringAssert.StartsWith(aabb, "bad.arch.json: ");
        StringAssert.Contains(aabb, "aabb must be");
    }
}
