using TorchSharp;
using static TorchSharp.torch;

namespace NerfGmn.Training;

/// <summary>Each NeRF's field pool and render target for a run's objective, made on first use and kept (a fit or an inversion reads each many times).</summary>
internal sealed class NerfTargetCache(TrainingOptions run) : IDisposable
{
    readonly Dictionary<string, FieldTarget> _fields = new(StringComparer.Ordinal);
    readonly Dictionary<string, RenderTarget> _renders = new(StringComparer.Ordinal);

    public FieldTarget Field(TrainingData data, string obj, string arch) =>
        Get(_fields, data, obj, arch, (nerf, grid, file) => FieldTarget.Create(nerf, grid, run.Field, new Generator(StableHash.Of(run.Seed, "field-target", file))));

    public RenderTarget Render(TrainingData data, string obj, string arch) =>
        Get(_renders, data, obj, arch, (nerf, grid, file) => RenderTarget.ForWeightsFile(nerf, grid, file, run.Rendering, new Generator(StableHash.Of(run.Seed, "probe-target", file))));

    /// <summary>
    /// The run's objective (L_F or the rendering loss) of <paramref name="embeddings"/> [n, E] against these NeRFs;
    /// <paramref name="field"/> overrides the run's field sizes (e.g. fewer points per NeRF).
    /// </summary>
    public Tensor Loss(Decoder.ImplicitDecoder decoder, Tensor embeddings, TrainingData data, IReadOnlyList<(string Object, string Arch)> nerfs,
        Generator gen, FieldLossOptions? field = null) =>
        Objective.UsesField(run.Objective)
            ? FieldLoss.Compute(decoder, embeddings, nerfs.Select(n => Field(data, n.Object, n.Arch)).ToList(), field ?? run.Field, gen)
            : RenderingLoss.Compute(decoder, embeddings, nerfs.Select(n => Render(data, n.Object, n.Arch)).ToList(), run.Rendering, gen);

    /// <summary>
    /// The decoder's foreground PSNR on this NeRF from <paramref name="embedding"/> [1, E], on the same rays and background
    /// at every call (the probe's draw), so that numbers from a fit, an inversion and the probe compare.
    /// </summary>
    public double RenderPsnr(Decoder.ImplicitDecoder decoder, Tensor embedding, TrainingData data, string obj, string arch, int seed)
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(StableHash.Of(seed, "probe-render", data.Objects[obj][arch]));
        return RenderingLoss.ForegroundPsnr(decoder, embedding, Render(data, obj, arch), run.Rendering, gen);
    }

    static T Get<T>(Dictionary<string, T> cache, TrainingData data, string obj, string arch, Func<Fields.RadianceField, Rendering.OccupancyGrid, string, T> make)
    {
        string file = data.Objects[obj][arch];
        if (cache.TryGetValue(file, out var t)) return t;
        using var nerf = new Fields.RadianceField(IO.NerfWeightsFile.Read(file));
        return cache[file] = make(nerf, data.Grid(obj, arch, nerf), file);
    }

    public void Dispose()
    {
        foreach (var t in _fields.Values) t.Dispose();
        foreach (var t in _renders.Values) t.Dispose();
    }
}
