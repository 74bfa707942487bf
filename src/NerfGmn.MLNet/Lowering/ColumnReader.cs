using Microsoft.ML;
using Microsoft.ML.Data;

namespace NerfGmn.MLNet.Lowering;

/// <summary>Reads a float-vector column and a text column of a view into arrays, with ML.NET-style schema errors.</summary>
static class ColumnReader
{
    public static DataViewSchema.Column Require(DataViewSchema schema, string name, string expected, Func<DataViewType, bool> ok)
    {
        var c = schema.GetColumnOrNull(name) ?? throw new ArgumentOutOfRangeException("input", $"Input column '{name}' not found");
        if (!ok(c.Type)) throw new ArgumentOutOfRangeException("input", $"Schema mismatch for input column '{name}': expected {expected}, got {c.Type}");
        return c;
    }

    public static DataViewSchema.Column FloatVector(DataViewSchema schema, string name) =>
        Require(schema, name, "vector of Single", t => t is VectorDataViewType { ItemType: NumberDataViewType n } && n.RawType == typeof(float));

    public static DataViewSchema.Column Text(DataViewSchema schema, string name) =>
        Require(schema, name, "String", t => t is TextDataViewType);

    /// <summary>One text column, in row order.</summary>
    public static List<string> Texts(IDataView data, string name, string expected = "String")
    {
        var c = Require(data.Schema, name, expected, t => t is TextDataViewType);
        var list = new List<string>();
        using var cursor = data.GetRowCursor([c]);
        var get = cursor.GetGetter<ReadOnlyMemory<char>>(c);
        ReadOnlyMemory<char> v = default;
        while (cursor.MoveNext()) { get(ref v); list.Add(v.ToString()); }
        return list;
    }

    /// <summary>Rows of (vector, text…) in order.</summary>
    public static (List<float[]> Vectors, List<string[]> Texts) Read(IDataView data, string vectorColumn, params string[] textColumns)
    {
        var v = FloatVector(data.Schema, vectorColumn);
        var t = textColumns.Select(n => Text(data.Schema, n)).ToArray();
        var vectors = new List<float[]>();
        var texts = new List<string[]>();
        using var cursor = data.GetRowCursor(t.Prepend(v));
        var vGet = cursor.GetGetter<VBuffer<float>>(v);
        var tGets = t.Select(c => cursor.GetGetter<ReadOnlyMemory<char>>(c)).ToArray();
        VBuffer<float> vb = default;
        ReadOnlyMemory<char> tb = default;
        while (cursor.MoveNext())
        {
            vGet(ref vb);
            vectors.Add(vb.DenseValues().ToArray());
            texts.Add(tGets.Select(g => { g(ref tb); return tb.ToString(); }).ToArray());
        }
        return (vectors, texts);
    }
}
