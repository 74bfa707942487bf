using Microsoft.ML;
using Microsoft.ML.Data;
using NerfGmn.Classification;
using NerfGmn.MLNet.Lowering;

namespace NerfGmn.MLNet;

/// <summary>
/// The paper's classifier head (Linear-BN-ReLU-Dropout blocks) trained on an embedding column with text labels;
/// the fitted stage predicts a text label and class probabilities and saves into a model zip.
/// </summary>
public sealed class NerfClassifierHeadEstimator : IEstimator<NerfClassifierHeadTransformer>
{
    readonly LoweredStage _stage;
    readonly NerfClassifierHeadOptions _o;

    internal NerfClassifierHeadEstimator(MLContext ml, NerfClassifierHeadOptions options)
    {
        options.Head.Validate();
        _o = options;
        _stage = new LoweredStage(ml, NerfClassifierHeadMapping.Kind,
            [(_o.FeatureColumnName, NerfClassifierHeadMapping.InputColumn)],
            ml.Transforms.CustomMapping<NerfClassifierHeadMapping.Input, NerfClassifierHeadMapping.Output>(NerfClassifierHeadMapping.Map, NerfClassifierHeadMapping.Contract),
            [(NerfClassifierHeadMapping.LabelOutput, _o.PredictedLabelColumnName), (NerfClassifierHeadMapping.ScoreOutput, _o.ScoreColumnName)]);
    }

    /// <summary>Epoch reports while fitting.</summary>
    public event Action<HeadEpoch>? Progress;

    public NerfClassifierHeadTransformer Fit(IDataView input)
    {
        var (x, t) = ColumnReader.Read(input, _o.FeatureColumnName, _o.LabelColumnName);
        (IReadOnlyList<float[]>, IReadOnlyList<string>)? validation = null;
        if (_o.ValidationData is { } vd)
        {
            var (vx, vt) = ColumnReader.Read(vd, _o.FeatureColumnName, _o.LabelColumnName);
            validation = (vx, vt.Select(r => r[0]).ToArray());
        }
        var model = ClassifierHeadTrainer.Train(x, t.Select(r => r[0]).ToArray(), _o.Head, validation, e => Progress?.Invoke(e));
        var chain = _stage.Estimator(NerfClassifierHeadMapping.Encode(model)).Fit(input);
        return new NerfClassifierHeadTransformer(chain, model);
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema) =>
        _stage.OutputSchema(inputSchema);

}
