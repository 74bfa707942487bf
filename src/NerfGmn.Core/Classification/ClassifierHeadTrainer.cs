using NerfGmn.Retrieval;
using NerfGmn.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NerfGmn.Classification;

/// <summary>One evaluation during head training.</summary>
public sealed record HeadEpoch(int Epoch, double TrainLoss, double? ValidationAccuracy);

/// <summary>
/// Trains <see cref="ClassifierHead"/> as the reference: cross-entropy, AdamW (lr 1e-4, wd 1e-2) with OneCycle
/// stepped per batch (β₁ cycling), shuffled batches of 256 with embedding mixing, best-on-validation model kept.
/// </summary>
public static class ClassifierHeadTrainer
{
    public static ClassifierHeadModel Train(IReadOnlyList<float[]> x, IReadOnlyList<string> labels, ClassifierHeadOptions options,
        (IReadOnlyList<float[]> X, IReadOnlyList<string> Labels)? validation = null, Action<HeadEpoch>? progress = null, CancellationToken cancel = default)
    {
        options.Validate();
        if (x.Count == 0) throw new ArgumentException("no training rows");
        if (x.Count != labels.Count) throw new ArgumentException("rows and labels differ in count");
        int dim = x[0].Length;
        if (x.Any(r => r.Length != dim)) throw new ArgumentException("training rows differ in length");
        var classes = labels.Distinct().OrderBy(c => c, StringComparer.Ordinal).ToArray();
        if (classes.Length < 2) throw new ArgumentException($"need at least two classes, got {classes.Length}");
        var classIndex = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i);
        var y = labels.Select(l => classIndex[l]).ToArray();

        random.manual_seed(options.Seed);
        var rng = new Random(options.Seed);
        var gen = new Generator((ulong)options.Seed);
        // The training set as one tensor: batches are gathered from it, not rebuilt from managed rows every step.
        var device = Runtime.ComputeDevice.Resolve(options.Device);
        using var xAll = Runtime.TensorRows.FromRows(x).to(device);
        using var head = new ClassifierHead(dim, options.Hidden, classes.Length, options.Dropout);
        Runtime.ComputeDevice.Place(head, device);
        int batches = (x.Count + options.BatchSize - 1) / options.BatchSize;
        var schedule = new OneCycleSchedule(options.MaxLearningRate, options.Epochs * batches);
        var group = new AdamW.ParamGroup(head.parameters(), new AdamW.Options
        {
            LearningRate = schedule.InitialLr, weight_decay = options.WeightDecay, beta1 = 0.95, beta2 = 0.999, eps = 1e-8,
        });
        using var optimizer = optim.AdamW([group], lr: schedule.InitialLr, weight_decay: options.WeightDecay);

        ClassifierHeadModel? best = null;
        double bestAccuracy = double.NegativeInfinity;
        int step = 0;
        var order = Enumerable.Range(0, x.Count).ToArray();
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            cancel.ThrowIfCancellationRequested();
            head.train();
            rng.Shuffle(order);
            double lossSum = 0;
            for (int b = 0; b < batches; b++)
            {
                using var scope = NewDisposeScope();
                var idx = order.Skip(b * options.BatchSize).Take(options.BatchSize).Select(i => (long)i).ToArray();
                var batchX = xAll.index_select(0, tensor(idx, device: device));
                var batchY = idx.Select(i => (long)y[(int)i]).ToArray();
                var (bx, by) = options.Mixing ? EmbeddingMixing.Augment(batchX, batchY, rng, gen) : (batchX, batchY);
                // BatchNorm cannot train on one row: skip a final batch of one, as drop_last would.
                if (by.Length < 2) continue;
                var (lr, beta1) = schedule.At(step++);
                group.Options.LearningRate = lr;
                group.Options.beta1 = beta1;
                optimizer.zero_grad();
                var logits = head.forward(bx);
                var loss = nn.functional.cross_entropy(logits, tensor(by, device: device));
                loss.backward();
                optimizer.step();
                lossSum += loss.item<float>();
            }
            bool evaluate = epoch % options.EvaluateEvery == 0 || epoch == options.Epochs - 1;
            if (!evaluate) continue;
            head.eval();
            var snapshot = head.ToModel(classes);
            double? accuracy = null;
            if (validation is { } v && v.X.Count > 0)
            {
                accuracy = RetrievalMetrics.Accuracy(v.Labels, v.X.Select(r => snapshot.PredictLabel(r)).ToArray()).Micro;
                if (accuracy > bestAccuracy) { bestAccuracy = accuracy.Value; best = snapshot; }
            }
            else best = snapshot;
            progress?.Invoke(new HeadEpoch(epoch, lossSum / batches, accuracy));
        }
        return best!;
    }
}
