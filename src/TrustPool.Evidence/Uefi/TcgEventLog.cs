using System.Text;
using TrustPool.Tpm;

namespace TrustPool.Evidence.Uefi;

/// <summary>The two TCG PC Client log formats.</summary>
public enum TcgLogFormat
{
    /// <summary>TCG_PCClientPCREvent entries with one SHA-1 digest each (TPM 1.2 style, also seen on TPM 2.0).</summary>
    Sha1,

    /// <summary>Spec ID Event03 followed by TCG_PCR_EVENT2 entries with a TPML_DIGEST_VALUES each.</summary>
    CryptoAgile,
}

/// <summary>
/// A parsed TCG PC Client Platform Firmware Profile event log (binary_bios_measurements).
/// Contains unverified data until a replay matches a verified quote.
/// </summary>
public sealed class TcgEventLog
{
    private static ReadOnlySpan<byte> SpecIdSignature => "Spec ID Event03\0"u8;

    private TcgEventLog(TcgLogFormat format, TcgSpecIdEvent? specId, IReadOnlyList<TcgEvent> events, IReadOnlyList<EventLogWorkaround> workarounds)
    {
        Format = format;
        SpecId = specId;
        Events = events;
        AppliedWorkarounds = workarounds;
    }

    public TcgLogFormat Format { get; }

    /// <summary>The Spec ID event of a crypto-agile log; null for the SHA-1 format.</summary>
    public TcgSpecIdEvent? SpecId { get; }

    /// <summary>Every event in log order, the Spec ID event included (number 0).</summary>
    public IReadOnlyList<TcgEvent> Events { get; }

    /// <summary>Quirks from <see cref="EventLogWorkarounds"/> the parser had to apply.</summary>
    public IReadOnlyList<EventLogWorkaround> AppliedWorkarounds { get; }

    /// <summary>Width of UINTN in UEFI structures of this log (8 unless the Spec ID says 32-bit).</summary>
    public int UintnBytes => SpecId?.UintnBytes ?? 8;

    /// <summary>Banks the log declares: the Spec ID algorithms, or SHA-1 for the SHA-1 format.</summary>
    public IReadOnlyList<TpmAlgorithmId> Banks =>
        SpecId is null ? [TpmAlgorithmId.Sha1] : SpecId.Algorithms.Select(a => a.Algorithm).ToArray();

    /// <summary>Parses a whole log. Throws <see cref="EventLogFormatException"/> on malformed input.</summary>
    public static TcgEventLog Parse(ReadOnlySpan<byte> log)
    {
        var reader = new EventLogReader(log);
        var events = new List<TcgEvent>();
        var workarounds = new List<EventLogWorkaround>();
        if (reader.IsEmpty)
        {
            return new TcgEventLog(TcgLogFormat.Sha1, null, events, workarounds);
        }

        // PFP 1.05, 10.4.5.1: a crypto-agile log starts with a SHA-1-format EV_NO_ACTION event in PCR0
        // with a zero digest whose data is TCG_EfiSpecIDEventStruct ("Spec ID Event03").
        var first = ReadSha1Event(ref reader, 0, out var firstData);
        if (first.EventType == TcgEventType.NoAction && first.PcrIndex == 0 && firstData.StartsWith(SpecIdSignature)
            && first.Digests[0].Value.AsSpan().IndexOfAnyExcept((byte)0) < 0)
        {
            var dataOffset = reader.Offset - firstData.Length;
            var specId = ParseSpecId(firstData, dataOffset, ref reader, workarounds, out var fullData);
            events.Add(new TcgEvent(0, first.Offset, first.PcrIndex, first.EventType, first.Digests, fullData));
            var sizes = specId.Algorithms;
            while (!reader.IsEmpty)
            {
                events.Add(ReadAgileEvent(ref reader, events.Count, sizes));
            }

            return new TcgEventLog(TcgLogFormat.CryptoAgile, specId, events, workarounds);
        }

        events.Add(first);
        while (!reader.IsEmpty)
        {
            events.Add(ReadSha1Event(ref reader, events.Count, out _));
        }

        return new TcgEventLog(TcgLogFormat.Sha1, null, events, workarounds);
    }

    private static TcgEvent ReadSha1Event(ref EventLogReader reader, int number, out ReadOnlySpan<byte> data)
    {
        var offset = reader.Offset;
        var pcr = reader.ReadUInt32("TCG_PCClientPCREvent.pcrIndex");
        var type = (TcgEventType)reader.ReadUInt32("TCG_PCClientPCREvent.eventType");
        var digest = reader.ReadBytes(20, "TCG_PCClientPCREvent.digest").ToArray();
        var size = reader.ReadUInt32("TCG_PCClientPCREvent.eventDataSize");
        data = reader.ReadBytes(size, "TCG_PCClientPCREvent.event");
        return new TcgEvent(number, offset, pcr, type, [new TcgDigest(TpmAlgorithmId.Sha1, digest)], data.ToArray());
    }

    private static TcgEvent ReadAgileEvent(ref EventLogReader reader, int number, IReadOnlyList<TcgAlgorithmSize> sizes)
    {
        var offset = reader.Offset;
        var pcr = reader.ReadUInt32("TCG_PCR_EVENT2.pcrIndex");
        var type = (TcgEventType)reader.ReadUInt32("TCG_PCR_EVENT2.eventType");
        var countOffset = reader.Offset;
        var count = reader.ReadUInt32("TPML_DIGEST_VALUES.count");
        if (count > (uint)sizes.Count)
        {
            throw new EventLogFormatException("TPML_DIGEST_VALUES.count", countOffset,
                $"{count} digests but the Spec ID event declares {sizes.Count} algorithms");
        }

        var digests = new TcgDigest[count];
        for (var i = 0; i < digests.Length; i++)
        {
            var algOffset = reader.Offset;
            var alg = (TpmAlgorithmId)reader.ReadUInt16("TPMT_HA.hashAlg");
            var size = -1;
            foreach (var s in sizes)
            {
                if (s.Algorithm == alg)
                {
                    size = s.DigestSize;
                    break;
                }
            }

            if (size < 0)
            {
                throw new EventLogFormatException("TPMT_HA.hashAlg", algOffset,
                    $"algorithm 0x{(ushort)alg:x4} is not declared in the Spec ID event, its digest size is unknown");
            }

            for (var j = 0; j < i; j++)
            {
                if (digests[j].Algorithm == alg)
                {
                    throw new EventLogFormatException("TPMT_HA.hashAlg", algOffset, $"algorithm 0x{(ushort)alg:x4} appears twice");
                }
            }

            digests[i] = new TcgDigest(alg, reader.ReadBytes(size, "TPMT_HA.digest").ToArray());
        }

        var eventSize = reader.ReadUInt32("TCG_PCR_EVENT2.eventSize");
        var data = reader.ReadBytes(eventSize, "TCG_PCR_EVENT2.event").ToArray();
        return new TcgEvent(number, offset, pcr, type, digests, data);
    }

    private static TcgSpecIdEvent ParseSpecId(scoped ReadOnlySpan<byte> data, long dataOffset, ref EventLogReader log,
        List<EventLogWorkaround> workarounds, out byte[] fullData)
    {
        var r = new EventLogReader(data, dataOffset);
        var signature = Encoding.ASCII.GetString(r.ReadBytes(16, "TCG_EfiSpecIDEventStruct.signature")).TrimEnd('\0');
        var platformClass = r.ReadUInt32("TCG_EfiSpecIDEventStruct.platformClass");
        var minor = r.ReadByte("TCG_EfiSpecIDEventStruct.specVersionMinor");
        var major = r.ReadByte("TCG_EfiSpecIDEventStruct.specVersionMajor");
        var errata = r.ReadByte("TCG_EfiSpecIDEventStruct.specErrata");
        var uintnSize = r.ReadByte("TCG_EfiSpecIDEventStruct.uintnSize");
        var countOffset = r.Offset;
        var count = r.ReadUInt32("TCG_EfiSpecIDEventStruct.numberOfAlgorithms");
        if (count == 0 || count > (uint)(r.Remaining / 4))
        {
            throw new EventLogFormatException("TCG_EfiSpecIDEventStruct.numberOfAlgorithms", countOffset,
                $"{count} algorithms do not fit the {r.Remaining} bytes left in the Spec ID event");
        }

        var algs = new TcgAlgorithmSize[count];
        for (var i = 0; i < algs.Length; i++)
        {
            var algOffset = r.Offset;
            var alg = (TpmAlgorithmId)r.ReadUInt16("TCG_EfiSpecIdEventAlgorithmSize.algorithmId");
            var size = r.ReadUInt16("TCG_EfiSpecIdEventAlgorithmSize.digestSize");
            var known = TpmHash.DigestSize(alg);
            // An algorithm we do not know is fine: its declared size lets us skip its digests.
            if ((known != 0 && known != size) || size == 0)
            {
                throw new EventLogFormatException("TCG_EfiSpecIdEventAlgorithmSize.digestSize", algOffset,
                    $"digest size {size} is wrong for algorithm {TpmHash.Name(alg)}");
            }

            for (var j = 0; j < i; j++)
            {
                if (algs[j].Algorithm == alg)
                {
                    throw new EventLogFormatException("TCG_EfiSpecIdEventAlgorithmSize.algorithmId", algOffset,
                        $"algorithm {TpmHash.Name(alg)} is declared twice");
                }
            }

            algs[i] = new TcgAlgorithmSize(alg, size);
        }

        var vendorSize = r.ReadByte("TCG_EfiSpecIDEventStruct.vendorInfoSize");
        byte[] vendorInfo;
        fullData = data.ToArray();
        var overrun = vendorSize > r.Remaining
            ? EventLogWorkarounds.SpecIdVendorInfoOverrun(vendorSize, r.Remaining, log.Remaining)
            : 0;
        if (overrun > 0)
        {
            vendorInfo = log.ReadBytes(overrun, "TCG_EfiSpecIDEventStruct.vendorInfo").ToArray();
            fullData = [.. fullData, .. vendorInfo];
            workarounds.Add(EventLogWorkarounds.SpecIdVendorInfoPastEventSize);
        }
        else
        {
            vendorInfo = r.ReadBytes(vendorSize, "TCG_EfiSpecIDEventStruct.vendorInfo").ToArray();
            r.ThrowIfNotEmpty("TCG_EfiSpecIDEventStruct");
        }

        if (uintnSize is not (1 or 2))
        {
            throw new EventLogFormatException("TCG_EfiSpecIDEventStruct.uintnSize", dataOffset + 23, $"uintnSize {uintnSize} is neither 1 nor 2");
        }

        return new TcgSpecIdEvent(signature, platformClass, minor, major, errata, uintnSize, algs, vendorInfo);
    }
}
