using NerfGmn.Decoder;
using NerfGmn.Rendering;
using NerfGmn.Reporting;
using static TorchSharp.torch;

namespace NerfGmn.Training;

/// <summary>
/// Pictures of what a decoder draws: a NeRF's own render and the decoder's render from the NeRF's embedding, one view
/// each on white, through the NeRF's occupancy grid (as validation renders). A PSNR says how far apart they are; the
/// pair says how — a faint shape, a blurred one, another object, the wrong colour.
/// </summary>
public static class DecoderRenders
{
    static readonly double[] White = [1, 1, 1];

    /// <summary>Writes <c>&lt;name&gt;.nerf.png</c> and <c>&lt;name&gt;.decoder.png</c> in <paramref name="folder"/>; returns their paths.</summary>
    public static (string Nerf, string Decoder) Write(string folder, string name, Fields.RadianceField nerf, ImplicitDecoder decoder, Tensor embedding,
        OccupancyGrid grid, CameraSet cameras, int size = 64, int view = 0)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (origins, directions) = cameras.Rays(view, size, size);
        string Save(VolumeRenderer.Field field, string suffix, bool culling)
        {
            using var r = VolumeRenderer.Render(field, origins, directions, grid, new RenderOptions { SigmaCulling = culling });
            var image = RgbaImage.FromRender(r.Rgb.to_type(ScalarType.Float32).data<float>().ToArray(), r.Opacity.to_type(ScalarType.Float32).data<float>().ToArray(), size, size);
            string path = Path.Combine(folder, $"{name}.{suffix}.png");
            RgbaImage.SaveRgb(path, image.CompositeOn(White), size, size);
            return path;
        }
        // The NeRF as its ground-truth renders are made (σ-culling on); the decoder as validation renders it.
        string nerfPath = Save(p => nerf.forward(p), "nerf", culling: true);
        string decoderPath = Save(p =>
        {
            var (rgb, sigma) = decoder.forward((embedding, p.unsqueeze(0)));
            return (rgb.squeeze(0), sigma.squeeze(0));
        }, "decoder", culling: false);
        return (nerfPath, decoderPath);
    }

    /// <summary>One sheet of pairs: each row a NeRF's render, then the decoder's, captioned with its PSNR; green where it reaches <paramref name="goodPsnr"/>.</summary>
    public static void WriteSheet(string pngPath, IReadOnlyList<(string Caption, string Nerf, string Decoder, double Psnr)> rows, double goodPsnr = 22)
    {
        if (rows.Count == 0) throw new ArgumentException("no renders to put on a sheet");
        RetrievalStrip.Write(pngPath, rows.Select(r => new RetrievalRow(r.Nerf, r.Caption,
            [(r.Decoder, double.IsFinite(r.Psnr) ? $"decoder {r.Psnr:F1} dB" : "decoder", r.Psnr >= goodPsnr)])).ToList());
    }
}
