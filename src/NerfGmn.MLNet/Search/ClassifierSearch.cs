using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using NerfGmn.MLNet.Lowering;
using NerfGmn.Retrieval;

namespace NerfGmn.MLNet.Search;

/// <summary>
/// Model search over ML.NET multiclass trainers and the paper's head on an embedding column: trials are
/// cross-validated with folds grouped by object, each trial's cost is estimated (per-trainer seconds per row ×
/// feature × work unit, calibrated on the trials already run) and skipped when it would overrun the budget; the
/// best candidate is refitted on all rows and returned as a saveable transformer.
/// </summary>
public sealed class ClassifierSearch
{
    readonly MLContext _ml;
    readonly ClassifierSearchSettings _s;

    public ClassifierSearch(MLContext ml, ClassifierSearchSettings settings)
    {
        settings.Validate();
        _ml = ml;
        _s = settings;
    }

    /// <param name="data">Rows with a float-vector feature column and a text label (embed once and pass the result; see <see cref="NerfEmbeddingBulk"/>).</param>
    /// <param name="groupColumnName">Text column whose equal values must share a fold (the object id across architectures).</param>
    /// <param name="progress">Called after every trial (completed or skipped).</param>
    public ClassifierSearchResult Execute(IDataView data, string labelColumnName = "Label", string featureColumnName = "Features",
        string? groupColumnName = null, Action<TrialResult>? progress = null, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        var texts = groupColumnName is null ? new[] { labelColumnName } : [labelColumnName, groupColumnName];
        var (x, t) = ColumnReader.Read(data, featureColumnName, texts);
        if (x.Count < _s.CrossValidationFolds) throw new ArgumentException($"{x.Count} rows cannot be split into {_s.CrossValidationFolds} folds");
        int classes = t.Select(r => r[0]).Distinct().Count();
        if (classes < 2) throw new ArgumentException($"the label column '{labelColumnName}' has {classes} distinct value(s); classification needs two");
        int features = x[0].Length;
        var folds = Folds(t.Select(r => groupColumnName is null ? null : r[1]).ToArray());
        var rows = x.Select((v, i) => new Row { Features = v, Label = t[i][0] }).ToArray();
        // The folds are the same for every trial: split and load them once. Folds whose test part is empty or whose
        // training part has a single class cannot be scored and are left out.
        var cvFolds = Enumerable.Range(0, _s.CrossValidationFolds)
            .Select(f => (Train: rows.Where((_, r) => folds[r] != f).ToArray(), Test: rows.Where((_, r) => folds[r] == f).ToArray()))
            .Where(p => p.Test.Length > 0 && p.Train.Select(r => r.Label).Distinct().Count() >= 2)
            .Select(p => (Train: Load(p.Train, features), Test: Load(p.Test, features), Truth: p.Test.Select(r => r.Label).ToArray()))
            .ToArray();

        var rng = new Random(_s.Seed);
        var coefficient = _s.Trainers.ToDictionary(tr => tr, SearchCandidate.PriorCoefficient);
        var timed = new HashSet<SearchTrainer>();
        var trials = new List<TrialResult>();
        TrialResult? best = null;
        SearchCandidate? bestCandidate = null;
        var tried = new HashSet<SearchTrainer>();
        int consecutiveSkips = 0;
        for (int i = 0; trials.Count < _s.MaxTrials && consecutiveSkips < 2 * _s.Trainers.Count; i++)
        {
            cancel.ThrowIfCancellationRequested();
            var trainer = _s.Trainers[i % _s.Trainers.Count];
            var candidate = SearchCandidate.Sample(trainer, classes, defaults: tried.Add(trainer), rng);
            double perFold = coefficient[trainer] * x.Count * (_s.CrossValidationFolds - 1.0) / _s.CrossValidationFolds * features * candidate.Complexity;
            double estimate = perFold * _s.CrossValidationFolds;
            double refit = perFold * _s.CrossValidationFolds / (_s.CrossValidationFolds - 1.0);
            double remaining = _s.MaxExperimentTimeInSeconds - clock.Elapsed.TotalSeconds;
            if (estimate + refit > remaining)
            {
                consecutiveSkips++;
                var skipped = new TrialResult(trials.Count, trainer, candidate.Hyperparameters, TrialStatus.Skipped, double.NaN, double.NaN, 0, estimate,
                    $"estimated {estimate:F1} s + refit {refit:F1} s > {Math.Max(0, remaining):F1} s left");
                trials.Add(skipped);
                progress?.Invoke(skipped);
                continue;
            }
            consecutiveSkips = 0;
            var sw = Stopwatch.StartNew();
            TrialResult result;
            try
            {
                var truth = new List<string>();
                var predicted = new List<string>();
                foreach (var fold in cvFolds)
                {
                    var model = candidate.Fit(_ml, fold.Train, "Label", "Features", _s.Seed);
                    truth.AddRange(fold.Truth);
                    predicted.AddRange(ColumnReader.Texts(model.Transform(fold.Test), "PredictedLabel"));
                }
                var (micro, macro) = RetrievalMetrics.Accuracy(truth, predicted);
                result = new TrialResult(trials.Count, trainer, candidate.Hyperparameters, TrialStatus.Completed, macro, micro, sw.Elapsed.TotalSeconds, estimate, null);
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException)
            {
                result = new TrialResult(trials.Count, trainer, candidate.Hyperparameters, TrialStatus.Failed, double.NaN, double.NaN, sw.Elapsed.TotalSeconds, estimate, e.Message);
            }
            // Calibrate this trainer's cost from what the trial took (per row × feature × unit).
            double measured = sw.Elapsed.TotalSeconds / (_s.CrossValidationFolds * x.Count * (_s.CrossValidationFolds - 1.0) / _s.CrossValidationFolds * features * candidate.Complexity);
            coefficient[trainer] = timed.Add(trainer) ? measured : Math.Max(measured, 0.5 * (coefficient[trainer] + measured));
            trials.Add(result);
            progress?.Invoke(result);
            if (result.Status == TrialStatus.Completed && (best is null || result.Metric(_s.OptimizingMetric) > best.Metric(_s.OptimizingMetric)))
            {
                best = result;
                bestCandidate = candidate;
            }
        }
        if (best is null || bestCandidate is null)
            throw new InvalidOperationException($"no trial completed within {_s.MaxExperimentTimeInSeconds} s: " +
                string.Join("; ", trials.Select(tr => $"{tr.Trainer}: {tr.Note}").Distinct().Take(5)));
        var final = bestCandidate.Fit(_ml, Load(rows, features), "Label", "Features", _s.Seed);
        return new ClassifierSearchResult(best, final, trials, clock.Elapsed.TotalSeconds);
    }

    sealed class Row
    {
        public float[] Features = [];
        public string Label = "";
    }

    IDataView Load(Row[] rows, int features)
    {
        var schema = Microsoft.ML.Data.SchemaDefinition.Create(typeof(Row));
        schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, features);
        return _ml.Data.LoadFromEnumerable(rows, schema);
    }

    /// <summary>Fold of every row: groups (or single rows) shuffled with the seed and dealt round-robin.</summary>
    int[] Folds(string?[] groups)
    {
        var keys = groups.Select((g, i) => g ?? "\u0001row" + i).ToArray();
        var distinct = keys.Distinct().OrderBy(k => k, StringComparer.Ordinal).ToArray();
        new Random(_s.Seed).Shuffle(distinct);
        var fold = distinct.Select((k, i) => (k, i % _s.CrossValidationFolds)).ToDictionary(p => p.k, p => p.Item2);
        return keys.Select(k => fold[k]).ToArray();
    }
}
