using TrustPool.Tpm.Structures;
using TrustPool.Evidence.Uefi;
using TrustPool.Tpm;

namespace TrustPool.Evidence.Replay;

/// <summary>
/// A quoted PCR the log does not reproduce. <paramref name="Expected"/> is the quoted (TPM) value,
/// <paramref name="Actual"/> the log's replay. <paramref name="FirstDivergingEvent"/> is the first event
/// that breaks the chain when it can be located (see <see cref="EventLogVerifier"/>), with the reason.
/// </summary>
public sealed record PcrMismatch(TpmAlgorithmId Bank, int Index, byte[] Expected, byte[] Actual, TcgEvent? FirstDivergingEvent, string? Reason)
{
    public override string ToString() =>
        $"PcrMismatch{{bank={TpmHash.Name(Bank)}, index={Index}, expected={Hex.Lower(Expected)}, actual={Hex.Lower(Actual)}" +
        (FirstDivergingEvent is null ? "" : $", firstDivergingEvent={FirstDivergingEvent.Number} ({FirstDivergingEvent.TypeName})") +
        (Reason is null ? "" : $": {Reason}") + "}";
}

/// <summary>Outcome of checking a log against quoted PCRs.</summary>
public sealed class EventLogVerification
{
    internal EventLogVerification(PcrReplay replay, IReadOnlyList<PcrMismatch> mismatches, IReadOnlyList<EventDigestMismatch> digestMismatches,
        IReadOnlyList<EventLogWorkaround> workarounds, IReadOnlyList<(TpmAlgorithmId Bank, int Index)> unexplained,
        IReadOnlyList<(TpmAlgorithmId Bank, int Index)> verified, IReadOnlyList<TcgEvent> verifiedEvents, bool carriesQuotedBank)
    {
        Replay = replay;
        Mismatches = mismatches;
        DigestMismatches = digestMismatches;
        AppliedWorkarounds = workarounds;
        Unexplained = unexplained;
        VerifiedPcrs = verified;
        VerifiedEvents = verifiedEvents;
        CarriesQuotedBank = carriesQuotedBank;
    }

    /// <summary>
    /// True when every quoted PCR the log touches is reproduced. Vacuously true for a log that touches none: see
    /// <see cref="ExplainsQuote"/> before believing anything in it.
    /// </summary>
    public bool Matches => Mismatches.Count == 0;

    /// <summary>True when the log matches and reproduces at least one quoted PCR: only then does it say anything.</summary>
    public bool ExplainsQuote => Matches && VerifiedPcrs.Count > 0;

    /// <summary>Quoted (bank, PCR) pairs the log replays to exactly (PCR 5 also when only the missing-EBS workaround fixes it).</summary>
    public IReadOnlyList<(TpmAlgorithmId Bank, int Index)> VerifiedPcrs { get; }

    /// <summary>
    /// Events bound to the quote: extended into a PCR that replayed exactly in a quoted bank whose digest the event
    /// carries, and, for the types whose digest is the hash of the data (<see cref="EventDigestCheck"/>), with that
    /// digest matching the payload. Only these may provide facts. In log order.
    /// </summary>
    public IReadOnlyList<TcgEvent> VerifiedEvents { get; }

    /// <summary>False when no event carries a digest of any quoted bank (e.g. a SHA-1-only log against a SHA-256 quote).</summary>
    public bool CarriesQuotedBank { get; }

    public PcrReplay Replay { get; }

    public IReadOnlyList<PcrMismatch> Mismatches { get; }

    /// <summary>Events whose digest is not the hash of their payload: informational.</summary>
    public IReadOnlyList<EventDigestMismatch> DigestMismatches { get; }

    public IReadOnlyList<EventLogWorkaround> AppliedWorkarounds { get; }

    /// <summary>Quoted PCRs no event touches: the log says nothing about them (e.g. PCR10 for IMA).</summary>
    public IReadOnlyList<(TpmAlgorithmId Bank, int Index)> Unexplained { get; }
}

/// <summary>
/// Compares a replayed log with quoted PCR values. Only PCRs present in <c>quoted</c> are judged
/// (a value the quote does not cover is never used). When a PCR differs, the first diverging event is
/// located, in this order: (1) with a baseline log, the first event of that PCR whose digest differs
/// from the baseline's event at the same position; (2) when a prefix of the PCR's events reproduces the
/// quoted value, the first event after that prefix (logged but not in the quote); (3) the first event
/// of that PCR whose digest does not match its payload.
/// </summary>
public static class EventLogVerifier
{
    public static EventLogVerification Verify(TcgEventLog log, PcrValues quoted, TcgEventLog? baseline = null)
    {
        var replay = EventLogReplay.Replay(log);
        var digestMismatches = EventDigestCheck.Find(log);
        var workarounds = new List<EventLogWorkaround>(log.AppliedWorkarounds);
        var mismatches = Compare(log, replay, quoted, baseline, digestMismatches, out var unexplained);

        if (mismatches.Any(m => m.Index == 5) && !HasExitBootServices(log))
        {
            var extra = SyntheticExitBootServices(log);
            var patched = EventLogReplay.Replay(log, extra);
            var pcr5Fixed = mismatches.Where(m => m.Index == 5).All(m =>
                patched.Pcrs.Find(m.Bank, 5) is { } v && v.AsSpan().SequenceEqual(m.Expected));
            if (pcr5Fixed)
            {
                mismatches = mismatches.Where(m => m.Index != 5).ToList();
                workarounds.Add(EventLogWorkarounds.MissingExitBootServicesEvents);
            }
        }

        var verified = new List<(TpmAlgorithmId, int)>();
        foreach (var bank in quoted.Banks)
        {
            foreach (var (index, _) in quoted.Bank(bank))
            {
                if (replay.Pcrs.Find(bank, index) is not null && !mismatches.Any(m => m.Bank == bank && m.Index == index))
                {
                    verified.Add((bank, index));
                }
            }
        }

        var carriesQuotedBank = log.Events.Any(e => e.Digests.Any(d => quoted.Banks.Contains(d.Algorithm)));
        return new EventLogVerification(replay, mismatches, digestMismatches, workarounds, unexplained, verified,
            BoundEvents(log, verified, digestMismatches), carriesQuotedBank);
    }

    /// <summary>The events of <paramref name="log"/> bound to the quote through <paramref name="verified"/> (see <see cref="EventLogVerification.VerifiedEvents"/>).</summary>
    private static List<TcgEvent> BoundEvents(TcgEventLog log, List<(TpmAlgorithmId Bank, int Index)> verified, IReadOnlyList<EventDigestMismatch> digestMismatches)
    {
        var result = new List<TcgEvent>();
        if (verified.Count == 0)
        {
            return result;
        }

        var badDigest = digestMismatches.Select(m => (m.Event, m.Bank)).ToHashSet();
        foreach (var e in log.Events)
        {
            if (e.PcrIndex >= EventLogReplay.PcrCount || e.EventType == TcgEventType.NoAction)
            {
                continue; // never extended: nothing binds it
            }

            foreach (var (bank, index) in verified)
            {
                if (index == (int)e.PcrIndex && e.Digest(bank) is not null && !badDigest.Contains((e, bank)))
                {
                    result.Add(e);
                    break;
                }
            }
        }

        return result;
    }

    private static List<PcrMismatch> Compare(TcgEventLog log, PcrReplay replay, PcrValues quoted, TcgEventLog? baseline,
        IReadOnlyList<EventDigestMismatch> digestMismatches, out List<(TpmAlgorithmId, int)> unexplained)
    {
        var result = new List<PcrMismatch>();
        unexplained = [];
        foreach (var bank in quoted.Banks)
        {
            foreach (var (index, expected) in quoted.Bank(bank))
            {
                var actual = replay.Pcrs.Find(bank, index);
                if (actual is null)
                {
                    unexplained.Add((bank, index));
                    continue;
                }

                if (actual.AsSpan().SequenceEqual(expected))
                {
                    continue;
                }

                var (evt, reason) = Locate(log, replay, bank, index, expected, baseline, digestMismatches);
                result.Add(new PcrMismatch(bank, index, expected, actual, evt, reason));
            }
        }

        return result;
    }

    private static (TcgEvent?, string?) Locate(TcgEventLog log, PcrReplay replay, TpmAlgorithmId bank, int index, byte[] expected,
        TcgEventLog? baseline, IReadOnlyList<EventDigestMismatch> digestMismatches)
    {
        var mine = Extended(log, index).ToList();
        if (baseline is not null)
        {
            var theirs = Extended(baseline, index).ToList();
            for (var i = 0; i < Math.Max(mine.Count, theirs.Count); i++)
            {
                if (i >= mine.Count)
                {
                    return (null, $"the log ends after {mine.Count} events in PCR{index}; the baseline has {theirs.Count}");
                }

                if (i >= theirs.Count)
                {
                    return (mine[i], $"event beyond the baseline's {theirs.Count} events in PCR{index}");
                }

                var a = mine[i].Digest(bank);
                var b = theirs[i].Digest(bank);
                if (a is null || b is null || !a.AsSpan().SequenceEqual(b))
                {
                    return (mine[i], $"digest differs from baseline event {theirs[i].Number} ({theirs[i].TypeName})");
                }
            }
        }

        // A prefix that reproduces the quote: the rest was logged but not (yet) extended when quoted.
        var size = TpmHash.DigestSize(bank);
        var value = new byte[size];
        if (index == 0)
        {
            value[^1] = replay.Pcr0InitialLocality;
        }

        for (var i = 0; i < mine.Count; i++)
        {
            if (value.AsSpan().SequenceEqual(expected))
            {
                return (mine[i], $"the first {i} events of PCR{index} reproduce the quoted value; this and later events are not covered");
            }

            if (mine[i].Digest(bank) is { } d && d.Length == size)
            {
                value = EventLogReplay.Extend(bank, value, d);
            }
        }

        foreach (var m in digestMismatches)
        {
            if (m.Event.PcrIndex == (uint)index && m.Bank == bank)
            {
                return (m.Event, "its digest does not match its payload");
            }
        }

        return (null, null);
    }

    private static IEnumerable<TcgEvent> Extended(TcgEventLog log, int index) =>
        log.Events.Where(e => e.PcrIndex == (uint)index && e.EventType != TcgEventType.NoAction);

    private static bool HasExitBootServices(TcgEventLog log) => log.Events.Any(e =>
        e.EventType == TcgEventType.EfiAction && e.PcrIndex == 5 &&
        EventLogWorkarounds.ExitBootServicesActions.Contains(TcgEventDecoder.Text(e.Data)));

    private static List<TcgEvent> SyntheticExitBootServices(TcgEventLog log)
    {
        var list = new List<TcgEvent>();
        foreach (var action in EventLogWorkarounds.ExitBootServicesActions)
        {
            var data = System.Text.Encoding.ASCII.GetBytes(action);
            var digests = log.Banks.Where(BankHash.IsSupported).Select(b => new TcgDigest(b, BankHash.Hash(b, data))).ToArray();
            list.Add(new TcgEvent(-1, -1, 5, TcgEventType.EfiAction, digests, data));
        }

        return list;
    }
}
