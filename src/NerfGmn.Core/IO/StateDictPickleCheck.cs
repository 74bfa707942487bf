using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace NerfGmn.IO;

/// <summary>
/// Walks a <c>torch.save</c> pickle before the unpickler sees it, and refuses it unless every size in it is safe:
/// each length-prefixed string or byte run fits in the bytes that remain, each storage's element count fits its zip
/// entry and <see cref="InputLimits.MaxTensorBytes"/>, and each tensor's shape, stride and offset stay inside its
/// storage. The unpickler allocates what the pickle declares (a 2 GB string, a tensor of 2^40 zeros) before it can
/// notice a lie; this pass allocates nothing the file does not hold. It also admits only the opcodes
/// <c>torch.save</c> writes for state dicts, so an exotic pickle fails here with the opcode named.
/// </summary>
public static class StateDictPickleCheck
{
    sealed record Global(string Module, string Name);
    sealed record Storage(long Elements, int ElementSize);
    sealed class Mark { public static readonly Mark Instance = new(); }
    /// <summary>Anything whose value does not matter to the size checks.</summary>
    sealed class Opaque { public static readonly Opaque Instance = new(); }

    static readonly Dictionary<string, int> StorageElementSizes = new(StringComparer.Ordinal)
    {
        ["DoubleStorage"] = 8, ["FloatStorage"] = 4, ["HalfStorage"] = 2, ["BFloat16Storage"] = 2, ["LongStorage"] = 8,
        ["IntStorage"] = 4, ["ShortStorage"] = 2, ["CharStorage"] = 1, ["ByteStorage"] = 1, ["BoolStorage"] = 1,
        ["ComplexFloatStorage"] = 8, ["ComplexDoubleStorage"] = 16,
    };

    /// <summary>Checks the checkpoint zip open in <paramref name="archive"/>; throws <see cref="NerfFormatException"/>.</summary>
    public static void Check(ZipArchive archive, string path)
    {
        void Fail(string problem) => throw new NerfFormatException(path, problem);
        if (archive.Entries.Count > InputLimits.MaxZipEntries) Fail($"the checkpoint zip has {archive.Entries.Count} entries (limit {InputLimits.MaxZipEntries})");
        var pickles = archive.Entries.Where(e => e.Name.EndsWith("data.pkl", StringComparison.Ordinal)).ToList();
        if (pickles.Count != 1) Fail(pickles.Count == 0 ? "the checkpoint zip has no data.pkl" : "the checkpoint zip has more than one data.pkl");
        var entry = pickles[0];
        if (entry.Length > InputLimits.MaxMetadataBytes)
            Fail($"data.pkl of {entry.Length:N0} bytes exceeds the limit of {InputLimits.MaxMetadataBytes:N0} bytes");
        var bytes = new byte[entry.Length];
        using (var s = entry.Open())
        {
            int read = 0;
            while (read < bytes.Length)
            {
                int n = s.Read(bytes, read, bytes.Length - read);
                if (n == 0) Fail("data.pkl is shorter than its zip entry says (truncated)");
                read += n;
            }
        }
        new Walker(bytes, archive, path).Run();
    }

    sealed class Walker(byte[] pickle, ZipArchive archive, string path)
    {
        readonly List<object> _stack = [];
        readonly Dictionary<long, object> _memo = [];
        int _pos;

        NerfFormatException Error(string problem) => new(path, $"data.pkl at byte {_pos}: {problem}");

        public void Run()
        {
            while (true)
            {
                if (_pos >= pickle.Length) throw Error("the pickle ends without STOP (truncated)");
                byte op = pickle[_pos++];
                switch (op)
                {
                    case 0x80: Take(1); break;                                            // PROTO
                    case 0x95: Take(8); break;                                            // FRAME (a length hint only)
                    case (byte)'.': if (_stack.Count != 1) throw Error("STOP with a malformed stack"); return;
                    case (byte)'(': Push(Mark.Instance); break;
                    case (byte)'}': case (byte)']': Push(Opaque.Instance); break;         // EMPTY_DICT, EMPTY_LIST
                    case (byte)')': Push(Array.Empty<object>()); break;                    // EMPTY_TUPLE
                    case (byte)'N': case 0x88: case 0x89: Push(Opaque.Instance); break;  // NONE, NEWTRUE, NEWFALSE
                    case (byte)'G': Take(8); Push(Opaque.Instance); break;                // BINFLOAT
                    case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                    case (byte)'K': Push((long)Take(1)[0]); break;
                    case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                    case 0x8a: Push(Long(Take(Take(1)[0]))); break;                       // LONG1
                    case 0x8b: Push(Long(Take(Length(4)))); break;                        // LONG4
                    case (byte)'I': case (byte)'L': Push(IntLine(Line())); break;        // INT, LONG (text)
                    case (byte)'X': Push(Utf8(Take(Length(4)))); break;                   // BINUNICODE
                    case 0x8c: Push(Utf8(Take(Take(1)[0]))); break;                       // SHORT_BINUNICODE
                    case 0x8d: Push(Utf8(Take(Length(8)))); break;                        // BINUNICODE8
                    case (byte)'T': case (byte)'B': Take(Length(4)); Push(Opaque.Instance); break;   // BINSTRING, BINBYTES
                    case (byte)'U': case (byte)'C': Take(Take(1)[0]); Push(Opaque.Instance); break; // SHORT_BINSTRING/BYTES
                    case 0x8e: case 0x96: Take(Length(8)); Push(Opaque.Instance); break;  // BINBYTES8, BYTEARRAY8
                    case (byte)'c': Push(new Global(Line(), Line())); break;              // GLOBAL
                    case 0x93:                                                             // STACK_GLOBAL
                    {
                        object name = Pop(), module = Pop();
                        if (module is not string m || name is not string n) throw Error("STACK_GLOBAL needs two strings");
                        Push(new Global(m, n));
                        break;
                    }
                    case (byte)'t': Push(PopToMark().ToArray()); break;                  // TUPLE
                    case 0x85: Push(new[] { Pop() }); break;
                    case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; }
                    case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; }
                    case (byte)'Q': Push(PersistentStorage(Pop())); break;               // BINPERSID
                    case (byte)'R': { var args = Pop(); Push(Reduce(Pop(), args)); break; }
                    case 0x81: Pop(); Pop(); Push(Opaque.Instance); break;                // NEWOBJ
                    case (byte)'b': Pop(); Peek(); break;                                  // BUILD
                    case (byte)'s': Pop(); Pop(); Peek(); break;                           // SETITEM
                    case (byte)'u': case (byte)'e': PopToMark(); Peek(); break;            // SETITEMS, APPENDS
                    case (byte)'a': Pop(); Peek(); break;                                  // APPEND
                    case (byte)'q': _memo[Take(1)[0]] = Peek(); break;                    // BINPUT
                    case (byte)'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))] = Peek(); break;
                    case 0x94: _memo[_memo.Count] = Peek(); break;                        // MEMOIZE
                    case (byte)'p': _memo[IntLine(Line())] = Peek(); break;               // PUT
                    case (byte)'h': Push(Memo(Take(1)[0])); break;                        // BINGET
                    case (byte)'j': Push(Memo(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break;
                    case (byte)'g': Push(Memo(IntLine(Line()))); break;                   // GET
                    case (byte)'0': Pop(); break;                                          // POP
                    case (byte)'1': PopToMark(); break;                                    // POP_MARK
                    case (byte)'2': Push(Peek()); break;                                   // DUP
                    default: throw Error($"opcode 0x{op:x2} is not one torch.save writes for a state dict");
                }
            }
        }

        ReadOnlySpan<byte> Take(long n)
        {
            if (n < 0 || n > pickle.Length - _pos)
                throw Error($"a field of {n:N0} bytes runs past the end of the {pickle.Length:N0}-byte pickle");
            var span = pickle.AsSpan(_pos, (int)n);
            _pos += (int)n;
            return span;
        }

        long Length(int width)
        {
            ulong n = width == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(Take(4)) : BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
            if (n > (ulong)(pickle.Length - _pos))
                throw Error($"a declared length of {n:N0} bytes runs past the end of the {pickle.Length:N0}-byte pickle");
            return (long)n;
        }

        string Line()
        {
            int end = Array.IndexOf(pickle, (byte)'\n', _pos);
            if (end < 0) throw Error("a text field has no end of line (truncated)");
            string s = Encoding.UTF8.GetString(pickle, _pos, end - _pos);
            _pos = end + 1;
            return s;
        }

        string Utf8(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);

        object Long(ReadOnlySpan<byte> bytes) =>
            bytes.Length <= 8 ? (long)new System.Numerics.BigInteger(bytes, isUnsigned: false, isBigEndian: false) : Opaque.Instance;

        long IntLine(string s) => long.TryParse(s.TrimEnd('L'), out long v) ? v
            : s is "00" ? 0 : s is "01" ? 1 : throw Error($"'{s}' is not an integer");

        void Push(object o) => _stack.Add(o);

        object Pop()
        {
            if (_stack.Count == 0 || _stack[^1] is Mark) throw Error("stack underflow (malformed pickle)");
            var o = _stack[^1];
            _stack.RemoveAt(_stack.Count - 1);
            return o;
        }

        object Peek() => _stack.Count == 0 || _stack[^1] is Mark ? throw Error("stack underflow (malformed pickle)") : _stack[^1];

        List<object> PopToMark()
        {
            int mark = _stack.FindLastIndex(o => o is Mark);
            if (mark < 0) throw Error("no MARK on the stack (malformed pickle)");
            var items = _stack.GetRange(mark + 1, _stack.Count - mark - 1);
            _stack.RemoveRange(mark, _stack.Count - mark);
            return items;
        }

        object Memo(long key) => _memo.TryGetValue(key, out var o) ? o : throw Error($"memo entry {key} was never stored");

        /// <summary>('storage', torch.XStorage, key, location, numel): the element count must fit its zip entry.</summary>
        object PersistentStorage(object pid)
        {
            if (pid is not object[] { Length: 5 } t || t[0] is not "storage" || t[1] is not Global type
                || t[2] is not string key || t[4] is not long elements)
                throw Error("a persistent id that is not ('storage', type, key, location, numel)");
            if (!StorageElementSizes.TryGetValue(type.Name, out int size)) throw Error($"unknown storage type {type.Module}.{type.Name}");
            long? bytes = InputLimits.Bytes(elements, size);
            if (bytes is null or > InputLimits.MaxTensorBytes)
                throw Error($"storage '{key}' declares {elements:N0} elements of {size} bytes (limit {InputLimits.MaxTensorBytes:N0} bytes)");
            var data = archive.Entries.FirstOrDefault(e => e.FullName.EndsWith($"data/{key}", StringComparison.Ordinal))
                       ?? throw Error($"storage '{key}' has no data/{key} entry in the zip");
            if (data.Length < bytes) throw Error($"storage '{key}' declares {bytes:N0} bytes, its zip entry holds {data.Length:N0} (truncated?)");
            return new Storage(elements, size);
        }

        /// <summary>_rebuild_tensor(_v2)(storage, offset, size, stride, ...): the view must lie inside the storage.</summary>
        object Reduce(object callable, object args)
        {
            if (callable is not Global { Module: "torch._utils", Name: "_rebuild_tensor" or "_rebuild_tensor_v2" })
                return Opaque.Instance;
            if (args is not object[] { Length: >= 4 } a || a[0] is not Storage storage || a[1] is not long offset
                || a[2] is not object[] size || a[3] is not object[] stride || size.Length != stride.Length
                || size.Any(d => d is not long) || stride.Any(d => d is not long))
                throw Error("tensor arguments that are not (storage, offset, size, stride, ...)");
            var dims = size.Cast<long>().ToArray();
            var steps = stride.Cast<long>().ToArray();
            if (dims.Length > InputLimits.MaxTensorDims) throw Error($"a tensor of {dims.Length} dimensions (limit {InputLimits.MaxTensorDims})");
            long? count = InputLimits.ElementCount(dims);
            long? bytes = count is null ? null : InputLimits.Bytes(count.Value, storage.ElementSize);
            // The unpickler allocates the whole shape before viewing the storage through it.
            if (bytes is null or > InputLimits.MaxTensorBytes)
                throw Error($"a tensor of shape [{string.Join(", ", dims)}] exceeds the limit of {InputLimits.MaxTensorBytes:N0} bytes");
            if (offset < 0 || steps.Any(s => s < 0)) throw Error("a tensor with a negative offset or stride");
            if (count > 0)
            {
                // Last element the view reads: offset + Σ (size − 1)·stride, all within the storage.
                long last = offset;
                try { for (int i = 0; i < dims.Length; i++) last = checked(last + (dims[i] - 1) * steps[i]); }
                catch (OverflowException) { last = long.MaxValue; }
                if (last >= storage.Elements)
                    throw Error($"a tensor of shape [{string.Join(", ", dims)}] at offset {offset} reads past its storage of {storage.Elements:N0} elements");
            }
            return Opaque.Instance;
        }
    }
}
