using TrustPool.Attestation.Baselines;
using TrustPool.Evidence.Ima;
using TrustPool.Tpm;
using TrustPool.Tpm.Structures;

namespace TrustPool.Attestation.Pools;

/// <summary>Which PCRs to ask an agent to quote so that every rule of the given pools can be judged.</summary>
public static class PoolSelection
{
    /// <summary>
    /// The union of every PCR any baseline referenced by these pools expects, per bank (banks in algorithm-id order),
    /// plus PCR 10 of sha256 when a pool requires software (the IMA list replays against it). Falls back to sha256
    /// PCR 0-9 when that is empty. Baselines that do not exist are skipped (the evaluator reports them).
    /// </summary>
    public static PcrSelection Required(IEnumerable<Pool> pools, Func<string, Baseline?> baselineByName)
    {
        ArgumentNullException.ThrowIfNull(pools);
        ArgumentNullException.ThrowIfNull(baselineByName);
        var banks = new SortedDictionary<TpmAlgorithmId, SortedSet<int>>();
        void Add(TpmAlgorithmId bank, int index)
        {
            if (!banks.TryGetValue(bank, out var set))
            {
                banks[bank] = set = [];
            }

            set.Add(index);
        }

        foreach (var pool in pools)
        {
            foreach (var name in pool.Require.BaselineNames)
            {
                if (baselineByName(name) is not { } b)
                {
                    continue;
                }

                foreach (var p in b.Pcrs)
                {
                    if (TpmHash.TryParseName(p.Bank, out var bank) && p.Index is >= 0 and <= 23)
                    {
                        Add(bank, p.Index);
                    }
                }
            }

            if (pool.Require.Software.Count > 0)
            {
                Add(TpmAlgorithmId.Sha256, (int)ImaReplay.DefaultPcr);
            }
        }

        if (banks.Count == 0)
        {
            return PcrSelection.Single(TpmAlgorithmId.Sha256, Enumerable.Range(0, 10));
        }

        return new PcrSelection(banks.Select(kv => PcrBankSelection.Create(kv.Key, kv.Value)));
    }
}
