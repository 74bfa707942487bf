namespace NerfGmn.IO;

/// <summary>
/// The documented maxima of every size read from a file, checked before anything of that size is allocated. They are
/// generous for NeRFs (the paper's largest, a 2^19-entry hash grid, holds 8M values) and small enough that a lying
/// header cannot ask for more memory than this machine class has.
/// </summary>
public static class InputLimits
{
    /// <summary>Bytes of one tensor (one torch storage or safetensors entry): 1 GiB.</summary>
    public const long MaxTensorBytes = 1L << 30;
    /// <summary>Dimensions of one tensor.</summary>
    public const int MaxTensorDims = 8;
    /// <summary>Bytes of a pickle (<c>data.pkl</c>) or of a JSON header, descriptor or camera file: 64 MiB.</summary>
    public const long MaxMetadataBytes = 64L << 20;
    /// <summary>Bytes of a weight file read whole (safetensors): 2 GiB − 1, the largest .NET byte array.</summary>
    public const long MaxFileBytes = int.MaxValue;
    /// <summary>Entries of a checkpoint zip.</summary>
    public const int MaxZipEntries = 100_000;
    /// <summary>Parameters of one NeRF (MLP weights + grid or table values): 2^28.</summary>
    public const long MaxNerfParameters = 1L << 28;
    /// <summary>Width of one linear layer and number of linear layers of a descriptor.</summary>
    public const int MaxLayerWidth = 1 << 16, MaxLayers = 64;
    /// <summary>Tri-plane resolution and channels; hash-grid levels and features per level.</summary>
    public const int MaxTriplaneResolution = 4096, MaxGridChannels = 1024, MaxHashLevels = 64;
    /// <summary>Pixels of one image (8192²) and frames of one camera file.</summary>
    public const long MaxImagePixels = 1L << 26;
    public const int MaxCameraFrames = 100_000;

    /// <summary>Product of <paramref name="dims"/> or null when it overflows 64 bits or a dimension is negative.</summary>
    public static long? ElementCount(IEnumerable<long> dims)
    {
        long n = 1;
        foreach (long d in dims)
        {
            if (d < 0) return null;
            try { n = checked(n * d); }
            catch (OverflowException) { return null; }
        }
        return n;
    }

    /// <summary>Bytes of <paramref name="elements"/> elements of <paramref name="elementSize"/> bytes, or null on overflow.</summary>
    public static long? Bytes(long elements, int elementSize)
    {
        if (elements < 0) return null;
        try { return checked(elements * elementSize); }
        catch (OverflowException) { return null; }
    }

    /// <summary>Refuses a file larger than <paramref name="maxBytes"/> before it is read whole.</summary>
    public static void CheckFileSize(string path, long maxBytes, string what)
    {
        long length = new FileInfo(path).Length;
        if (length > maxBytes)
            throw new NerfFormatException(path, $"{what} of {length:N0} bytes exceeds the limit of {maxBytes:N0} bytes");
    }
}
