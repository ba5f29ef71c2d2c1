namespace TrustPool.Tpm.Structures;

/// <summary>
/// PCR values per bank, as returned by the TPM or an agent. Untrusted until a verified quote covers them:
/// QuoteVerifier returns only the values inside the quote's selection.
/// </summary>
public sealed class PcrValues
{
    private readonly Dictionary<TpmAlgorithmId, byte[]?[]> _banks = [];

    /// <summary>The banks present, in algorithm-id order (deterministic output).</summary>
    public IEnumerable<TpmAlgorithmId> Banks => _banks.Keys.Order();

    /// <summary>Number of values present over all banks.</summary>
    public int Count => _banks.Values.Sum(a => a.Count(v => v is not null));

    public void Set(TpmAlgorithmId bank, int index, byte[] value)
    {
        if (index is < 0 or >= TpmLimits.MaxPcrs)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, "PCR index must be 0..31.");
        }

        var size = TpmHash.DigestSize(bank);
        if (size == 0 || value.Length != size)
        {
            throw new ArgumentException($"a {TpmHash.Name(bank)} PCR value has {size} bytes, not {value.Length}", nameof(value));
        }

        if (!_banks.TryGetValue(bank, out var arr))
        {
            arr = new byte[TpmLimits.MaxPcrs][];
            _banks[bank] = arr;
        }

        arr[index] = value;
    }

    public bool TryGet(TpmAlgorithmId bank, int index, out byte[] value)
    {
        if (index is >= 0 and < TpmLimits.MaxPcrs && _banks.TryGetValue(bank, out var arr) && arr[index] is { } v)
        {
            value = v;
            return true;
        }

        value = [];
        return false;
    }

    /// <summary>The value, or null when absent.</summary>
    public byte[]? Find(TpmAlgorithmId bank, int index) => TryGet(bank, index, out var v) ? v : null;

    /// <summary>The values of one bank by index, ascending (empty when the bank is absent).</summary>
    public IReadOnlyDictionary<int, byte[]> Bank(TpmAlgorithmId bank)
    {
        var result = new SortedDictionary<int, byte[]>();
        if (_banks.TryGetValue(bank, out var arr))
        {
            for (var i = 0; i < arr.Length; i++)
            {
                if (arr[i] is { } v)
                {
                    result[i] = v;
                }
            }
        }

        return result;
    }

    public byte[] Get(TpmAlgorithmId bank, int index) =>
        TryGet(bank, index, out var v) ? v : throw new KeyNotFoundException($"no {TpmHash.Name(bank)} PCR {index}");

    /// <summary>The raw per-bank array (index = PCR), or null when the bank is absent. For hot paths.</summary>
    internal byte[]?[]? GetBank(TpmAlgorithmId bank) => _banks.GetValueOrDefault(bank);

    /// <summary>Every (bank, index, value) present, banks in algorithm-id order and indices ascending.</summary>
    public IEnumerable<(TpmAlgorithmId Bank, int Index, byte[] Value)> All()
    {
        foreach (var bank in Banks)
        {
            foreach (var (i, v) in Bank(bank))
            {
                yield return (bank, i, v);
            }
        }
    }

    /// <summary>Values of <paramref name="selection"/> in the order the TPM concatenates them for pcrDigest.</summary>
    public static PcrValues FromOrderedList(PcrSelection selection, IReadOnlyList<byte[]> values)
    {
        var result = new PcrValues();
        var k = 0;
        foreach (var bank in selection)
        {
            foreach (var i in bank.Indices)
            {
                if (k >= values.Count)
                {
                    throw new ArgumentException($"selection {selection} needs {selection.PcrCount} values, got {values.Count}", nameof(values));
                }

                result.Set(bank.Hash, i, values[k++]);
            }
        }

        return result;
    }
}
