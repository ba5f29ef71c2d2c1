using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace TrustPool.Evidence.Uefi;

/// <summary>
/// Decodes event payloads into <see cref="DecodedEvent"/>s. The data is unverified firmware output:
/// a payload that does not parse throws <see cref="EventLogFormatException"/> (or yields null from
/// <see cref="TryDecode"/>); it never affects replay, which uses digests only.
/// </summary>
public static class TcgEventDecoder
{
    private static ReadOnlySpan<byte> StartupLocality => "StartupLocality\0"u8;

    /// <summary>Decodes; null when the type has no structured payload TrustPool knows.</summary>
    public static DecodedEvent? Decode(TcgEvent e, int uintnBytes = 8)
    {
        var data = e.Data.AsSpan();
        var at = e.Offset; // payload offsets are reported relative to the event's header
        switch (e.EventType)
        {
            case TcgEventType.NoAction:
                return DecodeNoAction(data, at);
            case TcgEventType.Separator when data.Length == 4:
                return new SeparatorEvent(BitConverter.ToUInt32(data));
            case TcgEventType.Separator:
                return new OpaqueEvent("separator", data.ToArray());
            case TcgEventType.EfiAction or TcgEventType.Action or TcgEventType.Ipl or TcgEventType.EfiHcrtmEvent
                or TcgEventType.OmitBootDeviceEvents or TcgEventType.CompactHash when LooksLikeText(data):
                return new TextEvent(Text(data));
            case TcgEventType.PostCode or TcgEventType.SCrtmContents or TcgEventType.EfiPlatformFirmwareBlob when data.Length == 16:
                {
                    var r = new EventLogReader(data, at);
                    return new FirmwareBlobEvent(r.ReadUInt64("UEFI_PLATFORM_FIRMWARE_BLOB.BlobBase"), r.ReadUInt64("UEFI_PLATFORM_FIRMWARE_BLOB.BlobLength"), null);
                }

            case TcgEventType.PostCode or TcgEventType.PostCode2 when LooksLikeText(data):
                return new TextEvent(Text(data));
            case TcgEventType.EfiPlatformFirmwareBlob2:
                {
                    var r = new EventLogReader(data, at);
                    var len = r.ReadByte("UEFI_PLATFORM_FIRMWARE_BLOB2.BlobDescriptionSize");
                    var desc = Text(r.ReadBytes(len, "UEFI_PLATFORM_FIRMWARE_BLOB2.BlobDescription"));
                    var blob = new FirmwareBlobEvent(r.ReadUInt64("UEFI_PLATFORM_FIRMWARE_BLOB2.BlobBase"), r.ReadUInt64("UEFI_PLATFORM_FIRMWARE_BLOB2.BlobLength"), desc);
                    r.ThrowIfNotEmpty("UEFI_PLATFORM_FIRMWARE_BLOB2");
                    return blob;
                }

            case TcgEventType.SCrtmVersion:
                return DecodeCrtmVersion(data);
            case TcgEventType.EfiVariableDriverConfig or TcgEventType.EfiVariableBoot or TcgEventType.EfiVariableBoot2:
                return DecodeVariable(data, at);
            case TcgEventType.EfiVariableAuthority:
                return DecodeAuthority(DecodeVariable(data, at));
            case TcgEventType.EfiHandoffTables:
                return DecodeHandoffTables(data, at, uintnBytes);
            case TcgEventType.EventTag when data.Length >= 8:
                {
                    // TCG_PCClientTaggedEvent (PFP 1.05, 10.4.2.1): taggedEventID, taggedEventDataSize, data.
                    var r = new EventLogReader(data, at);
                    var id = r.ReadUInt32("TCG_PCClientTaggedEvent.taggedEventID");
                    var size = r.ReadUInt32("TCG_PCClientTaggedEvent.taggedEventDataSize");
                    var tagged = r.ReadBytes(size, "TCG_PCClientTaggedEvent.taggedEventData").ToArray();
                    return new OpaqueEvent($"tag 0x{id:x8}", tagged);
                }
            case TcgEventType.EfiBootServicesApplication or TcgEventType.EfiBootServicesDriver or TcgEventType.EfiRuntimeServicesDriver:
                return DecodeImageLoad(data, at, uintnBytes);
            case TcgEventType.EfiGptEvent or TcgEventType.EfiGptEvent2:
                return DecodeGpt(data, at);
            default:
                if (TcgEventTypes.IsTxt(e.EventType))
                {
                    return new OpaqueEvent(TcgEventTypes.Name(e.EventType), data.ToArray());
                }

                return null;
        }
    }

    /// <summary>Like <see cref="Decode"/>, but a malformed payload gives null and the reason.</summary>
    public static DecodedEvent? TryDecode(TcgEvent e, int uintnBytes, out string? error)
    {
        try
        {
            error = null;
            return Decode(e, uintnBytes);
        }
        catch (EventLogFormatException ex)
        {
            error = ex.Message;
            return null;
        }
    }

    private static DecodedEvent DecodeNoAction(ReadOnlySpan<byte> data, long at)
    {
        if (data.Length == 17 && data.StartsWith(StartupLocality))
        {
            return new StartupLocalityEvent(data[16]);
        }

        if (data.Length >= 16 && data.StartsWith("Spec ID Event03\0"u8))
        {
            return new NoActionEvent("Spec ID Event03", data[16..].ToArray());
        }

        if (data.Length >= 16)
        {
            var sig = data[..16];
            if (LooksLikeText(sig))
            {
                return new NoActionEvent(Text(sig), data[16..].ToArray());
            }
        }

        _ = at;
        return new NoActionEvent("(unnamed)", data.ToArray());
    }

    private static CrtmVersionEvent DecodeCrtmVersion(ReadOnlySpan<byte> data)
    {
        if (LooksLikeUtf16(data))
        {
            return new CrtmVersionEvent(DevicePath.Utf16(data), null, data.ToArray());
        }

        if (data.Length == 16)
        {
            return new CrtmVersionEvent(null, new Guid(data), data.ToArray());
        }

        return new CrtmVersionEvent(LooksLikeText(data) ? Text(data) : null, null, data.ToArray());
    }

    /// <summary>Parses UEFI_VARIABLE_DATA; also used by the digest check of EV_EFI_VARIABLE_BOOT.</summary>
    public static UefiVariableEvent DecodeVariable(ReadOnlySpan<byte> data, long at = 0)
    {
        var r = new EventLogReader(data, at);
        var guid = r.ReadGuid("UEFI_VARIABLE_DATA.VariableName");
        var nameChars = r.ReadUInt64("UEFI_VARIABLE_DATA.UnicodeNameLength");
        var dataLength = r.ReadUInt64("UEFI_VARIABLE_DATA.VariableDataLength");
        if (nameChars > (ulong)r.Remaining / 2)
        {
            throw new EventLogFormatException("UEFI_VARIABLE_DATA.UnicodeNameLength", r.Offset - 16, $"{nameChars} characters do not fit in {r.Remaining} bytes");
        }

        var name = DevicePath.Utf16(r.ReadBytes((long)nameChars * 2, "UEFI_VARIABLE_DATA.UnicodeName"));
        if (dataLength > (ulong)r.Remaining)
        {
            throw new EventLogFormatException("UEFI_VARIABLE_DATA.VariableDataLength", r.Offset - 8, $"{dataLength} bytes do not fit in {r.Remaining}");
        }

        var valueOffset = r.Offset;
        var value = r.ReadBytes((long)dataLength, "UEFI_VARIABLE_DATA.VariableData");
        // Trailing bytes after VariableData are tolerated by firmware parsers; they are not part of the variable.
        var v = new UefiVariableEvent(guid, name, value.ToArray());
        if (guid == UefiVariableEvent.GlobalVariable && name == "SecureBoot")
        {
            return v with { SecureBoot = value.Length >= 1 && value[0] == 1 };
        }

        if ((guid == UefiVariableEvent.GlobalVariable && name is "PK" or "KEK")
            || (guid == UefiVariableEvent.ImageSecurityDatabase && name is "db" or "dbx" or "dbt" or "dbr")
            || name.StartsWith("MokList", StringComparison.Ordinal))
        {
            return TryParseSignatureLists(value, valueOffset, out var lists) ? v with { SignatureLists = lists } : v;
        }

        if (guid == UefiVariableEvent.GlobalVariable && name.Length == 8 && name.StartsWith("Boot", StringComparison.Ordinal)
            && name != "BootNext" && TryLoadOption(value, valueOffset, out var option))
        {
            return v with { LoadOption = option };
        }

        if (guid == UefiVariableEvent.GlobalVariable && name == "BootOrder" && value.Length % 2 == 0)
        {
            var order = new StringBuilder();
            for (var i = 0; i < value.Length; i += 2)
            {
                order.Append(i == 0 ? "" : ",").Append($"Boot{BitConverter.ToUInt16(value[i..]):X4}");
            }

            return v with { LoadOption = order.ToString() };
        }

        return v;
    }

    /// <summary>
    /// EV_EFI_VARIABLE_AUTHORITY (PFP 1.05, 3.3.4.8): the variable data is the one EFI_SIGNATURE_DATA that
    /// authorized an image (owner GUID + certificate), not a signature list. Other shapes (shim's
    /// SbatLevel, MokListTrusted...) are left as plain variables.
    /// </summary>
    private static UefiVariableEvent DecodeAuthority(UefiVariableEvent v)
    {
        if (v.Data.Length > 16 + 4 && v.Data[16] == 0x30)
        {
            var der = v.Data[16..];
            var subject = CertificateSubject(der);
            if (subject is not null)
            {
                var owner = new Guid(v.Data.AsSpan(0, 16));
                return v with { SignatureLists = [new EfiSignatureList(EfiSignatureList.X509, [new EfiSignature(owner, der, subject)])] };
            }
        }

        if (v.Data.Length > 4 && v.Data[0] == 0x30 && CertificateSubject(v.Data) is { } direct)
        {
            // shim's "Shim" (vendor certificate) authority: the DER certificate without an owner GUID.
            return v with { SignatureLists = [new EfiSignatureList(EfiSignatureList.X509, [new EfiSignature(Guid.Empty, v.Data, direct)])] };
        }

        return v;
    }

    private static OpaqueEvent DecodeHandoffTables(ReadOnlySpan<byte> data, long at, int uintnBytes)
    {
        // UEFI_HANDOFF_TABLE_POINTERS (PFP 1.05, 10.4.2): UINTN NumberOfTables, then {EFI_GUID, VOID*} each.
        var r = new EventLogReader(data, at);
        var countOffset = r.Offset;
        var count = r.ReadUIntN(uintnBytes, "UEFI_HANDOFF_TABLE_POINTERS.NumberOfTables");
        if (count > (ulong)(r.Remaining / (16 + uintnBytes)))
        {
            throw new EventLogFormatException("UEFI_HANDOFF_TABLE_POINTERS.NumberOfTables", countOffset, $"{count} tables do not fit in {r.Remaining} bytes");
        }

        var tables = new StringBuilder();
        for (ulong i = 0; i < count; i++)
        {
            var guid = r.ReadGuid("EFI_CONFIGURATION_TABLE.VendorGuid");
            var pointer = r.ReadUIntN(uintnBytes, "EFI_CONFIGURATION_TABLE.VendorTable");
            tables.Append(i == 0 ? "" : ", ").Append(guid).Append(" @0x").Append(pointer.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        }

        return new OpaqueEvent($"handoff tables: {tables}", []);
    }

    /// <summary>EFI_SIGNATURE_LIST* (UEFI 2.10, 32.4.1), as stored in PK/KEK/db/dbx.</summary>
    public static IReadOnlyList<EfiSignatureList> ParseSignatureLists(ReadOnlySpan<byte> data, long at = 0)
    {
        var r = new EventLogReader(data, at);
        var lists = new List<EfiSignatureList>();
        while (!r.IsEmpty)
        {
            var listOffset = r.Offset;
            var type = r.ReadGuid("EFI_SIGNATURE_LIST.SignatureType");
            var listSize = r.ReadUInt32("EFI_SIGNATURE_LIST.SignatureListSize");
            var headerSize = r.ReadUInt32("EFI_SIGNATURE_LIST.SignatureHeaderSize");
            var sigSize = r.ReadUInt32("EFI_SIGNATURE_LIST.SignatureSize");
            if (listSize < 28 || listSize - 28 > (uint)r.Remaining)
            {
                throw new EventLogFormatException("EFI_SIGNATURE_LIST.SignatureListSize", listOffset + 16, $"list size {listSize} does not fit");
            }

            var body = r.ReadSlice(listSize - 28, "EFI_SIGNATURE_LIST.body");
            body.Skip(headerSize, "EFI_SIGNATURE_LIST.SignatureHeader");
            if (sigSize < 16 || body.Remaining % sigSize != 0)
            {
                throw new EventLogFormatException("EFI_SIGNATURE_LIST.SignatureSize", listOffset + 24, $"signature size {sigSize} does not divide the list body of {body.Remaining} bytes");
            }

            var sigs = new List<EfiSignature>();
            while (!body.IsEmpty)
            {
                var owner = body.ReadGuid("EFI_SIGNATURE_DATA.SignatureOwner");
                var content = body.ReadBytes(sigSize - 16, "EFI_SIGNATURE_DATA.SignatureData").ToArray();
                sigs.Add(new EfiSignature(owner, content, type == EfiSignatureList.X509 ? CertificateSubject(content) : null));
            }

            lists.Add(new EfiSignatureList(type, sigs));
        }

        return lists;
    }

    private static bool TryParseSignatureLists(ReadOnlySpan<byte> data, long at, out IReadOnlyList<EfiSignatureList> lists)
    {
        try
        {
            lists = ParseSignatureLists(data, at);
            return true;
        }
        catch (EventLogFormatException)
        {
            lists = [];
            return false;
        }
    }

    private static string? CertificateSubject(byte[] der)
    {
        try
        {
            using var cert = X509CertificateLoader.LoadCertificate(der);
            return cert.Subject;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    private static bool TryLoadOption(ReadOnlySpan<byte> value, long at, out string text)
    {
        // EFI_LOAD_OPTION (UEFI 2.10, 3.1.3): Attributes, FilePathListLength, Description (CHAR16, NUL), FilePathList, OptionalData.
        text = "";
        try
        {
            var r = new EventLogReader(value, at);
            r.ReadUInt32("EFI_LOAD_OPTION.Attributes");
            var pathLength = r.ReadUInt16("EFI_LOAD_OPTION.FilePathListLength");
            var rest = r.RemainingSpan;
            var end = 0;
            while (end + 1 < rest.Length && (rest[end] != 0 || rest[end + 1] != 0))
            {
                end += 2;
            }

            var description = Encoding.Unicode.GetString(rest[..end]);
            r.Skip(end + 2, "EFI_LOAD_OPTION.Description");
            var path = DevicePath.ToText(r.ReadBytes(pathLength, "EFI_LOAD_OPTION.FilePathList"), r.Offset);
            text = $"{description} {path}";
            return true;
        }
        catch (EventLogFormatException)
        {
            return false;
        }
    }

    private static ImageLoadEvent DecodeImageLoad(ReadOnlySpan<byte> data, long at, int uintnBytes)
    {
        var r = new EventLogReader(data, at);
        var location = r.ReadUInt64("UEFI_IMAGE_LOAD_EVENT.ImageLocationInMemory");
        var length = r.ReadUIntN(uintnBytes, "UEFI_IMAGE_LOAD_EVENT.ImageLengthInMemory");
        var link = r.ReadUIntN(uintnBytes, "UEFI_IMAGE_LOAD_EVENT.ImageLinkTimeAddress");
        var pathLengthOffset = r.Offset;
        var pathLength = r.ReadUIntN(uintnBytes, "UEFI_IMAGE_LOAD_EVENT.LengthOfDevicePath");
        if (pathLength > (ulong)r.Remaining)
        {
            throw new EventLogFormatException("UEFI_IMAGE_LOAD_EVENT.LengthOfDevicePath", pathLengthOffset, $"{pathLength} bytes do not fit in {r.Remaining}");
        }

        var pathOffset = r.Offset;
        var path = DevicePath.ToText(r.ReadBytes((long)pathLength, "UEFI_IMAGE_LOAD_EVENT.DevicePath"), pathOffset);
        return new ImageLoadEvent(location, length, link, path);
    }

    private static GptEvent DecodeGpt(ReadOnlySpan<byte> data, long at)
    {
        // UEFI_GPT_DATA: UEFI_PARTITION_TABLE_HEADER (92 bytes), UINT64 NumberOfPartitions, UEFI_PARTITION_ENTRY[].
        var r = new EventLogReader(data, at);
        var header = r.ReadSlice(92, "UEFI_PARTITION_TABLE_HEADER");
        header.Skip(56, "UEFI_PARTITION_TABLE_HEADER.prefix");
        var disk = header.ReadGuid("UEFI_PARTITION_TABLE_HEADER.DiskGUID");
        header.Skip(12, "UEFI_PARTITION_TABLE_HEADER.PartitionEntryLBA");
        var entrySizeOffset = header.Offset;
        var entrySize = header.ReadUInt32("UEFI_PARTITION_TABLE_HEADER.SizeOfPartitionEntry");
        var countOffset = r.Offset;
        var count = r.ReadUInt64("UEFI_GPT_DATA.NumberOfPartitions");
        if (entrySize < 128 && count > 0)
        {
            throw new EventLogFormatException("UEFI_PARTITION_TABLE_HEADER.SizeOfPartitionEntry", entrySizeOffset, $"entry size {entrySize} is below 128");
        }

        if (count > 0 && count > (ulong)r.Remaining / entrySize)
        {
            throw new EventLogFormatException("UEFI_GPT_DATA.NumberOfPartitions", countOffset, $"{count} entries of {entrySize} bytes do not fit in {r.Remaining}");
        }

        var parts = new List<GptPartition>();
        for (ulong i = 0; i < count; i++)
        {
            var e = r.ReadSlice(entrySize, "UEFI_PARTITION_ENTRY");
            var type = e.ReadGuid("UEFI_PARTITION_ENTRY.PartitionTypeGUID");
            var unique = e.ReadGuid("UEFI_PARTITION_ENTRY.UniquePartitionGUID");
            var start = e.ReadUInt64("UEFI_PARTITION_ENTRY.StartingLBA");
            var end = e.ReadUInt64("UEFI_PARTITION_ENTRY.EndingLBA");
            var attrs = e.ReadUInt64("UEFI_PARTITION_ENTRY.Attributes");
            var name = DevicePath.Utf16(e.ReadBytes(72, "UEFI_PARTITION_ENTRY.PartitionName"));
            parts.Add(new GptPartition(type, unique, start, end, attrs, name));
        }

        return new GptEvent(disk, parts);
    }

    /// <summary>Printable ASCII/UTF-8 (allowing trailing NULs and whitespace), or a UTF-16LE string.</summary>
    internal static bool LooksLikeText(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return false;
        }

        if (LooksLikeUtf16(data))
        {
            return true;
        }

        var trimmed = data.TrimEnd((byte)0);
        if (trimmed.IsEmpty)
        {
            return false;
        }

        foreach (var b in trimmed)
        {
            if (b < 0x20 && b is not (0x09 or 0x0A or 0x0D))
            {
                return false;
            }
        }

        return true;
    }

    private static bool LooksLikeUtf16(ReadOnlySpan<byte> data)
    {
        if (data.Length < 4 || data.Length % 2 != 0 || data[1] != 0 || data[0] == 0)
        {
            return false;
        }

        for (var i = 0; i + 1 < data.Length; i += 2)
        {
            if (data[i + 1] != 0)
            {
                return false;
            }

            if (data[i] == 0)
            {
                // allow a terminating NUL (and padding) only
                return data[i..].IndexOfAnyExcept((byte)0) < 0;
            }
        }

        return true;
    }

    /// <summary>The text of a string payload: UTF-16LE when it looks so, else UTF-8; trailing NULs removed.</summary>
    public static string Text(ReadOnlySpan<byte> data) =>
        LooksLikeUtf16(data) ? DevicePath.Utf16(data) : Encoding.UTF8.GetString(data.TrimEnd((byte)0));
}
