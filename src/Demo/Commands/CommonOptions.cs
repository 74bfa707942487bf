using System.CommandLine;
using NerfGmn.Architectures;
using NerfGmn.Graphs;
using NerfGmn.IO;

namespace NerfGmn.Demo.Commands;

/// <summary>Arguments and options shared by the commands that read NeRF weights.</summary>
static class CommonOptions
{
    public static Argument<string> Weights() => new("weights") { Description = "NeRF weight file: gmnerf/nf2vec .pth/.pt or native .safetensors" };

    public static Option<string?> Arch() => new("--arch")
    {
        Description = "architecture descriptor (JSON) or preset name (mlp, triplane, hash, mlp_2l, mlp_32h, triplane_2l, triplane_32h, triplane_16w, triplane_8c); " +
                      "default: the file's own, a sidecar <stem>.arch.json, or inferred",
    };

    public static Option<bool> AllowNonFinite() => new("--allow-nonfinite") { Description = "accept NaN/Inf parameters" };

    public static Option<TriplanePositionLayout> Layout() => new("--layout")
    {
        Description = "tri-plane edge positions: reference (gmnerf-exact, default) or clean (true cell positions)",
        DefaultValueFactory = _ => TriplanePositionLayout.Reference,
    };

    public static NerfLoadOptions LoadOptions(string? arch, bool allowNonFinite) => new()
    {
        Architecture = arch is null ? null
            : File.Exists(arch) ? NerfArchitecture.Load(arch)
            : ArchitecturePresets.ByName.ContainsKey(arch) ? ArchitecturePresets.Get(arch)
            : throw new FileNotFoundException($"--arch: '{arch}' is neither a descriptor file nor a preset name"),
        AllowNonFinite = allowNonFinite,
    };
}
