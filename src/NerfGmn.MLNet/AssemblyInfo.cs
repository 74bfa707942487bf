namespace NerfGmn.MLNet;
/// <summary>ML.NET integration lands with the NerfEmbedding transform (see README, roadmap).</summary>
internal static class AssemblyInfo { }
