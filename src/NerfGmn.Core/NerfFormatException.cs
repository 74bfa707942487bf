namespace NerfGmn;

/// <summary>A NeRF weight, grid, graph or descriptor file that cannot be used, with the file and the problem named.</summary>
public sealed class NerfFormatException : Exception
{
    public string? FilePath { get; }
    public string Problem { get; }
    /// <summary>The input row that named the file, where the caller knows it (bulk embedding).</summary>
    public long? Row { get; }

    public NerfFormatException(string? filePath, string problem, Exception? inner = null, long? row = null)
        : base((row is null ? "" : $"row {row}: ") + (filePath is null ? problem : $"{filePath}: {problem}"), inner)
    {
        FilePath = filePath;
        Problem = problem;
        Row = row;
    }

    /// <summary>The same problem, located at an input row.</summary>
    public NerfFormatException AtRow(long row) => new(FilePath, Problem, InnerException, row);
}
