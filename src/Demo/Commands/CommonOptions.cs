using System.CommandLine;
using NerfGmn.Architectures;
using NerfGmn.Graphs;
using NerfGmn.IO;

namespace NerfGmn.Demo.Commands;

/// <summary>The weight-file argument with --arch and --allow-nonfinite, as every command that reads one NeRF takes them.</summary>
sealed class WeightsInput
{
    readonly Argument<string> _weights = CommonOptions.Weights();
    readonly Option<string?> _arch = CommonOptions.Arch();
    readonly Option<bool> _allow = CommonOptions.AllowNonFinite();

    public Command AddTo(Command command)
    {
        command.Arguments.Add(_weights);
        command.Options.Add(_arch);
        command.Options.Add(_allow);
        return command;
    }

    public string Path(ParseResult p) => p.GetValue(_weights)!;

    public NerfWeights Read(ParseResult p) =>
        NerfWeightsFile.Read(p.GetValue(_weights)!, CommonOptions.LoadOptions(p.GetValue(_arch), p.GetValue(_allow)));
}

/// <summary>Arguments and options shared by the commands that read NeRF weights.</summary>
static class CommonOptions
{
    public static Argument<string> Weights() => new("weights") { Description = "NeRF weight file: gmnerf/nf2vec .pth/.pt or native .safetensors" };

    public static Option<string?> Arch() => new("--arch")
    {
        Description = "architecture descriptor (JSON) or preset name (mlp, triplane, hash, mlp_2l, mlp_32h, triplane_2l, triplane_32h, triplane_16w, triplane_8c); " +
                      "default: the file's own, a sidecar <stem>.arch.json, or inferred",
    };

    /// <summary>A training run with a decoder (fit-decoder, probe-decoder, invert-decoder).</summary>
    public static Argument<string> DecodingRun() => new("run") { Description = "training run directory (L_R, L_R+C, L_F or L_F+C) with a last/ checkpoint" };

    /// <summary>A decoder from fit-decoder in place of the run's own (probe-decoder, invert-decoder).</summary>
    public static Option<string?> FittedDecoder() => new("--decoder") { Description = "a decoder fitted to the run (fit-decoder's decoder.safetensors) instead of the run's last one" };

    public static Option<string?> Device() => new("--device")
    {
        Description = "cpu, cuda or cuda:N; default: CUDA when this build's libtorch has it, else the CPU",
    };

    /// <summary>Resolves --device and says once, at start, where the work runs.</summary>
    public static TorchSharp.torch.Device ResolveDevice(string? setting)
    {
        var device = NerfGmn.Runtime.ComputeDevice.Resolve(setting);
        Console.WriteLine($"device: {NerfGmn.Runtime.ComputeDevice.Describe(device)}");
        return device;
    }

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
