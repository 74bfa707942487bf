using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace NerfGmn.MLNet.Lowering;

/// <summary>
/// A stage's learned state as text, carried through the model zip by a stock <c>ValueMapping</c>:
/// <c>NERFGMN-STATE/1 &lt;kind&gt; &lt;guid&gt;\n</c> + base64(json length, json, binary payload).
/// Decoded once per loaded model and cached on the text's backing string (or its GUID).
/// </summary>
static class StateBlob
{
    const string Magic = "NERFGMN-STATE/1";

    public sealed record Payload(string Kind, Guid Id, string Json, byte[] Data);

    public static string Encode(string kind, string json, byte[] data)
    {
        byte[] jsonBytes = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[4 + jsonBytes.Length + data.Length];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, jsonBytes.Length);
        jsonBytes.CopyTo(bytes, 4);
        data.CopyTo(bytes, 4 + jsonBytes.Length);
        return $"{Magic} {kind} {Guid.NewGuid():N}\n{Convert.ToBase64String(bytes)}";
    }

    /// <summary>A placeholder with the right shape, for output-schema questions that need no state.</summary>
    public static string Placeholder(string kind) => Encode(kind, "{}", []);

    public static Payload Decode(ReadOnlySpan<char> text, string expectedKind)
    {
        var (kind, id, headerLength) = Header(text, expectedKind);
        byte[] bytes;
        try { bytes = Convert.FromBase64String(text[headerLength..].ToString()); }
        catch (FormatException e) { throw new InvalidDataException($"NerfGmn {kind} state in the model is corrupt ({e.Message})", e); }
        int jsonLength = bytes.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(bytes) : -1;
        if (jsonLength < 0 || 4 + jsonLength > bytes.Length) throw new InvalidDataException($"NerfGmn {kind} state in the model is truncated");
        return new Payload(kind, id, Encoding.UTF8.GetString(bytes, 4, jsonLength), bytes[(4 + jsonLength)..]);
    }

    static (string Kind, Guid Id, int HeaderLength) Header(ReadOnlySpan<char> text, string expectedKind)
    {
        int nl = text.IndexOf('\n');
        var parts = nl < 0 ? [] : text[..nl].ToString().Split(' ');
        if (parts.Length != 3 || parts[0] != Magic || !Guid.TryParseExact(parts[2], "N", out var id))
            throw new InvalidDataException($"not a NerfGmn model state (expected a '{Magic}' header): the model zip was made by another version or is corrupt");
        if (parts[1] != expectedKind) throw new InvalidDataException($"NerfGmn model state is a '{parts[1]}', expected '{expectedKind}'");
        return (parts[1], id, nl + 1);
    }

    /// <summary>Decoded states (models, encoders) of loaded pipelines, shared by all rows and threads.</summary>
    public sealed class Cache<T> where T : class
    {
        readonly ConditionalWeakTable<string, T> _byText = new();
        readonly ConcurrentDictionary<Guid, T> _byId = new();
        readonly object _gate = new();

        /// <summary>
        /// The decoded state for <paramref name="text"/>: keyed on its backing string when the memory is one (ValueMap
        /// hands back the same string every row, and the entry dies with the model), else on the GUID in its header.
        /// </summary>
        public T Get(ReadOnlyMemory<char> text, string kind, Func<Payload, T> decode)
        {
            if (MemoryMarshal.TryGetString(text, out var backing, out _, out _))
            {
                if (_byText.TryGetValue(backing, out var hit)) return hit;
                lock (_gate)
                {
                    if (_byText.TryGetValue(backing, out hit)) return hit;
                    var value = decode(Decode(text.Span, kind));
                    _byText.AddOrUpdate(backing, value);
                    return value;
                }
            }
            var (_, id, _) = Header(text.Span, kind);
            if (_byId.TryGetValue(id, out var byId)) return byId;
            lock (_gate) return _byId.GetOrAdd(id, _ => decode(Decode(text.Span, kind)));
        }

        /// <summary>Decodes <paramref name="text"/> now, with <paramref name="decode"/>, for the rows that will carry this very string.</summary>
        public void Prime(string text, Func<Payload, T> decode, string kind)
        {
            lock (_gate) _byText.AddOrUpdate(text, decode(Decode(text.AsSpan(), kind)));
        }

        /// <summary>Forgets states cached by GUID (states cached on their text go with their model).</summary>
        public void Clear() => _byId.Clear();
    }
}
