using NerfGmn.Fitting;

namespace NerfGmn.Datasets;

/// <summary>What <see cref="DatasetBuilder"/> makes.</summary>
public sealed record DatasetBuildOptions
{
    /// <summary><c>shapes13</c> (procedural) or <c>obj</c> (meshes from <see cref="MeshFolder"/>).</summary>
    public string Recipe { get; init; } = "shapes13";
    /// <summary>For the <c>obj</c> recipe: <c>&lt;folder&gt;/&lt;class&gt;/&lt;object&gt;.obj</c>.</summary>
    public string? MeshFolder { get; init; }
    public required string Root { get; init; }
    /// <summary>Objects per class, split ≈ 30 : 2 : 10 (train : val : test) as in the default 42.</summary>
    public int ObjectsPerClass { get; init; } = 42;
    public int Seed { get; init; } = 0;
    /// <summary>This machine builds objects with index % ShardCount == ShardIndex.</summary>
    public int ShardIndex { get; init; }
    public int ShardCount { get; init; } = 1;
    public int ImageSize { get; init; } = 64;
    public int Views { get; init; } = 36;
    /// <summary>NeRFs fitted together in one batched optimisation.</summary>
    public int FitBatch { get; init; } = 8;
    /// <summary>Where the batched fits run (<c>cpu</c>, <c>cuda</c>, <c>cuda:N</c>; null: CUDA when available). Not part of a build's identity.</summary>
    public string? Device { get; init; }
    public FieldFitOptions Fit { get; init; } = new();
    /// <summary>Quality gate: a NeRF below this PSNR (dB, on held-out views) is refitted once with twice the steps, then reported.</summary>
    public double MinPsnr { get; init; } = 20;
    public int PsnrViews { get; init; } = 2;
    /// <summary>Also write the gmnerf <c>nerf_weights.pth</c> layout (the native safetensors file is always written).</summary>
    public bool WritePth { get; init; }
    /// <summary>Architecture folders built for every object; null = the paper's families (mlp, triplane, hash).</summary>
    public IReadOnlyList<string>? Architectures { get; init; }
    /// <summary>Architecture folders built for test objects only; null = the six unseen variants.</summary>
    public IReadOnlyList<string>? TestOnlyArchitectures { get; init; }
    /// <summary>Explicit (train, val, test) objects per class instead of the ≈ 30:2:10 ratio.</summary>
    public (int Train, int Val, int Test)? Split { get; init; }
    /// <summary>Store weights as float16 (half the size; tcnn runs NeRFs in fp16 anyway).</summary>
    public bool HalfPrecision { get; init; }
    /// <summary>Write each NeRF's occupancy grid (grid.pth, 885 KB dense); without it, readers rebuild grids from the NeRF.</summary>
    public bool WriteGrids { get; init; } = true;
    /// <summary>
    /// Every NeRF of one architecture starts from the same initial weights (one init per architecture, as nf2vec's
    /// <c>--load-init</c>), so hidden units and tri-plane channels mean the same thing across the dataset; point
    /// sampling stays per NeRF. False gives each NeRF its own init (datasets built before this option).
    /// </summary>
    public bool SharedInit { get; init; } = true;
    /// <summary>
    /// Training objects per class beyond <see cref="TotalObjectsPerClass"/> (procedural recipe only): indices from the
    /// total on, all in the training split, so the validation and test objects stay those of the dataset without them.
    /// A test of how held-out results grow with the number of training objects.
    /// </summary>
    public int ExtraTrainObjects { get; init; }
    /// <summary>Classes to build; null = all of the recipe's.</summary>
    public IReadOnlyList<string>? Classes { get; init; }

    public (int Train, int Val, int Test) SplitCounts()
    {
        if (Split is { } s) return s;
        int n = ObjectsPerClass;
        if (n < 3) return (Math.Max(1, n - 1), 0, n > 1 ? 1 : 0);
        int test = Math.Max(1, (int)Math.Round(n * 10.0 / 42));
        int val = Math.Max(1, (int)Math.Round(n * 2.0 / 42));
        return (n - test - val, val, test);
    }

    /// <summary>Objects per class (the split's total when it is explicit).</summary>
    public int TotalObjectsPerClass => Split is { } s ? s.Train + s.Val + s.Test : ObjectsPerClass;

    public void Validate()
    {
        if (Recipe is not ("shapes13" or "obj")) throw new ArgumentException($"unknown recipe '{Recipe}' (shapes13, obj)");
        if (ExtraTrainObjects > 0 && Recipe != "shapes13") throw new ArgumentException("--extra-train makes procedural objects; the obj recipe has only its meshes");
        if (Recipe == "obj" && (MeshFolder is null || !Directory.Exists(MeshFolder)))
            throw new ArgumentException($"recipe 'obj' needs --meshes <folder with <class>/<object>.obj>{(MeshFolder is null ? "" : $"; '{MeshFolder}' does not exist")}");
        if (ObjectsPerClass < 1) throw new ArgumentException("--objects-per-class must be at least 1");
        if (ExtraTrainObjects < 0) throw new ArgumentException("--extra-train must be 0 or more");
        if (ShardCount < 1 || ShardIndex < 0 || ShardIndex >= ShardCount) throw new ArgumentException($"--shard {ShardIndex}/{ShardCount} is not i/n with 0 <= i < n");
        if (ImageSize is < 8 or > 1024) throw new ArgumentException("--image-size must be in 8..1024");
        if (Views is < 1 or > 360) throw new ArgumentException("--views must be in 1..360");
        if (PsnrViews < 1 || PsnrViews > Views) throw new ArgumentException("PSNR views must be between 1 and the number of views");
        if (FitBatch < 1) throw new ArgumentException("fit batch must be at least 1");
        if (Split is { } sp && (sp.Train < 0 || sp.Val < 0 || sp.Test < 0 || sp.Train + sp.Val + sp.Test < 1))
            throw new ArgumentException($"--split {sp.Train},{sp.Val},{sp.Test} must be non-negative and not all zero");
        foreach (var a in (Architectures ?? []).Concat(TestOnlyArchitectures ?? []))
            if (!Architectures_.ByName.ContainsKey(a)) throw new ArgumentException($"unknown architecture '{a}' (known: {string.Join(", ", Architectures_.ByName.Keys)})");
        foreach (var c in Recipe == "obj" ? [] : Classes ?? [])
            if (!Shapes13.Classes.Contains(c)) throw new ArgumentException($"unknown class '{c}' (known: {string.Join(", ", Shapes13.Classes)})");
    }

    static class Architectures_
    {
        public static IReadOnlyDictionary<string, Func<NerfGmn.Architectures.NerfArchitecture>> ByName => NerfGmn.Architectures.ArchitecturePresets.ByName;
    }
}

/// <summary>One fitted NeRF as recorded in the dataset (its folder's <c>nerf.json</c> and the manifest).</summary>
public sealed record NerfRecord
{
    public required string Arch { get; init; }
    public required string Class { get; init; }
    public required string Object { get; init; }
    public required string Split { get; init; }
    public required double Psnr { get; init; }
    public required double FitSeconds { get; init; }
    public required int Steps { get; init; }
    public bool BelowThreshold { get; init; }
    public required string Weights { get; init; }
    public required NerfGmn.Architectures.NerfArchitecture Architecture { get; init; }
}

/// <summary>Progress of a build: NeRFs done (of total), the current step and the latest record.</summary>
public sealed record BuildProgress(int Done, int Total, string Stage, NerfRecord? Last);
