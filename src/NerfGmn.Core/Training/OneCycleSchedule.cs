namespace NerfGmn.Training;

/// <summary>
/// PyTorch's <c>OneCycleLR</c> with its defaults (two phases, cosine annealing, cycle_momentum): learning rate from
/// max_lr/div_factor up to max_lr over pct_start of the steps, then down to initial/final_div_factor; β₁ from
/// max_momentum down to base_momentum and back. <see cref="At"/> gives the values in force before optimizer step s.
/// </summary>
public sealed record OneCycleSchedule(double MaxLr, int TotalSteps, double PctStart = 0.3, double DivFactor = 25,
    double FinalDivFactor = 1e4, double BaseMomentum = 0.85, double MaxMomentum = 0.95)
{
    public double InitialLr => MaxLr / DivFactor;
    public double MinLr => InitialLr / FinalDivFactor;

    public (double Lr, double Beta1) At(int step)
    {
        if (TotalSteps < 2) throw new InvalidOperationException("OneCycle needs at least 2 steps");
        if (step < 0 || step >= TotalSteps) throw new ArgumentOutOfRangeException(nameof(step), $"step {step} outside [0, {TotalSteps})");
        double warmupEnd = PctStart * TotalSteps - 1;   // torch: float(pct_start * total_steps) - 1
        double end = TotalSteps - 1;
        if (step <= warmupEnd)
        {
            double pct = step / warmupEnd;
            return (Cos(InitialLr, MaxLr, pct), Cos(MaxMomentum, BaseMomentum, pct));
        }
        double pct2 = (step - warmupEnd) / (end - warmupEnd);
        return (Cos(MaxLr, MinLr, pct2), Cos(BaseMomentum, MaxMomentum, pct2));
    }

    static double Cos(double start, double end, double pct) => end + (start - end) / 2.0 * (Math.Cos(Math.PI * pct) + 1);
}
