using System.Text.Json;
using static TorchSharp.torch;

namespace NerfGmn.Rendering;

/// <summary>One posed view: camera-to-world matrix (row-major 4×4, OpenGL/Blender convention) and its image path.</summary>
public sealed record CameraFrame(string FilePath, double[] CameraToWorld);

/// <summary>
/// Cameras of a Blender/nerfstudio <c>transforms_*.json</c>: a shared horizontal field of view and one camera-to-world
/// matrix per frame (camera looks along −z, +y up).
/// </summary>
public sealed class CameraSet
{
    public double CameraAngleX { get; }
    public IReadOnlyList<CameraFrame> Frames { get; }
    public string? Source { get; }

    public CameraSet(double cameraAngleX, IReadOnlyList<CameraFrame> frames, string? source = null)
    {
        CameraAngleX = cameraAngleX; Frames = frames; Source = source;
    }

    public static CameraSet Load(string path)
    {
        if (!File.Exists(path)) throw new NerfFormatException(path, "file not found");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            double angle = root.GetProperty("camera_angle_x").GetDouble();
            var frames = new List<CameraFrame>();
            foreach (var f in root.GetProperty("frames").EnumerateArray())
            {
                var m = f.GetProperty("transform_matrix").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetDouble())).ToArray();
                if (m.Length != 16) throw new NerfFormatException(path, $"frame {frames.Count}: transform_matrix must be 4×4");
                frames.Add(new CameraFrame(f.TryGetProperty("file_path", out var fp) ? fp.GetString() ?? "" : "", m));
            }
            if (frames.Count == 0) throw new NerfFormatException(path, "no frames");
            return new CameraSet(angle, frames, path);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new NerfFormatException(path, $"not a transforms.json camera file ({e.Message})", e);
        }
    }

    /// <summary>Focal length in pixels for an image <paramref name="width"/> wide.</summary>
    public double Focal(int width) => 0.5 * width / Math.Tan(0.5 * CameraAngleX);

    /// <summary>
    /// Rays through pixel centres (x = column, y = row) of view <paramref name="view"/>, float64:
    /// d_cam = ((x − W/2 + ½)/f, −(y − H/2 + ½)/f, −1), d = R·d_cam normalised, origin = camera position.
    /// Pass <paramref name="pixels"/> ([P, 2] as (x, y)) for a subset; otherwise all pixels in row-major order.
    /// </summary>
    public (Tensor Origins, Tensor Directions) Rays(int view, int width, int height, Tensor? pixels = null)
    {
        if (view < 0 || view >= Frames.Count)
            throw new ArgumentOutOfRangeException(nameof(view), $"view {view} not in 0..{Frames.Count - 1}");
        using var scope = NewDisposeScope();
        double f = Focal(width);
        Tensor px, py;
        if (pixels is null)
        {
            var grid = meshgrid([arange(height, dtype: ScalarType.Float64), arange(width, dtype: ScalarType.Float64)], indexing: "ij");
            py = grid[0].reshape(-1);
            px = grid[1].reshape(-1);
        }
        else
        {
            px = pixels[.., 0].to_type(ScalarType.Float64);
            py = pixels[.., 1].to_type(ScalarType.Float64);
        }
        var dCam = stack([(px - width / 2.0 + 0.5) / f, -(py - height / 2.0 + 0.5) / f, -ones_like(px)], 1); // [P, 3]
        var m = tensor(Frames[view].CameraToWorld, ScalarType.Float64).reshape(4, 4);
        var d = dCam.matmul(m[..3, ..3].t());
        d = d / d.norm(1, keepdim: true);
        var o = m[..3, 3].unsqueeze(0).expand(d.shape[0], 3).contiguous();
        return (o.MoveToOuterDisposeScope(), d.MoveToOuterDisposeScope());
    }
}
