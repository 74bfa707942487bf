using System.Diagnostics;

namespace NerfGmn.Benchmarks;

/// <summary>Median-of-runs timing helpers (the host is noisy: compare only within one run).</summary>
public static class BenchmarkStats
{
    /// <summary>Runs <paramref name="action"/> <paramref name="warmup"/> times, then <paramref name="runs"/> timed times; returns the median in ms.</summary>
    public static double MedianMs(Action action, int runs = 5, int warmup = 1)
    {
        for (int i = 0; i < warmup; i++) action();
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            times[i] = sw.Elapsed.TotalMilliseconds;
        }
        return Median(times);
    }

    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    // The largest peak seen before a reset, so that PeakRssMb stays the process's peak across measurement windows.
    static double _peakBeforeResets;

    /// <summary>
    /// Starts a window for <see cref="PeakRssSinceResetMb"/> at the current resident size (Linux: "5" to
    /// /proc/self/clear_refs); <see cref="PeakRssMb"/> is unaffected. False where unsupported.
    /// </summary>
    public static bool ResetPeakRss()
    {
        double peak = PeakRssSinceResetMb();
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
        _peakBeforeResets = Math.Max(_peakBeforeResets, peak);
        return true;
    }

    /// <summary>Peak resident set size of this process in MB over its whole life.</summary>
    public static double PeakRssMb() => Math.Max(_peakBeforeResets, PeakRssSinceResetMb());

    /// <summary>Peak resident set size in MB since the last <see cref="ResetPeakRss"/> (Linux VmHWM), or the process's peak working set elsewhere.</summary>
    public static double PeakRssSinceResetMb()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return double.Parse(line[6..].Trim().Split(' ')[0]) / 1024.0;
        }
        catch (IOException) { }
        return Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0);
    }
}
