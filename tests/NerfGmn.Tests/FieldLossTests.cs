using NerfGmn.Decoder;
using NerfGmn.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NerfGmn.Tests;

[TestClass]
public sealed class FieldLossTests
{
    /// <summary>
    /// A decoder whose output layer is a constant (rgb = sigmoid(0) = ½, σ = e^(b−1)) against hand-set targets: the loss
    /// is smooth-L1 of log(σ + ε) with targets capped at 5/Δ, plus the colour error weighted by the target's opacity.
    /// </summary>
    [TestMethod]
    public void TheFieldLossIsTheLogDensityErrorPlusTheOpacityWeightedColourError()
    {
        using var decoder = new ImplicitDecoder(new ImplicitDecoderOptions { EmbeddingDim = 4, HiddenDim = 8, LayersBeforeSkip = 1, LayersAfterSkip = 1 });
        const double b = 3;
        using (no_grad())
        {
            var output = (TorchSharp.Modules.Linear)decoder.named_modules().Single(m => m.name == "output").module;
            output.weight!.zero_();
            output.bias!.copy_(tensor(new float[] { 0, 0, 0, (float)b }));
        }
        double step = new Rendering.RenderOptions().StepSize, eps = 0.01 / step, cap = 5 / step;
        float[] targetSigma = [0, 100, 1e5f];
        float[] targetRgb = [1, 0, 0, 0, 1, 0, 0.5f, 0.5f, 1];
        using var draw = new FieldDraw(tensor(new float[] { 0, 0, 0, 0.1f, 0.2f, 0.3f, -0.5f, 0.5f, 0 }, [1, 3, 3]),
            tensor(targetSigma, [1, 3]), tensor(targetRgb, [1, 3, 3]));
        var options = new FieldLossOptions { ColourWeight = 2 };
        double loss = FieldLoss.Loss(decoder, zeros(1, 4), draw, options).item<float>();

        double sigmaHat = Math.Exp(b - 1);
        static double SmoothL1(double d) => Math.Abs(d) < 1 ? 0.5 * d * d : Math.Abs(d) - 0.5;
        double density = targetSigma.Average(s => SmoothL1(Math.Log(sigmaHat + eps) - Math.Log(Math.Min(s, cap) + eps)));
        double weighted = 0, weights = 0;
        for (int i = 0; i < 3; i++)
        {
            double alpha = 1 - Math.Exp(-Math.Min(targetSigma[i], cap) * step);
            weighted += alpha * Enumerable.Range(0, 3).Sum(c => Math.Pow(0.5 - targetRgb[3 * i + c], 2));
            weights += alpha;
        }
        Assert.AreEqual(density + 2 * weighted / weights, loss, 1e-4);
    }

    /// <summary>A NeRF's pool: occupied points inside occupied cells, shell points in empty cells next to them, the rest in empty cells; targets are the NeRF's own values.</summary>
    [TestMethod]
    public void APoolHoldsPointsInEachGroupWithTheNerfsOwnValues()
    {
        var data = new TrainingData(TestPaths.MiniDataset, "train", ["mlp"]);
        var (obj, files) = data.Objects.First();
        using var nerf = new Fields.RadianceField(IO.NerfWeightsFile.Read(files["mlp"]));
        var grid = data.Grid(obj, "mlp", nerf);
        var options = new FieldLossOptions { OccupiedPool = 300, ShellPool = 200, EmptyPool = 100, ShellCells = 2 };
        using var pool = FieldTarget.Create(nerf, grid, options, new Generator(7));
        Assert.AreEqual(600, pool.Points.shape[0]);
        Assert.AreEqual((300L, 200L), (pool.Occupied, pool.Shell));

        var roi = grid.Roi; int r = grid.Resolution;
        var points = pool.Points.data<float>().ToArray();
        // The cells a point may lie in: float rounding of the grid's fp16 box can move a point on a cell face across it.
        long[] Cells(int i)
        {
            var perAxis = Enumerable.Range(0, 3).Select(d =>
            {
                double u = (points[3 * i + d] - roi[d]) / (roi[d + 3] - roi[d]) * r;
                return new[] { u - 1e-3, u + 1e-3 }.Select(v => Math.Clamp((long)Math.Floor(v), 0, r - 1)).Distinct().ToArray();
            }).ToArray();
            return perAxis[0].SelectMany(x => perAxis[1].SelectMany(y => perAxis[2].Select(z => (x * r + y) * r + z))).ToArray();
        }
        var near = grid.DilatedIndices(2).data<long>().ToHashSet();
        for (int i = 0; i < 600; i++)
        {
            var cells = Cells(i);
            if (i < 300) Assert.IsTrue(cells.Any(c => grid.Occupied[c]), $"occupied point {i} in an empty cell: {string.Join(",", Enumerable.Range(0, 3).Select(d => (points[3 * i + d] - roi[d]) / (roi[d + 3] - roi[d]) * r))} roi {string.Join(",", roi)} r {r} cells {string.Join(",", cells)} occupied near: {string.Join(",", Enumerable.Range(0, grid.Occupied.Length).Where(c => grid.Occupied[c] && Math.Abs(c - cells[0]) < 200))}");
            else Assert.IsTrue(cells.Any(c => !grid.Occupied[c]), $"point {i} in an occupied cell");
            if (i is >= 300 and < 500) Assert.IsTrue(cells.Any(near.Contains), $"shell point {i} more than 2 cells from the object");
        }
        var (rgb, sigma) = nerf.forward(pool.Points);
        Assert.IsTrue(sigma.to_type(ScalarType.Float32).allclose(pool.Sigma, 1e-4, 1e-3));
        Assert.IsTrue(rgb.to_type(ScalarType.Float32).allclose(pool.Rgb, 1e-4, 1e-4));

        // A step draws its points from the groups in the options' shares.
        using var draw = FieldLoss.Draw([pool, pool], options with { PointsPerNerf = 40 }, new Generator(1));
        CollectionAssert.AreEqual(new long[] { 2, 40, 3 }, draw.Points.shape);
        var first = draw.Points[0].data<float>().ToArray();
        int InPool(int k) => Enumerable.Range(0, 600).Single(i => Enumerable.Range(0, 3).All(d => points[3 * i + d] == first[3 * k + d]));
        CollectionAssert.AreEqual(Enumerable.Repeat(0, 20).Concat(Enumerable.Repeat(1, 10)).Concat(Enumerable.Repeat(2, 10)).ToArray(),
            Enumerable.Range(0, 40).Select(k => InPool(k) switch { < 300 => 0, < 500 => 1, _ => 2 }).ToArray());
    }

    /// <summary>
    /// The field objective teaches a small decoder two shapes from free codes: its renders improve by several dB and its
    /// density follows each object's occupied cells (the gate at CI size; the 16-object gate is a command).
    /// </summary>
    [TestMethod]
    public void TheFieldObjectiveTeachesADecoderTwoShapesFromFreeCodes()
    {
        var report = DecoderGate.Run(new DecoderGateOptions
        {
            Data = TestPaths.MiniDataset, Objects = 2, NerfsPerStep = 2, MaxSteps = 300, Minutes = 10, EvaluateEvery = 300, ProbePoints = 500,
            Loss = Objective.Field, Decoder = TrainingOptions.CpuDecoder with { HiddenDim = 64 },
        });
        var (first, last) = (report.Curve[0].MedianPsnr, report.Curve[^1].MedianPsnr);
        Assert.AreEqual(300, report.Curve[^1].Step);
        Assert.IsTrue(last > first + 10, $"PSNR {first:F1} → {last:F1} dB");
        Assert.IsTrue(report.Probe.All(r => r.OccupancyAuc > 0.95), string.Join(", ", report.Probe.Select(r => r.OccupancyAuc)));
    }
}
