using NerfGmn.Architectures;
using NerfGmn.Encoder;
using NerfGmn.Graphs;

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
}
