using Microsoft.ML;

namespace NerfGmn.MLNet.Lowering;

static class StageContext
{
    /// <summary>
    /// The context the lowered stock stages are built with. A catalog's own environment is internal to ML.NET, and
    /// these stages (copy, constant map, custom mapping, drop) neither log nor draw random numbers.
    /// </summary>
    public static MLContext Create() => new(seed: 0);
}
