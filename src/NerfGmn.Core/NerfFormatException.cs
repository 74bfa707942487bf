namespace NerfGmn;

/// <summary>A NeRF weight, grid, graph or descriptor file that cannot be used, with the file and the problem named.</summary>
public sealed class NerfFormatException : Exception
{
    public string? FilePath { get; }

    public NerfFormatException(string? filePath, string problem, Exception? inner = null)
        : base(filePath is null ? problem : $"{filePath}: {problem}", inner)
    {
        FilePath = filePath;
    }
}
