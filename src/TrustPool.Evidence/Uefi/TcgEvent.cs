using TrustPool.Tpm;

namespace TrustPool.Evidence.Uefi;

/// <summary>One digest of an event for one PCR bank.</summary>
public readonly record struct TcgDigest(TpmAlgorithmId Algorithm, byte[] Value);

/// <summary>An algorithm and its digest size as declared by the Spec ID event.</summary>
public readonly record struct TcgAlgorithmSize(TpmAlgorithmId Algorithm, int DigestSize);

/// <summary>
/// One event of a TCG PC Client event log: TCG_PCClientPCREvent (SHA-1 format) or TCG_PCR_EVENT2
/// (crypto-agile), PFP 1.05, 10.2.1 / 10.2.2. Contains unverified data: nothing here is trusted until
/// a replay of the whole log matches PCR values from a verified quote.
/// </summary>
public sealed class TcgEvent
{
    public TcgEvent(int number, long offset, uint pcrIndex, TcgEventType eventType, IReadOnlyList<TcgDigest> digests, byte[] data)
    {
        Number = number;
        Offset = offset;
        PcrIndex = pcrIndex;
        EventType = eventType;
        Digests = digests;
        Data = data;
    }

    /// <summary>0-based position in the log (the Spec ID event, when present, is number 0), as tpm2_eventlog's EventNum.</summary>
    public int Number { get; }

    /// <summary>Byte offset of the event header in the log.</summary>
    public long Offset { get; }

    public uint PcrIndex { get; }

    public TcgEventType EventType { get; }

    public string TypeName => TcgEventTypes.Name(EventType);

    public IReadOnlyList<TcgDigest> Digests { get; }

    /// <summary>The event data (TCG_PCR_EVENT2.event).</summary>
    public byte[] Data { get; }

    /// <summary>The digest for a bank, or null when the event carries none for it.</summary>
    public byte[]? Digest(TpmAlgorithmId bank)
    {
        foreach (var d in Digests)
        {
            if (d.Algorithm == bank)
            {
                return d.Value;
            }
        }

        return null;
    }

    public override string ToString() => $"event {Number} (PCR {PcrIndex}, {TypeName}, offset {Offset})";
}

/// <summary>TCG_EfiSpecIDEventStruct (PFP 1.05, 10.4.5.1), the first event of a crypto-agile log.</summary>
public sealed record TcgSpecIdEvent(
    string Signature,
    uint PlatformClass,
    byte SpecVersionMinor,
    byte SpecVersionMajor,
    byte SpecErrata,
    byte UintnSize,
    IReadOnlyList<TcgAlgorithmSize> Algorithms,
    byte[] VendorInfo)
{
    /// <summary>Width of UINTN fields in UEFI structures: uintnSize 1 = 32-bit, 2 = 64-bit.</summary>
    public int UintnBytes => UintnSize == 1 ? 4 : 8;
}
