using NerfGmn.Architectures;
using NerfGmn.Encoder;
using NerfGmn.Graphs;
using NerfGmn.IO;

namespace NerfGmn.MLNet;

/// <summary>Options of <see cref="NerfEmbeddingCatalog.NerfEmbedding"/>: which encoder, and how NeRF files are read.</summary>
public sealed class NerfEmbeddingOptions
{
    /// <summary>Encoder checkpoint (NerfGmn <c>.safetensors</c>, or a reference <c>.pth</c> state dict). Copied into the fitted model.</summary>
    public string? EncoderPath { get; set; }
    /// <summary>An in-memory encoder instead of <see cref="EncoderPath"/> (its weights are copied into the fitted model).</summary>
    public GraphMetaNetwork? Encoder { get; set; }
    /// <summary>Tri-plane position layout of the graphs; default: the one recorded in the checkpoint (reference for <c>.pth</c> and in-memory encoders).</summary>
    public TriplanePositionLayout? Layout { get; set; }
    /// <summary>Descriptor for every input file instead of each file's own (embedded, sidecar or inferred).</summary>
    public NerfArchitecture? Architecture { get; set; }
    /// <summary>NaN policy: by default a file with NaN/±Inf parameters is an error; set to embed it anyway.</summary>
    public bool AllowNonFinite { get; set; }
    /// <summary>
    /// Where the encoder runs: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>; null: CUDA when the loaded libtorch has it, else
    /// the CPU. Used by the fitted stage in this process and by <c>EmbedNerfs</c>; a saved model stores no device and
    /// runs on the loading machine's default. An in-memory <see cref="Encoder"/> is used where it is.
    /// </summary>
    public string? Device { get; set; }

    internal NerfLoadOptions LoadOptions => new() { Architecture = Architecture, AllowNonFinite = AllowNonFinite };

    /// <summary>The encoder and graph layout: the in-memory one (the caller owns it) or the checkpoint's (owned: dispose it).</summary>
    internal (GraphMetaNetwork Encoder, TriplanePositionLayout Layout, bool Owned) ResolveEncoder()
    {
        var (encoder, layout, owned) = Encoder is { } e
            ? (e, Layout ?? TriplanePositionLayout.Reference, false)
            : string.IsNullOrEmpty(EncoderPath)
                ? throw new ArgumentException("NerfEmbedding needs an encoder: set NerfEmbeddingOptions.EncoderPath or .Encoder")
                : Load(EncoderPath);
        if (encoder.Options.OutputDim != NerfEmbeddingMapping.Dimension)
        {
            if (owned) encoder.Dispose();
            throw new ArgumentException($"NerfEmbedding produces {NerfEmbeddingMapping.Dimension}-float vectors; this encoder outputs {encoder.Options.OutputDim}");
        }
        return (encoder, layout, owned);

        (GraphMetaNetwork, TriplanePositionLayout, bool) Load(string path)
        {
            var (loaded, info) = EncoderCheckpoint.Load(path, Runtime.ComputeDevice.Resolve(Device));
            return (loaded, Layout ?? info.Layout, true);
        }
    }
}
