using System.Text;

namespace NerfGmn;

/// <summary>
/// A hash that is the same in every process (FNV-1a over the values' invariant text). <see cref="HashCode"/> is
/// randomised per process, so it must not seed anything that has to be reproducible.
/// </summary>
public static class StableHash
{
    public static ulong Of(params object[] values)
    {
        ulong h = 14695981039346656037UL;
        foreach (var v in values)
        {
            foreach (byte b in Encoding.UTF8.GetBytes(Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) + "\u001f"))
            {
                h ^= b;
                h *= 1099511628211UL;
            }
        }
        return h;
    }

    /// <summary>A non-negative 31-bit seed for <see cref="Random"/>.</summary>
    public static int Seed(params object[] values) => (int)(Of(values) & 0x7fffffff);
}
