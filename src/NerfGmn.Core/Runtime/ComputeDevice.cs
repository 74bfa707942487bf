using TorchSharp;

namespace NerfGmn.Runtime;

/// <summary>
/// The device a computation runs on, from a user's setting: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>; none means CUDA
/// when the loaded libtorch has it, else the CPU. The CPU package served here has no CUDA, so asking for it is an error
/// that names the build switch. Models are built on the CPU and moved once; data is assembled on the CPU and moved once
/// per batch; files are written from CPU copies, so nothing saved records a device.
/// </summary>
public static class ComputeDevice
{
    /// <summary>What the README's GPU section tells a user to build with.</summary>
    public const string BuildSwitch = "-p:LibTorchPackage=libtorch-cuda-12.8-linux-x64 (Windows: libtorch-cuda-12.8-win-x64)";

    /// <summary>Parses and checks <paramref name="setting"/>; throws <see cref="ArgumentException"/> naming the problem.</summary>
    public static torch.Device Resolve(string? setting)
    {
        TorchRuntime.Load();
        string s = (setting ?? "").Trim().ToLowerInvariant();
        if (s is "" or "auto") return torch.cuda.is_available() ? new torch.Device(DeviceType.CUDA, 0) : torch.CPU;
        if (s == "cpu") return torch.CPU;
        if (s == "cuda" || s.StartsWith("cuda:", StringComparison.Ordinal))
        {
            int index = 0;
            if (s.Length > 4 && (!int.TryParse(s[5..], out index) || index < 0))
                throw new ArgumentException($"device '{setting}': expected cuda:N with N a GPU index");
            if (!torch.cuda.is_available())
                throw new ArgumentException($"device '{setting}': this build's libtorch has no CUDA; rebuild with {BuildSwitch}");
            int count = torch.cuda.device_count();
            if (index >= count) throw new ArgumentException($"device '{setting}': only {count} CUDA device(s) (cuda:0..cuda:{count - 1})");
            return new torch.Device(DeviceType.CUDA, index);
        }
        throw new ArgumentException($"device '{setting}': expected cpu, cuda or cuda:N");
    }

    /// <summary>
    /// Moves a module built (and seeded) on the CPU to <paramref name="device"/> before an optimiser takes its parameters;
    /// on the CPU nothing is touched, so CPU runs stay exactly what they were. Returns the module.
    /// </summary>
    public static T Place<T>(T module, torch.Device? device) where T : torch.nn.Module
    {
        if (device is not null && device.type != DeviceType.CPU) module.to(device);
        return module;
    }

    /// <summary>The device as users write it (<c>cpu</c>, <c>cuda:0</c>).</summary>
    public static string Describe(torch.Device device) =>
        device.type == DeviceType.CUDA ? $"cuda:{Math.Max(0, device.index)}" : device.type.ToString().ToLowerInvariant();
}
