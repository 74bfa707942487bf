using System.Text.RegularExpressions;
using NerfGmn.IO;
using TorchSharp;
using static TorchSharp.torch;
using static NerfGmn.Runtime.ScalarArgs;

namespace NerfGmn.Encoder;

/// <summary>
/// Maps the encoder's parameters to and from the reference (gmnerf <c>GNN</c>) state-dict names, so reference
/// checkpoints load and ours can be read by the reference code.
/// </summary>
public static partial class ReferenceStateDict
{
    static readonly (Regex Ours, string Reference)[] Rules =
    [
        (new(@"^pre_encoder\.node_layer\."), "pre_encoder.node_layer_encoder.0."),
        (new(@"^pre_encoder\.neuron_index\."), "pre_encoder.neuron_num_encoder.0."),
        (new(@"^pre_encoder\.node_type\."), "pre_encoder.node_type_encoder."),
        (new(@"^pre_encoder\.node_proj\."), "pre_encoder.x_proj."),
        (new(@"^pre_encoder\.edge_value\."), "pre_encoder.weight_encoder.0."),
        (new(@"^pre_encoder\.edge_layer\."), "pre_encoder.edge_layer_encoder.0."),
        (new(@"^pre_encoder\.edge_position\."), "pre_encoder.conv_pos_encoder.0."),
        (new(@"^pre_encoder\.edge_type\."), "pre_encoder.edge_type_encoder."),
        (new(@"^pre_encoder\.edge_proj\."), "pre_encoder.edge_attr_proj."),
        (new(@"^node_embed\."), "gnn_w_readout.gnn.node_embed."),
        (new(@"^edge_embed\."), "gnn_w_readout.gnn.edge_embed."),
        (new(@"^blocks\.(\d+)\.edge_model\."), "gnn_w_readout.gnn.convs.$1.conv.edge_model.edge_mlp.0."),
        (new(@"^blocks\.(\d+)\.message\."), "gnn_w_readout.gnn.convs.$1.conv.node_model.node_mlp_1.0."),
        (new(@"^blocks\.(\d+)\.update\."), "gnn_w_readout.gnn.convs.$1.conv.node_model.node_mlp_2.0."),
        (new(@"^blocks\.(\d+)\.node_norm\."), "gnn_w_readout.gnn.convs.$1.node_norm."),
        (new(@"^blocks\.(\d+)\.edge_norm\."), "gnn_w_readout.gnn.convs.$1.edge_norm."),
        (new(@"^blocks\.(\d+)\.node_residual\."), "gnn_w_readout.gnn.convs.$1.node_mlp.1."),
        (new(@"^blocks\.(\d+)\.edge_residual\."), "gnn_w_readout.gnn.convs.$1.edge_mlp.1."),
        (new(@"^final_norm\."), "gnn_w_readout.gnn.final_layer.0."),
        (new(@"^final_linear\."), "gnn_w_readout.gnn.final_layer.1."),
        (new(@"^readout\."), "gnn_w_readout.readout.mlp.0."),
        // Ours, not in the reference (GmnOptions.StandardizeOutput, ProbePoints, Readout, ProbeReadout).
        (new(@"^output_norm\."), "output_norm."),
        (new(@"^pre_encoder\.node_probe\."), "pre_encoder.node_probe."),
        (new(@"^output_node_norm\."), "output_node_norm."),
        (new(@"^output_readout\."), "output_readout."),
        (new(@"^probe_readout\."), "probe_readout."),
    ];

    public static string ToReferenceName(string ours)
    {
        foreach (var (rx, reference) in Rules)
            if (rx.IsMatch(ours)) return rx.Replace(ours, reference, 1);
        throw new ArgumentException($"no reference name for parameter '{ours}'");
    }

    /// <summary>Copies a reference state dict (a <c>torch.save</c> file) into the encoder; every key must match.</summary>
    public static void Load(GraphMetaNetwork encoder, string path)
    {
        var entries = PyTorchCheckpoint.Load(path);
        try
        {
            Load(encoder, entries.ToDictionary(kv => kv.Key, kv => kv.Value as Tensor
                ?? throw new NerfFormatException(path, $"entry '{kv.Key}' is not a dense tensor")), path);
        }
        finally
        {
            foreach (var v in entries.Values) (v as Tensor)?.Dispose();
        }
    }

    public static void Load(GraphMetaNetwork encoder, IReadOnlyDictionary<string, Tensor> reference, string? source)
    {
        var ours = encoder.state_dict();
        var expected = ours.Keys.ToDictionary(ToReferenceName, k => k);
        var missing = expected.Keys.Where(k => !reference.ContainsKey(k)).ToList();
        var unexpected = reference.Keys.Where(k => !expected.ContainsKey(k)).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
            throw new NerfFormatException(source, "not a GMN encoder state dict for this size " +
                $"(d={encoder.Options.HiddenDim}, layers={encoder.Options.Layers}, out={encoder.Options.OutputDim}): " +
                (missing.Count > 0 ? $"missing {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? $" and {missing.Count - 5} more" : "")}; " : "") +
                (unexpected.Count > 0 ? $"unexpected {string.Join(", ", unexpected.Take(5))}{(unexpected.Count > 5 ? $" and {unexpected.Count - 5} more" : "")}" : ""));
        using var _ = no_grad();
        foreach (var (refName, ourName) in expected)
        {
            var target = ours[ourName];
            var value = reference[refName];
            if (!value.shape.SequenceEqual(target.shape))
                throw new NerfFormatException(source, $"'{refName}' has shape [{string.Join(", ", value.shape)}], the encoder expects [{string.Join(", ", target.shape)}]");
            if (!is_floating_point(value))
                throw new NerfFormatException(source, $"'{refName}' has dtype {value.dtype}, expected floating point");
            target.CopyConverted(value);
        }
    }

    /// <summary>Writes the encoder as a reference-named <c>torch.save</c> state dict (readable by the reference code).</summary>
    public static void Save(GraphMetaNetwork encoder, string path)
    {
        var table = new System.Collections.Hashtable();
        foreach (var (name, t) in encoder.state_dict()) table[ToReferenceName(name)] = t.detach().cpu().contiguous();
        AtomicFile.Write(path, tmp => TorchSharp.PyBridge.PyTorchPickler.PickleStateDict(tmp, table));
    }
}
