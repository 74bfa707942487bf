using Microsoft.ML;
using Microsoft.ML.Data;
using NerfGmn.MLNet;
using static NerfGmn.Tests.MLNet.MLNetTestData;

namespace NerfGmn.Tests.MLNet;

[TestClass]
public class StageErrorTests
{
    public sealed class NumberRow { public float Path; }

    [TestMethod]
    public void MissingInputColumnIsASchemaError()
    {
        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromEnumerable(Rows("train", "mlp").Take(2));
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.NerfEmbedding("Features", "File", Options).Fit(data));
        StringAssert.Contains(e.Message, "'File' not found");
    }

    [TestMethod]
    public void WrongInputTypeIsASchemaMismatch()
    {
        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromEnumerable(new[] { new NumberRow { Path = 1 } });
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.NerfEmbedding("Features", "Path", Options).Fit(data));
        StringAssert.Contains(e.Message, "Schema mismatch for input column 'Path'");
        StringAssert.Contains(e.Message, "Single");
    }

    [TestMethod]
    public void MissingEncoderIsNamed()
    {
        var ml = new MLContext(seed: 0);
        var e = Assert.ThrowsExactly<FileNotFoundException>(() => ml.Transforms.NerfEmbedding("Features", "Path", new NerfEmbeddingOptions { EncoderPath = "/nowhere/enc.safetensors" }));
        StringAssert.Contains(e.Message, "/nowhere/enc.safetensors");
        Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.NerfEmbedding("Features", "Path", new NerfEmbeddingOptions()));
    }

    [TestMethod]
    public void MissingOrCorruptNerfFileAtTransformTimeNamesTheFile()
    {
        var ml = new MLContext(seed: 0);
        using var dir = TestPaths.NewTempDir();
        string corrupt = dir.File("corrupt.safetensors");
        File.WriteAllBytes(corrupt, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        string missing = dir.File("missing.pth");
        var good = Rows("train", "mlp")[0];
        foreach (var bad in new[] { missing, corrupt })
        {
            var rows = new[] { good, new NerfRow { Path = bad, Label = "chair", Object = "x" } };
            var data = ml.Data.LoadFromEnumerable(rows);
            var model = ml.Transforms.NerfEmbedding("Features", "Path", Options).Fit(data);
            var e = Assert.Throws<Exception>(() => Consume(model.Transform(data)));
            var named = Flatten(e).OfType<NerfFormatException>().FirstOrDefault();
            Assert.IsNotNull(named, $"expected a NerfFormatException inside {e}");
            Assert.AreEqual(bad, named.FilePath);

            // The bulk API knows the row.
            var bulk = Assert.ThrowsExactly<NerfFormatException>(() => ml.Data.EmbedNerfs(data, "Features", "Path", Options));
            Assert.AreEqual(1L, bulk.Row);
            StringAssert.Contains(bulk.Message, "row 1: " + bad);
        }
    }

    public sealed class Prediction
    {
        [VectorType(NerfEmbeddingMapping.Dimension)] public float[] Features = [];
    }

    [TestMethod]
    public void EveryWayOfRunningTheStageRaisesTheTypedErrorNamingTheFile()
    {
        var ml = new MLContext(seed: 0);
        using var dir = TestPaths.NewTempDir();
        string missing = dir.File("missing.pth");
        var good = Rows("train", "mlp")[0];
        var data = ml.Data.LoadFromEnumerable(new[] { good, new NerfRow { Path = missing, Label = "chair", Object = "x" } });
        var model = ml.Transforms.NerfEmbedding("Features", "Path", Options).Fit(data);
        ml.Model.Save(model, data.Schema, dir.File("m.zip"));
        var loaded = ml.Model.LoadNerfModel(dir.File("m.zip"), out _);

        void Expect(Action run, string how)
        {
            try { run(); }
            catch (NerfFormatException e) { Assert.AreEqual(missing, e.FilePath, how); StringAssert.Contains(e.Message, "file not found", how); return; }
            catch (Exception e) { Assert.Fail($"{how}: {e.GetType().Name} instead of NerfFormatException: {e.Message}"); }
            Assert.Fail($"{how}: no error");
        }
        Expect(() => Consume(model.Transform(data)), "Transform + cursor");
        Expect(() => Consume(loaded.Transform(data)), "loaded model, Transform + cursor");
        Expect(() => ml.Data.CreateEnumerable<Prediction>(loaded.Transform(data), reuseRowObject: false).ToList(), "CreateEnumerable");
        Expect(() => ml.Model.CreatePredictionEngine<NerfRow, Prediction>(loaded).Predict(new NerfRow { Path = missing }), "PredictionEngine");
        Expect(() => ml.Data.EmbedNerfs(data, "Features", "Path", Options), "EmbedNerfs");
    }

    [TestMethod]
    public void AModelFileThatIsNotAModelZipIsAClearError()
    {
        var ml = new MLContext(seed: 0);
        using var dir = TestPaths.NewTempDir();
        File.WriteAllText(dir.File("text.zip"), "not a zip");
        var good = Rows("train", "mlp").Take(1).ToArray();
        var data = ml.Data.LoadFromEnumerable(good);
        ml.Model.Save(ml.Transforms.NerfEmbedding("Features", "Path", Options).Fit(data), data.Schema, dir.File("m.zip"));
        var bytes = File.ReadAllBytes(dir.File("m.zip"));
        File.WriteAllBytes(dir.File("cut.zip"), bytes[..(bytes.Length / 2)]);
        foreach (var name in new[] { "text.zip", "cut.zip", "absent.zip" })
        {
            var e = Assert.ThrowsExactly<NerfFormatException>(() => ml.Model.LoadNerfModel(dir.File(name), out _), name);
            Assert.AreEqual(dir.File(name), e.FilePath);
        }
    }

    [TestMethod]
    public void NanPolicyAndDescriptorOverrideTravelInTheSavedModel()
    {
        var ml = new MLContext(seed: 0);
        using var dir = TestPaths.NewTempDir();
        var w = NerfGmn.IO.NerfWeightsFile.Read(TestPaths.Fixture("mlp.pth"));
        w.Layers[2].Weight[7] = float.NaN;
        NerfGmn.IO.NerfWeightsFile.WriteNative(w, dir.File("nan.safetensors"));
        var data = ml.Data.LoadFromEnumerable(new[] { new NerfRow { Path = dir.File("nan.safetensors") } });

        var strict = ml.Transforms.NerfEmbedding("Features", "Path", Options).Fit(data);
        var e = Assert.Throws<Exception>(() => Consume(strict.Transform(data)));
        StringAssert.Contains(Flatten(e).OfType<NerfFormatException>().First().Message, "non-finite");

        var lenient = ml.Transforms.NerfEmbedding("Features", "Path", new NerfEmbeddingOptions { Encoder = MLNetTestData.Encoder, AllowNonFinite = true }).Fit(data);
        ml.Model.Save(lenient, data.Schema, dir.File("lenient.zip"));
        var loaded = ml.Model.Load(dir.File("lenient.zip"), out _);
        Consume(loaded.Transform(data));   // reads the file: the policy came back from the zip

        // A descriptor override that does not fit the file is reported with the descriptor's name.
        var tri16 = NerfGmn.Architectures.NerfArchitecture.Load(TestPaths.Fixture("tri_16w.arch.json"));
        var triData = ml.Data.LoadFromEnumerable(new[] { new NerfRow { Path = TestPaths.Fixture("tri.pth") } });
        var wrong = ml.Transforms.NerfEmbedding("Features", "Path", new NerfEmbeddingOptions { Encoder = MLNetTestData.Encoder, Architecture = tri16 }).Fit(triData);
        ml.Model.Save(wrong, triData.Schema, dir.File("wrong.zip"));
        var e2 = Assert.Throws<Exception>(() => Consume(ml.Model.Load(dir.File("wrong.zip"), out _).Transform(triData)));
        StringAssert.Contains(Flatten(e2).OfType<NerfFormatException>().First().Message, "descriptor 'tri_16w'");
    }

    static IEnumerable<Exception> Flatten(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException) yield return x;
    }

    static void Consume(IDataView view)
    {
        using var c = view.GetRowCursor(view.Schema);
        var getter = c.GetGetter<VBuffer<float>>(view.Schema["Features"]);
        VBuffer<float> v = default;
        while (c.MoveNext()) getter(ref v);
    }
}
