namespace NerfGmn.IO;

/// <summary>
/// Creates a command's output folder, naming what is in the way: a file of that name, or a symbolic link whose target
/// is missing (a dataset kept on another disk and linked in; .NET's own message calls the link a file that "already
/// exists").
/// </summary>
public static class OutputFolder
{
    /// <param name="path">The folder; created with its parents when missing.</param>
    /// <param name="what">What the folder is for, leading the message ("run folder").</param>
    public static void Create(string path, string what = "output folder")
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is { } target && !Directory.Exists(path))
        {
            throw new DirectoryNotFoundException(info.ResolveLinkTarget(returnFinalTarget: true)?.Exists == true
                ? $"{what} {path}: a symbolic link to {target}, which is a file; give a folder"
                : $"{what} {path}: a symbolic link to {target}, which does not exist; create {target} or remove the link");
        }
        if (File.Exists(path)) throw new IOException($"{what} {path}: is a file; give a folder");
        Directory.CreateDirectory(path);
    }
}
