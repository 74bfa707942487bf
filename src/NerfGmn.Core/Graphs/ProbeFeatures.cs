using NerfGmn.Architectures;
using NerfGmn.Fields;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Graphs;

/// <summary>
/// Probe features (Neural Graphs, Kofinas et al. 2024, <c>nn/probe_features.py</c>; not in gmnerf): the NeRF's MLP is
/// run at K fixed points of its scene box and every neuron node gets its K values — the encoding's outputs on the
/// MLP's input nodes (tri-plane channels, hash features, frequency bands), hidden activations, and the raw outputs
/// (rgb and σ before their heads) on the output nodes. Those last are the field itself, the same function whatever the
/// architecture, which is what lets an encoder align architectures in few steps. Each layer's values are divided by
/// their RMS over the layer's neurons and points, so widths and activation scales of unseen variants read alike.
/// Grid, table and bias nodes have none (zeros, not stored: <see cref="ParameterGraph.ProbeNodes"/>).
/// </summary>
public static class ProbeFeatures
{
    /// <summary>
    /// K fixed points in the unit cube (a NeRF's scene box is mapped onto it), the same for every encoder with K
    /// probes: drawn from a fixed seed, 5% away from the faces where every field is empty.
    /// </summary>
    public static float[] UnitPoints(int count)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), $"probe points must be at least 1, got {count}");
        var rng = new Random(20250213);
        var u = new float[count * 3];
        for (int k = 0; k < u.Length; k++) u[k] = (float)(0.05 + 0.9 * rng.NextDouble());
        return u;
    }

    /// <summary>The neuron nodes of a graph of <paramref name="nodeCount"/> nodes, ascending, and their [M, K] row-major probe features.</summary>
    /// <param name="neuronLayers">Node ids of the MLP's input and of each Linear's outputs (<see cref="GraphAssembler.NeuronLayers"/>).</param>
    internal static (int[] Nodes, float[] Features) Compute(NerfWeights weights, float[] unitPoints, IReadOnlyList<int[]> neuronLayers, int nodeCount)
    {
        int k = unitPoints.Length / 3;
        var nodes = neuronLayers.SelectMany(l => l).Distinct().Order().ToArray();
        if (nodes.Length > 0 && (nodes[0] < 0 || nodes[^1] >= nodeCount))
            throw new InvalidOperationException($"neuron node ids {nodes[0]}..{nodes[^1]} outside a graph of {nodeCount} nodes");
        RadianceField field;
        try { field = new RadianceField(weights); }
        catch (NotSupportedException e)
        {
            throw new NerfFormatException(weights.Source, $"probe features need the NeRF's field: {e.Message}");
        }
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using (field)
        {
            var box = field.SceneBox;
            var world = new float[unitPoints.Length];
            for (int i = 0; i < unitPoints.Length; i++)
                world[i] = box[i % 3] + unitPoints[i] * (box[3 + i % 3] - box[i % 3]);
            var activations = field.NeuronActivations(tensor(world, [k, 3]));
            var result = zeros(nodes.Length, k);
            if (activations.Length != neuronLayers.Count)
                throw new InvalidOperationException($"{activations.Length} neuron layers in the field, {neuronLayers.Count} in the graph");
            for (int layer = 0; layer < activations.Length; layer++)
            {
                var a = activations[layer];                                           // [K, width]
                var ids = neuronLayers[layer];
                if (a.shape[1] != ids.Length)
                    throw new InvalidOperationException($"layer {layer}: {a.shape[1]} neurons in the field, {ids.Length} nodes in the graph");
                double rms = Math.Sqrt(a.Squared().mean().item<float>());
                float scale = rms > 1e-12 ? (float)(1 / rms) : 0f;
                // Each neuron's row (nodes is ascending); a later layer's write wins, as a node has one row.
                var rows = tensor(ids.Select(id => (long)Array.BinarySearch(nodes, id)).ToArray());
                result.index_copy_(0, rows, a.t() * S(scale));
            }
            return (nodes, result.contiguous().data<float>().ToArray());
        }
    }
}
