using System.Text.Json;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

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
        IO.InputLimits.CheckFileSize(path, IO.InputLimits.MaxMetadataBytes, "camera file");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            double angle = root.GetProperty("camera_angle_x").GetDouble();
            if (!(angle > 0 && angle < Math.PI)) throw new NerfFormatException(path, $"camera_angle_x {angle} is not an angle in (0, π) radians");
            var frames = new List<CameraFrame>();
            foreach (var f in root.GetProperty("frames").EnumerateArray())
            {
                if (frames.Count == IO.InputLimits.MaxCameraFrames)
                    throw new NerfFormatException(path, $"more than {IO.InputLimits.MaxCameraFrames} frames");
                var m = f.GetProperty("transform_matrix").EnumerateArray().Take(5).SelectMany(r => r.EnumerateArray().Take(5).Select(v => v.GetDouble())).ToArray();
                if (m.Length != 16) throw new NerfFormatException(path, $"frame {frames.Count}: transform_matrix must be 4×4");
                if (!m.All(double.IsFinite)) throw new NerfFormatException(path, $"frame {frames.Count}: transform_matrix has a non-finite value");
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

    /// <summary>Writes a Blender-style transforms JSON (4-space indent, as the real files), atomically.</summary>
    public void Save(string path)
    {
        var doc = new
        {
            camera_angle_x = CameraAngleX,
            frames = Frames.Select(f => new
            {
                file_path = f.FilePath,
                rotation = 0.17453292519943295,
                transform_matrix = Enumerable.Range(0, 4).Select(r => f.CameraToWorld.Skip(4 * r).Take(4).ToArray()).ToArray(),
            }).ToArray(),
        };
        IO.AtomicFile.Write(path, tmp => File.WriteAllText(tmp, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true, IndentSize = 4 })));
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
            var grid = meshgrid([arange(S(height), dtype: ScalarType.Float64), arange(S(width), dtype: ScalarType.Float64)], indexing: "ij");
            py = grid[0].reshape(-1);
            px = grid[1].reshape(-1);
        }
        else
        {
            px = pixels[.., 0].to_type(ScalarType.Float64);
            py = pixels[.., 1].to_type(ScalarType.Float64);
        }
        var dCam = stack([(px.Minus(S(width / 2.0)).Plus(S(0.5))) / S(f), -(py.Minus(S(height / 2.0)).Plus(S(0.5))) / S(f), -ones_like(px)], 1); // [P, 3]
        var m = tensor(Frames[view].CameraToWorld, ScalarType.Float64).reshape(4, 4);
        var d = dCam.matmul(m[..3, ..3].t());
        d = d / d.norm(1, keepdim: true);
        var o = m[..3, 3].unsqueeze(0).expand(d.shape[0], 3).contiguous();
        return (o.MoveToOuterDisposeScope(), d.MoveToOuterDisposeScope());
    }
}

/// <summary>Camera rigs for rendering datasets.</summary>
public static class CameraRigs
{
    /// <summary>ShapenetRender's horizontal field of view (radians).</summary>
    public const double ShapenetCameraAngleX = 0.8575560548920328;

    /// <summary>
    /// 36 views as in ShapenetRender: azimuth every 10° with ±3° jitter, elevation 5°–33°, distance 1.15–1.7,
    /// looking at the origin, z-up, camera-to-world in the OpenGL convention.
    /// </summary>
    public static CameraSet Shapenet(Random rng, int views = 36, string folder = "train")
    {
        var frames = new List<CameraFrame>(views);
        for (int i = 0; i < views; i++)
        {
            double az = (i * 360.0 / views + (rng.NextDouble() * 6 - 3)) * Math.PI / 180;
            double el = (5 + rng.NextDouble() * 28) * Math.PI / 180;
            double r = 1.15 + rng.NextDouble() * 0.55;
            var position = new[] { r * Math.Cos(el) * Math.Cos(az), r * Math.Cos(el) * Math.Sin(az), r * Math.Sin(el) };
            frames.Add(new CameraFrame($"./{folder}/{i:00}", LookAt(position, [0, 0, 0], [0, 0, 1])));
        }
        return new CameraSet(ShapenetCameraAngleX, frames);
    }

    /// <summary>Camera-to-world matrix (row-major 4×4) of a camera at <paramref name="eye"/> looking at <paramref name="target"/>; the camera looks along −z.</summary>
    public static double[] LookAt(double[] eye, double[] target, double[] up)
    {
        double[] f = Normalize([target[0] - eye[0], target[1] - eye[1], target[2] - eye[2]]);
        double[] right = Normalize(Cross(f, up));
        double[] u = Cross(right, f);
        return
        [
            right[0], u[0], -f[0], eye[0],
            right[1], u[1], -f[1], eye[1],
            right[2], u[2], -f[2], eye[2],
            0, 0, 0, 1,
        ];
    }

    static double[] Cross(double[] a, double[] b) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
    static double[] Normalize(double[] v) { double n = Math.Sqrt(v.Sum(x => x * x)); return v.Select(x => x / n).ToArray(); }
}
