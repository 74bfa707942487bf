using Microsoft.ML;
using Microsoft.ML.Data;
using NerfGmn.Encoder;
using NerfGmn.MLNet.Lowering;

namespace NerfGmn.MLNet;

/// <summary>
/// Embeds every NeRF of a data view once, many graphs per forward pass, and returns the view with the embedding
/// column added — the fast path for training downstream stages (the row-by-row transform embeds one file per row).
/// </summary>
public static class NerfEmbeddingBulk
{
    /// <param name="progress">Called with (done, total) after each batch.</param>
    public static IDataView EmbedNerfs(this DataOperationsCatalog catalog, IDataView input, string outputColumnName, string inputColumnName,
        NerfEmbeddingOptions options, int batchSize = 8, Action<int, int>? progress = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var paths = ColumnReader.Texts(input, inputColumnName, "String (NeRF weight file paths)");
        var (encoder, layout, owned) = options.ResolveEncoder();
        using var embedder = new NerfEmbedder(encoder, layout, options.LoadOptions, ownsEncoder: owned);
        var embeddings = embedder.EmbedFiles(paths, batchSize, done => progress?.Invoke(done, paths.Count), cancel);
        return new AppendedVectorView(input, outputColumnName, embeddings, NerfEmbeddingMapping.Dimension);
    }
}

/// <summary>An input view plus one precomputed float-vector column, row i ↔ values[i] (cursors run in order).</summary>
sealed class AppendedVectorView : IDataView
{
    readonly IDataView _input;
    readonly float[][] _values;

    public AppendedVectorView(IDataView input, string name, float[][] values, int dimension)
    {
        _input = input;
        _values = values;
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(input.Schema);
        builder.AddColumn(name, new VectorDataViewType(NumberDataViewType.Single, dimension));
        Schema = builder.ToSchema();
    }

    public bool CanShuffle => false;
    public DataViewSchema Schema { get; }
    public long? GetRowCount() => _values.Length;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.ToArray();
        int appended = Schema.Count - 1;
        var inputColumns = needed.Where(c => c.Index < appended).Select(c => _input.Schema[c.Index]).ToArray();
        return new Cursor(this, _input.GetRowCursor(inputColumns), needed.Any(c => c.Index == appended));
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    sealed class Cursor(AppendedVectorView view, DataViewRowCursor input, bool vectorActive) : DataViewRowCursor
    {
        public override DataViewSchema Schema => view.Schema;
        public override long Position => input.Position;
        public override long Batch => input.Batch;
        public override bool MoveNext() => input.MoveNext();
        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index == view.Schema.Count - 1 ? vectorActive : input.IsColumnActive(input.Schema[column.Index]);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index < view.Schema.Count - 1) return input.GetGetter<TValue>(input.Schema[column.Index]);
            if (typeof(TValue) != typeof(VBuffer<float>))
                throw new InvalidOperationException($"column '{column.Name}' is a float vector, asked for {typeof(TValue).Name}");
            ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> value) =>
            {
                var src = view._values[input.Position];
                var editor = VBufferEditor.Create(ref value, src.Length);
                src.CopyTo(editor.Values);
                value = editor.Commit();
            };
            return (ValueGetter<TValue>)(Delegate)getter;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) input.Dispose();
            base.Dispose(disposing);
        }
    }
}
