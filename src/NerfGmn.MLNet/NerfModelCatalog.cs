using Microsoft.ML;

namespace NerfGmn.MLNet;

/// <summary><c>mlContext.Model.LoadNerfModel(...)</c>: <c>Model.Load</c> with errors that name the file.</summary>
public static class NerfModelCatalog
{
    /// <summary>
    /// Loads a saved pipeline like <c>mlContext.Model.Load</c>, but a missing file, a file that is no zip and a damaged
    /// zip raise <see cref="NerfFormatException"/> naming the path (ML.NET's own "Failed to open a zip archive" names
    /// nothing). The returned pipeline raises <see cref="NerfFormatException"/> for a bad NeRF file however its views are
    /// read, where <c>Model.Load</c>'s raises ML.NET's "Splitter/consolidator worker encountered exception" around it.
    /// </summary>
    public static ITransformer LoadNerfModel(this ModelOperationsCatalog catalog, string path, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new NerfFormatException(path, "model file not found");
        try { return new Lowering.TypedErrorTransformer(catalog.Load(path, out inputSchema)); }
        catch (Exception e) when (e is InvalidDataException or FormatException or InvalidOperationException or IOException
                                      or ArgumentException or NotSupportedException or EndOfStreamException)
        {
            var cause = e;
            while (cause.InnerException is not null) cause = cause.InnerException;
            string message = cause.Message.ReplaceLineEndings(" ").Trim();
            throw new NerfFormatException(path, $"not an ML.NET model zip, or a damaged one ({message})", e);
        }
    }
}
