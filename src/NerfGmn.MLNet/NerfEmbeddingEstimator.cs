using Microsoft.ML;
using Microsoft.ML.Data;
using NerfGmn.Encoder;
using NerfGmn.MLNet.Lowering;

namespace NerfGmn.MLNet;

/// <summary>
/// Maps a text column of NeRF weight-file paths to a 1024-float embedding column with a GMN encoder.
/// Fitting reads no rows: it copies the encoder into the transformer (and so into a saved model zip).
/// </summary>
public sealed class NerfEmbeddingEstimator : IEstimator<NerfEmbeddingTransformer>
{
    readonly MLContext _ml;
    readonly string _outputColumnName, _inputColumnName;
    readonly NerfEmbeddingOptions _options;

    internal NerfEmbeddingEstimator(MLContext ml, string outputColumnName, string inputColumnName, NerfEmbeddingOptions options)
    {
        if (options.Encoder is null && string.IsNullOrEmpty(options.EncoderPath))
            throw new ArgumentException("NerfEmbedding needs an encoder: set NerfEmbeddingOptions.EncoderPath or .Encoder", nameof(options));
        if (options.Encoder is null && !File.Exists(options.EncoderPath))
            throw new FileNotFoundException($"encoder checkpoint '{options.EncoderPath}' not found", options.EncoderPath);
        _ml = ml;
        _outputColumnName = outputColumnName;
        _inputColumnName = inputColumnName;
        _options = options;
    }

    public NerfEmbeddingTransformer Fit(IDataView input)
    {
        CheckInput(input.Schema.GetColumnOrNull(_inputColumnName)?.Type, _inputColumnName);
        var (encoder, layout) = ResolveEncoder();
        string state = NerfEmbeddingMapping.Encode(encoder, layout, _options);
        var chain = Lowered(state).Fit(input);
        return new NerfEmbeddingTransformer(chain, _inputColumnName, _outputColumnName, encoder.Options, layout);
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var col = inputSchema.FirstOrDefault(c => c.Name == _inputColumnName);
        if (col.Name is null)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Input column '{_inputColumnName}' not found");
        if (col.Kind != SchemaShape.Column.VectorKind.Scalar || col.ItemType is not TextDataViewType)
            throw SchemaMismatch(_inputColumnName, col.ItemType + (col.Kind == SchemaShape.Column.VectorKind.Scalar ? "" : " vector"));
        return LoweredStage.OutputSchema(_ml, NerfEmbeddingMapping.Kind, inputSchema, Inputs, Mapping, Outputs);
    }

    (GraphMetaNetwork Encoder, Graphs.TriplanePositionLayout Layout) ResolveEncoder()
    {
        if (_options.Encoder is { } e) return (e, _options.Layout ?? Graphs.TriplanePositionLayout.Reference);
        var (encoder, info) = EncoderCheckpoint.Load(_options.EncoderPath!);
        return (encoder, _options.Layout ?? info.Layout);
    }

    (string, string)[] Inputs => [(_inputColumnName, NerfEmbeddingMapping.InputColumn)];
    (string, string)[] Outputs => [(NerfEmbeddingMapping.OutputColumn, _outputColumnName)];
    IEstimator<ITransformer> Mapping =>
        _ml.Transforms.CustomMapping<NerfEmbeddingMapping.Input, NerfEmbeddingMapping.Output>(NerfEmbeddingMapping.Map, NerfEmbeddingMapping.Contract);
    IEstimator<ITransformer> Lowered(string state) => LoweredStage.Estimator(_ml, state, Inputs, Mapping, Outputs);

    internal static void CheckInput(DataViewType? type, string name)
    {
        if (type is null) throw new ArgumentOutOfRangeException("input", $"Input column '{name}' not found");
        if (type is not TextDataViewType) throw SchemaMismatch(name, type.ToString()!);
    }

    static ArgumentOutOfRangeException SchemaMismatch(string name, string actual) =>
        new("inputSchema", $"Schema mismatch for input column '{name}': expected String (NeRF weight file paths), got {actual}");
}
