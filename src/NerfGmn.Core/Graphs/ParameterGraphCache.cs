using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace NerfGmn.Graphs;

/// <summary>
/// Parameter graphs built once and read back many times — a training run reads every training NeRF's graph once per
/// epoch, and reading, building and probing a NeRF costs more than a cheap step. Without a directory the graphs stay in
/// memory (~2.7 MB each: 6 GB for the 2,340 NeRFs of a doubled training split). With one, each graph is written there
/// once as safetensors and read back when wanted, so memory holds only the graphs of the current step; the files are
/// kept under a fingerprint of the graph options (statistics, probe points, layout), so a resumed run or a later run with
/// the same options reuses them, and a NeRF file that changes (size or write time) gets a new graph.
/// </summary>
public sealed class ParameterGraphCache
{
    readonly Dictionary<string, ParameterGraph>? _memory;

    /// <summary>The folder this cache's graph files live in; null when graphs are kept in memory.</summary>
    public string? Folder { get; }

    /// <param name="directory">Where graph files go (created when missing); null: in memory.</param>
    /// <param name="options">The options every graph of this cache is built with.</param>
    public ParameterGraphCache(string? directory, ParameterGraphOptions options)
    {
        if (directory is null) { _memory = new(StringComparer.Ordinal); return; }
        IO.OutputFolder.Create(directory, "graph cache");
        Folder = Path.Combine(directory, Fingerprint(options));
        Directory.CreateDirectory(Folder);
    }

    /// <summary>The graph of the NeRF in <paramref name="sourceFile"/>, built with <paramref name="build"/> the first time.</summary>
    /// <param name="key">Names the graph among this cache's (e.g. data root, architecture and object).</param>
    public ParameterGraph GetOrBuild(string key, string sourceFile, Func<ParameterGraph> build)
    {
        if (_memory is not null)
        {
            if (!_memory.TryGetValue(key, out var g)) _memory[key] = g = build();
            return g;
        }
        var info = new FileInfo(sourceFile);
        string path = Path.Combine(Folder!, Hex(SHA256.HashData(Encoding.UTF8.GetBytes(
            $"{key}\u001f{Path.GetFullPath(sourceFile)}\u001f{info.Length}\u001f{info.LastWriteTimeUtc.Ticks}")))[..32] + ".safetensors");
        if (File.Exists(path))
        {
            try { return ParameterGraph.Load(path); }
            catch (NerfFormatException) { File.Delete(path); }   // a damaged file (a disk full at write time) is rebuilt
        }
        var graph = build();
        IO.AtomicFile.Write(path, tmp => graph.Save(tmp));
        return graph;
    }

    /// <summary>32 hex digits of a hash over everything that shapes a graph besides its NeRF.</summary>
    public static string Fingerprint(ParameterGraphOptions options)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Text(string s) => h.AppendData(Encoding.UTF8.GetBytes(s + "\u001f"));
        void Floats(float[] values) { Text(values.Length.ToString()); h.AppendData(MemoryMarshal.AsBytes(values.AsSpan())); }
        Text($"layout={options.TriplaneLayout};quirk={options.HashGridLayerQuirk}");
        if (options.ProbePoints is { } points) { Text("probes"); Floats(points); }
        if (options.Statistics is { } stats)
            foreach (var (arch, (mean, std)) in stats.Entries.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                Text(arch);
                Floats(mean);
                Floats(std);
            }
        return Hex(h.GetHashAndReset())[..32];
    }

    static string Hex(byte[] bytes) => Convert.ToHexString(bytes).ToLowerInvariant();
}
