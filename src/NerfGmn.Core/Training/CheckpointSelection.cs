namespace NerfGmn.Training;

/// <summary>Which validation number picks a run's <c>best.safetensors</c> (<see cref="TrainingOptions.SelectBy"/>).</summary>
public enum CheckpointSelection
{
    /// <summary>The objective's validation loss (the reference): pooled render PSNR for decoding objectives, SigLIP for L_C.</summary>
    Loss,
    /// <summary>
    /// Decoding objectives: the median over the validation NeRFs of each one's render PSNR from its embedding, the render
    /// target's measure (<see cref="TrainingProgress.ValidationRenderPsnr"/>). Objectives without a decoder use <see cref="Loss"/>.
    /// </summary>
    RenderMedian,
}
