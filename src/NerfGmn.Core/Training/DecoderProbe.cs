using NerfGmn.Decoder;
using NerfGmn.Encoder;
using NerfGmn.Graphs;
using NerfGmn.Rendering;
using static TorchSharp.torch;

namespace NerfGmn.Training;

/// <summary>What a run's decoder predicts for one NeRF, at its occupied and its empty grid cells (NaN if its grid is all empty or all occupied).</summary>
/// <param name="SigmaOccupied">Mean decoder σ at occupied cell centres.</param>
/// <param name="SigmaEmpty">Mean decoder σ at empty cell centres.</param>
/// <param name="NerfSigmaOccupied">Mean σ of the NeRF itself at the same occupied cells.</param>
/// <param name="OccupancyAuc">Probability that the decoder's σ is higher at a random occupied cell than at a random empty one (0.5: it does not know where the object is).</param>
/// <param name="OccupancyAucOtherObject">The same AUC when the decoder is given another object's embedding (same architecture):
/// close to <paramref name="OccupancyAuc"/> when the decoder draws one shape for every embedding.</param>
/// <param name="ColourStd">Standard deviation of the decoder's colour over the occupied cells (≈ 0: one colour everywhere).</param>
public sealed record DecoderProbeRow(string Object, string Arch, double SigmaOccupied, double SigmaEmpty, double NerfSigmaOccupied,
    double OccupancyAuc, double OccupancyAucOtherObject, double ColourStd);

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
        int points = 2000, int seed = 0)
    {
        var options = TrainingOptions.FromRun(runDir);
        if (options.Objective == Objective.Contrastive)
            throw new ArgumentException($"{runDir} was trained with {Objective.Contrastive}, which has no decoder");
        data ??= options.Data;
        string last = Path.Combine(runDir, "last");
        var (encoder, _) = EncoderCheckpoint.Load(Path.Combine(last, "encoder.safetensors"));
        using var decoderModule = new ImplicitDecoder(options.Decoder with { EmbeddingDim = options.Encoder.OutputDim });
        decoderModule.Load(Path.Combine(last, "decoder.safetensors"));
        using var _enc = encoder;
        encoder.eval(); decoderModule.eval();
        // The anchors the decoder was trained with: the run's own training split, whatever dataset is probed.
        var anchors = options.AnchorPerArchitecture ? ArchitectureAnchors.From(new TrainingData(options.Data, "train", exclude: options.Exclude), options.Layout) : null;
        var probed = new TrainingData(data, split);
        if (probed.Objects.Count == 0) throw new NerfFormatException(data, $"no NeRFs in split '{split}'");
        var rng = new Random(seed);
        using var noGrad = no_grad();
        var nerfs = new List<(string Object, string Arch, string File, Tensor Z)>();
        // One object per class before a second of any class, so that "another object" is usually another class.
        var chosen = probed.Objects.Keys.GroupBy(o => o.Split('/')[0])
            .SelectMany(g => g.Order(StringComparer.Ordinal).Select((o, i) => (o, i)))
            .OrderBy(t => t.i).ThenBy(t => t.o, StringComparer.Ordinal).Select(t => t.o).Take(objects).ToList();
        foreach (var (obj, archs) in chosen.Select(o => (o, probed.Objects[o])))
            foreach (var (arch, file) in archs.OrderBy(a => a.Key, StringComparer.Ordinal))
            {
                if (anchors is not null && !anchors.Has(arch)) continue;   // an architecture the run never trained on has no anchor
                var graphs = new List<ParameterGraph> { probed.Graph(obj, arch, options.Layout) };
                if (anchors is not null) graphs.Add(anchors.Graph(arch));
                using var batch = GraphBatch.From(graphs);
                var z = encoder.forward(batch);
                nerfs.Add((obj, arch, file, anchors is not null ? ArchitectureAnchors.Relative(z, [arch], [arch]) : z.narrow(0, 0, 1)));
            }
        var rows = new List<DecoderProbeRow>();
        foreach (var (obj, arch, file, z) in nerfs)
        {
            using var scope = NewDisposeScope();
            using var nerf = new Fields.RadianceField(IO.NerfWeightsFile.Read(file));
            string gridPath = Path.Combine(Path.GetDirectoryName(file)!, Datasets.DatasetLayout.GridName);
            var grid = File.Exists(gridPath) ? OccupancyGrid.Load(gridPath) : OccupancyGrid.FromDensity(p => nerf.forward(p).Sigma);
            if (grid.OccupiedCount == 0 || grid.OccupiedCount == grid.Occupied.Length)
            {
                rows.Add(new DecoderProbeRow(obj, arch, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN));   // nothing to tell apart
                continue;
            }
            var occupied = CellCentres(grid, true, points, rng);
            var empty = CellCentres(grid, false, points, rng);
            double AucWith(Tensor embedding) => Auc(decoderModule.forward((embedding, occupied.unsqueeze(0))).Sigma.data<float>().ToArray(),
                decoderModule.forward((embedding, empty.unsqueeze(0))).Sigma.data<float>().ToArray());
            var (rgbOcc, sigmaOcc) = decoderModule.forward((z, occupied.unsqueeze(0)));
            var (_, sigmaEmpty) = decoderModule.forward((z, empty.unsqueeze(0)));
            // The same architecture's next probed object: a decoder that reads the embedding should fit its own NeRF better.
            var others = nerfs.Where(n => n.Arch == arch).ToList();
            int at = others.FindIndex(n => n.Object == obj);
            var other = others.Count < 2 ? null : others[(at + 1) % others.Count].Z;
            rows.Add(new DecoderProbeRow(obj, arch,
                sigmaOcc.mean().item<float>(), sigmaEmpty.mean().item<float>(), nerf.forward(occupied).Sigma.mean().item<float>(),
                Auc(sigmaOcc.data<float>().ToArray(), sigmaEmpty.data<float>().ToArray()),
                other is null ? double.NaN : AucWith(other),
                rgbOcc.reshape(-1, 3).std(0).mean().item<float>()));
        }
        foreach (var n in nerfs) n.Z.Dispose();
        return rows;
    }

    /// <summary>Centres of up to <paramref name="count"/> randomly chosen cells that are (not) occupied, [n, 3] world.</summary>
    static Tensor CellCentres(OccupancyGrid grid, bool occupied, int count, Random rng)
    {
        var cells = Enumerable.Range(0, grid.Occupied.Length).Where(i => grid.Occupied[i] == occupied).ToArray();
        rng.Shuffle(cells);
        int r = grid.Resolution, n = Math.Min(count, cells.Length);
        var xyz = new float[n * 3];
        for (int k = 0; k < n; k++)
        {
            int i = cells[k];
            int[] ijk = [i / (r * r), i / r % r, i % r];
            for (int d = 0; d < 3; d++) xyz[3 * k + d] = grid.Roi[d] + (ijk[d] + 0.5f) / r * (grid.Roi[d + 3] - grid.Roi[d]);
        }
        return tensor(xyz, [n, 3]);
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
