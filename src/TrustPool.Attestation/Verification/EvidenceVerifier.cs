using TrustPool.Evidence;
using TrustPool.Evidence.Ima;
using TrustPool.Evidence.Replay;
using TrustPool.Evidence.Uefi;
using TrustPool.Tpm;
using TrustPool.Tpm.Quotes;
using TrustPool.Tpm.Structures;

namespace TrustPool.Attestation.Verification;

/// <summary>
/// Verifies one attestation's evidence, in this order: the quote (TPM 2.0 Part 3, 18.4, by QuoteVerifier: signature
/// with the enrolled AK, nonce, selection, pcrDigest); the clock against the previous verified quote (Part 1, 36);
/// the UEFI event log (TCG PC Client PFP 1.05, 10) parsed and replayed against the verified PCRs; the IMA list
/// replayed against the quoted PCR 10. When the quote fails nothing else is looked at and no value is exposed:
/// an unverified value is never used for trust. Pure: no I/O.
/// </summary>
public static class EvidenceVerifier
{
    public static VerifiedEvidence Verify(EvidenceInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(input.Ak);
        ArgumentNullException.ThrowIfNull(input.Nonce);
        ArgumentNullException.ThrowIfNull(input.Selection);
        ArgumentNullException.ThrowIfNull(input.Quote);
        ArgumentNullException.ThrowIfNull(input.Signature);
        ArgumentNullException.ThrowIfNull(input.Pcrs);
        var faults = new List<Fault>();
        var quote = QuoteVerifier.Verify(input.Ak, input.Quote, input.Signature, input.Pcrs, input.Nonce, input.Selection);
        if (!quote.IsValid)
        {
            faults.Add(FromQuoteFault(quote.Fault!));
            return new VerifiedEvidence(faults);
        }

        var pcrs = quote.VerifiedPcrs!;
        var attest = quote.Attest!;
        var clock = attest.ClockInfo;
        if (input.PreviousClock is { } previous && ClockCheck.Check(previous, clock) is { } rollback)
        {
            faults.Add(new Fault(FaultCodes.ClockRollback, rollback.Describe()) { Detail = rollback.What });
        }

        TcgEventLog? uefi = null;
        EventLogVerification? uefiReplay = null;
        Fault? uefiNotice = null;
        BootFacts? facts = null;
        if (input.UefiLog is { } uefiBytes)
        {
            (uefi, uefiReplay) = VerifyUefi(uefiBytes, pcrs, faults);
            if (uefi is not null && !uefiReplay!.ExplainsQuote)
            {
                // Not a contradiction, but not evidence either: the log is treated as absent (ARCHITECTURE.md "Trust semantics").
                uefiNotice = Unexplained(uefi, uefiReplay, pcrs);
                uefi = null;
                uefiReplay = null;
            }

            if (uefi is not null)
            {
                try
                {
                    facts = BootFacts.Extract(uefi, uefiReplay!.VerifiedEvents);
                }
                catch (EventLogFormatException)
                {
                    // Facts are informational: an undecodable event payload does not make a replaying log untrusted.
                    facts = null;
                }
            }
        }

        ImaLog? ima = null;
        ImaReplayState? imaState = null;
        IReadOnlyList<ImaEntry> imaEntries = [];
        ImaEntry? bootAggregate = null;
        if (input.ImaLog is { } imaBytes)
        {
            (ima, imaState, imaEntries) = VerifyIma(imaBytes, pcrs, ((QuoteInfo)attest.Attested).PcrSelect, input.ImaResume, faults);
            if (ima is not null && (input.ImaResume?.EntryCount ?? 0) == 0)
            {
                bootAggregate = VerifiedBootAggregate(imaEntries, pcrs);
            }
        }

        return new VerifiedEvidence(faults)
        {
            Pcrs = pcrs,
            Selection = ((QuoteInfo)attest.Attested).PcrSelect,
            Nonce = attest.ExtraData,
            UefiLog = uefi,
            UefiLogBytes = uefi is null ? null : input.UefiLog,
            UefiVerifiedPcrs = uefiReplay?.VerifiedPcrs ?? [],
            UefiVerifiedEvents = uefiReplay?.VerifiedEvents ?? [],
            UefiLogNotice = uefiNotice,
            Facts = facts,
            Ima = ima,
            ImaEntries = imaEntries,
            ImaBootAggregate = bootAggregate,
            ImaState = imaState,
            Clock = clock,
        };
    }

    /// <summary>The notice for a log that matched the quote only vacuously: it reproduced none of the quoted PCRs.</summary>
    private static Fault Unexplained(TcgEventLog log, EventLogVerification replay, PcrValues pcrs)
    {
        var quoted = string.Join("; ", pcrs.Banks.Select(b => $"{TpmHash.Name(b)} PCR {string.Join(',', pcrs.Bank(b).Keys.Order())}"));
        var logged = string.Join(',', log.Events.Where(e => e.PcrIndex < EventLogReplay.PcrCount && e.EventType != TcgEventType.NoAction)
            .Select(e => e.PcrIndex).Distinct().Order());
        if (!replay.CarriesQuotedBank)
        {
            return new Fault(FaultCodes.EventLogBankNotQuoted,
                $"UEFI event log ignored: it carries digests of {string.Join(", ", log.Banks.Select(TpmHash.Name))} only, the quote covers {quoted}; " +
                "nothing in it is bound to the quote (no facts, no event names)")
            {
                Expected = string.Join(",", pcrs.Banks.Select(TpmHash.Name)),
                Actual = string.Join(",", log.Banks.Select(TpmHash.Name)),
            };
        }

        return new Fault(FaultCodes.EventLogUnverified,
            $"UEFI event log ignored: it reproduces none of the quoted PCRs ({quoted}; the log extends PCR {(logged.Length == 0 ? "none" : logged)}); " +
            "nothing in it is bound to the quote (no facts, no event names)")
        {
            Expected = quoted,
            Actual = logged,
        };
    }

    /// <summary>
    /// The kernel's boot_aggregate (IMA's first entry, ima_add_boot_aggregate) when its digest is H(PCR0 || ... || PCRn)
    /// of its own algorithm's bank over quoted values only (n = 9 on kernels 5.8+, 7 before); null otherwise.
    /// </summary>
    private static ImaEntry? VerifiedBootAggregate(IReadOnlyList<ImaEntry> entries, PcrValues pcrs)
    {
        if (entries.Count == 0 || entries[0] is not { IsBootAggregate: true, IsViolation: false, Buffer: null } first || first.Index != 0)
        {
            return null;
        }

        var bank = ImaTemplates.ToTpmAlgorithm(first.FileDigestAlgorithm);
        if (!TpmHash.IsSupported(bank))
        {
            return null;
        }

        foreach (var last in new[] { 9, 7 })
        {
            var values = new Dictionary<int, byte[]>();
            for (var i = 0; i <= last && pcrs.TryGet(bank, i, out var v); i++)
            {
                values[i] = v;
            }

            // Every PCR of the range must be quoted: a missing one would count as zeros, a value the host chose.
            if (values.Count == last + 1 && ImaBootAggregate.Compute(bank, values, last).AsSpan().SequenceEqual(first.FileDigest))
            {
                return first;
            }
        }

        return null;
    }

    /// <summary>Maps a quote fault to a <see cref="Fault"/> with the same code.</summary>
    public static Fault FromQuoteFault(QuoteFault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        var f = new Fault(fault.Code, fault.Describe());
        return fault switch
        {
            NonceMismatch n => f with { Expected = Hex.Lower(n.Expected), Actual = Hex.Lower(n.Actual) },
            PcrDigestMismatch d => f with { Expected = Hex.Lower(d.Quoted), Actual = Hex.Lower(d.Computed) },
            PcrValueMissing m => f with { Bank = TpmHash.Name(m.Bank), Index = m.Index },
            SelectionMismatch s => f with { Expected = s.Requested.ToString(), Actual = s.Quoted.ToString() },
            MalformedEvidence e => f with { Detail = $"{e.Field} at offset {e.Offset}" },
            _ => f,
        };
    }

    private static (TcgEventLog?, EventLogVerification?) VerifyUefi(byte[] bytes, PcrValues pcrs, List<Fault> faults)
    {
        TcgEventLog log;
        try
        {
            log = TcgEventLog.Parse(bytes);
        }
        catch (EventLogFormatException e)
        {
            faults.Add(new Fault(FaultCodes.EventLogMalformed, "UEFI event log: " + e.Message) { Detail = $"{e.Field} at offset {e.Offset}" });
            return (null, null);
        }

        var replay = EventLogVerifier.Verify(log, pcrs);
        if (replay.Matches)
        {
            return (log, replay);
        }

        foreach (var m in replay.Mismatches)
        {
            // Expected = the quoted (TPM) value, Actual = what the log replays to.
            faults.Add(Fault.Pcr(FaultCodes.EventLogDoesNotReplay, m.Bank, m.Index, Hex.Lower(m.Expected), Hex.Lower(m.Actual),
                m.FirstDivergingEvent?.Number, m.FirstDivergingEvent?.TypeName, m.Reason) with
            {
                Message = $"UEFI event log does not replay to the quote: PCR[{m.Index}] {TpmHash.Name(m.Bank)} quoted {Fault.Short(Hex.Lower(m.Expected))} " +
                    $"log gives {Fault.Short(Hex.Lower(m.Actual))}" +
                    (m.FirstDivergingEvent is { } e ? $"; first differing event #{e.Number} {e.TypeName}" : ""),
            });
        }

        return (null, null);
    }

    private static (ImaLog?, ImaReplayState?, IReadOnlyList<ImaEntry>) VerifyIma(byte[] bytes, PcrValues pcrs, PcrSelection selection, ImaReplayState? resume, List<Fault> faults)
    {
        ImaLog log;
        try
        {
            log = ImaLog.Parse(bytes);
        }
        catch (EventLogFormatException e)
        {
            // A name that does not match its bytes is a lie about what was measured, not a truncated read.
            faults.Add(ImaTemplates.IsTemplateFault(e)
                ? new Fault(FaultCodes.ImaTemplateInvalid, "IMA log: " + e.Message) { Detail = $"{e.Field} at offset {e.Offset}" }
                : new Fault(FaultCodes.EventLogMalformed, "IMA log: " + e.Message) { Detail = $"{e.Field} at offset {e.Offset}" });
            return (null, null, []);
        }

        // Only the banks whose PCR 10 the quote covers can verify the list; without one the list stays unverified.
        var quoted = new Dictionary<TpmAlgorithmId, byte[]>();
        foreach (var bank in selection)
        {
            if (bank.Contains((int)ImaReplay.DefaultPcr) && TpmHash.IsSupported(bank.Hash) && pcrs.TryGet(bank.Hash, (int)ImaReplay.DefaultPcr, out var v))
            {
                quoted[bank.Hash] = v;
            }
        }

        if (quoted.Count == 0)
        {
            return (null, null, []);
        }

        ImaReplayResult result;
        try
        {
            result = ImaReplay.Replay(log, [.. quoted.Keys], new ImaReplayOptions
            {
                Resume = resume,
                FirstEntryNumber = resume?.EntryCount ?? 0,
                QuotedPcr10 = quoted,
            });
        }
        catch (ArgumentException e)
        {
            faults.Add(new Fault(FaultCodes.EventLogMalformed, "IMA log: " + e.Message) { Detail = "resume state" });
            return (null, null, []);
        }

        foreach (var m in result.TemplateHashMismatches)
        {
            faults.Add(new Fault(FaultCodes.ImaTemplateHashMismatch, m.ToString())
            {
                EventNumber = m.Index,
                Expected = Hex.Lower(m.Computed),
                Actual = Hex.Lower(m.Logged),
                Detail = m.Path,
            });
        }

        if (result.QuotedReached != true)
        {
            foreach (var (bank, value) in quoted)
            {
                var replayed = result.Pcrs.Find(bank, (int)ImaReplay.DefaultPcr);
                var actual = replayed is null ? "" : Hex.Lower(replayed);
                faults.Add(Fault.Pcr(FaultCodes.ImaLogDoesNotReplay, bank, (int)ImaReplay.DefaultPcr, Hex.Lower(value), actual, null, null) with
                {
                    Message = $"IMA log does not replay to the quote: PCR[10] {TpmHash.Name(bank)} quoted {Fault.Short(Hex.Lower(value))} log gives {Fault.Short(actual)}",
                });
            }

            return (null, null, []);
        }

        if (result.TemplateHashMismatches.Count > 0)
        {
            return (null, null, []);
        }

        // The log starts at the resume point (FirstEntryNumber = EntryCount), so the replay began at its first entry. Only
        // the entries up to the quoted value are bound to it; later ones are judged at the next quote (the state resumes there).
        return (log, result.State, [.. log.Entries.Take(result.EntriesReplayed)]);
    }
}
