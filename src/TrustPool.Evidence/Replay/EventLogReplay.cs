using TrustPool.Tpm.Structures;
using TrustPool.Evidence.Uefi;
using TrustPool.Tpm;

namespace TrustPool.Evidence.Replay;

/// <summary>An event the replay did not extend, and why.</summary>
public sealed record SkippedEvent(TcgEvent Event, TpmAlgorithmId? Bank, string Reason);

/// <summary>Result of replaying a UEFI event log: the PCR values every event touched, per bank.</summary>
public sealed class PcrReplay
{
    internal PcrReplay(PcrValues pcrs, IReadOnlyList<SkippedEvent> skipped, byte startupLocality, bool hcrtm, IReadOnlyList<TpmAlgorithmId> unsupported)
    {
        Pcrs = pcrs;
        Skipped = skipped;
        Pcr0InitialLocality = startupLocality;
        HcrtmStart = hcrtm;
        UnsupportedBanks = unsupported;
    }

    /// <summary>Final values of every PCR that at least one event extended (per bank; a PCR where an event lacks the bank's digest is left out).</summary>
    public PcrValues Pcrs { get; }

    /// <summary>Events not extended (PCR index 0xFFFFFFFF or above 23, a missing digest for a bank).</summary>
    public IReadOnlyList<SkippedEvent> Skipped { get; }

    /// <summary>Last byte of PCR0's initial value: the StartupLocality, 4 for H-CRTM, else 0.</summary>
    public byte Pcr0InitialLocality { get; }

    public bool HcrtmStart { get; }

    /// <summary>Banks declared by the log whose hash TrustPool cannot compute: not replayed.</summary>
    public IReadOnlyList<TpmAlgorithmId> UnsupportedBanks { get; }
}

/// <summary>Replays a TCG event log into PCR values, bank by bank (PFP 1.05, 10.2: PCR := H(PCR || digest)).</summary>
public static class EventLogReplay
{
    /// <summary>PCRs 0-23 of a PC Client TPM.</summary>
    public const int PcrCount = 24;

    /// <summary>Events from which banks are replayed in parallel.</summary>
    private const int ParallelThreshold = 4096;

    private static ReadOnlySpan<byte> StartupLocalitySignature => "StartupLocality\0"u8;

    public static PcrReplay Replay(TcgEventLog log, IEnumerable<TcgEvent>? extraEvents = null)
    {
        var banks = new List<TpmAlgorithmId>();
        var unsupported = new List<TpmAlgorithmId>();
        foreach (var b in log.Banks)
        {
            (BankHash.IsSupported(b) ? banks : unsupported).Add(b);
        }

        var locality = InitialLocality(log, out var hcrtm);
        var state = new byte[banks.Count][][];
        // Per bank and PCR: extended at least once, and whether an event lacked this bank's digest
        // (then the bank's value for that PCR is unknown and left out, as tpm2_eventlog does).
        var touched = new bool[banks.Count, PcrCount];
        var incomplete = new bool[banks.Count, PcrCount];
        for (var i = 0; i < banks.Count; i++)
        {
            state[i] = new byte[PcrCount][];
            var size = TpmHash.DigestSize(banks[i]);
            for (var p = 0; p < PcrCount; p++)
            {
                state[i][p] = new byte[size];
            }

            // PFP 1.05, 10.4.5.3: the StartupLocality event sets PCR0's initial value to the locality;
            // with an H-CRTM the TPM starts PCR0 at 4 (TPM2_HashStart at locality 4).
            state[i][0][size - 1] = locality;
        }

        var skipped = new List<SkippedEvent>();
        var events = extraEvents is null ? log.Events : [.. log.Events, .. extraEvents];
        var extended = new List<TcgEvent>(events.Count);
        foreach (var e in events)
        {
            if (e.PcrIndex >= PcrCount)
            {
                skipped.Add(new SkippedEvent(e, null, e.PcrIndex == uint.MaxValue
                    ? "PCR index 0xFFFFFFFF: informational event, not extended"
                    : $"PCR index {e.PcrIndex} is outside 0-23"));
                continue;
            }

            if (e.EventType == TcgEventType.NoAction)
            {
                continue; // PFP 1.05, 10.4.5: EV_NO_ACTION is logged but never extended.
            }

            extended.Add(e);
        }

        // Banks are independent: replay them side by side on long logs (one reused hash context per bank).
        var missing = new List<SkippedEvent>[banks.Count];
        void ReplayBank(int i)
        {
            missing[i] = [];
            var size = TpmHash.DigestSize(banks[i]);
            using var hash = new BankHash.Extender(banks[i]);
            foreach (var e in extended)
            {
                var pcr = (int)e.PcrIndex;
                var digest = e.Digest(banks[i]);
                if (digest is null || digest.Length != size)
                {
                    missing[i].Add(new SkippedEvent(e, banks[i], $"no {TpmHash.Name(banks[i])} digest: PCR{pcr} of this bank cannot be replayed"));
                    incomplete[i, pcr] = true;
                    continue;
                }

                hash.Extend(state[i][pcr], digest);
                touched[i, pcr] = true;
            }
        }

        if (extended.Count >= ParallelThreshold && banks.Count > 1 && Environment.ProcessorCount > 1)
        {
            Parallel.For(0, banks.Count, ReplayBank);
        }
        else
        {
            for (var i = 0; i < banks.Count; i++)
            {
                ReplayBank(i);
            }
        }

        foreach (var m in missing)
        {
            skipped.AddRange(m);
        }

        var pcrs = new PcrValues();
        for (var i = 0; i < banks.Count; i++)
        {
            for (var p = 0; p < PcrCount; p++)
            {
                if (touched[i, p] && !incomplete[i, p])
                {
                    pcrs.Set(banks[i], p, state[i][p]);
                }
            }
        }

        return new PcrReplay(pcrs, skipped, locality, hcrtm, unsupported);
    }

    /// <summary>
    /// Parses and replays in one streaming pass per bank, without materializing events: the fast path
    /// for large logs (CLI <c>eventlog replay</c>). Same parser and the same results as
    /// <c>Replay(TcgEventLog.Parse(log))</c>; banks run in parallel on long logs.
    /// </summary>
    public static PcrReplay Replay(ReadOnlyMemory<byte> log)
    {
        // Pass 1 (no hashing): validate the whole log, find the Spec ID, StartupLocality and H-CRTM.
        var reader = new TcgEventLog.TcgEventReader(log.Span);
        byte? startup = null;
        var hcrtm = false;
        var count = 0;
        var skipped = new List<SkippedEvent>();
        while (reader.MoveNext())
        {
            count++;
            if (reader.EventType == TcgEventType.NoAction && reader.PcrIndex == 0 && reader.Data.Length == 17
                && reader.Data.StartsWith(StartupLocalitySignature))
            {
                startup ??= reader.Data[16];
            }
            else if (reader.EventType == TcgEventType.EfiHcrtmEvent)
            {
                hcrtm = true;
            }

            if (reader.PcrIndex >= PcrCount)
            {
                skipped.Add(new SkippedEvent(Materialize(ref reader), null, reader.PcrIndex == uint.MaxValue
                    ? "PCR index 0xFFFFFFFF: informational event, not extended"
                    : $"PCR index {reader.PcrIndex} is outside 0-23"));
            }
        }

        var locality = startup ?? (hcrtm ? (byte)4 : (byte)0);
        SplitBanks(reader.SpecId, out var banks, out var unsupported);
        var results = new (byte[][] Values, bool[] Touched, bool[] Incomplete, List<SkippedEvent> Missing)[banks.Length];
        void ReplayBank(int i)
        {
            var bank = banks[i];
            var size = TpmHash.DigestSize(bank);
            var values = new byte[PcrCount][];
            for (var p = 0; p < PcrCount; p++)
            {
                values[p] = new byte[size];
            }

            values[0][size - 1] = locality;
            var touched = new bool[PcrCount];
            var incomplete = new bool[PcrCount];
            var missing = new List<SkippedEvent>();
            using var hash = new BankHash.Extender(bank);
            var r = new TcgEventLog.TcgEventReader(log.Span);
            while (r.MoveNext())
            {
                if (r.PcrIndex >= PcrCount || r.EventType == TcgEventType.NoAction)
                {
                    continue;
                }

                var pcr = (int)r.PcrIndex;
                var digest = r.Digest(bank);
                if (digest.Length != size)
                {
                    incomplete[pcr] = true;
                    missing.Add(new SkippedEvent(Materialize(ref r), bank, $"no {TpmHash.Name(bank)} digest: PCR{pcr} of this bank cannot be replayed"));
                    continue;
                }

                hash.Extend(values[pcr], digest);
                touched[pcr] = true;
            }

            results[i] = (values, touched, incomplete, missing);
        }

        if (count >= ParallelThreshold && banks.Length > 1 && Environment.ProcessorCount > 1)
        {
            Parallel.For(0, banks.Length, ReplayBank);
        }
        else
        {
            for (var i = 0; i < banks.Length; i++)
            {
                ReplayBank(i);
            }
        }

        var pcrs = new PcrValues();
        for (var i = 0; i < banks.Length; i++)
        {
            skipped.AddRange(results[i].Missing);
            for (var p = 0; p < PcrCount; p++)
            {
                if (results[i].Touched[p] && !results[i].Incomplete[p])
                {
                    pcrs.Set(banks[i], p, results[i].Values[p]);
                }
            }
        }

        return new PcrReplay(pcrs, skipped, locality, hcrtm, unsupported);
    }

    /// <summary>Spec ID banks split into those we can hash and those we cannot (arrays: no enum generics at start-up).</summary>
    private static void SplitBanks(TcgSpecIdEvent? specId, out TpmAlgorithmId[] supported, out TpmAlgorithmId[] unsupported)
    {
        if (specId is null)
        {
            supported = [TpmAlgorithmId.Sha1];
            unsupported = [];
            return;
        }

        var algorithms = specId.Algorithms;
        var n = 0;
        for (var i = 0; i < algorithms.Count; i++)
        {
            n += BankHash.IsSupported(algorithms[i].Algorithm) ? 1 : 0;
        }

        supported = new TpmAlgorithmId[n];
        unsupported = new TpmAlgorithmId[algorithms.Count - n];
        int s = 0, u = 0;
        for (var i = 0; i < algorithms.Count; i++)
        {
            if (BankHash.IsSupported(algorithms[i].Algorithm))
            {
                supported[s++] = algorithms[i].Algorithm;
            }
            else
            {
                unsupported[u++] = algorithms[i].Algorithm;
            }
        }
    }

    private static TcgEvent Materialize(ref TcgEventLog.TcgEventReader r)
    {
        var digests = new TcgDigest[r.DigestCount];
        for (var i = 0; i < digests.Length; i++)
        {
            digests[i] = new TcgDigest(r.DigestAlgorithm(i), r.DigestValue(i).ToArray());
        }

        return new TcgEvent(r.Number, r.Offset, r.PcrIndex, r.EventType, digests, r.Data.ToArray());
    }

    /// <summary>
    /// PCR0's initial locality byte. A StartupLocality EV_NO_ACTION event in PCR0 wins; otherwise an
    /// EV_EFI_HCRTM_EVENT means the H-CRTM started PCR0 at locality 4; otherwise 0.
    /// </summary>
    public static byte InitialLocality(TcgEventLog log, out bool hcrtm)
    {
        hcrtm = false;
        byte? startup = null;
        foreach (var e in log.Events)
        {
            if (e.EventType == TcgEventType.NoAction && e.PcrIndex == 0 && e.Data.Length == 17
                && e.Data.AsSpan().StartsWith(StartupLocalitySignature))
            {
                startup ??= e.Data[16];
            }
            else if (e.EventType == TcgEventType.EfiHcrtmEvent)
            {
                hcrtm = true;
            }
        }

        return startup ?? (hcrtm ? (byte)4 : (byte)0);
    }

    /// <summary>H(old || digest) for one bank: the TPM2_PCR_Extend rule.</summary>
    public static byte[] Extend(TpmAlgorithmId bank, ReadOnlySpan<byte> old, ReadOnlySpan<byte> digest)
    {
        var buffer = new byte[old.Length + digest.Length];
        old.CopyTo(buffer);
        digest.CopyTo(buffer.AsSpan(old.Length));
        return BankHash.Hash(bank, buffer);
    }
}
