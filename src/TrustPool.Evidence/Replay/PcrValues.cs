using TrustPool.Tpm;

namespace TrustPool.Evidence.Replay;

/// <summary>PCR values per bank and index: a replay result or the values a quote covers.</summary>
public sealed class PcrValues
{
    private readonly SortedDictionary<TpmAlgorithmId, SortedDictionary<int, byte[]>> _banks = [];

    public IEnumerable<TpmAlgorithmId> Banks => _banks.Keys;

    public IReadOnlyDictionary<int, byte[]> Bank(TpmAlgorithmId bank) =>
        _banks.TryGetValue(bank, out var b) ? b : new SortedDictionary<int, byte[]>();

    public byte[]? Get(TpmAlgorithmId bank, int index) =>
        _banks.TryGetValue(bank, out var b) && b.TryGetValue(index, out var v) ? v : null;

    public void Set(TpmAlgorithmId bank, int index, byte[] value)
    {
        if (!_banks.TryGetValue(bank, out var b))
        {
            b = [];
            _banks[bank] = b;
        }

        b[index] = value;
    }

    public int Count => _banks.Values.Sum(b => b.Count);
}
