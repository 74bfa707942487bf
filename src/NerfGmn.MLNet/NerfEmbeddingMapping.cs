using System.ComponentModel;
using System.Text.Json;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using NerfGmn.Architectures;
using NerfGmn.Encoder;
using NerfGmn.Graphs;
using NerfGmn.IO;
using NerfGmn.MLNet.Lowering;

namespace NerfGmn.MLNet;

/// <summary>
/// The row-level work of the NerfEmbedding stage: path + encoder state → 1024 floats. A static method in this
/// assembly, so a saved model finds it again by contract name after <c>mlContext.Model.Load</c>.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class NerfEmbeddingMapping
{
    public const string Contract = "NerfGmn.NerfEmbedding.v1", Kind = "nerf-embedding";
    public const int Dimension = 1024;
    internal const string InputColumn = "__nerfgmn_path", OutputColumn = "__nerfgmn_embedding";

    public sealed class Input
    {
        [ColumnName(InputColumn)] public ReadOnlyMemory<char> Path;
        [ColumnName(LoweredStage.StateColumn)] public ReadOnlyMemory<char> State;
    }

    public sealed class Output
    {
        [ColumnName(OutputColumn), VectorType(Dimension)] public float[] Embedding = [];
    }

    /// <summary>What the state carries besides the encoder weights.</summary>
    internal sealed record Settings(string Layout, string? Architecture, bool AllowNonFinite);

    static readonly StateBlob.Cache<NerfEmbedder> Embedders = new();

    public static void Map(Input input, Output output)
    {
        var embedder = Embedders.Get(input.State, Kind, Decode);
        string path = input.Path.ToString();
        if (path.Length == 0) throw new NerfFormatException(null, "empty NeRF path in the input column");
        output.Embedding = embedder.Embed(path);
    }

    internal static string Encode(GraphMetaNetwork encoder, TriplanePositionLayout layout, NerfEmbeddingOptions options)
    {
        var settings = new Settings(layout.ToString(), options.Architecture?.ToJson(), options.AllowNonFinite);
        return StateBlob.Encode(Kind, JsonSerializer.Serialize(settings), EncoderCheckpoint.ToBytes(encoder, layout, "embedded"));
    }

    // A loaded model runs on the machine's default device: the state records none.
    static NerfEmbedder Decode(StateBlob.Payload payload) => Decode(payload, Runtime.ComputeDevice.Resolve(null));

    static NerfEmbedder Decode(StateBlob.Payload payload, TorchSharp.torch.Device device)
    {
        var settings = JsonSerializer.Deserialize<Settings>(payload.Json) ?? throw new InvalidDataException("NerfEmbedding state has no settings");
        var (encoder, _) = EncoderCheckpoint.Load(payload.Data, "NerfEmbedding model state", device);
        var layout = Enum.Parse<TriplanePositionLayout>(settings.Layout);
        var load = new NerfLoadOptions
        {
            Architecture = settings.Architecture is null ? null : NerfArchitecture.FromJson(settings.Architecture),
            AllowNonFinite = settings.AllowNonFinite,
        };
        return new NerfEmbedder(encoder, layout, load);
    }

    /// <summary>The fitted stage of this process runs on the options' device: its embedder is decoded there up front.</summary>
    internal static void Prime(string state, string? device) =>
        Embedders.Prime(state, payload => Decode(payload, Runtime.ComputeDevice.Resolve(device)), Kind);

    /// <summary>Releases encoders cached for models whose state could not be keyed on its text.</summary>
    public static void ClearCache() => Embedders.Clear();
}

/// <summary>Lets a loaded model recreate the embedding mapping by its contract name.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
[CustomMappingFactoryAttribute(NerfEmbeddingMapping.Contract)]
public sealed class NerfEmbeddingMappingFactory : CustomMappingFactory<NerfEmbeddingMapping.Input, NerfEmbeddingMapping.Output>
{
    public override Action<NerfEmbeddingMapping.Input, NerfEmbeddingMapping.Output> GetMapping() => NerfEmbeddingMapping.Map;
}
