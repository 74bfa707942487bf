using System.IO.MemoryMappedFiles;
using NerfGmn.Benchmarks;

namespace NerfGmn.Tests;

[TestClass]
[DoNotParallelize]   // reads and resets this process's resident peak
public class BenchmarkStatsTests
{
    [TestMethod]
    public void AResetPeakWindowLeavesTheProcessPeakIntact()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("VmHWM and clear_refs are Linux-only");
        const long size = 256L << 20;
        // An anonymous mapping, touched page by page and unmapped again: resident while it lives, returned to the OS after.
        using (var map = MemoryMappedFile.CreateNew(null, size))
        using (var view = map.CreateViewAccessor())
            for (long at = 0; at < size; at += 4096) view.Write(at, (byte)1);
        double peak = BenchmarkStats.PeakRssMb();

        Assert.IsTrue(BenchmarkStats.ResetPeakRss(), "clear_refs is writable on Linux");
        double window = BenchmarkStats.PeakRssSinceResetMb();
        Assert.IsTrue(window < peak - 200, $"the window starts below the freed mapping: window {window:F0} MB, process peak {peak:F0} MB");
        Assert.IsTrue(BenchmarkStats.PeakRssMb() >= peak, $"the process peak survives the reset: {BenchmarkStats.PeakRssMb():F0} MB < {peak:F0} MB");
    }
}
