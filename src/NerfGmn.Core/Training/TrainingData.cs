using NerfGmn.Datasets;
using NerfGmn.Graphs;
using NerfGmn.IO;

namespace NerfGmn.Training;

/// <summary>The NeRFs of one split of a dataset, grouped by object: object id → architecture → weight file.</summary>
public sealed class TrainingData
{
    public string Root { get; }
    public string Split { get; }
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Objects { get; }

    /// <param name="exclude"><c>&lt;class&gt;/&lt;object&gt;</c> ids left out (e.g. another dataset's test objects made from the same seed).</param>
    public TrainingData(string root, string split, IEnumerable<string>? architectures = null, IReadOnlySet<string>? exclude = null)
    {
        Root = root; Split = split;
        // Entries are object-major, so grouping keeps the split file's object order and the architecture order.
        var objects = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        foreach (var group in new DatasetLayout(root).Entries(split, architectures ?? DatasetLayout.Families)
                     .Where(e => exclude?.Contains(e.ObjectKey) != true).GroupBy(e => e.ObjectKey))
            objects[group.Key] = group.ToDictionary(e => e.Arch, e => e.WeightsPath, StringComparer.Ordinal);
        Objects = objects;
    }

    TrainingData(string root, string split, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> objects)
    {
        Root = root; Split = split; Objects = objects;
    }

    /// <summary>
    /// The first <paramref name="count"/> objects taken round-robin over classes (<c>&lt;class&gt;/…</c> ids, each
    /// class in split order): an overfit set of 8 classes × 2 is the first two objects of the first eight classes.
    /// </summary>
    public TrainingData Balanced(int count)
    {
        if (count < 2) throw new ArgumentOutOfRangeException(nameof(count), $"an overfit set needs at least 2 objects, got {count}");
        var chosen = ClassRoundRobin(Objects.Keys).Take(count).ToHashSet(StringComparer.Ordinal);
        if (chosen.Count < count) throw new ArgumentException($"split '{Split}' of {Root} has {Objects.Count} objects; the overfit set asks for {count}");
        return new TrainingData(Root, Split, Objects.Where(kv => chosen.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal));
    }

    /// <summary>
    /// <c>&lt;class&gt;/&lt;object&gt;</c> ids one per class before a second of any class: the first object of every class
    /// (classes in order of first appearance), then the second of every class, …; each class's objects in the given order.
    /// </summary>
    public static IReadOnlyList<string> ClassRoundRobin(IEnumerable<string> objects) =>
        objects.GroupBy(o => o.Split('/')[0]).SelectMany(g => g.Select((o, i) => (o, i))).OrderBy(t => t.i).Select(t => t.o).ToList();

    public IReadOnlyList<(string Object, IReadOnlyList<string> Families)> Families() =>
        Objects.Select(kv => (kv.Key, (IReadOnlyList<string>)kv.Value.Keys.ToArray())).ToArray();

    /// <summary>
    /// The occupancy grid of an object's NeRF: its <c>grid.pth</c>, or derived from <paramref name="nerf"/> (that NeRF's
    /// field) where there is none — the bundled mini datasets ship no grids.
    /// </summary>
    public Rendering.OccupancyGrid Grid(string obj, string arch, Fields.RadianceField nerf)
    {
        string path = Path.Combine(Path.GetDirectoryName(Objects[obj][arch])!, DatasetLayout.GridName);
        return File.Exists(path) ? Rendering.OccupancyGrid.Load(path) : Rendering.OccupancyGrid.FromDensity(p => nerf.forward(p).Sigma);
    }

    /// <summary>The parameter graph of an object's NeRF in one architecture, built as an encoder wants it (<see cref="Encoder.GraphMetaNetwork.GraphOptions"/>).</summary>
    public ParameterGraph Graph(string obj, string arch, ParameterGraphOptions options) =>
        ParameterGraphBuilder.Build(NerfWeightsFile.Read(Objects[obj][arch]), options);
}
