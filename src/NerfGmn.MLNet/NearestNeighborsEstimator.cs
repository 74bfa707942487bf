using Microsoft.ML;
using Microsoft.ML.Data;
using NerfGmn.MLNet.Lowering;

namespace NerfGmn.MLNet;

/// <summary>
/// k-nearest-neighbour retrieval as a pipeline stage: fitting stores the rows' embeddings, labels and ids as the
/// gallery; transforming emits each row's k nearest gallery ids, labels, distances and the majority label.
/// </summary>
public sealed class NearestNeighborsEstimator : IEstimator<NearestNeighborsTransformer>
{
    readonly LoweredStage _stage;
    readonly NearestNeighborsOptions _o;

    internal NearestNeighborsEstimator(MLContext ml, NearestNeighborsOptions options)
    {
        if (options.K < 1) throw new ArgumentOutOfRangeException(nameof(options), $"K must be at least 1, got {options.K}");
        _o = options;
        _stage = new LoweredStage(ml, NearestNeighborsMapping.Kind,
            [(_o.FeatureColumnName, NearestNeighborsMapping.InputColumn)],
            ml.Transforms.CustomMapping<NearestNeighborsMapping.Input, NearestNeighborsMapping.Output>(NearestNeighborsMapping.Map, NearestNeighborsMapping.Contract),
            [
                (NearestNeighborsMapping.LabelOutput, _o.PredictedLabelColumnName),
                (NearestNeighborsMapping.IdsOutput, _o.NeighborIdsColumnName),
                (NearestNeighborsMapping.LabelsOutput, _o.NeighborLabelsColumnName),
                (NearestNeighborsMapping.DistancesOutput, _o.NeighborDistancesColumnName),
            ]);
    }

    public NearestNeighborsTransformer Fit(IDataView input)
    {
        var textColumns = _o.IdColumnName is null ? new[] { _o.LabelColumnName } : [_o.LabelColumnName, _o.IdColumnName];
        var (rows, texts) = ColumnReader.Read(input, _o.FeatureColumnName, textColumns);
        var labels = texts.Select(t => t[0]).ToList();
        var ids = texts.Select((t, i) => _o.IdColumnName is null ? i.ToString(System.Globalization.CultureInfo.InvariantCulture) : t[1]).ToList();
        if (rows.Count == 0) throw new InvalidOperationException("NearestNeighbors: the fitting data (the gallery) has no rows");
        int dim = rows[0].Length;
        if (rows.Any(r => r.Length != dim)) throw new InvalidOperationException($"NearestNeighbors: column '{_o.FeatureColumnName}' has rows of different lengths");
        var settings = new NearestNeighborsMapping.Settings(_o.K, _o.Metric, dim, labels.ToArray(), ids.ToArray());
        var chain = _stage.Estimator(NearestNeighborsMapping.Encode(settings, rows.ToArray())).Fit(input);
        return new NearestNeighborsTransformer(chain, rows.Count, _o.K, _o.Metric);
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema) =>
        _stage.OutputSchema(inputSchema);

}
