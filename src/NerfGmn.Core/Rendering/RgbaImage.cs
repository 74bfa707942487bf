using SkiaSharp;

namespace NerfGmn.Rendering;

/// <summary>An RGBA image as floats in [0, 1], row-major [H, W, 4] (straight alpha), read from and written to PNG.</summary>
public sealed class RgbaImage
{
    public int Width { get; }
    public int Height { get; }
    public float[] Pixels { get; }

    public RgbaImage(int width, int height, float[] pixels)
    {
        if (pixels.Length != width * height * 4) throw new ArgumentException("pixels must be W·H·4 floats", nameof(pixels));
        Width = width; Height = height; Pixels = pixels;
    }

    public static RgbaImage Load(string path)
    {
        if (!File.Exists(path)) throw new NerfFormatException(path, "image not found");
        using var codec = SKCodec.Create(path) ?? throw new NerfFormatException(path, "not a readable image");
        // The header's size is checked before the pixel buffer is allocated.
        long pixels = (long)codec.Info.Width * codec.Info.Height;
        if (codec.Info.Width <= 0 || codec.Info.Height <= 0 || pixels > IO.InputLimits.MaxImagePixels)
            throw new NerfFormatException(path, $"image of {codec.Info.Width}×{codec.Info.Height} pixels is empty or beyond the limit of {IO.InputLimits.MaxImagePixels:N0} pixels");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
            throw new NerfFormatException(path, $"cannot decode image ({result})");
        var bytes = bitmap.Bytes;
        var px = new float[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) px[i] = bytes[i] / 255f;
        return new RgbaImage(info.Width, info.Height, px);
    }

    /// <summary>RGB composited on <paramref name="background"/>: rgb·α + bg·(1 − α), [H·W·3].</summary>
    public float[] CompositeOn(double[] background)
    {
        var rgb = new float[Width * Height * 3];
        for (int p = 0; p < Width * Height; p++)
        {
            float a = Pixels[4 * p + 3];
            for (int c = 0; c < 3; c++) rgb[3 * p + c] = (float)(Pixels[4 * p + c] * a + background[c] * (1 - a));
        }
        return rgb;
    }

    /// <summary>Writes this RGBA image as an 8-bit PNG (straight alpha), atomically.</summary>
    public void Save(string path)
    {
        var bytes = new byte[Pixels.Length];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)Math.Round(Math.Clamp(Pixels[i], 0f, 1f) * 255f);
        WritePng(path, bytes, Width, Height);
    }

    /// <summary>An RGBA image from a render: colour on black C and opacity A → straight alpha (C/A, A).</summary>
    public static RgbaImage FromRender(float[] colorOnBlack, float[] opacity, int width, int height)
    {
        var px = new float[width * height * 4];
        for (int p = 0; p < width * height; p++)
        {
            float a = opacity[p];
            for (int c = 0; c < 3; c++) px[4 * p + c] = a > 1e-6f ? Math.Clamp(colorOnBlack[3 * p + c] / a, 0f, 1f) : 0f;
            px[4 * p + 3] = Math.Clamp(a, 0f, 1f);
        }
        return new RgbaImage(width, height, px);
    }

    /// <summary>Writes an RGB [H·W·3] image (values clamped to [0, 1]) as an 8-bit PNG, atomically.</summary>
    public static void SaveRgb(string path, float[] rgb, int width, int height)
    {
        var bytes = new byte[width * height * 4];
        for (int p = 0; p < width * height; p++)
        {
            for (int c = 0; c < 3; c++) bytes[4 * p + c] = (byte)Math.Round(Math.Clamp(rgb[3 * p + c], 0f, 1f) * 255f);
            bytes[4 * p + 3] = 255;
        }
        WritePng(path, bytes, width, height);
    }

    static void WritePng(string path, byte[] rgba, int width, int height)
    {
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        IO.AtomicFile.Write(path, tmp => { using var fs = File.Create(tmp); data.SaveTo(fs); });
    }

    /// <summary>Peak signal-to-noise ratio in dB of two images in [0, 1].</summary>
    public static double Psnr(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException("images differ in size");
        double sum = 0;
        for (int i = 0; i < a.Length; i++) { double e = a[i] - b[i]; sum += e * e; }
        double mse = sum / a.Length;
        return mse == 0 ? double.PositiveInfinity : -10 * Math.Log10(mse);
    }
}
