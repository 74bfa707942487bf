using NerfGmn.Architectures;
using NerfGmn.Graphs;

namespace NerfGmn.Benchmarks;

/// <summary>Parameter-graph conversion time for paper-size NeRFs (in-memory weights → graph arrays).</summary>
public static class GraphBenchmark
{
    public static Dictionary<string, double> Run(int runs = 21)
    {
        var result = new Dictionary<string, double>();
        foreach (var name in new[] { "mlp", "triplane", "hash" })
        {
            var weights = RandomWeights(ArchitecturePresets.Get(name), seed: 0);
            var graph = ParameterGraphBuilder.Build(weights);
            result[$"graph.{name}.ms"] = BenchmarkStats.MedianMs(() => ParameterGraphBuilder.Build(weights), runs, 3);
            result[$"graph.{name}.edges"] = graph.EdgeCount;
            result[$"graph.{name}.nodes"] = graph.NodeCount;
        }
        return result;
    }

    /// <summary>Weights of the right shapes with uniform values (for benchmarks only).</summary>
    public static NerfWeights RandomWeights(NerfArchitecture arch, int seed)
    {
        var rnd = new Random(seed);
        float[] R(int n)
        {
            var v = new float[n];
            for (int i = 0; i < n; i++) v[i] = (float)(rnd.NextDouble() * 0.2 - 0.1);
            return v;
        }
        return new NerfWeights(arch,
            arch.Layers().Select(l => new LinearWeights(l.Out, l.In, R(l.Out * l.In), arch.Bias ? R(l.Out) : null)).ToArray(),
            arch.Triplane is { } t ? R(3 * t.Resolution * t.Resolution * t.Channels) : null,
            arch.Hash is { } h ? R(h.TotalEntries * h.Features) : null);
    }
}
