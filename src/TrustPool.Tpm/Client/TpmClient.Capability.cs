using System.Text;
using TrustPool.Tpm.Structures;
using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Client;

public sealed partial class TpmClient
{
    private const uint CapPcrs = 0x00000005;
    private const uint CapTpmProperties = 0x00000006;

    // TPM_PT (Part 2, 6.13): PT_FIXED + n.
    private const uint PtManufacturer = 0x105;
    private const uint PtVendorString1 = 0x106;
    private const uint PtVendorString4 = 0x109;
    private const uint PtFirmwareVersion1 = 0x10B;
    private const uint PtFirmwareVersion2 = 0x10C;
    private const uint PtNvBufferMax = 0x12C;

    /// <summary>MAX_CAP_BUFFER (1024) / 8: no TPM returns more TPMS_TAGGED_PROPERTY entries in one response.</summary>
    private const int MaxTaggedProperties = 128;

    private int? _nvBufferMax;

    public TpmInfo GetInfo()
    {
        var props = GetTpmProperties(PtManufacturer, PtFirmwareVersion2);
        var manufacturerId = props.GetValueOrDefault(PtManufacturer);
        var vendor = new StringBuilder();
        for (var p = PtVendorString1; p <= PtVendorString4; p++)
        {
            vendor.Append(FourChars(props.GetValueOrDefault(p)));
        }

        var firmware = ((ulong)props.GetValueOrDefault(PtFirmwareVersion1) << 32) | props.GetValueOrDefault(PtFirmwareVersion2);
        var banks = new List<TpmAlgorithmId>();
        foreach (var bank in GetAllocatedPcrs())
        {
            if (bank.Mask != 0)
            {
                banks.Add(bank.Hash);
            }
        }

        return new TpmInfo(manufacturerId, FourChars(manufacturerId).Trim(), vendor.ToString().Trim(), firmware, banks);
    }

    /// <summary>A TPM_PT value packs up to four ASCII characters, big-endian, padded with NUL or spaces.</summary>
    private static string FourChars(uint value)
    {
        var sb = new StringBuilder(4);
        for (var shift = 24; shift >= 0; shift -= 8)
        {
            var c = (char)((value >> shift) & 0xFF);
            if (c is >= ' ' and <= '~')
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    /// <summary>TPM2_GetCapability(TPM_CAP_PCRS): the PCR banks and which PCRs each has allocated.</summary>
    private PcrSelection GetAllocatedPcrs()
    {
        var r = GetCapability(CapPcrs, 0, 1, out _);
        var selection = PcrSelection.Read(ref r);
        r.ThrowIfNotEmpty("TPMS_CAPABILITY_DATA");
        return selection;
    }

    /// <summary>TPM2_GetCapability(TPM_CAP_TPM_PROPERTIES) from <paramref name="first"/> to <paramref name="last"/>, following moreData.</summary>
    private Dictionary<uint, uint> GetTpmProperties(uint first, uint last)
    {
        var result = new Dictionary<uint, uint>();
        var next = first;
        while (next <= last)
        {
            var r = GetCapability(CapTpmProperties, next, last - next + 1, out var more);
            var at = r.Offset;
            var count = r.ReadUInt32("TPML_TAGGED_TPM_PROPERTY.count");
            if (count > MaxTaggedProperties)
            {
                throw new TpmFormatException("TPML_TAGGED_TPM_PROPERTY.count", at, $"{count} exceeds {MaxTaggedProperties}");
            }

            var highest = next - 1;
            for (var i = 0; i < count; i++)
            {
                var property = r.ReadUInt32("TPMS_TAGGED_PROPERTY.property");
                var value = r.ReadUInt32("TPMS_TAGGED_PROPERTY.value");
                if (property >= next && property <= last)
                {
                    result[property] = value;
                }

                highest = Math.Max(highest, property);
            }

            r.ThrowIfNotEmpty("TPMS_CAPABILITY_DATA");
            // Stop when the TPM has nothing more or makes no progress (a property it does not implement is skipped).
            if (!more || count == 0 || highest < next)
            {
                break;
            }

            next = highest + 1;
        }

        return result;
    }

    /// <summary>TPM2_GetCapability (Part 3, 30.2); returns a reader positioned on the capability's union.</summary>
    private TpmReader GetCapability(uint capability, uint property, uint count, out bool moreData)
    {
        var w = Begin(TpmCommandCode.GetCapability, [], []);
        w.WriteUInt32(capability).WriteUInt32(property).WriteUInt32(count);
        var r = Send(w, TpmCommandCode.GetCapability, 0, 0).Parameters();
        var moreAt = r.Offset;
        var more = r.ReadByte("TPMI_YES_NO moreData");
        if (more > 1)
        {
            throw new TpmFormatException("moreData", moreAt, $"TPMI_YES_NO is {more}");
        }

        moreData = more == 1;
        var capAt = r.Offset;
        var returned = r.ReadUInt32("TPMS_CAPABILITY_DATA.capability");
        if (returned != capability)
        {
            throw new TpmFormatException("TPMS_CAPABILITY_DATA.capability", capAt, $"0x{returned:x} returned for a request of 0x{capability:x}");
        }

        return r;
    }

    /// <summary>TPM_PT_NV_BUFFER_MAX: the largest NV_Read/NV_Write chunk, read once.</summary>
    private int NvBufferMax
    {
        get
        {
            if (_nvBufferMax is null)
            {
                // 512 is a safe chunk for any TPM that does not report the property (MAX_NV_BUFFER_SIZE is at least that in practice).
                var props = GetTpmProperties(PtNvBufferMax, PtNvBufferMax);
                var v = props.TryGetValue(PtNvBufferMax, out var value) ? (int)Math.Min(value, (uint)TpmLimits.MaxNvBufferSize) : 512;
                _nvBufferMax = Math.Max(v, 64);
            }

            return _nvBufferMax.Value;
        }
    }
}
