using System.ComponentModel;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using NerfGmn.Classification;
using NerfGmn.MLNet.Lowering;

namespace NerfGmn.MLNet;

/// <summary>Row-level work of the classifier head stage: features + head state → class probabilities and label.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class NerfClassifierHeadMapping
{
    public const string Contract = "NerfGmn.ClassifierHead.v1", Kind = "classifier-head";
    internal const string InputColumn = "__nerfgmn_head_features", LabelOutput = "__nerfgmn_head_label", ScoreOutput = "__nerfgmn_head_score";

    public sealed class Input
    {
        [ColumnName(InputColumn), VectorType] public float[] Features = [];
        [ColumnName(LoweredStage.StateColumn)] public ReadOnlyMemory<char> State;
    }

    public sealed class Output
    {
        [ColumnName(LabelOutput)] public string PredictedLabel = "";
        [ColumnName(ScoreOutput), VectorType] public float[] Score = [];
    }

    static readonly StateBlob.Cache<ClassifierHeadModel> Heads = new();

    public static void Map(Input input, Output output)
    {
        var head = Heads.Get(input.State, Kind, p => ClassifierHeadModel.FromBytes(p.Data, "classifier head state"));
        output.Score = head.Predict(input.Features);
        int best = 0;
        for (int i = 1; i < output.Score.Length; i++) if (output.Score[i] > output.Score[best]) best = i;
        output.PredictedLabel = head.Classes[best];
    }

    internal static string Encode(ClassifierHeadModel model) => StateBlob.Encode(Kind, "{}", model.ToBytes());
}

[EditorBrowsable(EditorBrowsableState.Never)]
[CustomMappingFactoryAttribute(NerfClassifierHeadMapping.Contract)]
public sealed class NerfClassifierHeadMappingFactory : CustomMappingFactory<NerfClassifierHeadMapping.Input, NerfClassifierHeadMapping.Output>
{
    public override Action<NerfClassifierHeadMapping.Input, NerfClassifierHeadMapping.Output> GetMapping() => NerfClassifierHeadMapping.Map;
}
