using NerfGmn.Decoder;
using NerfGmn.Encoder;
using NerfGmn.Rendering;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Training;

/// <summary>What a run's decoder predicts for one NeRF, at its occupied and its empty grid cells (NaN if its grid is all empty or all occupied).</summary>
/// <param name="SigmaOccupied">Mean decoder σ at occupied cell centres.</param>
/// <param name="SigmaEmpty">Mean decoder σ at empty cell centres.</param>
/// <param name="NerfSigmaOccupied">Mean σ of the NeRF itself at the same occupied cells.</param>
/// <param name="OccupancyAuc">Probability that the decoder's σ is higher at a random occupied cell than at a random empty one (0.5: it does not know where the object is).</param>
/// <param name="OccupancyAucOtherObject">The same AUC when the decoder is given another object's embedding (same architecture):
/// close to <paramref name="OccupancyAuc"/> when the decoder draws one shape for every embedding.</param>
/// <param name="ColourStd">Standard deviation of the decoder's colour over the occupied cells (≈ 0: one colour everywhere).</param>
/// <param name="OccupancyAucOtherNerf">The same AUC scored by the other object's own NeRF: what a perfect decoder given the other
/// object's embedding would score, i.e. how much the two shapes overlap (NaN without another object). An
/// <paramref name="OccupancyAucOtherObject"/> near this value means the decoder draws the other object as it is.</param>
/// <param name="RenderPsnr">The decoder's foreground PSNR on a fixed draw of the NeRF's rays, rendered as validation does (NaN where not measured).</param>
/// <param name="VisibleAuc">The three AUCs again with every σ a render cannot see (σ·Δ below the field objective's
/// transparent opacity, 0.01 per step) counted as 0, so that such cells tie: own embedding, another object's, its NeRF.
/// The ranks of invisible densities are whatever a network's tail happens to be (a NeRF's noise, a decoder's smooth
/// falloff towards where objects usually are) and weigh as much in the plain AUC as the object's surface does.</param>
public sealed record DecoderProbeRow(string Object, string Arch, double SigmaOccupied, double SigmaEmpty, double NerfSigmaOccupied,
    double OccupancyAuc, double OccupancyAucOtherObject, double ColourStd, double OccupancyAucOtherNerf = double.NaN, double RenderPsnr = double.NaN,
    VisibleAuc? VisibleAuc = null);

/// <summary>Occupancy AUCs on visible density only (<see cref="DecoderProbeRow.VisibleAuc"/>).</summary>
/// <param name="OwnNerf">The NeRF's own σ on its own cells: what a perfect decoder scores with the object's own embedding
/// (below 1 on visible density: the grid is dilated by a cell, so occupied cells include empty space at the surface).</param>
public sealed record VisibleAuc(double Own, double OtherObject, double OtherNerf, double OwnNerf = double.NaN);

/// <summary>
/// Does a rendering run's decoder reproduce its inputs' geometry? Queries the run's last decoder, given each NeRF's
/// embedding as in training (anchor-relative for <c>--anchor</c> runs), at the centres of occupied and empty cells of
/// the NeRF's occupancy grid. A rendering loss that has stalled near the background-only render (σ ≈ 0 everywhere,
/// its AUC from a position prior alone) looks the same in validation PSNR as a decoder that is slowly learning; this
/// tells them apart. Empty cells are mostly far from the object, so a decoder that has learnt only where objects
/// usually are still scores well above 0.5; the AUC with another object's embedding measures what the embedding adds.
/// </summary>
public static class DecoderProbe
{
    public static IReadOnlyList<DecoderProbeRow> Run(string runDir, string? data = null, string split = "val", int objects = 3,
        int points = 2000, int seed = 0, string? decoderPath = null, string? imagesFolder = null)
    {
        var options = TrainingOptions.FromRun(runDir);
        if (!Objective.Decodes(options.Objective))
            throw new ArgumentException($"{runDir} was trained with {options.Objective}, which has no decoder");
        data ??= options.Data;
        string last = Path.Combine(runDir, "last");
        var (encoder, _) = EncoderCheckpoint.Load(Path.Combine(last, "encoder.safetensors"));
        using var encoderOwner = encoder;
        using var decoder = DecoderOf(runDir, options, decoderPath);
        var anchors = AnchorsOf(options, encoder);
        var probed = new TrainingData(data, split);
        if (probed.Objects.Count == 0) throw new NerfFormatException(data, $"no NeRFs in split '{split}'");
        // One object per class before a second of any class, so that "another object" is usually another class.
        var chosen = TrainingData.ClassRoundRobin(probed.Objects.Keys.Order(StringComparer.Ordinal)).Take(objects).ToList();
        var nerfs = chosen.SelectMany(o => probed.Objects[o].Keys.Order(StringComparer.Ordinal).Select(a => (Object: o, Arch: a)))
            .Where(n => anchors?.Has(n.Arch) != false)   // an architecture the run never trained on has no anchor
            .ToList();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var graphs = nerfs.Select(n => probed.Graph(n.Object, n.Arch, encoder.GraphOptions(options.Layout))).ToList();
        var archs = nerfs.Select(n => n.Arch).ToList();
        var z = anchors?.EmbedRelative(encoder, graphs, archs, 8) ?? encoder.EmbedTensor(graphs, 8);
        var gen = new Generator((ulong)seed);
        var rows = new List<DecoderProbeRow>();
        // Each NeRF is read once, for its own row and as the other object of another row (NeRFs are small), and before the
        // per-row scopes, which would otherwise dispose what a later row still needs.
        var fields = nerfs.Select(n => new Fields.RadianceField(IO.NerfWeightsFile.Read(probed.Objects[n.Object][n.Arch]))).ToList();
        var sheet = new List<(string, string, string, double)>();
        if (imagesFolder is not null) IO.OutputFolder.Create(imagesFolder, "images folder");
        try
        {
            for (int i = 0; i < nerfs.Count; i++)
            {
                using var nerfScope = NewDisposeScope();
                var (obj, arch) = nerfs[i];
                var nerf = fields[i];
                var grid = probed.Grid(obj, arch, nerf);
                // The same architecture's next probed object: a decoder that reads the embedding should fit its own NeRF better.
                var same = Enumerable.Range(0, nerfs.Count).Where(k => nerfs[k].Arch == arch).ToList();
                int other = same.Count < 2 ? -1 : same[(same.IndexOf(i) + 1) % same.Count];
                var row = Probe(decoder, z.narrow(0, i, 1), other < 0 ? null : z.narrow(0, other, 1), nerf, grid, obj, arch, points, gen,
                    other < 0 ? null : fields[other]);
                string file = probed.Objects[obj][arch];
                using var target = RenderTarget.ForWeightsFile(nerf, grid, file, options.Rendering, new Generator(StableHash.Of(seed, "probe-target", file)));
                using var renderGen = new Generator(StableHash.Of(seed, "probe-render", file));
                rows.Add(row with { RenderPsnr = RenderingLoss.ForegroundPsnr(decoder, z.narrow(0, i, 1), target, options.Rendering, renderGen) });
                if (imagesFolder is not null)
                {
                    var cameras = Rendering.CameraSet.Load(Path.Combine(Path.GetDirectoryName(file)!, Datasets.DatasetLayout.TransformsName));
                    var (nerfImage, decoderImage) = DecoderRenders.Write(imagesFolder, $"{obj.Replace('/', '_')}_{arch}", nerf, decoder, z.narrow(0, i, 1), grid, cameras);
                    sheet.Add(($"{obj} {arch}", nerfImage, decoderImage, rows[^1].RenderPsnr));
                }
            }
            if (imagesFolder is not null) DecoderRenders.WriteSheet(Path.Combine(imagesFolder, "renders.png"), sheet);
        }
        finally
        {
            foreach (var f in fields) f.Dispose();
        }
        return rows;
    }

    /// <summary>A run's decoder in eval mode: <paramref name="decoderPath"/> (a fit's, any width) or the run's last one.</summary>
    internal static ImplicitDecoder DecoderOf(string runDir, TrainingOptions options, string? decoderPath)
    {
        decoderPath ??= Path.Combine(runDir, "last", "decoder.safetensors");
        var decoder = new ImplicitDecoder(ImplicitDecoder.OptionsOf(decoderPath, options.Decoder with { EmbeddingDim = options.Encoder.OutputDim }));
        decoder.Load(decoderPath);
        decoder.eval();
        return decoder;
    }

    /// <summary>The anchors a run's decoder was trained with (its own training split, whatever dataset is read), or null.</summary>
    internal static ArchitectureAnchors? AnchorsOf(TrainingOptions options, GraphMetaNetwork encoder) =>
        options.AnchorPerArchitecture ? ArchitectureAnchors.From(new TrainingData(options.Data, "train", exclude: options.Exclude), encoder.GraphOptions(options.Layout)) : null;

    /// <summary>
    /// One NeRF: the decoder given <paramref name="embedding"/> [1, E] (and <paramref name="otherEmbedding"/>, another
    /// object's) at up to <paramref name="points"/> occupied and empty cell centres of <paramref name="grid"/>.
    /// </summary>
    /// <param name="otherNerf">The other object's NeRF, to score the AUC a perfect decoder would reach with its embedding.</param>
    public static DecoderProbeRow Probe(ImplicitDecoder decoder, Tensor embedding, Tensor? otherEmbedding, Fields.RadianceField nerf,
        Rendering.OccupancyGrid grid, string obj, string arch, int points, Generator gen, Fields.RadianceField? otherNerf = null)
    {
        if (grid.OccupiedCount == 0 || grid.OccupiedCount == grid.Occupied.Length)   // nothing to tell apart
            return new DecoderProbeRow(obj, arch, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var occupancy = tensor(grid.Occupied);
        Tensor Sample(Tensor mask)
        {
            var cells = mask.nonzero().squeeze(1);
            return grid.CellPoints(cells.index_select(0, randperm(cells.shape[0], generator: gen)[..(int)Math.Min(points, cells.shape[0])]));
        }
        var occupied = Sample(occupancy).unsqueeze(0);
        var empty = Sample(occupancy.logical_not()).unsqueeze(0);
        (Tensor Rgb, Tensor SigmaOccupied, Tensor SigmaEmpty) Query(Tensor e)
        {
            var (rgb, sigma) = decoder.forward((e, occupied.to(e.device)));
            return (rgb, sigma, decoder.forward((e, empty.to(e.device))).Sigma);
        }
        static float[] Values(Tensor sigma) => sigma.cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
        static (double Plain, double Visible) AucOf(Tensor sigmaOccupied, Tensor sigmaEmpty)
        {
            return (Auc(Values(sigmaOccupied), Values(sigmaEmpty)), Auc(Values(VisibleOnly(sigmaOccupied)), Values(VisibleOnly(sigmaEmpty))));
        }
        var own = Query(embedding);
        var ownAuc = AucOf(own.SigmaOccupied, own.SigmaEmpty);
        (double, double) none = (double.NaN, double.NaN);
        var otherAuc = otherEmbedding is null ? none : Query(otherEmbedding) is var q ? AucOf(q.SigmaOccupied, q.SigmaEmpty) : none;
        var oracleAuc = otherNerf is null ? none : AucOf(otherNerf.forward(occupied.squeeze(0)).Sigma, otherNerf.forward(empty.squeeze(0)).Sigma);
        var nerfAuc = AucOf(nerf.forward(occupied.squeeze(0)).Sigma, nerf.forward(empty.squeeze(0)).Sigma);
        return new DecoderProbeRow(obj, arch,
            own.SigmaOccupied.mean().item<float>(), own.SigmaEmpty.mean().item<float>(), nerf.forward(occupied.squeeze(0)).Sigma.mean().item<float>(),
            ownAuc.Plain, otherAuc.Item1, own.Rgb.reshape(-1, 3).std(0).mean().item<float>(), oracleAuc.Item1,
            VisibleAuc: new VisibleAuc(ownAuc.Visible, otherAuc.Item2, oracleAuc.Item2, nerfAuc.Visible));
    }

    /// <summary>The least σ a render can see: σ·Δ of the field objective's transparent opacity (0.01) at the renderer's step.</summary>
    public static readonly float VisibleSigma = (float)(FieldLossOptions.Cpu.TransparentOpacity / new Rendering.RenderOptions().StepSize);

    /// <summary>Densities with every σ below <see cref="VisibleSigma"/> set to 0, so that invisible ones tie in an AUC.</summary>
    public static Tensor VisibleOnly(Tensor sigma) => sigma.masked_fill(sigma.lt(S(VisibleSigma)), S(0f));

    /// <summary>The median of the values that are not NaN (NaN if there are none).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var v = values.Where(x => !double.IsNaN(x)).Order().ToArray();
        return v.Length == 0 ? double.NaN : v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    /// <summary>ROC AUC of "positive scores above negative ones", ties counted half (Mann–Whitney U / (n₊·n₋)).</summary>
    public static double Auc(float[] positive, float[] negative)
    {
        if (positive.Length == 0 || negative.Length == 0) return double.NaN;
        var all = positive.Select(v => (v, pos: true)).Concat(negative.Select(v => (v, pos: false))).OrderBy(t => t.v).ToArray();
        double rankSum = 0;
        for (int i = 0; i < all.Length;)
        {
            int j = i;
            while (j < all.Length && all[j].v == all[i].v) j++;
            double rank = (i + j + 1) / 2.0;   // mean 1-based rank of the tie group
            for (int k = i; k < j; k++) if (all[k].pos) rankSum += rank;
            i = j;
        }
        double np = positive.Length, nn = negative.Length;
        return (rankSum - np * (np + 1) / 2) / (np * nn);
    }
}
