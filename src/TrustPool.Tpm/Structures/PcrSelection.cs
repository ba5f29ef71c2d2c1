using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text;
using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Structures;

/// <summary>TPMS_PCR_SELECTION (TPM 2.0 Part 2, 10.6.2): one bank and a bitmap of PCR indices.</summary>
public readonly record struct PcrBankSelection(TpmAlgorithmId Hash, uint Mask, byte SizeOfSelect = 3)
{
    public static PcrBankSelection Create(TpmAlgorithmId hash, IEnumerable<int> indices)
    {
        uint mask = 0;
        foreach (var i in indices)
        {
            if (i is < 0 or >= TpmLimits.MaxPcrs)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), i, "PCR index must be 0..31.");
            }

            mask |= 1u << i;
        }

        return new PcrBankSelection(hash, mask, (byte)(mask > 0xFFFFFF ? 4 : 3));
    }

    public int Count => BitOperations.PopCount(Mask);

    public bool Contains(int index) => index is >= 0 and < TpmLimits.MaxPcrs && (Mask & (1u << index)) != 0;

    /// <summary>Selected indices in ascending order (the order the TPM digests them).</summary>
    public IEnumerable<int> Indices
    {
        get
        {
            for (var i = 0; i < TpmLimits.MaxPcrs; i++)
            {
                if ((Mask & (1u << i)) != 0)
                {
                    yield return i;
                }
            }
        }
    }

    internal static PcrBankSelection Read(ref TpmReader r)
    {
        var hash = r.ReadAlgorithm("TPMS_PCR_SELECTION.hash");
        var at = r.Offset;
        var size = r.ReadByte("TPMS_PCR_SELECTION.sizeofSelect");
        if (size > TpmLimits.MaxPcrSelectBytes)
        {
            throw new TpmFormatException("TPMS_PCR_SELECTION.sizeofSelect", at, $"{size} exceeds {TpmLimits.MaxPcrSelectBytes}");
        }

        var bytes = r.ReadBytes(size, "TPMS_PCR_SELECTION.pcrSelect");
        uint mask = 0;
        for (var i = 0; i < bytes.Length; i++)
        {
            mask |= (uint)bytes[i] << (8 * i);
        }

        return new PcrBankSelection(hash, mask, size);
    }

    internal void Write(TpmWriter w)
    {
        w.WriteAlgorithm(Hash).WriteByte(SizeOfSelect);
        for (var i = 0; i < SizeOfSelect; i++)
        {
            w.WriteByte((byte)(Mask >> (8 * i)));
        }
    }

    public override string ToString() => $"{TpmHash.Name(Hash)}:{string.Join(',', Indices)}";
}

/// <summary>TPML_PCR_SELECTION (TPM 2.0 Part 2, 10.9.7): the banks and PCRs of a quote or PCR read, in order.</summary>
public sealed class PcrSelection : IReadOnlyList<PcrBankSelection>, IEquatable<PcrSelection>
{
    private readonly PcrBankSelection[] _banks;

    public PcrSelection(IEnumerable<PcrBankSelection> banks)
    {
        _banks = [.. banks];
        if (_banks.Length > TpmLimits.MaxPcrBanks)
        {
            throw new ArgumentException($"at most {TpmLimits.MaxPcrBanks} banks", nameof(banks));
        }
    }

    /// <summary>Takes ownership of <paramref name="banks"/> (no copy): for the reader, which just allocated it.</summary>
    private PcrSelection(PcrBankSelection[] banks, bool owned)
    {
        _ = owned;
        _banks = banks;
    }

    public static PcrSelection Single(TpmAlgorithmId bank, IEnumerable<int> indices) => new([PcrBankSelection.Create(bank, indices)]);

    public int Count => _banks.Length;

    public PcrBankSelection this[int index] => _banks[index];

    /// <summary>Total number of PCR values the selection covers.</summary>
    public int PcrCount
    {
        get
        {
            var n = 0;
            foreach (var b in _banks)
            {
                n += b.Count;
            }

            return n;
        }
    }

    public bool Covers(TpmAlgorithmId bank, int index)
    {
        foreach (var b in _banks)
        {
            if (b.Hash == bank && b.Contains(index))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Parses tpm2-tools' syntax: <c>sha256:0,1,2,7+sha1:0-3</c> (also <c>sha256:all</c>).</summary>
    public static PcrSelection Parse(string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        var banks = new List<PcrBankSelection>();
        foreach (var part in text.Split('+', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = part.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !TpmHash.TryParseName(part[..colon], out var alg))
            {
                throw new FormatException($"'{part}': expected BANK:LIST such as sha256:0,1,2,7");
            }

            var list = part[(colon + 1)..];
            var indices = new List<int>();
            if (list.Equals("all", StringComparison.OrdinalIgnoreCase))
            {
                indices.AddRange(Enumerable.Range(0, 24));
            }
            else
            {
                foreach (var item in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    var dash = item.IndexOf('-', StringComparison.Ordinal);
                    if (dash > 0)
                    {
                        var lo = ParseIndex(item[..dash]);
                        var hi = ParseIndex(item[(dash + 1)..]);
                        if (hi < lo)
                        {
                            throw new FormatException($"'{item}': empty range");
                        }

                        indices.AddRange(Enumerable.Range(lo, hi - lo + 1));
                    }
                    else
                    {
                        indices.Add(ParseIndex(item));
                    }
                }
            }

            if (indices.Count == 0)
            {
                throw new FormatException($"'{part}': no PCR indices");
            }

            banks.Add(PcrBankSelection.Create(alg, indices));
        }

        if (banks.Count == 0)
        {
            throw new FormatException("no PCR banks selected");
        }

        return new PcrSelection(banks);
    }

    private static int ParseIndex(string s)
    {
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) || i is < 0 or > 23)
        {
            throw new FormatException($"'{s}' is not a PCR index 0..23");
        }

        return i;
    }

    public static PcrSelection Read(ref TpmReader r)
    {
        var at = r.Offset;
        var count = r.ReadUInt32("TPML_PCR_SELECTION.count");
        if (count > TpmLimits.MaxPcrBanks)
        {
            throw new TpmFormatException("TPML_PCR_SELECTION.count", at, $"{count} exceeds {TpmLimits.MaxPcrBanks}");
        }

        var banks = new PcrBankSelection[count];
        for (var i = 0; i < banks.Length; i++)
        {
            banks[i] = PcrBankSelection.Read(ref r);
        }

        return new PcrSelection(banks, owned: true);
    }

    public void Write(TpmWriter w)
    {
        w.WriteUInt32((uint)_banks.Length);
        foreach (var b in _banks)
        {
            b.Write(w);
        }
    }

    /// <summary>Same banks in the same order with the same PCRs and the same sizeofSelect: equal means byte-identical on the wire.</summary>
    public bool Equals(PcrSelection? other)
    {
        if (other is null || other._banks.Length != _banks.Length)
        {
            return false;
        }

        for (var i = 0; i < _banks.Length; i++)
        {
            if (_banks[i] != other._banks[i])
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as PcrSelection);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var b in _banks)
        {
            h.Add(b.Hash);
            h.Add(b.Mask);
        }

        return h.ToHashCode();
    }

    public IEnumerator<PcrBankSelection> GetEnumerator() => ((IEnumerable<PcrBankSelection>)_banks).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var b in _banks)
        {
            if (sb.Length > 0)
            {
                sb.Append('+');
            }

            sb.Append(b.ToString());
        }

        return sb.ToString();
    }
}
