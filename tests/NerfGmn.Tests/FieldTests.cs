using System.Text.Json;
using NerfGmn.Architectures;
using NerfGmn.Fields;
using NerfGmn.IO;
using static TorchSharp.torch;

namespace NerfGmn.Tests;

[TestClass]
public class FieldTests
{
    [TestMethod]
    [DataRow("24"), DataRow("48")]
    public void FrequencyEncodingMatchesTheReference(string frequencies)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("freq_encoding.json")));
        var points = doc.RootElement.GetProperty("points").EnumerateArray().SelectMany(p => p.EnumerateArray().Select(v => v.GetSingle())).ToArray();
        var expected = doc.RootElement.GetProperty("encodings").GetProperty(frequencies).EnumerateArray()
            .SelectMany(p => p.EnumerateArray().Select(v => v.GetSingle())).ToArray();
        using var enc = new FrequencyEncoding(int.Parse(frequencies));
        using var u = tensor(points, [points.Length / 3, 3]);
        using var got = enc.forward(u);
        var values = got.data<float>().ToArray();
        Assert.AreEqual(expected.Length, values.Length);
        double max = expected.Zip(values).Max(p => Math.Abs(p.First - p.Second));
        Assert.IsTrue(max <= 1e-6, $"max abs diff {max}");
    }

    [TestMethod]
    public void GoldenEncodingValuesFromTheSpec()
    {
        using var enc = new FrequencyEncoding(24);
        using var u = tensor(new[] { 0.5714286f, 0.3571429f, 0.5357143f }, [1, 3]);
        var e = enc.forward(u).data<float>().ToArray();
        float[] want = [0.974928f, -0.222521f, -0.433884f, -0.900969f];
        for (int k = 0; k < 4; k++) Assert.AreEqual(want[k], e[k], 2e-6f);
        Assert.AreEqual(0.900969f, e[48], 2e-6f);
        Assert.AreEqual(0.433884f, e[49], 2e-6f);
    }

    [TestMethod]
    [DataRow("mlp"), DataRow("tri"), DataRow("tri_16w")]
    public void FieldMatchesTheReference(string name)
    {
        var weights = NerfWeightsFile.Read(TestPaths.Fixture(name + ".pth"));
        var f = SafeTensorsFile.Read(TestPaths.Fixture(name + ".field.safetensors")).Tensors;
        using var field = new RadianceField(weights);
        var (rgb, sigma) = field.Evaluate(f["points"].ToFloats());
        var wantRgb = f["rgb"].ToFloats();
        var wantSigma = f["sigma"].ToFloats();
        double maxRgb = wantRgb.Zip(rgb).Max(p => Math.Abs(p.First - p.Second));
        double maxSigma = wantSigma.Zip(sigma).Max(p => Math.Abs(p.First - p.Second));
        Assert.IsTrue(maxRgb <= 1e-5, $"rgb max abs diff {maxRgb}");
        Assert.IsTrue(maxSigma <= 1e-5, $"sigma max abs diff {maxSigma}");
        Assert.IsTrue(sigma[256..].All(s => s == 0f), "σ is zero outside the box");
    }

    /// <summary>Scalar re-statement of tcnn's HashGrid for one level, written independently of the tensor code.</summary>
    static float[] HashByHand(float[] table, HashGridSpec spec, float ux, float uy, float uz)
    {
        var sizes = spec.ComputeTableSizes();
        var result = new float[spec.Levels * spec.Features];
        int offset = 0;
        for (int l = 0; l < spec.Levels; l++)
        {
            float scale = (float)(spec.BaseResolution * Math.Pow(2.0, l) - 1);   // per-level scale 2 in these tests
            uint res = (uint)Math.Ceiling(scale) + 1;
            float[] pos = [ux * scale + 0.5f, uy * scale + 0.5f, uz * scale + 0.5f];
            for (int corner = 0; corner < 8; corner++)
            {
                uint[] c = new uint[3];
                float w = 1f;
                for (int d = 0; d < 3; d++)
                {
                    int bit = (corner >> d) & 1;
                    float cell = MathF.Floor(pos[d]);
                    float frac = pos[d] - cell;
                    c[d] = (uint)cell + (uint)bit;
                    w *= bit == 1 ? frac : 1f - frac;
                }
                uint index = res * res * res <= (uint)sizes[l]
                    ? c[0] + c[1] * res + c[2] * res * res
                    : c[0] ^ (c[1] * 2654435761u) ^ (c[2] * 805459861u);
                index %= (uint)sizes[l];
                for (int f = 0; f < spec.Features; f++)
                    result[l * spec.Features + f] += w * table[(offset + (int)index) * spec.Features + f];
            }
            offset += sizes[l];
        }
        return result;
    }

    [TestMethod]
    public void HashGridFollowsTcnnIndexing()
    {
        // Level 0 dense (res 2, 8 entries ≥ 2³), level 1 hashed (res 4, 4³ > 8): both paths, and corners that wrap.
        var spec = new HashGridSpec { Levels = 2, Features = 2, Log2Table = 3, BaseResolution = 2, MaxResolution = 4, PaddedFeatures = 16 };
        var table = Enumerable.Range(0, 32).Select(k => MathF.Sin(k + 1)).ToArray();
        using var grid = new HashGrid(table, spec);
        float[][] points = [[0.1f, 0.2f, 0.3f], [0.9f, 0.05f, 0.5f], [0f, 0f, 0f], [0.999f, 0.999f, 0.999f], [0.33f, 0.66f, 0.25f]];
        using var u = tensor(points.SelectMany(p => p).ToArray(), [points.Length, 3]);
        var got = grid.forward(u).data<float>().ToArray();
        for (int i = 0; i < points.Length; i++)
        {
            var want = HashByHand(table, spec, points[i][0], points[i][1], points[i][2]);
            for (int k = 0; k < 4; k++) Assert.AreEqual(want[k], got[i * 4 + k], 1e-6f, $"point {i} feature {k}");
        }
        // A hand-checked value: at u = 0 on the dense level, pos = (0.5, 0.5, 0.5): the mean of the 8 corners'
        // entries x + 2y + 4z = 0..7, i.e. mean(table[0..7, f]).
        float mean0 = Enumerable.Range(0, 8).Average(t => table[2 * t]);
        Assert.AreEqual(mean0, got[2 * 4], 1e-6f);
    }

    [TestMethod]
    public void HashFieldEvaluatesThePaperConfiguration()
    {
        var weights = NerfWeightsFile.Read(TestPaths.Fixture("hash.pth"));
        using var field = new RadianceField(weights);
        var (rgb, sigma) = field.Evaluate([0f, 0f, 0f, 0.69f, -0.3f, 0.1f, 0.9f, 0f, 0f]);
        Assert.IsTrue(rgb.All(v => v > 0 && v < 1));
        Assert.IsTrue(sigma[0] > 0 && sigma[1] > 0);
        Assert.AreEqual(0f, sigma[2]);
    }
}
