using System.Runtime.ExceptionServices;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace NerfGmn.MLNet.Lowering;

/// <summary>
/// The view a NerfGmn stage returns: the chain's output, except that a bad NeRF file surfaces as the
/// <see cref="NerfFormatException"/> that names it. ML.NET reads expensive columns with parallel worker cursors and
/// rethrows a worker's failure as "Splitter/consolidator worker encountered exception"; this view finds the typed
/// error inside and throws that instead. Everything else passes through unchanged.
/// </summary>
sealed class TypedErrorView(IDataView inner) : IDataView
{
    public bool CanShuffle => inner.CanShuffle;
    public DataViewSchema Schema => inner.Schema;
    public long? GetRowCount() => inner.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        Guard(() => new Cursor(inner.GetRowCursor(columnsNeeded, rand)));

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        Guard(() => inner.GetRowCursorSet(columnsNeeded, n, rand).Select(c => (DataViewRowCursor)new Cursor(c)).ToArray());

    /// <summary>Runs <paramref name="work"/>; a failure caused by a bad NeRF file is rethrown as that typed error.</summary>
    internal static T Guard<T>(Func<T> work)
    {
        try { return work(); }
        catch (Exception e) when (Find(e) is { } typed && !ReferenceEquals(typed, e))
        {
            ExceptionDispatchInfo.Capture(typed).Throw();
            throw;   // unreachable
        }
    }

    static NerfFormatException? Find(Exception e) => e switch
    {
        NerfFormatException typed => typed,
        AggregateException a => a.InnerExceptions.Select(Find).FirstOrDefault(x => x is not null),
        _ => e.InnerException is { } inner ? Find(inner) : null,
    };

    sealed class Cursor(DataViewRowCursor inner) : DataViewRowCursor
    {
        public override DataViewSchema Schema => inner.Schema;
        public override long Position => inner.Position;
        public override long Batch => inner.Batch;
        public override bool IsColumnActive(DataViewSchema.Column column) => inner.IsColumnActive(column);
        public override ValueGetter<DataViewRowId> GetIdGetter() => inner.GetIdGetter();
        public override bool MoveNext() => Guard(inner.MoveNext);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            var getter = inner.GetGetter<TValue>(column);
            return (ref TValue value) =>
            {
                try { getter(ref value); }
                catch (Exception e) when (Find(e) is { } typed && !ReferenceEquals(typed, e)) { ExceptionDispatchInfo.Capture(typed).Throw(); }
            };
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}

/// <summary>A loaded pipeline whose views raise the typed error (see <see cref="TypedErrorView"/>); saves as the chain it wraps.</summary>
sealed class TypedErrorTransformer(ITransformer inner) : ITransformer, ICanSaveModel
{
    public bool IsRowToRowMapper => inner.IsRowToRowMapper;
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => inner.GetOutputSchema(inputSchema);
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => inner.GetRowToRowMapper(inputSchema);
    public IDataView Transform(IDataView input) => new TypedErrorView(inner.Transform(input));
    void ICanSaveModel.Save(ModelSaveContext ctx) => ((ICanSaveModel)inner).Save(ctx);
}
