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
        var reader = new TcgEventReader(log);
        var events = new List<TcgEvent>();
        while (reader.MoveNext())
        {
            var digests = new TcgDigest[reader.DigestCount];
            for (var i = 0; i < digests.Length; i++)
            {
                digests[i] = new TcgDigest(reader.DigestAlgorithm(i), reader.DigestValue(i).ToArray());
            }

            events.Add(new TcgEvent(reader.Number, reader.Offset, reader.PcrIndex, reader.EventType, digests, reader.Data.ToArray()));
        }

        return new TcgEventLog(reader.Format, reader.SpecId, events, reader.Workarounds);
    }

    /// <summary>Like <see cref="Parse"/>, but malformed input gives false and the exception instead of throwing it.</summary>
    public static bool TryParse(ReadOnlySpan<byte> log, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TcgEventLog? result,
        out EventLogFormatException? error)
    {
        try
        {
            result = Parse(log);
            error = null;
            return true;
        }
        catch (EventLogFormatException ex)
        {
            result = null;
            error = ex;
            return false;
        }
    }

    /// <summary>
    /// Streams the events of a log without materializing them (the one parser behind <see cref="Parse"/>;
    /// also used by the allocation-free replay of large logs). Spans point into the log.
    /// </summary>
    internal ref struct TcgEventReader
    {
        private readonly ReadOnlySpan<byte> _log;
        private readonly (TpmAlgorithmId Algorithm, int Start, int Length)[] _digests;
        private EventLogReader _reader;
        private TcgAlgorithmSize[]? _sizes;
        private bool _started;

        public TcgEventReader(ReadOnlySpan<byte> log)
        {
            _log = log;
            _reader = new EventLogReader(log);
            _digests = new (TpmAlgorithmId, int, int)[8];
            Number = -1;
            Workarounds = [];
        }

        public TcgLogFormat Format { get; private set; }

        public TcgSpecIdEvent? SpecId { get; private set; }

        public List<EventLogWorkaround> Workarounds { get; }

        public int Number { get; private set; }

        public long Offset { get; private set; }

        public uint PcrIndex { get; private set; }

        public TcgEventType EventType { get; private set; }

        public int DigestCount { get; private set; }

        public ReadOnlySpan<byte> Data { get; private set; }

        public readonly TpmAlgorithmId DigestAlgorithm(int i) => _digests[i].Algorithm;

        public readonly ReadOnlySpan<byte> DigestValue(int i) => _log.Slice(_digests[i].Start, _digests[i].Length);

        /// <summary>The current event's digest for a bank, or an empty span when it has none.</summary>
        public readonly ReadOnlySpan<byte> Digest(TpmAlgorithmId bank)
        {
            for (var i = 0; i < DigestCount; i++)
            {
                if (_digests[i].Algorithm == bank)
                {
                    return _log.Slice(_digests[i].Start, _digests[i].Length);
                }
            }

            return default;
        }

        public bool MoveNext()
        {
            if (_reader.IsEmpty)
            {
                return false;
            }

            Number++;
            if (!_started)
            {
                _started = true;
                ReadSha1Event();

                // PFP 1.05, 10.4.5.1: a crypto-agile log starts with a SHA-1-format EV_NO_ACTION event in PCR0
                // with a zero digest whose data is TCG_EfiSpecIDEventStruct ("Spec ID Event03").
                if (EventType == TcgEventType.NoAction && PcrIndex == 0 && Data.StartsWith(SpecIdSignature)
                    && DigestValue(0).IndexOfAnyExcept((byte)0) < 0)
                {
                    var dataOffset = _reader.Offset - Data.Length;
                    var dataStart = (int)dataOffset;
                    SpecId = ParseSpecId(Data, dataOffset, ref _reader, Workarounds, out var fullLength);
                    Data = _log.Slice(dataStart, fullLength);
                    _sizes = SpecId.Algorithms as TcgAlgorithmSize[] ?? [.. SpecId.Algorithms];
                    Format = TcgLogFormat.CryptoAgile;
                }

                return true;
            }

            if (_sizes is null)
            {
                ReadSha1Event();
            }
            else
            {
                ReadAgileEvent(_sizes);
            }

            return true;
        }

        private void ReadSha1Event()
        {
            Offset = _reader.Offset;
            PcrIndex = _reader.ReadUInt32("TCG_PCClientPCREvent.pcrIndex");
            EventType = (TcgEventType)_reader.ReadUInt32("TCG_PCClientPCREvent.eventType");
            _digests[0] = (TpmAlgorithmId.Sha1, (int)_reader.Offset, 20);
            _reader.Skip(20, "TCG_PCClientPCREvent.digest");
            DigestCount = 1;
            var size = _reader.ReadUInt32("TCG_PCClientPCREvent.eventDataSize");
            Data = _reader.ReadBytes(size, "TCG_PCClientPCREvent.event");
        }

        private void ReadAgileEvent(TcgAlgorithmSize[] sizes)
        {
            Offset = _reader.Offset;
            PcrIndex = _reader.ReadUInt32("TCG_PCR_EVENT2.pcrIndex");
            EventType = (TcgEventType)_reader.ReadUInt32("TCG_PCR_EVENT2.eventType");
            var countOffset = _reader.Offset;
            var count = _reader.ReadUInt32("TPML_DIGEST_VALUES.count");
            if (count > (uint)sizes.Length || count > (uint)_digests.Length)
            {
                throw new EventLogFormatException("TPML_DIGEST_VALUES.count", countOffset,
                    $"{count} digests but the Spec ID event declares {sizes.Length} algorithms");
            }

            for (var i = 0; i < (int)count; i++)
            {
                var algOffset = _reader.Offset;
                var alg = (TpmAlgorithmId)_reader.ReadUInt16("TPMT_HA.hashAlg");
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
                    if (_digests[j].Algorithm == alg)
                    {
                        throw new EventLogFormatException("TPMT_HA.hashAlg", algOffset, $"algorithm 0x{(ushort)alg:x4} appears twice");
                    }
                }

                _digests[i] = (alg, (int)_reader.Offset, size);
                _reader.Skip(size, "TPMT_HA.digest");
            }

            DigestCount = (int)count;
            var eventSize = _reader.ReadUInt32("TCG_PCR_EVENT2.eventSize");
            Data = _reader.ReadBytes(eventSize, "TCG_PCR_EVENT2.event");
        }
    }

    private static TcgSpecIdEvent ParseSpecId(scoped ReadOnlySpan<byte> data, long dataOffset, ref EventLogReader log,
        List<EventLogWorkaround> workarounds, out int fullLength)
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
        fullLength = data.Length;
        var overrun = vendorSize > r.Remaining
            ? EventLogWorkarounds.SpecIdVendorInfoOverrun(vendorSize, r.Remaining, log.Remaining)
            : 0;
        if (overrun > 0)
        {
            vendorInfo = log.ReadBytes(overrun, "TCG_EfiSpecIDEventStruct.vendorInfo").ToArray();
            fullLength += overrun; // the vendor bytes follow the event directly in the log
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
