using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using NerfGmn.MLNet.Lowering;
using NerfGmn.Retrieval;

namespace NerfGmn.MLNet;

/// <summary>Row-level work of the kNN stage: query embedding + gallery state → neighbours and a voted label.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class NearestNeighborsMapping
{
    public const string Contract = "NerfGmn.NearestNeighbors.v1", Kind = "nearest-neighbors";
    internal const string InputColumn = "__nerfgmn_knn_features",
        LabelOutput = "__nerfgmn_knn_label", IdsOutput = "__nerfgmn_knn_ids", LabelsOutput = "__nerfgmn_knn_labels", DistancesOutput = "__nerfgmn_knn_distances";

    public sealed class Input
    {
        [ColumnName(InputColumn), VectorType] public float[] Features = [];
        [ColumnName(LoweredStage.StateColumn)] public ReadOnlyMemory<char> State;
    }

    public sealed class Output
    {
        [ColumnName(LabelOutput)] public string PredictedLabel = "";
        [ColumnName(IdsOutput), VectorType] public string[] Ids = [];
        [ColumnName(LabelsOutput), VectorType] public string[] Labels = [];
        [ColumnName(DistancesOutput), VectorType] public float[] Distances = [];
    }

    internal sealed record Settings(int K, DistanceMetric Metric, int Dimension, string[] Labels, string[] Ids);

    internal sealed record Gallery(NearestNeighborIndex Index, Settings Settings);

    static readonly StateBlob.Cache<Gallery> Galleries = new();

    public static void Map(Input input, Output output)
    {
        var g = Galleries.Get(input.State, Kind, Decode);
        var (idx, dist) = g.Index.Query(input.Features, g.Settings.K);
        output.Ids = idx.Select(i => g.Settings.Ids[i]).ToArray();
        output.Labels = idx.Select(i => g.Settings.Labels[i]).ToArray();
        output.Distances = dist;
        output.PredictedLabel = NearestNeighborIndex.Vote(output.Labels);
    }

    internal static string Encode(Settings settings, float[][] gallery) =>
        StateBlob.Encode(Kind, JsonSerializer.Serialize(settings), MemoryMarshal.AsBytes(gallery.SelectMany(r => r).ToArray().AsSpan()).ToArray());

    static Gallery Decode(StateBlob.Payload payload)
    {
        var s = JsonSerializer.Deserialize<Settings>(payload.Json) ?? throw new InvalidDataException("kNN state has no settings");
        var values = MemoryMarshal.Cast<byte, float>(payload.Data).ToArray();
        if (values.Length != s.Labels.Length * s.Dimension) throw new InvalidDataException("kNN state: gallery size does not match its labels");
        var rows = Enumerable.Range(0, s.Labels.Length).Select(i => values.AsSpan(i * s.Dimension, s.Dimension).ToArray()).ToArray();
        return new Gallery(new NearestNeighborIndex(rows, s.Metric), s);
    }
}

[EditorBrowsable(EditorBrowsableState.Never)]
[CustomMappingFactoryAttribute(NearestNeighborsMapping.Contract)]
public sealed class NearestNeighborsMappingFactory : CustomMappingFactory<NearestNeighborsMapping.Input, NearestNeighborsMapping.Output>
{
    public override Action<NearestNeighborsMapping.Input, NearestNeighborsMapping.Output> GetMapping() => NearestNeighborsMapping.Map;
}
