using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;

namespace NerfGmn.Runtime;

/// <summary>
/// Process-wide libtorch settings that must be in place before the first torch call.
/// On these VMs fresh memory is very slow to touch and libgomp spin-waits stall parallel ops; huge pages for
/// libtorch's allocator and a passive OpenMP wait policy remove both (see README, "Speed"). libtorch reads them
/// from the native environment, which <see cref="Environment.SetEnvironmentVariable(string,string)"/> does not
/// change on Linux, hence libc <c>setenv</c>.
/// glibc serves every allocation above 32 MB (all [edges, d] tensors of a batch) with a fresh mmap and unmaps it on
/// free, so each training step faulted its working set in again and the kernel spent ~30% of the step zeroing pages
/// (perf: <c>clear_page_erms</c>). Large blocks therefore come from the heap and freed memory is kept for reuse
/// (<c>mallopt</c>): a GMN training step's kernel time fell from 4.3 s to ~0.1 s and its CPU time by 30%, at the price of
/// a resident size that stays at the step's peak.
/// </summary>
public static class TorchRuntime
{
    /// <summary>Set to 1 before start-up to keep libtorch's defaults (used by the benchmark's "before" run).</summary>
    public const string DisableVariable = "NERFGMN_DEFAULT_ALLOCATOR";

    static readonly (string Name, string Value)[] Settings =
    {
        ("THP_MEM_ALLOC_ENABLE", "1"),
        ("OMP_WAIT_POLICY", "PASSIVE"),
    };

    /// <summary>
    /// Set to 0 before start-up to leave large blocks to glibc's mmap (huge pages and the OpenMP policy stay): the heap
    /// keeps what it once held, and its fragmentation costs memory. Measured on one training step, batch of 8
    /// tri-plane graphs at paper size: peak resident 5.9 GB with mmap, 14.8 GB with heap reuse (bench); CPU preset (4 tri-plane
    /// + 4 MLP graphs): 2.1 GB vs 5.7 GB, but 12.7 s vs 8.6 s of CPU time per step (see README, "Speed").
    /// </summary>
    public const string HeapReuseVariable = "NERFGMN_HEAP_REUSE";

    /// <summary>True when large blocks come from the reused heap (see <see cref="HeapReuseVariable"/>).</summary>
    public static bool HeapReuse { get; private set; }

    static int _initialized;

    /// <summary>True when the tuned settings were applied in this process.</summary>
    public static bool Tuned { get; private set; }

    // CA2255 warns that libraries rarely need module initialisers; this one must run before the first torch call of
    // any caller (the allocator and OpenMP settings are read when libtorch loads), which no explicit call can promise.
#pragma warning disable CA2255
    [ModuleInitializer]
    internal static void OnLoad() => EnsureInitialized();
#pragma warning restore CA2255

    /// <summary>Applies the settings once; call before any torch use (the library does it on load).</summary>
    public static void EnsureInitialized()
    {
        if (Interlocked.Exchange(ref _initialized, 1) == 1) return;
        if (Environment.GetEnvironmentVariable(DisableVariable) == "1") return;
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux)) return;
        foreach (var (name, value) in Settings)
        {
            // Respect an explicit user choice.
            if (Environment.GetEnvironmentVariable(name) is null) setenv(name, value, 0);
        }
        // Only malloc tunables of the user's own count as a choice; GLIBC_TUNABLES may carry unrelated ones.
        if (Environment.GetEnvironmentVariable("GLIBC_TUNABLES")?.Contains("glibc.malloc.") != true && Environment.GetEnvironmentVariable("MALLOC_MMAP_MAX_") is null
            && Environment.GetEnvironmentVariable(HeapReuseVariable) != "0")
        {
            mallopt(M_MMAP_MAX, 0);
            mallopt(M_TRIM_THRESHOLD, -1);   // as size_t: never give the heap top back
            HeapReuse = true;
        }
        Tuned = true;
    }

    /// <summary>The settings as libc sees them now (for diagnostics and benchmarks).</summary>
    public static IReadOnlyDictionary<string, string?> NativeSettings() =>
        Settings.ToDictionary(s => s.Name, s => RuntimeInformation.IsOSPlatform(OSPlatform.Linux)
            ? Marshal.PtrToStringAnsi(getenv(s.Name)) : Environment.GetEnvironmentVariable(s.Name));

    /// <summary>Loads libtorch now, so a broken native install fails here with a clear message.</summary>
    public static void Load()
    {
        EnsureInitialized();
        try
        {
            using var t = torch.ones(1);
        }
        catch (TypeInitializationException e)
        {
            throw new InvalidOperationException(
                "libtorch could not be loaded. On Linux this usually means libLibTorchSharp.so was not patched by the " +
                "build (run 'dotnet build' again) or the libtorch backend package is missing; see README, 'TorchSharp on Linux'.",
                e.InnerException ?? e);
        }
    }

    /// <summary>Bytes the C allocator currently holds in separately mapped blocks (glibc <c>mallinfo2().hblkhd</c>).</summary>
    public static long MappedAllocationBytes() => RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? (long)mallinfo2().hblkhd : 0;

    const int M_TRIM_THRESHOLD = -1, M_MMAP_MAX = -4;

    [StructLayout(LayoutKind.Sequential)]
    struct MallInfo2
    {
        public nuint arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
    }

    [DllImport("libc")]
    static extern int mallopt(int param, int value);

    [DllImport("libc")]
    static extern MallInfo2 mallinfo2();

    [DllImport("libc", SetLastError = true)]
    static extern int setenv(string name, string value, int overwrite);

    [DllImport("libc")]
    static extern IntPtr getenv(string name);
}
