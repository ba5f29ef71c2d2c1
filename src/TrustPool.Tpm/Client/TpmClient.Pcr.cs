using TrustPool.Tpm.Structures;
using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Client;

public sealed partial class TpmClient
{
    /// <summary>How often a PCR read restarts because a PCR changed between two PCR_Read calls.</summary>
    private const int MaxPcrReadRestarts = 5;

    /// <summary>
    /// TPM2_PCR_Read (Part 3, 22.4) in as many calls as needed: a TPM returns at most 8 digests per call (TPML_DIGEST)
    /// and may return fewer; pcrSelectionOut says which ones. All values come from one pcrUpdateCounter: when it
    /// moves between calls the read starts over, so the result is one consistent snapshot.
    /// </summary>
    public PcrValues ReadPcrs(PcrSelection selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        for (var restart = 0; restart <= MaxPcrReadRestarts; restart++)
        {
            if (TryReadPcrs(selection, out var values))
            {
                return values;
            }
        }

        throw new InvalidOperationException($"PCRs kept changing while reading {selection} ({MaxPcrReadRestarts + 1} attempts)");
    }

    private bool TryReadPcrs(PcrSelection selection, out PcrValues values)
    {
        values = new PcrValues();
        var banks = new List<TpmAlgorithmId>();
        var remaining = new Dictionary<TpmAlgorithmId, uint>();
        foreach (var b in selection)
        {
            if (!remaining.TryAdd(b.Hash, b.Mask))
            {
                remaining[b.Hash] |= b.Mask;
            }
            else
            {
                banks.Add(b.Hash);
            }
        }

        uint? counter = null;
        while (true)
        {
            var request = new List<PcrBankSelection>();
            foreach (var bank in banks)
            {
                if (remaining[bank] != 0)
                {
                    request.Add(new PcrBankSelection(bank, remaining[bank], remaining[bank] > 0xFFFFFF ? (byte)4 : (byte)3));
                }
            }

            if (request.Count == 0)
            {
                return true;
            }

            var requested = new PcrSelection(request);
            var w = Begin(TpmCommandCode.PcrRead, [], []);
            requested.Write(w);
            var r = Send(w, TpmCommandCode.PcrRead, 0, 0).Parameters();
            var updateCounter = r.ReadUInt32("TPM2_PCR_Read.pcrUpdateCounter");
            var selAt = r.Offset;
            var returned = PcrSelection.Read(ref r);
            var digestsAt = r.Offset;
            var digests = TpmlDigest.Read(ref r);
            r.ThrowIfNotEmpty("TPM2_PCR_Read response");

            if (counter is { } c && c != updateCounter)
            {
                return false;
            }

            counter = updateCounter;
            if (digests.Length != returned.PcrCount)
            {
                throw new TpmFormatException("TPM2_PCR_Read.pcrValues", digestsAt, $"{digests.Length} digests for {returned.PcrCount} selected PCRs");
            }

            if (returned.PcrCount == 0)
            {
                throw new InvalidOperationException($"the TPM returned no value for {requested}: bank not allocated or PCR beyond the TPM's PCRs");
            }

            var k = 0;
            foreach (var bank in returned)
            {
                if (bank.Mask == 0)
                {
                    continue;
                }

                if (!remaining.TryGetValue(bank.Hash, out var want) || (bank.Mask & ~want) != 0)
                {
                    throw new TpmFormatException("TPM2_PCR_Read.pcrSelectionOut", selAt, $"{bank} was not requested (or already read)");
                }

                foreach (var index in bank.Indices)
                {
                    var digest = digests[k++];
                    if (digest.Length != TpmHash.DigestSize(bank.Hash))
                    {
                        throw new TpmFormatException("TPM2_PCR_Read.pcrValues", digestsAt, $"{TpmHash.Name(bank.Hash)} PCR {index} has {digest.Length} bytes");
                    }

                    values.Set(bank.Hash, index, digest);
                }

                remaining[bank.Hash] = want & ~bank.Mask;
            }
        }
    }

    /// <summary>TPM2_PCR_Extend (Part 3, 22.2): TPML_DIGEST_VALUES, one TPMT_HA per bank, authorized by the PCR (empty auth).</summary>
    public void ExtendPcr(int index, IReadOnlyList<TpmtHa> digests)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, TpmLimits.MaxPcrs);
        ArgumentNullException.ThrowIfNull(digests);
        if (digests.Count is 0 or > TpmLimits.MaxPcrBanks)
        {
            throw new ArgumentException($"one to {TpmLimits.MaxPcrBanks} digests", nameof(digests));
        }

        var w = Begin(TpmCommandCode.PcrExtend, [(uint)index], [SessionAuth.Password]);
        w.WriteUInt32((uint)digests.Count);
        foreach (var d in digests)
        {
            d.Write(w);
        }

        Send(w, TpmCommandCode.PcrExtend, 1, 0).Parameters().ThrowIfNotEmpty("TPM2_PCR_Extend response");
    }
}
