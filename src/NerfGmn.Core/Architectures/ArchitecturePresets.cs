namespace NerfGmn.Architectures;

/// <summary>The NeRF families of the paper and its unseen variants (dataset folder names as keys).</summary>
public static class ArchitecturePresets
{
    /// <summary>What every tcnn NeRF of the paper shares: hidden layers of one width, 16 outputs of which 4 are used.</summary>
    static NerfArchitecture TcnnNerf(string name, string family, EncodingSpec encoding, int inputDim, int hidden, int hiddenLayers, string activation) =>
        new NerfArchitecture
        {
            Name = name,
            Family = family,
            Encoding = encoding,
            InputDim = inputDim,
            Hidden = Enumerable.Repeat(hidden, hiddenLayers).ToArray(),
            Outputs = 16,
            UsedOutputs = 4,
            Activation = activation,
        };

    static EncodingSpec Frequency(int frequencies) =>
        new() { Type = EncodingType.Frequency, NFrequencies = frequencies, InputDims = 3, OutputDims = 6 * frequencies, Layout = "tcnn" };

    public static NerfArchitecture Mlp(int hidden = 64, int hiddenLayers = 3, int frequencies = 24, string name = "mlp") =>
        TcnnNerf(name, NerfFamily.Mlp, Frequency(frequencies), 6 * frequencies, hidden, hiddenLayers, NerfActivation.Relu).Normalize();

    public static NerfArchitecture Triplane(int resolution = 32, int channels = 16, int hidden = 64, int hiddenLayers = 3,
        int frequencies = 48, string name = "triplane") =>
        (TcnnNerf(name, NerfFamily.Triplane, Frequency(frequencies), 6 * frequencies + channels, hidden, hiddenLayers, NerfActivation.Sine) with
        {
            Triplane = new TriplaneSpec { Resolution = resolution, Channels = channels, Aggregation = "sum", FileLayout = "(3, R, R, C)" },
        }).Normalize();

    public static NerfArchitecture Hash(int levels = 4, int features = 2, int log2Table = 12, int baseResolution = 16,
        int maxResolution = 128, int hidden = 64, int hiddenLayers = 3, string name = "hash")
    {
        int padded = Math.Max(16, (levels * features + 15) / 16 * 16);   // tcnn pads the MLP input to a multiple of 16
        return (TcnnNerf(name, NerfFamily.Hash, new EncodingSpec { Type = EncodingType.Hash, OutputDims = levels * features }, padded,
            hidden, hiddenLayers, NerfActivation.Relu) with
        {
            Hash = new HashGridSpec
            {
                Levels = levels, Features = features, Log2Table = log2Table, BaseResolution = baseResolution,
                MaxResolution = maxResolution, PaddedFeatures = padded,
            },
        }).Normalize();
    }

    /// <summary>Dataset architecture folder name → descriptor (paper families, then unseen variants).</summary>
    public static readonly IReadOnlyDictionary<string, Func<NerfArchitecture>> ByName = new Dictionary<string, Func<NerfArchitecture>>
    {
        ["mlp"] = () => Mlp(),
        ["triplane"] = () => Triplane(),
        ["hash"] = () => Hash(),
        ["mlp_2l"] = () => Mlp(hiddenLayers: 2, name: "mlp_2l"),
        ["mlp_32h"] = () => Mlp(hidden: 32, name: "mlp_32h"),
        ["triplane_2l"] = () => Triplane(hiddenLayers: 2, name: "triplane_2l"),
        ["triplane_32h"] = () => Triplane(hidden: 32, name: "triplane_32h"),
        ["triplane_16w"] = () => Triplane(resolution: 16, name: "triplane_16w"),
        ["triplane_8c"] = () => Triplane(channels: 8, name: "triplane_8c"),
    };

    public static NerfArchitecture Get(string name) =>
        ByName.TryGetValue(name, out var make) ? make()
            : throw new ArgumentException($"unknown architecture preset '{name}' (known: {string.Join(", ", ByName.Keys)})", nameof(name));
}
