using NerfGmn.Architectures;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NerfGmn.Fields;

/// <summary>
/// Tri-plane feature grid (3, R, R, C) = (plane, row, col, channel), sampled bilinearly with align_corners=True and
/// zero padding; the three C-vectors are summed. Plane 0 is sampled at (col ← x, row ← y), plane 1 at
/// (col ← x, row ← z), plane 2 at (col ← y, row ← z), coordinates s ∈ [−1, 1]³.
/// </summary>
public sealed class TriplaneGrid : nn.Module<Tensor, Tensor>
{
    readonly Parameter triplane;
    public int Resolution { get; }
    public int Channels { get; }

    public TriplaneGrid(float[] values, TriplaneSpec spec) : base(nameof(TriplaneGrid))
    {
        Resolution = spec.Resolution;
        Channels = spec.Channels;
        triplane = new Parameter(tensor(values, [3, spec.Resolution, spec.Resolution, spec.Channels]));
        RegisterComponents();
    }

    public Tensor Values => triplane;

    /// <param name="s">[B, 3] coordinates in [−1, 1].</param>
    /// <returns>[B, C].</returns>
    public override Tensor forward(Tensor s)
    {
        using var scope = NewDisposeScope();
        var planes = triplane.permute(0, 3, 1, 2);                                         // (3, C, R, R)
        var x = s[.., 0]; var y = s[.., 1]; var z = s[.., 2];
        // grid_sample's grid is (width, height) = (col, row).
        var grid = stack([stack([x, y], -1), stack([x, z], -1), stack([y, z], -1)], 0)      // (3, B, 2)
            .unsqueeze(1);                                                                   // (3, 1, B, 2)
        var sampled = nn.functional.grid_sample(planes, grid, mode: GridSampleMode.Bilinear,
            padding_mode: GridSamplePaddingMode.Zeros, align_corners: true);                // (3, C, 1, B)
        return sampled.sum(dim: 0).squeeze(1).transpose(0, 1).contiguous().MoveToOuterDisposeScope(); // (B, C)
    }
}
