namespace NerfGmn.Graphs;

/// <summary>Appends one module of a sequential network to the graph (one builder per layer type, as in gmnerf).</summary>
internal interface ILayerGraphBuilder
{
    /// <summary>Nodes this module adds.</summary>
    int NodeCount(GraphAssembler g);
    /// <summary>Edges this module adds.</summary>
    long EdgeCount { get; }
    void Append(GraphAssembler g, bool isLast);
}
