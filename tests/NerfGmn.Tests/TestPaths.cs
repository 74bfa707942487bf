using System.Reflection;

namespace NerfGmn.Tests;

static class TestPaths
{
    public static string Fixtures => Path.Combine(AppContext.BaseDirectory, "Fixtures");
    public static string Fixture(string name) => Path.Combine(Fixtures, name);

    /// <summary>The bundled <c>datasets/shapes13-mini</c> of the repository.</summary>
    public static string MiniDataset => Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "datasets", "shapes13-mini"));

    /// <summary>
    /// <c>tests/data/overfit4</c>: 4 objects (airplane, bench, car, chair obj_000) of the shared-initialisation
    /// <c>shapes13</c> build in MLP, tri-plane and hash (weights only; see its README).
    /// </summary>
    public static string Overfit4 => Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "data", "overfit4"));

    public static string NuGetPackageRoot =>
        typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .First(a => a.Key == "NuGetPackageRoot").Value!;

    /// <summary>A fresh temporary directory, deleted by the caller's using.</summary>
    public static TempDir NewTempDir() => new();
}

sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "nerfgmn-tests-" + Guid.NewGuid().ToString("N"));
    public TempDir() => Directory.CreateDirectory(Path);
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
