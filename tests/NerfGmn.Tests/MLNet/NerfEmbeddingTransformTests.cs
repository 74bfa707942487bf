using Microsoft.ML;
using Microsoft.ML.Data;
using NerfGmn.IO;
using NerfGmn.MLNet;

namespace NerfGmn.Tests.MLNet;

[TestClass]
public class NerfEmbeddingTransformTests
{
    public sealed class PathRow { public string Path = ""; }

    public sealed class EmbeddingRow
    {
        public string Path = "";
        [VectorType(1024)] public float[] Embedding = [];
    }

    static readonly string[] Cases = ["mlp", "tri", "hash", "mlp_32h", "tri_8c"];

    static NerfEmbeddingOptions ReferenceEncoder => new() { EncoderPath = TestPaths.Fixture("gmn_encoder_seed0.pth") };

    static IDataView Paths(MLContext ml, IEnumerable<string> files) =>
        ml.Data.LoadFromEnumerable(files.Select(f => new PathRow { Path = f }));

    [TestMethod]
    public void EmbeddingsMatchTheReferenceEncoderFixture()
    {
        var ml = new MLContext(seed: 1);
        var data = Paths(ml, Cases.Select(c => TestPaths.Fixture(c + ".pth")));
        var model = ml.Transforms.NerfEmbedding("Embedding", "Path", ReferenceEncoder).Fit(data);
        var rows = ml.Data.CreateEnumerable<EmbeddingRow>(model.Transform(data), reuseRowObject: false).ToList();
        var want = SafeTensorsFile.Read(TestPaths.Fixture("encoder_embeddings.safetensors")).Tensors;
        for (int i = 0; i < Cases.Length; i++)
        {
            var expected = want[Cases[i]].ToDoubles();
            double diff = rows[i].Embedding.Select((v, k) => Math.Abs(v - expected[k])).Max();
            Assert.IsTrue(diff <= 1e-4, $"{Cases[i]}: max abs diff {diff}");
        }
    }
}
