using NerfGmn.Graphs;
using NerfGmn.IO;

namespace NerfGmn.Tests;

/// <summary>The <c>nerfgmn</c> commands, run in-process through the app's entry point.</summary>
[TestClass]
[DoNotParallelize]   // redirects Console
public class CliTests
{
    static (int Exit, string Output) Run(params string[] args)
    {
        var entry = typeof(NerfGmn.Demo.Commands.GraphCommand).Assembly.EntryPoint!;
        var previous = Console.Out;
        var writer = new StringWriter();
        Console.SetOut(writer);
        try
        {
            int exit = (int)entry.Invoke(null, [args])!;
            return (exit, writer.ToString());
        }
        finally
        {
            Console.SetOut(previous);
        }
    }

    public static IEnumerable<object[]> WeightFixtures =>
        Directory.GetFiles(TestPaths.Fixtures, "*.pth").Where(f => !f.Contains("gmn_encoder"))
            .Select(f => new object[] { Path.GetFileNameWithoutExtension(f) });

    [TestMethod]
    [DynamicData(nameof(WeightFixtures))]
    public void GraphCommandWorksOnEveryFixture(string name)
    {
        using var dir = TestPaths.NewTempDir();
        var (exit, output) = Run("graph", TestPaths.Fixture(name + ".pth"), "--out", dir.File("g.safetensors"));
        Assert.AreEqual(0, exit, output);
        var graph = ParameterGraph.Load(dir.File("g.safetensors"));
        StringAssert.Contains(output, $"nodes {graph.NodeCount}");
        StringAssert.Contains(output, $"edges {graph.EdgeCount}");
        string expected = TestPaths.Fixture(name + ".graph.safetensors");
        if (File.Exists(expected))
        {
            var reference = ParameterGraph.Load(expected);
            CollectionAssert.AreEqual(reference.X, graph.X);
            CollectionAssert.AreEqual(reference.EdgeIndex, graph.EdgeIndex);
        }
    }

    [TestMethod]
    public void BadInputExitsWithTwoAndOneLine()
    {
        using var dir = TestPaths.NewTempDir();
        var (exit, _) = Run("graph", dir.File("missing.pth"), "--out", dir.File("g.safetensors"));
        Assert.AreEqual(2, exit);
        Assert.IsFalse(File.Exists(dir.File("g.safetensors")));
    }

    [TestMethod]
    public void CleanLayoutChangesOnlyPositions()
    {
        using var dir = TestPaths.NewTempDir();
        Assert.AreEqual(0, Run("graph", TestPaths.Fixture("tv4.pth"), "--layout", "clean", "--out", dir.File("g.safetensors")).Exit);
        var clean = ParameterGraph.Load(dir.File("g.safetensors"));
        var reference = ParameterGraph.Load(TestPaths.Fixture("tv4.graph.safetensors"));
        CollectionAssert.AreEqual(reference.EdgeIndex, clean.EdgeIndex);
        CollectionAssert.AreNotEqual(reference.EdgeAttr, clean.EdgeAttr);
    }
}
