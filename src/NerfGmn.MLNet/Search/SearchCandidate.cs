using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;
using NerfGmn.Classification;

namespace NerfGmn.MLNet.Search;

/// <summary>
/// One trainer with sampled hyper-parameters, able to fit a model that maps the feature column to a text
/// <c>PredictedLabel</c> and a <c>Score</c> vector without needing the label column at prediction time.
/// </summary>
sealed class SearchCandidate
{
    public SearchTrainer Trainer { get; }
    public IReadOnlyDictionary<string, string> Hyperparameters => _h.ToDictionary(kv => kv.Key, kv => kv.Value.ToString("G4", CultureInfo.InvariantCulture));
    /// <summary>Work units of one fit per (row × feature), for the cost model.</summary>
    public double Complexity { get; }

    readonly Dictionary<string, double> _h;

    SearchCandidate(SearchTrainer trainer, Dictionary<string, double> h, double complexity)
    {
        Trainer = trainer;
        _h = h;
        Complexity = complexity;
    }

    /// <summary>Seconds per (row × feature × complexity unit) assumed before a trainer has been timed here (2-core CPU).</summary>
    public static double PriorCoefficient(SearchTrainer t) => t switch
    {
        SearchTrainer.SdcaMaximumEntropy => 2e-7,
        SearchTrainer.LbfgsMaximumEntropy => 2e-7,
        SearchTrainer.LightGbm => 1e-7,
        SearchTrainer.FastTreeOneVersusAll => 3e-7,
        SearchTrainer.NerfClassifierHead => 4e-7,
        _ => 1e-6,
    };

    /// <summary>The trainer's defaults on the first trial, random samples after.</summary>
    public static SearchCandidate Sample(SearchTrainer t, int classes, bool defaults, Random rng)
    {
        double LogU(double lo, double hi) => Math.Exp(Math.Log(lo) + rng.NextDouble() * (Math.Log(hi) - Math.Log(lo)));
        int IntU(int lo, int hi) => rng.Next(lo, hi + 1);
        Dictionary<string, double> h;
        switch (t)
        {
            case SearchTrainer.SdcaMaximumEntropy:
                h = defaults ? new() { ["l2"] = 1e-2, ["iterations"] = 50 } : new() { ["l2"] = LogU(1e-5, 1), ["iterations"] = IntU(20, 100) };
                return new(t, h, h["iterations"]);
            case SearchTrainer.LbfgsMaximumEntropy:
                h = defaults ? new() { ["l1"] = 1, ["l2"] = 1, ["iterations"] = 100 } : new() { ["l1"] = LogU(1e-3, 3), ["l2"] = LogU(1e-3, 3), ["iterations"] = IntU(30, 200) };
                return new(t, h, h["iterations"]);
            case SearchTrainer.LightGbm:
                h = defaults ? new() { ["leaves"] = 16, ["iterations"] = 100, ["lr"] = 0.1, ["min_leaf"] = 5 }
                    : new() { ["leaves"] = IntU(4, 32), ["iterations"] = IntU(30, 200), ["lr"] = LogU(0.02, 0.3), ["min_leaf"] = IntU(2, 20) };
                return new(t, h, h["iterations"] * classes);
            case SearchTrainer.FastTreeOneVersusAll:
                h = defaults ? new() { ["trees"] = 50, ["leaves"] = 8, ["lr"] = 0.2 }
                    : new() { ["trees"] = IntU(20, 100), ["leaves"] = IntU(4, 16), ["lr"] = LogU(0.05, 0.4) };
                return new(t, h, h["trees"] * classes);
            case SearchTrainer.NerfClassifierHead:
                h = defaults ? new() { ["epochs"] = 150, ["lr"] = 1e-4, ["dropout"] = 0.5 }
                    : new() { ["epochs"] = IntU(50, 200), ["lr"] = LogU(3e-5, 1e-3), ["dropout"] = Math.Round(0.1 + 0.4 * rng.NextDouble(), 2) };
                return new(t, h, h["epochs"]);
            default: throw new ArgumentOutOfRangeException(nameof(t));
        }
    }

    /// <summary>Fits on <paramref name="train"/> (feature vector + text label).</summary>
    public ITransformer Fit(MLContext ml, IDataView train, string label, string features, int seed)
    {
        if (Trainer == SearchTrainer.NerfClassifierHead)
            return ml.MulticlassClassification.Trainers.NerfClassifierHead(new NerfClassifierHeadOptions
            {
                FeatureColumnName = features, LabelColumnName = label,
                Head = new ClassifierHeadOptions { Epochs = (int)_h["epochs"], MaxLearningRate = _h["lr"], Dropout = _h["dropout"], Seed = seed },
            }).Fit(train);

        // Key the labels outside the returned model, so predicting needs no label column.
        const string key = "__nerfgmn_label_key", scaled = "__nerfgmn_features_scaled";
        var keyed = ml.Transforms.Conversion.MapValueToKey(key, label).Fit(train).Transform(train);
        // Linear trainers need standardised features (GMN embeddings vary far more across architectures than within
        // one); trees and the head (BatchNorm) do not. A separate column keeps the user's embeddings as they are.
        ITransformer? scaler = null;
        if (Trainer is SearchTrainer.SdcaMaximumEntropy or SearchTrainer.LbfgsMaximumEntropy)
        {
            scaler = ml.Transforms.NormalizeMeanVariance(scaled, features).Fit(keyed);
            keyed = scaler.Transform(keyed);
            features = scaled;
        }
        IEstimator<ITransformer> trainer = Trainer switch
        {
            SearchTrainer.SdcaMaximumEntropy => ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options
            { LabelColumnName = key, FeatureColumnName = features, L2Regularization = (float)_h["l2"], MaximumNumberOfIterations = (int)_h["iterations"], NumberOfThreads = 1 }),
            SearchTrainer.LbfgsMaximumEntropy => ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options
            { LabelColumnName = key, FeatureColumnName = features, L1Regularization = (float)_h["l1"], L2Regularization = (float)_h["l2"], MaximumNumberOfIterations = (int)_h["iterations"] }),
            SearchTrainer.LightGbm => ml.MulticlassClassification.Trainers.LightGbm(new LightGbmMulticlassTrainer.Options
            {
                LabelColumnName = key, FeatureColumnName = features, NumberOfLeaves = (int)_h["leaves"], NumberOfIterations = (int)_h["iterations"],
                LearningRate = _h["lr"], MinimumExampleCountPerLeaf = (int)_h["min_leaf"], Seed = seed, NumberOfThreads = 2, Verbose = false, Silent = true,
            }),
            SearchTrainer.FastTreeOneVersusAll => ml.MulticlassClassification.Trainers.OneVersusAll(ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
            {
                NumberOfTrees = (int)_h["trees"], NumberOfLeaves = (int)_h["leaves"], LearningRate = _h["lr"],
                MinimumExampleCountPerLeaf = 2, NumberOfThreads = 2, FeatureColumnName = features,
            }), labelColumnName: key),
            _ => throw new InvalidOperationException(),
        };
        var model = trainer.Fit(keyed);
        var scored = model.Transform(keyed);
        var toText = ml.Transforms.Conversion.MapKeyToValue("PredictedLabel").Fit(scored);
        if (scaler is null) return new TransformerChain<ITransformer>(model, toText);
        var drop = ml.Transforms.DropColumns(scaled).Fit(toText.Transform(scored));
        return new TransformerChain<ITransformer>(scaler, model, toText, drop);
    }
}
