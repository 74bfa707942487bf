namespace NerfGmn.Architectures;

/// <summary>One Linear layer: row-major W (out, in) and optional bias.</summary>
public sealed record LinearWeights(int Out, int In, float[] Weight, float[]? Bias);

/// <summary>
/// The parameters of one NeRF in architecture-neutral form: the descriptor, the tri-plane (3, R, R, C) or hash table
/// (level-major, entry, feature) if any, and the Linear layers.
/// </summary>
public sealed class NerfWeights
{
    public NerfArchitecture Architecture { get; }
    public float[]? Triplane { get; }
    public float[]? HashTable { get; }
    public IReadOnlyList<LinearWeights> Layers { get; }
    /// <summary>Where the weights came from (for messages); null for in-memory weights.</summary>
    public string? Source { get; init; }

    public NerfWeights(NerfArchitecture architecture, IReadOnlyList<LinearWeights> layers, float[]? triplane = null, float[]? hashTable = null)
    {
        Architecture = architecture;
        Layers = layers;
        Triplane = triplane;
        HashTable = hashTable;
        CheckShapes(null);
    }

    /// <summary>Throws <see cref="NerfFormatException"/> when a tensor does not fit the descriptor.</summary>
    public void CheckShapes(string? source)
    {
        var arch = Architecture;
        var shapes = arch.Layers();
        if (Layers.Count != shapes.Count)
            throw new NerfFormatException(source, $"{Layers.Count} linear layers, descriptor '{arch.Name}' has {shapes.Count}");
        for (int k = 0; k < shapes.Count; k++)
        {
            var l = Layers[k];
            if (l.Out != shapes[k].Out || l.In != shapes[k].In || l.Weight.Length != l.Out * l.In)
                throw new NerfFormatException(source, $"linear layer {k} is [{l.Out}, {l.In}] with {l.Weight.Length} values; descriptor '{arch.Name}' wants [{shapes[k].Out}, {shapes[k].In}]");
            if (arch.Bias != (l.Bias is not null) || (l.Bias is not null && l.Bias.Length != l.Out))
                throw new NerfFormatException(source, $"linear layer {k}: bias {(l.Bias is null ? "missing" : $"has {l.Bias.Length} values")}, descriptor says bias={arch.Bias.ToString().ToLowerInvariant()} with {l.Out} outputs");
        }
        if (arch.Triplane is { } tp)
        {
            long want = 3L * tp.Resolution * tp.Resolution * tp.Channels;
            if (Triplane is null || Triplane.Length != want)
                throw new NerfFormatException(source, $"tri-plane has {Triplane?.Length ?? 0} values; descriptor wants (3, {tp.Resolution}, {tp.Resolution}, {tp.Channels}) = {want}");
        }
        else if (Triplane is not null) throw new NerfFormatException(source, "weights have a tri-plane but the descriptor does not");
        if (arch.Hash is { } h)
        {
            long want = (long)h.TotalEntries * h.Features;
            if (HashTable is null || HashTable.Length != want)
                throw new NerfFormatException(source, $"hash table has {HashTable?.Length ?? 0} values; descriptor wants {want} (sum of table sizes {string.Join("+", h.TableSizes ?? h.ComputeTableSizes())} × {h.Features} features)");
        }
        else if (HashTable is not null) throw new NerfFormatException(source, "weights have a hash table but the descriptor does not");
    }

    /// <summary>Throws when any parameter is NaN or ±Inf, naming the tensor and the first bad index.</summary>
    public void CheckFinite(string? source)
    {
        void Check(float[]? values, string name)
        {
            if (values is null) return;
            for (int i = 0; i < values.Length; i++)
                if (!float.IsFinite(values[i]))
                    throw new NerfFormatException(source, $"{name} has a non-finite value ({values[i]}) at index {i}; pass allowNonFinite to accept it");
        }
        Check(Triplane, "triplane");
        Check(HashTable, "hash table");
        for (int k = 0; k < Layers.Count; k++)
        {
            Check(Layers[k].Weight, $"linear layer {k} weight");
            Check(Layers[k].Bias, $"linear layer {k} bias");
        }
    }

    /// <summary>Total number of parameters (= number of graph edges).</summary>
    public long ParameterCount => (Triplane?.Length ?? 0) + (HashTable?.Length ?? 0)
        + Layers.Sum(l => (long)l.Weight.Length + (l.Bias?.Length ?? 0));
}
