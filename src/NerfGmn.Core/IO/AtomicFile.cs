namespace NerfGmn.IO;

/// <summary>
/// Writes a file whole or not at all: the content goes to a temporary file beside the destination, which is then
/// renamed over it. A destination that is a folder is refused before anything is written, and the temporary file is
/// removed when writing or renaming fails, so a failed write leaves nothing behind.
/// </summary>
public static class AtomicFile
{
    /// <param name="path">The destination.</param>
    /// <param name="write">Writes the content to the temporary path it is given.</param>
    /// <param name="extension">Appended to the temporary name, for writers that choose the format by extension (".png").</param>
    public static void Write(string path, Action<string> write, string extension = "")
    {
        if (Directory.Exists(path)) throw new IOException($"{path}: is a folder; give a file name to write");
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null && !Directory.Exists(folder)) throw new DirectoryNotFoundException($"{path}: folder {folder} does not exist");
        string tmp = path + ".tmp-" + Environment.ProcessId + extension;
        try
        {
            write(tmp);
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>Writes <paramref name="text"/> (UTF-8) whole or not at all.</summary>
    public static void WriteAllText(string path, string text) => Write(path, tmp => File.WriteAllText(tmp, text));
}
