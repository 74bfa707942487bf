using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NerfGmn.IO;

/// <summary>One tensor of a safetensors file: dtype name (F32, F64, I64, ...), shape and raw little-endian bytes.</summary>
public sealed record SafeTensor(string DType, long[] Shape, byte[] Data)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    public static SafeTensor FromFloats(float[] values, params long[] shape) => new("F32", shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
    public static SafeTensor FromHalves(float[] values, params long[] shape) =>
        new("F16", shape, MemoryMarshal.AsBytes(values.Select(v => (Half)v).ToArray().AsSpan()).ToArray());
    public static SafeTensor FromDoubles(double[] values, params long[] shape) => new("F64", shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
    public static SafeTensor FromLongs(long[] values, params long[] shape) => new("I64", shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    /// <summary>Values as float32 (F32 as is; F16, BF16 and F64 converted).</summary>
    public float[] ToFloats() => DType switch
    {
        "F32" => MemoryMarshal.Cast<byte, float>(Data).ToArray(),
        "F64" => MemoryMarshal.Cast<byte, double>(Data).ToArray().Select(d => (float)d).ToArray(),
        "F16" => MemoryMarshal.Cast<byte, Half>(Data).ToArray().Select(h => (float)h).ToArray(),
        "BF16" => MemoryMarshal.Cast<byte, ushort>(Data).ToArray().Select(b => BitConverter.Int32BitsToSingle(b << 16)).ToArray(),
        _ => throw new InvalidDataException($"tensor of dtype {DType} is not floating point"),
    };

    public double[] ToDoubles() => DType == "F64" ? MemoryMarshal.Cast<byte, double>(Data).ToArray()
        : ToFloats().Select(f => (double)f).ToArray();

    public long[] ToLongs() => DType switch
    {
        "I64" => MemoryMarshal.Cast<byte, long>(Data).ToArray(),
        "I32" => MemoryMarshal.Cast<byte, int>(Data).ToArray().Select(i => (long)i).ToArray(),
        _ => throw new InvalidDataException($"tensor of dtype {DType} is not an integer tensor"),
    };
}

/// <summary>
/// Reader and writer of the safetensors format (u64 LE header length, JSON header, raw data), with string metadata.
/// Small and strict: offsets, sizes and dtypes are checked so a truncated or corrupt file fails with a clear message.
/// </summary>
public static class SafeTensorsFile
{
    static readonly Dictionary<string, int> ElementSizes = new()
    {
        ["F64"] = 8, ["F32"] = 4, ["F16"] = 2, ["BF16"] = 2, ["I64"] = 8, ["I32"] = 4, ["I16"] = 2, ["I8"] = 1,
        ["U8"] = 1, ["BOOL"] = 1,
    };

    public sealed record Contents(IReadOnlyDictionary<string, SafeTensor> Tensors, IReadOnlyDictionary<string, string> Metadata);

    public static Contents Read(string path)
    {
        if (!File.Exists(path)) throw new NerfFormatException(path, "file not found");
        InputLimits.CheckFileSize(path, InputLimits.MaxFileBytes, "safetensors file");
        return Read(File.ReadAllBytes(path), path);
    }

    public static Contents Read(byte[] bytes, string? nameForErrors = null)
    {
        void Fail(string problem) => throw new NerfFormatException(nameForErrors, problem);
        if (bytes.Length < 8) Fail("file is too short to be safetensors (truncated?)");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8) || headerLength > InputLimits.MaxMetadataBytes)
            Fail($"safetensors header length {headerLength} exceeds the file size {bytes.Length} (truncated or not safetensors)");
        JsonObject header;
        try
        {
            header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength))?.AsObject()
                     ?? throw new JsonException("header is null");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new NerfFormatException(nameForErrors, $"safetensors header is not a JSON object ({e.Message})", e);
        }
        long dataStart = 8 + (long)headerLength;
        long dataLength = bytes.Length - dataStart;
        var tensors = new Dictionary<string, SafeTensor>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                if (node is not JsonObject meta) Fail("__metadata__ is not an object of strings");
                foreach (var (k, v) in (JsonObject)node!)
                    metadata[k] = v is JsonValue value && value.TryGetValue<string>(out var text) ? text
                        : throw new NerfFormatException(nameForErrors, $"__metadata__ entry '{k}' is not a string");
                continue;
            }
            try
            {
                var obj = node!.AsObject();
                string dtype = obj["dtype"]!.GetValue<string>();
                long[] shape = obj["shape"]!.AsArray().Select(s => s!.GetValue<long>()).ToArray();
                long[] offsets = obj["data_offsets"]!.AsArray().Select(s => s!.GetValue<long>()).ToArray();
                if (!ElementSizes.TryGetValue(dtype, out int size)) Fail($"tensor '{name}' has unsupported dtype {dtype}");
                if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > dataLength)
                    Fail($"tensor '{name}' data [{string.Join(", ", offsets)}] lies outside the {dataLength} data bytes (truncated?)");
                if (shape.Length > InputLimits.MaxTensorDims) Fail($"tensor '{name}' has {shape.Length} dimensions (limit {InputLimits.MaxTensorDims})");
                if (shape.Any(s => s < 0)) Fail($"tensor '{name}' has a negative dimension");
                long? count = InputLimits.ElementCount(shape);
                long? need = count is null ? null : InputLimits.Bytes(count.Value, size);
                if (need != offsets[1] - offsets[0])
                    Fail($"tensor '{name}' of shape [{string.Join(", ", shape)}] {dtype} needs {need?.ToString() ?? "more than 2^63"} bytes, the file gives {offsets[1] - offsets[0]}");
                var data = bytes.AsSpan((int)(dataStart + offsets[0]), (int)(offsets[1] - offsets[0])).ToArray();
                tensors[name] = new SafeTensor(dtype, shape, data);
            }
            catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
            {
                throw new NerfFormatException(nameForErrors, $"safetensors entry '{name}' is malformed ({e.Message})", e);
            }
        }
        return new Contents(tensors, metadata);
    }

    /// <summary>Writes atomically (temporary file, then rename).</summary>
    public static void Write(string path, IReadOnlyDictionary<string, SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        AtomicFile.Write(path, tmp =>
        {
            using var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write);
            Write(fs, tensors, metadata);
        });
    }

    /// <summary>The file's bytes in memory (e.g. to embed an encoder inside a model zip).</summary>
    public static byte[] ToBytes(IReadOnlyDictionary<string, SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var ms = new MemoryStream();
        Write(ms, tensors, metadata);
        return ms.ToArray();
    }

    static void Write(Stream fs, IReadOnlyDictionary<string, SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        long offset = 0;
        foreach (var (name, t) in tensors)
        {
            if (!ElementSizes.TryGetValue(t.DType, out int size)) throw new ArgumentException($"unsupported dtype {t.DType} for '{name}'");
            if (t.ElementCount * size != t.Data.Length) throw new ArgumentException($"tensor '{name}': shape and data length disagree");
            header[name] = new JsonObject
            {
                ["dtype"] = t.DType,
                ["shape"] = new JsonArray(t.Shape.Select(s => (JsonNode)s).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + t.Data.Length),
            };
            offset += t.Data.Length;
        }
        byte[] headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (headerBytes.Length + 7) / 8 * 8;
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
        fs.Write(len);
        fs.Write(headerBytes);
        for (int i = headerBytes.Length; i < padded; i++) fs.WriteByte((byte)' ');
        foreach (var t in tensors.Values) fs.Write(t.Data);
    }
}
