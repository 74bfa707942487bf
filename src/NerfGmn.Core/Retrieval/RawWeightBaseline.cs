using NerfGmn.Architectures;
using NerfGmn.Datasets;
using NerfGmn.IO;

namespace NerfGmn.Retrieval;

/// <summary>1-NN class accuracy of one architecture's NeRFs under one view of their weights.</summary>
public sealed record RawWeightAccuracy(string Arch, string View, int Queries, int Gallery, double Accuracy, double CentredAccuracy);

/// <summary>
/// The encoder-free baseline: 1-NN class accuracy (cosine) of a split's NeRFs against a labelled split of the same
/// architecture, on the flattened raw weights — the grid (tri-plane or hash table) and the Linear layers separately,
/// raw and minus the gallery's mean. It says how much class information the weights carry before any encoder
/// (it depends on whether the NeRFs share an initialisation: see <see cref="DatasetBuildOptions.SharedInit"/>),
/// and it is within one architecture only: raw weights of two architectures are not comparable.
/// </summary>
public static class RawWeightBaseline
{
    public static IReadOnlyList<RawWeightAccuracy> Run(DatasetLayout data, string split = "test", string gallery = "train",
        IEnumerable<string>? architectures = null, Action<string>? progress = null)
    {
        var results = new List<RawWeightAccuracy>();
        foreach (var arch in architectures ?? data.Architectures())
        {
            var g = data.Entries(gallery, [arch]);
            var q = data.Entries(split, [arch]);
            if (g.Count == 0 || q.Count == 0) continue;
            progress?.Invoke($"{arch}: reading {g.Count} + {q.Count} NeRFs");
            var gw = g.Select(e => NerfWeightsFile.Read(e.WeightsPath)).ToList();
            var qw = q.Select(e => NerfWeightsFile.Read(e.WeightsPath)).ToList();
            var views = new List<(string Name, Func<NerfWeights, float[]> Get)>();
            if (gw[0].Triplane is not null) views.Add(("tri-plane", w => w.Triplane!));
            if (gw[0].HashTable is not null) views.Add(("hash table", w => w.HashTable!));
            views.Add(("linear layers", w => w.Layers.SelectMany(l => l.Weight.Concat(l.Bias ?? [])).ToArray()));
            foreach (var (name, get) in views)
            {
                var gv = gw.Select(get).ToList();
                var qv = qw.Select(get).ToList();
                double raw = Accuracy(gv, g.Select(e => e.Class).ToList(), qv, q.Select(e => e.Class).ToList());
                var mean = EncoderEvaluation.Mean(gv);   // the gallery's, subtracted from both sides
                double centred = Accuracy(EncoderEvaluation.Subtract(gv, mean), g.Select(e => e.Class).ToList(),
                    EncoderEvaluation.Subtract(qv, mean), q.Select(e => e.Class).ToList());
                results.Add(new RawWeightAccuracy(arch, name, q.Count, g.Count, raw, centred));
            }
        }
        return results;
    }

    static double Accuracy(IReadOnlyList<float[]> gallery, IReadOnlyList<string> galleryClasses, IReadOnlyList<float[]> queries, IReadOnlyList<string> queryClasses)
    {
        var index = new NearestNeighborIndex(gallery, DistanceMetric.Cosine);
        var predicted = queries.Select(q => galleryClasses[index.Query(q, 1).Indices[0]]).ToList();
        return RetrievalMetrics.Accuracy(queryClasses, predicted).Micro;
    }
}
