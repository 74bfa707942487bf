using NerfGmn.Datasets;
using NerfGmn.Retrieval;

namespace NerfGmn.Classification;

/// <summary>One cell of the protocol: a head trained on <paramref name="Train"/> embeddings, tested on <paramref name="Test"/> embeddings.</summary>
/// <param name="Train">Families whose training-split embeddings trained the head (<c>mlp+triplane</c>: both, as the paper's BOTH).</param>
/// <param name="Test">Families of the test-split embeddings it classified.</param>
public sealed record ProtocolCell(string Train, string Test, double Accuracy, int TrainRows, int TestRows);

/// <summary>Embeddings of one split with the entries they belong to (same order).</summary>
public sealed record LabelledEmbeddings(IReadOnlyList<DatasetEntry> Entries, IReadOnlyList<float[]> Embeddings)
{
    public LabelledEmbeddings Of(IReadOnlyCollection<string> families)
    {
        var keep = Enumerable.Range(0, Entries.Count).Where(i => families.Contains(Entries[i].Arch)).ToList();
        return new LabelledEmbeddings(keep.Select(i => Entries[i]).ToList(), keep.Select(i => Embeddings[i]).ToList());
    }

    public IReadOnlyList<string> Labels => Entries.Select(e => e.Class).ToList();
}

/// <summary>
/// The paper's classification protocol (gmnerf's classification experiments): the reference head
/// (<see cref="ClassifierHeadTrainer"/>) is trained on the training split's embeddings of BOTH architectures, of the MLPs
/// only or of the tri-planes only (here also of the hash grids), the best epoch chosen on the validation split of the
/// same families, and tested on the test split's embeddings of each family and of MLP + tri-plane together. A head
/// trained on one family and tested on another measures whether the embedding space is shared across architectures.
/// </summary>
public static class ClassificationProtocol
{
    public const string Both = "mlp+triplane";

    /// <summary>The training sets: BOTH, MLP, TRI, then the hash grid.</summary>
    public static readonly IReadOnlyList<(string Name, string[] Families)> TrainingSets =
        [(Both, ["mlp", "triplane"]), ("mlp", ["mlp"]), ("triplane", ["triplane"]), ("hash", ["hash"])];

    public static IReadOnlyList<ProtocolCell> Run(LabelledEmbeddings train, LabelledEmbeddings? validation, LabelledEmbeddings test,
        ClassifierHeadOptions head, Action<string>? progress = null, CancellationToken cancel = default)
    {
        var testFamilies = test.Entries.Select(e => e.Arch).Distinct().ToList();
        // BOTH first, then every family the test split has, in the dataset's order (base families, then the variants).
        var testSets = new List<(string Name, string[] Families)>();
        if (testFamilies.Contains("mlp") && testFamilies.Contains("triplane")) testSets.Add((Both, ["mlp", "triplane"]));
        var order = DatasetLayout.Families.Concat(DatasetLayout.UnseenVariants).ToList();
        testSets.AddRange(testFamilies.OrderBy(f => order.IndexOf(f) is var i and >= 0 ? i : int.MaxValue)
            .ThenBy(f => f, StringComparer.Ordinal).Select(f => (f, new[] { f })));
        var cells = new List<ProtocolCell>();
        foreach (var (name, families) in TrainingSets)
        {
            var rows = train.Of(families);
            if (rows.Entries.Count == 0 || rows.Labels.Distinct().Count() < 2) continue;
            cancel.ThrowIfCancellationRequested();
            progress?.Invoke($"classifier trained on {name} ({rows.Entries.Count} embeddings)");
            var val = validation?.Of(families);
            var model = ClassifierHeadTrainer.Train(rows.Embeddings, rows.Labels, head,
                val is { Entries.Count: > 0 } ? (val.Embeddings, val.Labels) : null, cancel: cancel);
            foreach (var (testName, testFams) in testSets)
            {
                var t = test.Of(testFams);
                if (t.Entries.Count == 0) continue;
                double accuracy = RetrievalMetrics.Accuracy(t.Labels, t.Embeddings.Select(z => model.PredictLabel(z)).ToArray()).Micro;
                cells.Add(new ProtocolCell(name, testName, accuracy, rows.Entries.Count, t.Entries.Count));
            }
        }
        return cells;
    }
}
