using System.Runtime.InteropServices;
using System.Text.Json;
using NerfGmn.IO;

namespace NerfGmn.Classification;

/// <summary>
/// A trained classifier head for inference: dense layers in plain arrays (BatchNorm folded), class names. Managed
/// code only, so row-by-row prediction is thread-safe and identical in every process.
/// </summary>
public sealed record ClassifierHeadModel(IReadOnlyList<ClassifierHeadModel.Layer> Layers, string[] Classes)
{
    public sealed record Layer(float[] Weight, float[] Bias, int In, int Out, bool Relu);

    public int InputDim => Layers[0].In;

    /// <summary>Softmax class probabilities.</summary>
    public float[] Predict(ReadOnlySpan<float> x)
    {
        if (x.Length != InputDim) throw new ArgumentException($"the head takes {InputDim} features, got {x.Length}");
        double[] h = new double[x.Length];
        for (int i = 0; i < x.Length; i++) h[i] = x[i];
        foreach (var l in Layers)
        {
            var next = new double[l.Out];
            for (int o = 0; o < l.Out; o++)
            {
                double s = l.Bias[o];
                var row = l.Weight.AsSpan(o * l.In, l.In);
                for (int i = 0; i < l.In; i++) s += row[i] * h[i];
                next[o] = l.Relu && s < 0 ? 0 : s;
            }
            h = next;
        }
        double max = h.Max();
        var e = h.Select(v => Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        return e.Select(v => (float)(v / sum)).ToArray();
    }

    public string PredictLabel(ReadOnlySpan<float> x)
    {
        var p = Predict(x);
        int best = 0;
        for (int i = 1; i < p.Length; i++) if (p[i] > p[best]) best = i;
        return Classes[best];
    }

    public byte[] ToBytes()
    {
        var tensors = new Dictionary<string, SafeTensor>();
        for (int i = 0; i < Layers.Count; i++)
        {
            tensors[$"layers.{i}.weight"] = SafeTensor.FromFloats(Layers[i].Weight, Layers[i].Out, Layers[i].In);
            tensors[$"layers.{i}.bias"] = SafeTensor.FromFloats(Layers[i].Bias, Layers[i].Out);
        }
        return SafeTensorsFile.ToBytes(tensors, new Dictionary<string, string>
        {
            ["format"] = "nerfgmn-classifier-head/1",
            ["classes"] = JsonSerializer.Serialize(Classes),
            ["relu"] = JsonSerializer.Serialize(Layers.Select(l => l.Relu)),
        });
    }

    public static ClassifierHeadModel FromBytes(byte[] bytes, string nameForErrors)
    {
        var c = SafeTensorsFile.Read(bytes, nameForErrors);
        if (c.Metadata.GetValueOrDefault("format") != "nerfgmn-classifier-head/1") throw new NerfFormatException(nameForErrors, "not a NerfGmn classifier head");
        var relu = JsonSerializer.Deserialize<bool[]>(c.Metadata["relu"])!;
        var layers = relu.Select((r, i) =>
        {
            var w = c.Tensors[$"layers.{i}.weight"];
            return new Layer(w.ToFloats(), c.Tensors[$"layers.{i}.bias"].ToFloats(), (int)w.Shape[1], (int)w.Shape[0], r);
        }).ToList();
        return new ClassifierHeadModel(layers, JsonSerializer.Deserialize<string[]>(c.Metadata["classes"])!);
    }
}
