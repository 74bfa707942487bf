using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using NerfGmn.Analyzers;
using NerfGmn.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace NerfGmn.Tests;

/// <summary>The guard against temporary TorchSharp Scalars: the analyzer's rules and the ring that replaces them.</summary>
[TestClass]
public class ScalarSafetyTests
{
    static IReadOnlyList<Diagnostic> Analyze(string body)
    {
        string code = $$"""
            using TorchSharp;
            using static TorchSharp.torch;
            using static NerfGmn.Runtime.ScalarArgs;
            class C { object F(Tensor t, Tensor u) { {{body}} } }
            """;
        var refs = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Concat([typeof(torch).Assembly.Location, typeof(ScalarArgs).Assembly.Location])
            .Select(p => MetadataReference.CreateFromFile(p));
        var compilation = CSharpCompilation.Create("snippet", [CSharpSyntaxTree.ParseText(code)], refs,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.AreEqual(0, errors.Count, string.Join("\n", errors));
        return compilation.WithAnalyzers([new ImplicitScalarAnalyzer()]).GetAnalyzerDiagnosticsAsync().Result;
    }

    [TestMethod]
    public void AnalyzerFlagsTemporaryScalarsAndHiddenAlphas()
    {
        var d = Analyze("var a = t * 0.5; var b = t.clamp_min(1e-9); var c = t + u; t.add_(u); var e = t - u; var f = S(1) - t; var g = t - S(1); var h = t.square(); return a;");
        CollectionAssert.AreEquivalent(new[] { "NGT001 0.5", "NGT001 1e-9", "NGT004 t + u", "NGT004 t.add_(u)", "NGT004 S(1) - t", "NGT004 t.square()" },
            d.Select(x => $"{x.Id} {x.Location.SourceTree!.GetText().ToString(x.Location.SourceSpan)}").ToArray());
    }

    [TestMethod]
    public void AnalyzerAcceptsTheSafeForms()
    {
        var d = Analyze("var a = t * S(0.5); var b = t.clamp_min(S(1e-9)); var c = t.Plus(u); t.AddInPlace(u); var f = S(1).Minus(t); var w = where(t.gt(S(0)), T(1f), T(0f)); var h = t.Squared(); return a;");
        Assert.AreEqual(0, d.Count, string.Join("\n", d));
    }

    [TestMethod]
    public void RingScalarsOutliveCollectionsAndAreFreedLater()
    {
        using var t = ones(3);
        var first = ScalarArgs.S(2.5);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using (var r = t * first) CollectionAssert.AreEqual(new[] { 2.5f, 2.5f, 2.5f }, r.data<float>().ToArray());
        for (int i = 0; i < ScalarArgs.RingSize; i++) ScalarArgs.S(i);
        Assert.ThrowsExactly<InvalidOperationException>(() => first.Type, "the ring disposes a Scalar RingSize creations later");
        using var sum = t.Plus(t);
        using var diff = ScalarArgs.S(1f).Minus(sum);
        CollectionAssert.AreEqual(new[] { -1f, -1f, -1f }, diff.data<float>().ToArray());
    }
}
