namespace NerfGmn.Training;

/// <summary>
/// gmnerf's balanced pair sampler: each epoch shuffles the objects and emits, for every object, the same object in two
/// architectures. Over the shuffled position i: i mod 4 = 0 → (mlp, triplane), 1 → (triplane, hash),
/// 2 → (mlp, hash), 3 → one of those at random. An object that lacks a family pairs among the families it has
/// (objects with fewer than two are skipped). Deterministic for (seed, epoch), so a resumed run replays it exactly.
/// </summary>
public sealed class PairSampler(IReadOnlyList<(string Object, IReadOnlyList<string> Families)> objects, int seed)
{
    static readonly (string, string)[] Pattern = [("mlp", "triplane"), ("triplane", "hash"), ("mlp", "hash")];

    public IReadOnlyList<(string Object, string A, string B)> Epoch(int epoch)
    {
        var rng = new Random(StableHash.Seed(seed, "pairs", epoch));
        var order = objects.Where(o => o.Families.Distinct().Count() >= 2).ToArray();
        rng.Shuffle(order);
        var pairs = new List<(string, string, string)>(order.Length);
        for (int i = 0; i < order.Length; i++)
        {
            var (obj, families) = order[i];
            var wanted = i % 4 < 3 ? Pattern[i % 4] : Pattern[rng.Next(3)];
            if (families.Contains(wanted.Item1) && families.Contains(wanted.Item2)) { pairs.Add((obj, wanted.Item1, wanted.Item2)); continue; }
            // Fall back to any two families this object has, preferring the pattern's order.
            var have = Pattern.Where(p => families.Contains(p.Item1) && families.Contains(p.Item2)).ToArray();
            if (have.Length > 0) { var p = have[rng.Next(have.Length)]; pairs.Add((obj, p.Item1, p.Item2)); continue; }
            var distinct = families.Distinct().ToArray();
            pairs.Add((obj, distinct[0], distinct[1]));
        }
        return pairs;
    }
}
