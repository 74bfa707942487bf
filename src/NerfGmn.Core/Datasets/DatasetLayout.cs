namespace NerfGmn.Datasets;

/// <summary>
/// Folder layout of a NeRF dataset, as the reference's: <c>&lt;root&gt;/&lt;arch&gt;/&lt;class&gt;/&lt;object&gt;/{nerf_weights.*,
/// grid.pth, transforms_train.json, train/*.png}</c>, split files <c>&lt;root&gt;/{train,val,test}.txt</c> with one
/// <c>&lt;class&gt;/&lt;object&gt;</c> per line, and <c>manifest.json</c>.
/// </summary>
public sealed class DatasetLayout(string root)
{
    public string Root { get; } = root;

    /// <summary>Architecture folders: the paper's families, then the unseen variants (test objects only).</summary>
    public static readonly string[] Families = ["mlp", "triplane", "hash"];
    public static readonly string[] UnseenVariants = ["mlp_2l", "mlp_32h", "triplane_2l", "triplane_32h", "triplane_16w", "triplane_8c"];

    public string NerfFolder(string arch, string className, string objectId) => Path.Combine(Root, arch, className, objectId);
    public string SplitFile(string split) => Path.Combine(Root, split + ".txt");
    public string ManifestPath => Path.Combine(Root, "manifest.json");
    /// <summary>Per-NeRF record, written last: its presence marks the NeRF as done.</summary>
    public static string RecordName => "nerf.json";
    public static string GridName => "grid.pth";
    public static string TransformsName => "transforms_train.json";

    /// <summary>The weight file in a NeRF folder (native <c>nerf_weights.safetensors</c> or gmnerf <c>nerf_weights.pth</c>).</summary>
    public static string? WeightsFile(string nerfFolder) =>
        new[] { "nerf_weights.safetensors", "nerf_weights.pth" }.Select(f => Path.Combine(nerfFolder, f)).FirstOrDefault(File.Exists);

    /// <summary>Reads a split file: (class, object) pairs.</summary>
    public IReadOnlyList<(string Class, string Object)> ReadSplit(string split)
    {
        string path = SplitFile(split);
        if (!File.Exists(path)) throw new NerfFormatException(path, "split file not found");
        IO.InputLimits.CheckFileSize(path, IO.InputLimits.MaxMetadataBytes, "split file");
        // Names become folder names: '..', separators and invalid characters would read outside the dataset.
        static bool IsName(string s) => s.Length > 0 && s is not ("." or "..") && s.IndexOfAny(Path.GetInvalidFileNameChars()) < 0 && !s.Contains('\\');
        return File.ReadAllLines(path).Select((l, i) => (l, i)).Where(x => x.l.Trim().Length > 0).Select(x =>
        {
            var (l, i) = x;
            var parts = l.Trim().Split('/');
            if (parts.Length != 2 || !IsName(parts[0]) || !IsName(parts[1]))
                throw new NerfFormatException(path, $"line {i + 1} '{(l.Length > 80 ? l[..80] + "…" : l)}' is not <class>/<object>");
            return (parts[0], parts[1]);
        }).ToArray();
    }

    /// <summary>Architecture folders present under the root (e.g. <c>mlp</c>, <c>triplane</c>, <c>hash</c>).</summary>
    public IReadOnlyList<string> Architectures() =>
        Directory.GetDirectories(Root).Select(Path.GetFileName).Where(n => n is not null && !n.StartsWith('_') && !n.StartsWith('.'))
            .Cast<string>().OrderBy(n => n, StringComparer.Ordinal).ToArray();

    /// <summary>
    /// Every NeRF of a split in the given architectures (default: all present), object-major: for each object of the
    /// split file, its NeRFs in <paramref name="architectures"/> order.
    /// </summary>
    public IReadOnlyList<DatasetEntry> Entries(string split, IEnumerable<string>? architectures = null)
    {
        var archs = (architectures ?? Architectures()).ToArray();
        var list = new List<DatasetEntry>();
        foreach (var (cls, obj) in ReadSplit(split))
            foreach (var a in archs)
                if (WeightsFile(NerfFolder(a, cls, obj)) is { } w) list.Add(new DatasetEntry(a, cls, obj, split, w));
        return list;
    }
}

/// <summary>One NeRF of a dataset: architecture folder, class, object id, split and weight file.</summary>
public sealed record DatasetEntry(string Arch, string Class, string Object, string Split, string WeightsPath)
{
    /// <summary><c>&lt;class&gt;/&lt;object&gt;</c>: the same id across architectures.</summary>
    public string ObjectKey => $"{Class}/{Object}";
    public string Id => $"{Arch}/{Class}/{Object}";
}
