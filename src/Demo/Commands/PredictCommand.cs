using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Data;
using NerfGmn.MLNet;
using Spectre.Console;

namespace NerfGmn.Demo.Commands;

/// <summary>
/// <c>nerfgmn predict --model x.zip &lt;nerf files…&gt; [--json out.json]</c>: loads a saved ML.NET pipeline (no
/// registration call — the zip names what it needs) and applies it to NeRF files.
/// </summary>
public static class PredictCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "model zip saved with mlContext.Model.Save", Required = true };
        var files = new Argument<string[]>("files") { Description = "NeRF weight files", Arity = ArgumentArity.OneOrMore };
        var column = new Option<string?>("--column") { Description = "input column that takes the paths (default: the model's only text input column)" };
        var json = new Option<string?>("--json") { Description = "write every output column of every row as JSON" };
        var cmd = new Command("predict", "Apply a saved pipeline (.zip) to NeRF files") { model, files, column, json };
        cmd.SetAction(p =>
        {
            var ml = new MLContext(seed: 0);
            string modelPath = p.GetValue(model)!;
            var transformer = ml.Model.LoadNerfModel(modelPath, out var inputSchema);
            var input = Input(ml, inputSchema, p.GetValue(files)!, p.GetValue(column));
            var output = transformer.Transform(input);
            var outputs = OutputColumns(inputSchema, output.Schema);
            var rows = Rows(output, outputs);
            if (p.GetValue(json) is { } jsonPath) NerfGmn.IO.AtomicFile.WriteAllText(jsonPath, rows.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
            var table = new Table().AddColumn("file");
            var shown = outputs.Where(c => c.Type is TextDataViewType || c.Type is NumberDataViewType).ToArray();
            foreach (var c in shown) table.AddColumn(c.Name);
            var names = p.GetValue(files)!;
            for (int i = 0; i < rows.Count; i++)
                table.AddRow([Path.GetFileName(Path.GetDirectoryName(names[i]) ?? "") + "/" + Path.GetFileName(names[i]),
                    .. shown.Select(c => Markup.Escape(rows[i]![c.Name]?.ToJsonString() ?? ""))]);
            AnsiConsole.Write(table);
            return 0;
        });
        return cmd;
    }

    /// <summary>One row per file: the path in the text column that takes it, defaults elsewhere.</summary>
    static IDataView Input(MLContext ml, DataViewSchema schema, string[] files, string? pathColumn)
    {
        var text = schema.Where(c => !c.IsHidden && c.Type is TextDataViewType).Select(c => c.Name).ToArray();
        pathColumn ??= text.Length == 1 ? text[0]
            : throw new ArgumentException($"the model takes {text.Length} text columns ({string.Join(", ", text)}); say which takes the paths with --column");
        string tsv = Path.Combine(Path.GetTempPath(), $"nerfgmn-predict-{Environment.ProcessId}.tsv");
        var columns = schema.Where(c => !c.IsHidden).ToArray();
        var loaderColumns = columns.Select((c, i) => new TextLoader.Column(c.Name, Kind(c), i)).ToArray();
        File.WriteAllLines(tsv, files.Select(f => string.Join('\t', columns.Select(c => c.Name == pathColumn ? Path.GetFullPath(f) : c.Type is TextDataViewType ? "" : "0"))));
        // Materialise now so the temporary file can go.
        var view = ml.Data.LoadFromTextFile(tsv, loaderColumns, separatorChar: '\t', allowQuoting: false);
        var cached = ml.Data.Cache(view);
        using (var c = cached.GetRowCursor(cached.Schema)) while (c.MoveNext()) { }
        File.Delete(tsv);
        return cached;
    }

    static DataKind Kind(DataViewSchema.Column c) => c.Type switch
    {
        TextDataViewType => DataKind.String,
        BooleanDataViewType => DataKind.Boolean,
        NumberDataViewType n when n.RawType == typeof(float) => DataKind.Single,
        NumberDataViewType n when n.RawType == typeof(double) => DataKind.Double,
        NumberDataViewType n when n.RawType == typeof(int) => DataKind.Int32,
        NumberDataViewType n when n.RawType == typeof(long) => DataKind.Int64,
        NumberDataViewType n when n.RawType == typeof(uint) => DataKind.UInt32,
        _ => throw new NotSupportedException($"input column '{c.Name}' of type {c.Type} cannot be filled from the command line"),
    };

    /// <summary>The columns a pipeline adds or replaces (visible, not simply passed through).</summary>
    public static DataViewSchema.Column[] OutputColumns(DataViewSchema input, DataViewSchema output) =>
        output.Where(c => !c.IsHidden && c.Index >= input.Count).ToArray();

    /// <summary>Every value of the given columns, row by row, as JSON (floats round-trip exactly).</summary>
    public static JsonArray Rows(IDataView view, IReadOnlyList<DataViewSchema.Column> columns)
    {
        var rows = new JsonArray();
        using var cursor = view.GetRowCursor(columns);
        var getters = columns.Select(c => Getter(cursor, c)).ToArray();
        while (cursor.MoveNext())
        {
            var row = new JsonObject();
            for (int k = 0; k < columns.Count; k++) row[columns[k].Name] = getters[k]();
            rows.Add(row);
        }
        return rows;
    }

    static Func<JsonNode?> Getter(DataViewRowCursor cursor, DataViewSchema.Column c)
    {
        var item = c.Type is VectorDataViewType v ? v.ItemType : c.Type;
        return (c.Type is VectorDataViewType, item.RawType) switch
        {
            (false, var t) when t == typeof(float) => Scalar<float>(cursor, c, x => JsonValue.Create(x)),
            (false, var t) when t == typeof(double) => Scalar<double>(cursor, c, x => JsonValue.Create(x)),
            (false, var t) when t == typeof(uint) => Scalar<uint>(cursor, c, x => JsonValue.Create(x)),
            (false, var t) when t == typeof(bool) => Scalar<bool>(cursor, c, x => JsonValue.Create(x)),
            (false, var t) when t == typeof(ReadOnlyMemory<char>) => Scalar<ReadOnlyMemory<char>>(cursor, c, x => JsonValue.Create(x.ToString())),
            (true, var t) when t == typeof(float) => Vector<float>(cursor, c, x => JsonValue.Create(x)),
            (true, var t) when t == typeof(double) => Vector<double>(cursor, c, x => JsonValue.Create(x)),
            (true, var t) when t == typeof(ReadOnlyMemory<char>) => Vector<ReadOnlyMemory<char>>(cursor, c, x => JsonValue.Create(x.ToString())),
            _ => () => JsonValue.Create(c.Type.ToString()),
        };
    }

    static Func<JsonNode?> Scalar<T>(DataViewRowCursor cursor, DataViewSchema.Column c, Func<T, JsonNode?> convert)
    {
        var getter = cursor.GetGetter<T>(c);
        return () => { T value = default!; getter(ref value); return convert(value); };
    }

    static Func<JsonNode?> Vector<T>(DataViewRowCursor cursor, DataViewSchema.Column c, Func<T, JsonNode?> convert)
    {
        var getter = cursor.GetGetter<VBuffer<T>>(c);
        return () =>
        {
            VBuffer<T> value = default;
            getter(ref value);
            return new JsonArray(value.DenseValues().Select(convert).ToArray());
        };
    }
}
