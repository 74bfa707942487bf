using NerfGmn.Rendering;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Datasets;

/// <summary>
/// Ground-truth views of a procedural object by sphere tracing its SDF, like a mesh render: one ray through each pixel
/// centre, opaque surface (alpha 1 on a hit), colour = the object's baked-shaded albedo at the hit point.
/// </summary>
public static class SdfImageRenderer
{
    public static RgbaImage Render(SceneObject obj, CameraSet cameras, int view, int size, int iterations = 96)
    {
        using var scope = NewDisposeScope();
        var (o, d) = cameras.Rays(view, size, size);
        var (tMin, tMax) = VolumeRenderer.IntersectBox(o, d, [-0.7, -0.7, -0.7, 0.7, 0.7, 0.7]);
        (o, d, tMin, tMax) = (o.to_type(ScalarType.Float32), d.to_type(ScalarType.Float32), tMin.to_type(ScalarType.Float32), tMax.to_type(ScalarType.Float32));
        // March only the rays still searching: the active set shrinks as rays hit or leave the box.
        var t = tMin.clone();
        var hit = zeros(t.shape[0], dtype: ScalarType.Bool);
        var active = tMax.lt(S(1e9)).nonzero().squeeze(1);
        for (int i = 0; i < iterations && active.shape[0] > 0; i++)
        {
            var ta = t.index_select(0, active);
            var p = o.index_select(0, active).Plus(ta.unsqueeze(1) * d.index_select(0, active));
            var (sdf, _) = obj.Distance(p);
            var nowHit = sdf.lt(S(5e-4));
            hit.index_fill_(0, active.masked_select(nowHit), S(true));
            var tNext = ta.Plus(sdf.clamp_min(S(2e-4)) * S(0.95));
            t.index_copy_(0, active, where(nowHit, ta, tNext));
            var keep = nowHit.logical_not().logical_and(tNext.lt(tMax.index_select(0, active)));
            active = active.masked_select(keep);
        }
        hit = hit.logical_and(t.lt(tMax));
        var rgba = zeros(t.shape[0], 4);
        var hits = hit.nonzero().squeeze(1);
        if (hits.shape[0] > 0)
        {
            var (rgb, _) = obj.Field((o.Plus(t.unsqueeze(1) * d)).index_select(0, hits));
            rgba.index_copy_(0, hits, cat([rgb, ones(hits.shape[0], 1)], 1));   // opaque where the ray hit
        }
        var px = rgba.data<float>().ToArray();
        return new RgbaImage(size, size, px);
    }
}
