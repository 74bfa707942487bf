using NerfGmn.Graphs;
using NerfGmn.IO;
using static TorchSharp.torch;

namespace NerfGmn.Encoder;

/// <summary>
/// NeRF weight file → parameter graph → GMN embedding, one file at a time (thread-safe) or many in batches.
/// The tri-plane position layout is the one the encoder was trained with. Runs on the encoder's device.
/// </summary>
public sealed class NerfEmbedder : IDisposable
{
    public GraphMetaNetwork Encoder { get; }
    public TriplanePositionLayout Layout { get; }
    public NerfLoadOptions LoadOptions { get; }
    public int Dimension => Encoder.Options.OutputDim;

    readonly ParameterGraphOptions _graphOptions;
    readonly bool _ownsEncoder;

    /// <param name="ownsEncoder">Dispose the encoder with this embedder.</param>
    public NerfEmbedder(GraphMetaNetwork encoder, TriplanePositionLayout layout, NerfLoadOptions? loadOptions = null, bool ownsEncoder = true)
    {
        _ownsEncoder = ownsEncoder;
        Encoder = encoder;
        Layout = layout;
        LoadOptions = loadOptions ?? NerfLoadOptions.Default;
        _graphOptions = encoder.GraphOptions(layout);
        encoder.eval();
    }

    /// <summary>
    /// Called (from any thread) with a file's path and its standardised weight RMS when that exceeds
    /// <see cref="WeightStatistics.FarFromTrainingRms"/>: the NeRF lies far outside the weights the encoder was trained on
    /// (typically fitted from another initialisation; see <c>fit --init-from</c>), and its embedding means little.
    /// </summary>
    public Action<string, double>? FarFromTraining { get; set; }

    /// <summary>The parameter graph of one weight file, as this embedder sees it.</summary>
    public ParameterGraph Graph(string path)
    {
        var weights = NerfWeightsFile.Read(path, LoadOptions);
        var graph = ParameterGraphBuilder.Build(weights, _graphOptions);
        // Only architectures with per-entry statistics have a training distribution to compare with.
        if (FarFromTraining is not null && _graphOptions.Statistics?.Entries.ContainsKey(weights.Architecture.Name) == true
            && WeightStatistics.RmsValue(graph) is var rms && rms > WeightStatistics.FarFromTrainingRms)
            FarFromTraining(path, rms);
        return graph;
    }

    ParameterGraph GraphAtRow(string path, long row)
    {
        try { return Graph(path); }
        catch (NerfFormatException e) { throw e.AtRow(row); }
    }

    /// <summary>One NeRF's embedding. Safe to call from several threads at once (no_grad and scopes are per thread).</summary>
    public float[] Embed(string path) => Embed([Graph(path)])[0];

    /// <summary>Embeddings of graphs in one forward pass per <paramref name="batchSize"/> graphs.</summary>
    public float[][] Embed(IReadOnlyList<ParameterGraph> graphs, int batchSize = 8) => Encoder.Embed(graphs, batchSize);

    /// <summary>
    /// Embeddings of many files, <paramref name="batchSize"/> graphs per forward pass; <paramref name="progress"/>
    /// gets the number done after each batch. A file that cannot be read fails with its path.
    /// </summary>
    public float[][] EmbedFiles(IReadOnlyList<string> paths, int batchSize = 8, Action<int>? progress = null, CancellationToken cancel = default)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), "batch size must be at least 1");
        var result = new float[paths.Count][];
        for (int start = 0; start < paths.Count; start += batchSize)
        {
            cancel.ThrowIfCancellationRequested();
            int n = Math.Min(batchSize, paths.Count - start);
            var graphs = new ParameterGraph[n];
            // Graph building is managed code and independent per file: overlap it on the two cores.
            try { Parallel.For(0, n, k => graphs[k] = GraphAtRow(paths[start + k], start + k)); }
            catch (AggregateException e) { System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw(); }
            var z = Embed(graphs, batchSize);
            Array.Copy(z, 0, result, start, n);
            progress?.Invoke(start + n);
        }
        return result;
    }

    /// <param name="device">Where the encoder runs (graphs are built on the CPU and moved per batch); default: the CPU.</param>
    public static NerfEmbedder Load(string checkpointPath, NerfLoadOptions? loadOptions = null, TriplanePositionLayout? layout = null, Device? device = null)
    {
        var (encoder, info) = EncoderCheckpoint.Load(checkpointPath, device);
        return new NerfEmbedder(encoder, layout ?? info.Layout, loadOptions);
    }

    public void Dispose()
    {
        if (_ownsEncoder) Encoder.Dispose();
    }
}
