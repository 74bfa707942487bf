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
    readonly LoweredStage _stage;
    readonly string _outputColumnName, _inputColumnName;
    readonly NerfEmbeddingOptions _options;

    internal NerfEmbeddingEstimator(MLContext ml, string outputColumnName, string inputColumnName, NerfEmbeddingOptions options)
    {
        if (options.Encoder is null && string.IsNullOrEmpty(options.EncoderPath))
            throw new ArgumentException("NerfEmbedding needs an encoder: set NerfEmbeddingOptions.EncoderPath or .Encoder", nameof(options));
        if (options.Encoder is null && !File.Exists(options.EncoderPath))
            throw new FileNotFoundException($"encoder checkpoint '{options.EncoderPath}' not found", options.EncoderPath);
        _outputColumnName = outputColumnName;
        _inputColumnName = inputColumnName;
        _options = options;
        _stage = new LoweredStage(ml, NerfEmbeddingMapping.Kind,
            [(_inputColumnName, NerfEmbeddingMapping.InputColumn)],
            ml.Transforms.CustomMapping<NerfEmbeddingMapping.Input, NerfEmbeddingMapping.Output>(NerfEmbeddingMapping.Map, NerfEmbeddingMapping.Contract),
            [(NerfEmbeddingMapping.OutputColumn, _outputColumnName)]);
    }

    public NerfEmbeddingTransformer Fit(IDataView input)
    {
        ColumnReader.Require(input.Schema, _inputColumnName, PathsType, t => t is TextDataViewType);
        var (encoder, layout, owned) = _options.ResolveEncoder();
        string state;
        try { state = NerfEmbeddingMapping.Encode(encoder, layout, _options); }
        finally { if (owned) encoder.Dispose(); }
        if (_options.Device is not null) NerfEmbeddingMapping.Prime(state, _options.Device);
        var chain = _stage.Estimator(state).Fit(input);
        return new NerfEmbeddingTransformer(chain, _inputColumnName, _outputColumnName, encoder.Options, layout);
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var col = inputSchema.FirstOrDefault(c => c.Name == _inputColumnName);
        if (col.Name is null)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Input column '{_inputColumnName}' not found");
        if (col.Kind != SchemaShape.Column.VectorKind.Scalar || col.ItemType is not TextDataViewType)
            throw SchemaMismatch(_inputColumnName, col.ItemType + (col.Kind == SchemaShape.Column.VectorKind.Scalar ? "" : " vector"));
        return _stage.OutputSchema(inputSchema);
    }


    const string PathsType = "String (NeRF weight file paths)";

    static ArgumentOutOfRangeException SchemaMismatch(string name, string actual) =>
        new("inputSchema", $"Schema mismatch for input column '{name}': expected {PathsType}, got {actual}");
}
