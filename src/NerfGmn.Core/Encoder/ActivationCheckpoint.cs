using TorchSharp;
using static TorchSharp.torch;

namespace NerfGmn.Encoder;

/// <summary>
/// Activation checkpointing (PyTorch's re-entrant <c>checkpoint</c>): the forward pass runs a segment without
/// recording it and keeps only its inputs; the backward pass runs the segment again with gradients and
/// back-propagates through it. Parameter gradients accumulate directly into the segment's parameters. Trades one
/// extra forward of the segment for its activations (~1.5 GB per GMN block on a batch of 8 tri-plane graphs).
/// </summary>
public sealed class ActivationCheckpoint : autograd.MultiTensorFunction<ActivationCheckpoint>
{
    public override string Name => nameof(ActivationCheckpoint);

    /// <summary>Runs <paramref name="segment"/> on <paramref name="inputs"/> with checkpointing.</summary>
    public static Tensor[] Run(Func<Tensor[], Tensor[]> segment, params Tensor[] inputs)
    {
        // An anchor that requires grad makes autograd call our backward even when no input does (e.g. raw features).
        using var anchor = zeros(1).requires_grad_();
        var args = new object[inputs.Length + 2];
        args[0] = segment;
        args[1] = anchor;
        for (int k = 0; k < inputs.Length; k++) args[k + 2] = inputs[k];
        return apply(args).ToArray();
    }

    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var segment = (Func<Tensor[], Tensor[]>)vars[0];
        var inputs = vars.Skip(2).Cast<Tensor>().ToArray();
        ctx.save_data("segment", segment);
        ctx.save_data("requires_grad", inputs.Select(t => t.requires_grad).ToArray());
        ctx.save_for_backward(inputs.ToList());
        using var _ = no_grad();
        return segment(inputs).ToList();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> gradOutputs)
    {
        var segment = (Func<Tensor[], Tensor[]>)ctx.get_data("segment");
        var needsGrad = (bool[])ctx.get_data("requires_grad");
        var saved = ctx.get_saved_variables();
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        var inputs = saved.Select((t, k) => needsGrad[k] ? t.detach().requires_grad_() : t).ToArray();
        var outputs = segment(inputs);
        autograd.backward(outputs.ToList(), gradOutputs);
        var result = new List<Tensor> { null!, zeros(1).MoveToOuterDisposeScope() };
        for (int k = 0; k < inputs.Length; k++)
            result.Add(needsGrad[k] ? (inputs[k].grad ?? zeros_like(inputs[k])).detach().MoveToOuterDisposeScope() : null!);
        return result;
    }
}
