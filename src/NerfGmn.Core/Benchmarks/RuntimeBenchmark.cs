using NerfGmn.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Benchmarks;

/// <summary>
/// Workloads that show the effect of the libtorch allocator/OpenMP settings (<see cref="TorchRuntime"/>): a matmul
/// calibration, allocating and filling a large tensor, a small zeros(), and a stack of message-passing layers shaped
/// like the GMN's (per-edge linear maps over gathered node states, mean aggregation with index_add_) trained with Adam.
/// The settings act only before libtorch starts, so "before" and "after" run in separate processes.
/// </summary>
public static class RuntimeBenchmark
{
    public sealed record Options(int Graphs = 8, int NodesPerGraph = 350, int EdgesPerGraph = 18000, int Dim = 128, int Layers = 4, int Runs = 5);

    public static Dictionary<string, double> Run(Options o, Action<string>? progress = null)
    {
        TorchRuntime.EnsureInitialized();
        torch.set_num_threads(Environment.ProcessorCount);
        var result = new Dictionary<string, double>();

        progress?.Invoke("matmul calibration");
        result["matmul_gflops"] = MatmulGflops(o.Runs);

        progress?.Invoke("allocate + fill 74 MB");
        result["alloc_fill_74mb_ms"] = BenchmarkStats.MedianMs(() =>
        {
            using var t = empty(74L * 1024 * 1024 / 4);
            t.fill_(S(1f));
        }, o.Runs * 2);

        progress?.Invoke("zeros(512, 512)");
        result["zeros_512_ms"] = BenchmarkStats.MedianMs(() => { using var t = zeros(512, 512); }, 50, 5);

        progress?.Invoke("message passing fwd+bwd+Adam");
        var (train, fwd) = MessagePassing(o);
        result["message_passing.train_ms_per_graph"] = train;
        result["message_passing.fwd_ms_per_graph"] = fwd;
        result["peak_rss_mb"] = BenchmarkStats.PeakRssMb();
        return result;
    }

    /// <summary>f32 [4096×1024]·[1024×1024] throughput in GFLOP/s (the machine-speed calibration of every benchmark).</summary>
    public static double MatmulGflops(int runs = 5)
    {
        using var a = randn(4096, 1024);
        using var b = randn(1024, 1024);
        double ms = BenchmarkStats.MedianMs(() => { using var c = a.matmul(b); }, runs, 2);
        return 2.0 * 4096 * 1024 * 1024 / (ms * 1e6);
    }

    sealed class Layer : nn.Module<(Tensor H, Tensor E, Tensor Src, Tensor Dst, Tensor InvDeg), (Tensor H, Tensor E)>
    {
        readonly Linear edge, message, node;

        public Layer(int d) : base("mp")
        {
            edge = nn.Linear(3 * d, d);
            message = nn.Linear(2 * d, d);
            node = nn.Linear(2 * d, d);
            RegisterComponents();
        }

        public override (Tensor H, Tensor E) forward((Tensor H, Tensor E, Tensor Src, Tensor Dst, Tensor InvDeg) g)
        {
            var hs = g.H.index_select(0, g.Src);
            var e = edge.forward(cat([hs, g.H.index_select(0, g.Dst), g.E], 1)).relu();
            var m = message.forward(cat([hs, e], 1)).relu();
            var agg = zeros_like(g.H).index_add_(0, g.Dst, m, S(1.0)) * g.InvDeg;
            var h = node.forward(cat([g.H, agg], 1)).relu();
            return (g.H.Plus(h), g.E.Plus(e));
        }
    }

    static (double TrainMs, double FwdMs) MessagePassing(Options o)
    {
        var gen = new Generator(0);
        long n = (long)o.Graphs * o.NodesPerGraph, e = (long)o.Graphs * o.EdgesPerGraph;
        using var src = randint(0, n, [e], generator: gen);
        using var dstUnsorted = randint(0, n, [e], generator: gen);
        using var dst = dstUnsorted.sort().Values;
        using var deg = zeros(n).index_add_(0, dst, ones(e), S(1.0)).clamp_min(S(1)).reciprocal().unsqueeze(1);
        using var h0 = randn(n, o.Dim, generator: gen);
        using var e0 = randn(e, o.Dim, generator: gen);
        var layers = new ModuleList<Layer>();
        for (int k = 0; k < o.Layers; k++) layers.Add(new Layer(o.Dim));
        var optimizer = optim.Adam(layers.parameters(), 1e-4);

        double train = BenchmarkStats.MedianMs(() =>
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var (h, ed) = (h0, e0);
            foreach (var layer in layers) (h, ed) = layer.forward((h, ed, src, dst, deg));
            var loss = h.Squared().mean().Plus(ed.Squared().mean());
            loss.backward();
            optimizer.step();
        }, Math.Max(3, o.Runs / 2), 1);

        double fwd = BenchmarkStats.MedianMs(() =>
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var (h, ed) = (h0, e0);
            foreach (var layer in layers) (h, ed) = layer.forward((h, ed, src, dst, deg));
        }, Math.Max(3, o.Runs / 2), 1);
        layers.Dispose();
        return (train / o.Graphs, fwd / o.Graphs);
    }
}
