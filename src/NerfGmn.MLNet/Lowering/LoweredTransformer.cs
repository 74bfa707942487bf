using Microsoft.ML;
using Microsoft.ML.Data;

namespace NerfGmn.MLNet.Lowering;

/// <summary>
/// A NerfGmn stage after fitting: a typed face over a chain of stock transformers that does the work and is what
/// gets saved. After <c>mlContext.Model.Load</c> the stage comes back as that chain (same behaviour).
/// </summary>
public abstract class LoweredTransformer : ITransformer, ICanSaveModel
{
    private protected readonly ITransformer Chain;

    private protected LoweredTransformer(ITransformer chain) => Chain = chain;

    public bool IsRowToRowMapper => Chain.IsRowToRowMapper;
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => Chain.GetOutputSchema(inputSchema);
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => Chain.GetRowToRowMapper(inputSchema);
    public IDataView Transform(IDataView input) => new TypedErrorView(Chain.Transform(input));

    void ICanSaveModel.Save(ModelSaveContext ctx) => ((ICanSaveModel)Chain).Save(ctx);
}
