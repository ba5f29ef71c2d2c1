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
        BootFacts? facts = null;
        if (input.UefiLog is { } uefiBytes)
        {
            uefi = VerifyUefi(uefiBytes, pcrs, faults);
            if (uefi is not null)
            {
                try
                {
                    facts = BootFacts.Extract(uefi);
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
        if (input.ImaLog is { } imaBytes)
        {
            (ima, imaState) = VerifyIma(imaBytes, pcrs, ((QuoteInfo)attest.Attested).PcrSelect, input.ImaResume, faults);
        }

        return new VerifiedEvidence(faults)
        {
            Pcrs = pcrs,
            Selection = ((QuoteInfo)attest.Attested).PcrSelect,
            Nonce = attest.ExtraData,
            UefiLog = uefi,
            UefiLogBytes = uefi is null ? null : input.UefiLog,
            Facts = facts,
            Ima = ima,
            ImaState = imaState,
            Clock = clock,
        };
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

    private static TcgEventLog? VerifyUefi(byte[] bytes, PcrValues pcrs, List<Fault> faults)
    {
        TcgEventLog log;
        try
        {
            log = TcgEventLog.Parse(bytes);
        }
        catch (EventLogFormatException e)
        {
            faults.Add(new Fault(FaultCodes.EventLogMalformed, "UEFI event log: " + e.Message) { Detail = $"{e.Field} at offset {e.Offset}" });
            return null;
        }

        var replay = EventLogVerifier.Verify(log, pcrs);
        if (replay.Matches)
        {
            return log;
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

        return null;
    }

    private static (ImaLog?, ImaReplayState?) VerifyIma(byte[] bytes, PcrValues pcrs, PcrSelection selection, ImaReplayState? resume, List<Fault> faults)
    {
        ImaLog log;
        try
        {
            log = ImaLog.Parse(bytes);
        }
        catch (EventLogFormatException e)
        {
            faults.Add(new Fault(FaultCodes.EventLogMalformed, "IMA log: " + e.Message) { Detail = $"{e.Field} at offset {e.Offset}" });
            return (null, null);
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
            return (null, null);
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
            return (null, null);
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

            return (null, null);
        }

        return result.TemplateHashMismatches.Count == 0 ? (log, result.State) : (null, null);
    }
}
