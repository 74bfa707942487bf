using NerfGmn.Build;
using NerfGmn.Runtime;
using static TorchSharp.torch;

namespace NerfGmn.Tests;

[TestClass]
public class TorchRuntimeTests
{
    [TestMethod]
    public void TorchSharpComputesOnThisMachine()
    {
        TorchRuntime.Load();
        using var a = tensor(new float[] { 1, 2, 3, 4 }, [2, 2]);
        using var b = a.matmul(a);        // [[7, 10], [15, 22]]
        CollectionAssert.AreEqual(new float[] { 7, 10, 15, 22 }, b.data<float>().ToArray());
        using var s = ones(2).sum();
        Assert.AreEqual(2f, s.item<float>());
    }

    [TestMethod]
    public void AllocatorAndOpenMpSettingsReachTheNativeEnvironment()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("Linux only");
        TorchRuntime.EnsureInitialized();
        var native = TorchRuntime.NativeSettings();
        Assert.AreEqual("1", native["THP_MEM_ALLOC_ENABLE"]);
        Assert.AreEqual("PASSIVE", native["OMP_WAIT_POLICY"]);
    }

    [TestMethod]
    public void LargeTensorsComeFromTheReusedHeapNotFreshMappings()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("Linux only");
        TorchRuntime.Load();
        long before = TorchRuntime.MappedAllocationBytes();
        // 48 MB: above glibc's largest mmap threshold (32 MB), so without the setting it is always a fresh mapping; below
        // the 64 MB heap size of the per-thread arenas, so the test thread (not the main one) can serve it from a heap.
        using var big = ones(48L << 20, dtype: TorchSharp.torch.ScalarType.Byte);
        Assert.AreEqual(48L << 20, big.sum().item<long>());
        Assert.IsTrue(TorchRuntime.MappedAllocationBytes() - before < 48L << 20,
            $"a 48 MB tensor was mapped separately ({TorchRuntime.MappedAllocationBytes() - before} bytes): mallopt settings not applied");
    }

    [TestMethod]
    public void ShippedLibTorchSharpHasTheGlibcxxRequirementMarkedWeak()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("Linux only");
        string shipped = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.IsTrue(File.Exists(shipped), shipped);
        ushort? flags = ElfWeakVersionPatcher.ReadFlags(shipped, "GLIBCXX_3.4.32");
        Assert.IsNotNull(flags, "the library no longer asks for GLIBCXX_3.4.32; revisit the build fix");
        Assert.AreEqual(2, flags!.Value & 2, "VER_FLG_WEAK not set");
    }

    [TestMethod]
    public void PatcherMarksThePackageCopyWeakAndIsIdempotent()
    {
        string original = Path.Combine(TestPaths.NuGetPackageRoot, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        if (!File.Exists(original)) Assert.Inconclusive($"package copy not found at {original}");
        using var dir = TestPaths.NewTempDir();
        string copy = dir.File("libLibTorchSharp.so");
        File.Copy(original, copy);
        Assert.AreEqual(0, ElfWeakVersionPatcher.ReadFlags(copy, "GLIBCXX_3.4.32")!.Value & 2, "package copy is already weak?");
        byte[] before = File.ReadAllBytes(copy);

        Assert.AreEqual(ElfPatchResult.Patched, ElfWeakVersionPatcher.Patch(copy, "GLIBCXX_3.4.32"));
        Assert.AreEqual(2, ElfWeakVersionPatcher.ReadFlags(copy, "GLIBCXX_3.4.32")!.Value & 2);
        byte[] after = File.ReadAllBytes(copy);
        Assert.AreEqual(before.Length, after.Length);
        Assert.AreEqual(1, before.Zip(after).Count(p => p.First != p.Second), "exactly one byte (the flags) changes");

        Assert.AreEqual(ElfPatchResult.AlreadyWeak, ElfWeakVersionPatcher.Patch(copy, "GLIBCXX_3.4.32"));
        CollectionAssert.AreEqual(after, File.ReadAllBytes(copy));
        Assert.AreEqual(ElfPatchResult.VersionNotRequired, ElfWeakVersionPatcher.Patch(copy, "GLIBCXX_9.9.99"));
    }

    [TestMethod]
    public void PatcherRejectsNonElfInput()
    {
        using var dir = TestPaths.NewTempDir();
        File.WriteAllText(dir.File("x.so"), "definitely not an ELF file, but long enough to have a header..........");
        var e = Assert.ThrowsExactly<InvalidDataException>(() => ElfWeakVersionPatcher.Patch(dir.File("x.so"), "GLIBCXX_3.4.32"));
        StringAssert.Contains(e.Message, "not an ELF file");
    }
}
