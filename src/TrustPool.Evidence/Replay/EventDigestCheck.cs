using TrustPool.Evidence.Uefi;
using TrustPool.Tpm;

namespace TrustPool.Evidence.Replay;

/// <summary>An event whose logged digest is not the hash of its payload (informational).</summary>
public sealed record EventDigestMismatch(TcgEvent Event, TpmAlgorithmId Bank, byte[] Logged, byte[] OfPayload);

/// <summary>
/// Checks logged digests against payloads for the event types whose digest the PFP defines as the hash
/// of the event data (PFP 1.05, 10.4.1). Firmware legitimately breaks this (EV_IPL of systemd-boot
/// measures something else, some EV_EFI_VARIABLE_BOOT digests cover the variable data only), so a
/// mismatch is reported for information and used to point at a suspect event, never to reject a log.
/// </summary>
public static class EventDigestCheck
{
    public static bool IsChecked(TcgEventType type) => type is TcgEventType.Separator or TcgEventType.EfiAction
        or TcgEventType.Action or TcgEventType.EfiVariableDriverConfig or TcgEventType.EfiVariableBoot
        or TcgEventType.EfiVariableBoot2 or TcgEventType.EfiVariableAuthority or TcgEventType.EfiGptEvent
        or TcgEventType.Ipl or TcgEventType.SCrtmVersion;

    public static IReadOnlyList<EventDigestMismatch> Find(TcgEventLog log)
    {
        var result = new List<EventDigestMismatch>();
        foreach (var e in log.Events)
        {
            result.AddRange(Check(e));
        }

        return result;
    }

    public static IEnumerable<EventDigestMismatch> Check(TcgEvent e)
    {
        if (!IsChecked(e.EventType) || e.PcrIndex >= EventLogReplay.PcrCount)
        {
            yield break;
        }

        // EV_IPL in PCR9 (grub: a file's contents, the path is the description) and PCR14 (shim: MokList
        // contents) by design do not hash their payload; reporting them would only be noise.
        if (e.EventType == TcgEventType.Ipl && e.PcrIndex is 9 or 14)
        {
            yield break;
        }

        byte[]? variableData = null;
        if (e.EventType is TcgEventType.EfiVariableBoot or TcgEventType.EfiVariableBoot2 or TcgEventType.EfiVariableAuthority)
        {
            // PFP 1.05, 10.4.2: for EV_EFI_VARIABLE_BOOT the digest covers VariableData only; accept either form.
            try
            {
                variableData = TcgEventDecoder.DecodeVariable(e.Data).Data;
            }
            catch (EventLogFormatException)
            {
                variableData = null;
            }
        }

        foreach (var d in e.Digests)
        {
            if (!BankHash.IsSupported(d.Algorithm))
            {
                continue;
            }

            var whole = BankHash.Hash(d.Algorithm, e.Data);
            if (whole.AsSpan().SequenceEqual(d.Value))
            {
                continue;
            }

            if (variableData is not null && BankHash.Hash(d.Algorithm, variableData).AsSpan().SequenceEqual(d.Value))
            {
                continue;
            }

            // grub measures its EV_IPL strings without the terminating NUL the event data carries, and for
            // commands and the kernel command line without the "grub_cmd: " / "kernel_cmdline: " prefix.
            if (e.EventType == TcgEventType.Ipl && e.Data.Length > 0 && e.Data[^1] == 0)
            {
                var text = e.Data.AsSpan(0, e.Data.Length - 1);
                if (BankHash.Hash(d.Algorithm, text).AsSpan().SequenceEqual(d.Value)
                    || (text.StartsWith("grub_cmd: "u8) && BankHash.Hash(d.Algorithm, text["grub_cmd: "u8.Length..]).AsSpan().SequenceEqual(d.Value))
                    || (text.StartsWith("kernel_cmdline: "u8) && BankHash.Hash(d.Algorithm, text["kernel_cmdline: "u8.Length..]).AsSpan().SequenceEqual(d.Value)))
                {
                    continue;
                }
            }

            yield return new EventDigestMismatch(e, d.Algorithm, d.Value, whole);
        }
    }
}
