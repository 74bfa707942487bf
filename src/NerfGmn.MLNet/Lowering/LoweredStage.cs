using System.ComponentModel;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace NerfGmn.MLNet.Lowering;

/// <summary>
/// Builds a stage out of stock, saveable ML.NET transformers so that <c>mlContext.Model.Save/Load</c> round-trips it
/// in a fresh process (ML.NET's loader registry is internal): copy the user's input columns to fixed names → a
/// constant key → <c>MapValue(key → state text)</c> → the library's <c>CustomMapping</c> (reads inputs + state,
/// writes fixed outputs) → copy to the user's output names → drop the temporaries. See
/// <c>spec/mlnet-integration.md</c> §2.
/// </summary>
/// <param name="Kind">The state's kind (its blob header).</param>
/// <param name="Inputs">User column → the mapping's fixed input column.</param>
/// <param name="Mapping">The library's <c>CustomMapping</c> estimator.</param>
/// <param name="Outputs">The mapping's fixed output column → user column.</param>
sealed record LoweredStage(MLContext Ml, string Kind, IReadOnlyList<(string Source, string Temp)> Inputs,
    IEstimator<ITransformer> Mapping, IReadOnlyList<(string Temp, string Target)> Outputs)
{
    public const string StateKeyColumn = "__nerfgmn_state_key", StateColumn = "__nerfgmn_state";

    public IEstimator<ITransformer> Estimator(string state)
    {
        var (ml, inputs, mapping, outputs) = (Ml, Inputs, Mapping, Outputs);
        IEstimator<ITransformer> chain = new EstimatorChain<ITransformer>();
        foreach (var (source, temp) in inputs) chain = chain.Append(ml.Transforms.CopyColumns(temp, source));
        chain = chain.Append(ml.Transforms.CustomMapping<NoInput, StateKeyRow>(StateKeyRow.Map, StateKeyRow.Contract))
            .Append(ml.Transforms.Conversion.MapValue(StateColumn, [new KeyValuePair<string, string>(StateKeyRow.Key, state)], StateKeyColumn))
            .Append(mapping);
        foreach (var (temp, target) in outputs) chain = chain.Append(ml.Transforms.CopyColumns(target, temp));
        var temps = inputs.Select(c => c.Temp).Concat(outputs.Select(c => c.Temp)).Append(StateKeyColumn).Append(StateColumn)
            .Except(outputs.Select(c => c.Target)).Distinct().ToArray();
        return chain.Append(ml.Transforms.DropColumns(temps));
    }

    /// <summary>The output schema ML.NET's own stages report for this stage (their input checks and messages included).</summary>
    public SchemaShape OutputSchema(SchemaShape input)
    {
        foreach (var (source, _) in Inputs)
            if (!input.Any(c => c.Name == source))
                throw new ArgumentOutOfRangeException(nameof(input), $"Input column '{source}' not found");
        return Estimator(StateBlob.Placeholder(Kind)).GetOutputSchema(input);
    }
}

/// <summary>Infrastructure of the saved-model chain (public because ML.NET instantiates it by reflection).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class NoInput { }

/// <summary>Infrastructure of the saved-model chain: the constant key the state is looked up by.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class StateKeyRow
{
    public const string Contract = "NerfGmn.StateKey.v1", Key = "state";

    [ColumnName(LoweredStage.StateKeyColumn)]
    public string StateKey = Key;

    public static void Map(NoInput _, StateKeyRow output) => output.StateKey = Key;
}

/// <summary>Lets a loaded model recreate the constant-key mapping by its contract name.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
[CustomMappingFactoryAttribute(StateKeyRow.Contract)]
public sealed class StateKeyFactory : CustomMappingFactory<NoInput, StateKeyRow>
{
    public override Action<NoInput, StateKeyRow> GetMapping() => StateKeyRow.Map;
}
