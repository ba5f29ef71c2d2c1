using TrustPool.Tpm;

namespace TrustPool.Evidence.Replay;

/// <summary>
/// PCR values per bank and index: a replay result or the values a quote covers. Banks and indices
/// enumerate in ascending order. (Plain arrays and int-keyed dictionaries on purpose: enum-keyed sorted
/// collections cost tens of milliseconds of JIT at CLI start-up.)
/// </summary>
public sealed class PcrValues
{
    private TpmAlgorithmId[] _banks = [];
    private Dictionary<int, byte[]>[] _values = [];

    public IEnumerable<TpmAlgorithmId> Banks => _banks;

    private int IndexOf(TpmAlgorithmId bank)
    {
        for (var i = 0; i < _banks.Length; i++)
        {
            if (_banks[i] == bank)
            {
                return i;
            }
        }

        return -1;
    }

    public IReadOnlyDictionary<int, byte[]> Bank(TpmAlgorithmId bank)
    {
        var i = IndexOf(bank);
        if (i < 0)
        {
            return new Dictionary<int, byte[]>();
        }

        var keys = new int[_values[i].Count];
        _values[i].Keys.CopyTo(keys, 0);
        Array.Sort(keys);
        var sorted = new Dictionary<int, byte[]>(keys.Length);
        foreach (var k in keys)
        {
            sorted[k] = _values[i][k]; // Dictionary enumerates in insertion order while nothing is removed
        }

        return sorted;
    }

    public byte[]? Get(TpmAlgorithmId bank, int index)
    {
        var i = IndexOf(bank);
        return i >= 0 && _values[i].TryGetValue(index, out var v) ? v : null;
    }

    public void Set(TpmAlgorithmId bank, int index, byte[] value)
    {
        var i = IndexOf(bank);
        if (i < 0)
        {
            i = 0;
            while (i < _banks.Length && (ushort)_banks[i] < (ushort)bank)
            {
                i++;
            }

            var banks = new TpmAlgorithmId[_banks.Length + 1];
            var values = new Dictionary<int, byte[]>[_banks.Length + 1];
            for (int from = 0, to = 0; to < banks.Length; to++)
            {
                if (to == i)
                {
                    banks[to] = bank;
                    values[to] = [];
                    continue;
                }

                banks[to] = _banks[from];
                values[to] = _values[from++];
            }

            _banks = banks;
            _values = values;
        }

        _values[i][index] = value;
    }

    public int Count
    {
        get
        {
            var n = 0;
            foreach (var v in _values)
            {
                n += v.Count;
            }

            return n;
        }
    }
}
