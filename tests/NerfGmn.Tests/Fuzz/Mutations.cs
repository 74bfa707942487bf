using System.Buffers.Binary;
using System.IO.Compression;

namespace NerfGmn.Tests.Fuzz;

/// <summary>Deterministic broken variants of a valid file: truncations, flipped bytes and oversized values.</summary>
static class Mutations
{
    /// <summary>Values a lying length, count or shape field would hold.</summary>
    static readonly long[] Huge = [int.MaxValue, uint.MaxValue, 1L << 40, long.MaxValue, -1, int.MinValue, 1L << 31];

    /// <summary>Prefixes: every length up to 40 bytes, <paramref name="spread"/> more spread over the file, and all but the last 1–2 bytes.</summary>
    public static IEnumerable<(string Name, byte[] Bytes)> Truncations(byte[] bytes, int spread = 24)
    {
        var lengths = Enumerable.Range(0, Math.Min(41, bytes.Length))
            .Concat(Enumerable.Range(1, spread).Select(i => (int)((long)bytes.Length * i / (spread + 1))))
            .Concat([bytes.Length - 1, bytes.Length - 2]).Where(n => n >= 0 && n < bytes.Length).Distinct();
        return lengths.Select(n => ($"truncated to {n} bytes", bytes[..n]));
    }

    /// <summary>One byte XOR-ed with a random non-zero value at <paramref name="count"/> seeded positions.</summary>
    public static IEnumerable<(string Name, byte[] Bytes)> Flips(byte[] bytes, int count, int seed)
    {
        var rng = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            int at = rng.Next(bytes.Length);
            var copy = (byte[])bytes.Clone();
            copy[at] ^= (byte)rng.Next(1, 256);
            yield return ($"byte {at} flipped", copy);
        }
    }

    /// <summary>A huge 4- or 8-byte little-endian value written at each of <paramref name="positions"/>.</summary>
    public static IEnumerable<(string Name, byte[] Bytes)> Stamps(byte[] bytes, IEnumerable<int> positions, int seed)
    {
        var rng = new Random(seed);
        foreach (int at in positions)
        {
            long value = Huge[rng.Next(Huge.Length)];
            int width = rng.Next(2) == 0 ? 4 : 8;
            if (at < 0 || at + width > bytes.Length) continue;
            var copy = (byte[])bytes.Clone();
            if (width == 4) BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan(at), unchecked((int)value));
            else BinaryPrimitives.WriteInt64LittleEndian(copy.AsSpan(at), value);
            yield return ($"{width}-byte value {value} at byte {at}", copy);
        }
    }

    /// <summary><paramref name="count"/> seeded positions in [0, length).</summary>
    public static IEnumerable<int> Positions(int length, int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => rng.Next(length));
    }

    /// <summary>The entries of a zip (name → bytes), in order.</summary>
    public static List<(string Name, byte[] Data)> ReadZip(byte[] zip)
    {
        using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        return archive.Entries.Select(e =>
        {
            using var s = e.Open();
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            return (e.FullName, ms.ToArray());
        }).ToList();
    }

    /// <summary>A stored (uncompressed) zip of <paramref name="entries"/>, as torch.save writes.</summary>
    public static byte[] WriteZip(IEnumerable<(string Name, byte[] Data)> entries)
    {
        var ms = new MemoryStream();
        using (var archive = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, data) in entries)
            {
                using var s = archive.CreateEntry(name, CompressionLevel.NoCompression).Open();
                s.Write(data);
            }
        return ms.ToArray();
    }
}
