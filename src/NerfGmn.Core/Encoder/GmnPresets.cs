namespace NerfGmn.Encoder;

/// <summary>Named encoder sizes: <c>paper</c> (the reference) and <c>cpu</c> (chosen from measurement on 2 cores).</summary>
public static class GmnPresets
{
    public static GmnOptions Paper => GmnOptions.Paper;

    /// <summary>Half width, same depth and embedding size.</summary>
    public static GmnOptions Cpu => new() { HiddenDim = 64, Layers = 4, OutputDim = 1024 };

    public static GmnOptions Get(string name) => name switch
    {
        "paper" => Paper,
        "cpu" => Cpu,
        _ => throw new ArgumentException($"unknown encoder preset '{name}' (paper, cpu)"),
    };
}
