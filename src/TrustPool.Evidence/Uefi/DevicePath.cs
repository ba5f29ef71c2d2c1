using System.Globalization;
using System.Text;

namespace TrustPool.Evidence.Uefi;

/// <summary>
/// EFI_DEVICE_PATH_PROTOCOL to text (UEFI 2.10, 10.3 nodes; text forms of 10.6). Nodes TrustPool does
/// not name are printed generically as <c>Path(type,subtype,hex)</c>, as EDK2 does.
/// </summary>
public static class DevicePath
{
    /// <summary>Decodes a device path; throws <see cref="EventLogFormatException"/> on a malformed node.</summary>
    public static string ToText(ReadOnlySpan<byte> path, long baseOffset = 0)
    {
        var r = new EventLogReader(path, baseOffset);
        var sb = new StringBuilder();
        while (!r.IsEmpty)
        {
            var nodeOffset = r.Offset;
            var type = r.ReadByte("EFI_DEVICE_PATH_PROTOCOL.Type");
            var subType = r.ReadByte("EFI_DEVICE_PATH_PROTOCOL.SubType");
            var length = r.ReadUInt16("EFI_DEVICE_PATH_PROTOCOL.Length");
            if (length < 4)
            {
                throw new EventLogFormatException("EFI_DEVICE_PATH_PROTOCOL.Length", nodeOffset, $"node length {length} is below 4");
            }

            var body = r.ReadBytes(length - 4, "EFI_DEVICE_PATH_PROTOCOL.data");
            if (type == 0x7F)
            {
                if (subType == 0xFF)
                {
                    break;
                }

                sb.Append(',');
                continue;
            }

            if (sb.Length > 0 && sb[^1] != ',')
            {
                sb.Append('/');
            }

            sb.Append(Node(type, subType, body, nodeOffset + 4));
        }

        return sb.ToString();
    }

    private static string Node(byte type, byte subType, ReadOnlySpan<byte> body, long offset)
    {
        var r = new EventLogReader(body, offset);
        var ci = CultureInfo.InvariantCulture;
        switch (type, subType)
        {
            case (1, 1) when body.Length == 2:
                var fn = r.ReadByte("PCI.Function");
                var dev = r.ReadByte("PCI.Device");
                return string.Format(ci, "Pci(0x{0:X},0x{1:X})", dev, fn);
            case (1, 4) when body.Length >= 16:
                return $"VenHw({r.ReadGuid("VENDOR.Guid")}{HexSuffix(r.RemainingSpan)})";
            case (2, 1) when body.Length == 8:
                var hid = r.ReadUInt32("ACPI.HID");
                var uid = r.ReadUInt32("ACPI.UID");
                return hid == 0x0A0341D0
                    ? string.Format(ci, "PciRoot(0x{0:X})", uid)
                    : hid == 0x0A0841D0 ? string.Format(ci, "PcieRoot(0x{0:X})", uid) : string.Format(ci, "Acpi(0x{0:X},0x{1:X})", hid, uid);
            case (3, 2) when body.Length == 4:
                return string.Format(ci, "Scsi(0x{0:X},0x{1:X})", r.ReadUInt16("SCSI.Pun"), r.ReadUInt16("SCSI.Lun"));
            case (3, 5) when body.Length == 2:
                return string.Format(ci, "USB(0x{0:X},0x{1:X})", r.ReadByte("USB.Port"), r.ReadByte("USB.Interface"));
            case (3, 11) when body.Length >= 6:
                return $"MAC({Hex.Lower(body[..6])})";
            case (3, 18) when body.Length == 6:
                return string.Format(ci, "Sata(0x{0:X},0x{1:X},0x{2:X})", r.ReadUInt16("SATA.HBAPort"), r.ReadUInt16("SATA.PortMultiplier"), r.ReadUInt16("SATA.Lun"));
            case (3, 23) when body.Length == 12:
                var nsid = r.ReadUInt32("NVMe.NamespaceId");
                return string.Format(ci, "NVMe(0x{0:X},{1})", nsid, Hex.Lower(r.ReadBytes(8, "NVMe.EUI64")));
            case (3, 10) when body.Length >= 16:
                return $"VenMsg({r.ReadGuid("VENDOR.Guid")}{HexSuffix(r.RemainingSpan)})";
            case (3, 24):
                return $"Uri({Encoding.UTF8.GetString(body)})";
            case (4, 1) when body.Length == 38:
                var part = r.ReadUInt32("HD.PartitionNumber");
                var start = r.ReadUInt64("HD.PartitionStart");
                var size = r.ReadUInt64("HD.PartitionSize");
                var sig = r.ReadBytes(16, "HD.Signature");
                var format = r.ReadByte("HD.PartitionFormat");
                var sigType = r.ReadByte("HD.SignatureType");
                var sigText = sigType switch
                {
                    2 => new Guid(sig).ToString(),
                    1 => string.Format(ci, "0x{0:X8}", BitConverter.ToUInt32(sig[..4])),
                    _ => Hex.Lower(sig),
                };
                return string.Format(ci, "HD({0},{1},{2},0x{3:x},0x{4:x})", part, format == 2 ? "GPT" : format == 1 ? "MBR" : format.ToString(ci), sigText, start, size);
            case (4, 2) when body.Length == 20:
                return string.Format(ci, "CDROM(0x{0:X})", r.ReadUInt32("CDROM.BootEntry"));
            case (4, 3) when body.Length >= 16:
                return $"VenMedia({r.ReadGuid("VENDOR.Guid")}{HexSuffix(r.RemainingSpan)})";
            case (4, 4):
                return Utf16(body);
            case (4, 6) when body.Length == 16:
                return $"FvFile({r.ReadGuid("PIWG.FvFile")})";
            case (4, 7) when body.Length == 16:
                return $"Fv({r.ReadGuid("PIWG.Fv")})";
            case (4, 8) when body.Length == 20:
                r.Skip(4, "OFFSET.Reserved");
                return string.Format(ci, "Offset(0x{0:x},0x{1:x})", r.ReadUInt64("OFFSET.Start"), r.ReadUInt64("OFFSET.End"));
            case (5, 1) when body.Length >= 4:
                return string.Format(ci, "BBS(0x{0:X})", r.ReadUInt16("BBS.DeviceType"));
            default:
                return string.Format(ci, "Path({0},{1},{2})", type, subType, Hex.Lower(body));
        }
    }

    private static string HexSuffix(ReadOnlySpan<byte> rest) => rest.IsEmpty ? "" : "," + Hex.Lower(rest);

    /// <summary>A UTF-16LE string up to its first NUL (or the end); odd trailing byte ignored.</summary>
    internal static string Utf16(ReadOnlySpan<byte> bytes)
    {
        var even = bytes[..(bytes.Length & ~1)];
        var s = Encoding.Unicode.GetString(even);
        var nul = s.IndexOf('\0', StringComparison.Ordinal);
        return nul >= 0 ? s[..nul] : s;
    }

    /// <summary>Encodes a media file path node followed by the end node (used by the log builder).</summary>
    public static byte[] FilePath(string path)
    {
        var name = Encoding.Unicode.GetBytes(path + "\0");
        var node = new byte[4 + name.Length + 4];
        node[0] = 4;
        node[1] = 4;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(node.AsSpan(2), (ushort)(4 + name.Length));
        name.CopyTo(node, 4);
        node[^4] = 0x7F;
        node[^3] = 0xFF;
        node[^2] = 4;
        return node;
    }
}
