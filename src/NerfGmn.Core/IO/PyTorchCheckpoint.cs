using System.Collections;
using Razorvine.Pickle;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace NerfGmn.IO;

/// <summary>A sparse COO tensor as stored by <c>torch.save</c> (indices [ndim, nnz], values [nnz], dense size).</summary>
public sealed record SparseCooTensor(Tensor Indices, Tensor Values, long[] Size);

/// <summary>
/// Reads <c>torch.save</c> zip checkpoints that hold a flat dictionary of tensors (state dicts, occupancy grids).
/// Built on TorchSharp.PyBridge's unpickler, extended with the constructors torch uses for sparse COO tensors
/// (<c>grid.pth</c>) and <c>torch.Size</c>. The unpickler never runs code: any global it does not know comes back as
/// a generic class dictionary or fails, and everything but tensors is rejected here. Every size in the pickle is
/// checked first (<see cref="StateDictPickleCheck"/>), because the unpickler allocates whatever a file declares.
/// </summary>
public static class PyTorchCheckpoint
{
    static readonly object RegistrationLock = new();
    static bool _registered;

    static void RegisterConstructors()
    {
        lock (RegistrationLock)
        {
            if (_registered) return;
            // Touch PyBridge first so its own static registrations run before ours.
            System.Runtime.CompilerServices.RuntimeHelpers.RunClassConstructor(typeof(PyTorchUnpickler).TypeHandle);
            Unpickler.registerConstructor("torch.serialization", "_get_layout", new LayoutConstructor());
            Unpickler.registerConstructor("torch._utils", "_rebuild_sparse_tensor", new SparseTensorConstructor());
            Unpickler.registerConstructor("torch", "Size", new SizeConstructor());
            _registered = true;
        }
    }

    /// <summary>Loads every entry; values are <see cref="Tensor"/> or <see cref="SparseCooTensor"/>.</summary>
    public static Dictionary<string, object> Load(string path)
    {
        Runtime.TorchRuntime.EnsureInitialized();
        if (!File.Exists(path)) throw new NerfFormatException(path, "file not found");
        RegisterConstructors();
        Hashtable table;
        try
        {
            using var stream = File.OpenRead(path);
            if (stream.Length < 4) throw new NerfFormatException(path, "file is empty or truncated");
            Span<byte> magic = stackalloc byte[4];
            stream.ReadExactly(magic);
            if (magic[0] != 0x50 || magic[1] != 0x4B)
                throw new NerfFormatException(path, "not a PyTorch zip checkpoint (legacy torch.save format or another file type)");
            stream.Position = 0;
            using (var archive = new System.IO.Compression.ZipArchive(stream, System.IO.Compression.ZipArchiveMode.Read, leaveOpen: true))
                StateDictPickleCheck.Check(archive, path);
            stream.Position = 0;
            table = PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: false, skipTensorRead: false);
        }
        catch (NerfFormatException) { throw; }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or PickleException
                                     or InvalidCastException or NotImplementedException or InvalidOperationException
                                     or IndexOutOfRangeException or ArgumentException or KeyNotFoundException
                                     or NullReferenceException or IOException or FormatException or OverflowException)
        {
            throw new NerfFormatException(path, $"cannot read the PyTorch checkpoint ({Describe(e)})", e);
        }
        catch (Exception e) when (e is System.Runtime.InteropServices.ExternalException)
        {
            throw new NerfFormatException(path, $"corrupt tensor data in the checkpoint ({e.Message})", e);
        }

        // A pickle whose root is None unpickles to no table at all.
        if (table is null) throw new NerfFormatException(path, "the checkpoint's root object is None, not a state dict of tensors");
        var result = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in table)
        {
            if (entry.Key is not string key)
                throw new NerfFormatException(path, $"unexpected non-string key of type {entry.Key?.GetType().Name}");
            result[key] = entry.Value switch
            {
                Tensor t => t,
                SparseCooTensor s => s,
                Razorvine.Pickle.Objects.ClassDict cd => throw new NerfFormatException(path,
                    $"entry '{key}' is a Python object of class '{cd.ClassName}', not a tensor (refusing to interpret it)"),
                null => throw new NerfFormatException(path, $"entry '{key}' is None, not a tensor"),
                var other => throw new NerfFormatException(path,
                    $"entry '{key}' is a {other.GetType().Name}, not a tensor"),
            };
        }
        return result;
    }

    static string Describe(Exception e) => e switch
    {
        PickleException p when p.Message.Contains("expected zero arguments") =>
            "the pickle calls a Python function or class that is not a tensor constructor: " + p.Message,
        _ => e.Message,
    };

    sealed class LayoutConstructor : IObjectConstructor
    {
        public object construct(object[] args) =>
            args is [string layout] ? layout : throw new PickleException("bad torch.serialization._get_layout arguments");
    }

    sealed class SizeConstructor : IObjectConstructor
    {
        public object construct(object[] args)
        {
            if (args is not [object[] dims]) throw new PickleException("bad torch.Size arguments");
            return dims.Select(Convert.ToInt64).ToArray();
        }
    }

    sealed class SparseTensorConstructor : IObjectConstructor
    {
        public object construct(object[] args)
        {
            // torch._utils._rebuild_sparse_tensor(layout, data); for COO data = (indices, values, size[, is_coalesced]).
            if (args.Length != 2 || args[0] is not string layout || args[1] is not object[] data)
                throw new PickleException("bad _rebuild_sparse_tensor arguments");
            if (layout != "torch.sparse_coo")
                throw new PickleException($"sparse layout '{layout}' is not supported (only torch.sparse_coo)");
            if (data.Length < 3 || data[0] is not Tensor indices || data[1] is not Tensor values || data[2] is not long[] size)
                throw new PickleException("bad sparse COO payload");
            return new SparseCooTensor(indices, values, size);
        }
    }
}
