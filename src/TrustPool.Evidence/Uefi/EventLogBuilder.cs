using System.Buffers.Binary;
using System.Text;
using TrustPool.Tpm;

namespace TrustPool.Evidence.Uefi;

/// <summary>One extension a TPM must perform for an event: the PCR and the digest per bank.</summary>
public sealed record PcrExtend(uint PcrIndex, TcgEventType EventType, IReadOnlyDictionary<TpmAlgorithmId, byte[]> Digests);

/// <summary>
/// Writes a valid crypto-agile TCG event log (Spec ID Event03, then TCG_PCR_EVENT2s) for the chosen
/// banks. <see cref="Extends"/> lists, in order, what a (software) TPM must extend to match the log.
/// Used by tests and by the simulated hosts of the demo.
/// </summary>
public sealed class EventLogBuilder
{
    private readonly TpmAlgorithmId[] _banks;
    private readonly MemoryStream _out = new();
    private readonly List<PcrExtend> _extends = [];

    public EventLogBuilder(params TpmAlgorithmId[] banks)
    {
        if (banks.Length == 0)
        {
            throw new ArgumentException("at least one bank is needed", nameof(banks));
        }

        foreach (var b in banks)
        {
            if (!TpmHash.IsSupported(b))
            {
                throw new ArgumentException($"bank {TpmHash.Name(b)} is not supported", nameof(banks));
            }
        }

        if (banks.Distinct().Count() != banks.Length)
        {
            throw new ArgumentException("banks repeat", nameof(banks));
        }

        _banks = banks;
        WriteSpecId();
    }

    public IReadOnlyList<TpmAlgorithmId> Banks => _banks;

    /// <summary>Events written, the Spec ID event included.</summary>
    public int Count { get; private set; } = 1;

    /// <summary>Every extension so far, in order (EV_NO_ACTION events are not extended and not listed).</summary>
    public IReadOnlyList<PcrExtend> Extends => _extends;

    /// <summary>EV_NO_ACTION StartupLocality (PFP 1.05, 10.4.5.3): the TPM must start PCR0 at this locality.</summary>
    public EventLogBuilder AddStartupLocality(byte locality) =>
        AddNoAction([.. "StartupLocality\0"u8, locality]);

    /// <summary>An EV_NO_ACTION event in PCR0 with zero digests: logged, never extended.</summary>
    public EventLogBuilder AddNoAction(ReadOnlySpan<byte> data)
    {
        var zeros = _banks.ToDictionary(b => b, b => new byte[TpmHash.DigestSize(b)]);
        WriteEvent(0, TcgEventType.NoAction, zeros, data);
        return this;
    }

    /// <summary>An event whose digests are the hash of its own data (EV_SEPARATOR, EV_EFI_ACTION, variables, EV_IPL...).</summary>
    public EventLogBuilder Add(uint pcr, TcgEventType type, ReadOnlySpan<byte> data) => AddMeasured(pcr, type, data, data);

    /// <summary>An event whose digests are the hash of <paramref name="measured"/> (a firmware volume, a PE image).</summary>
    public EventLogBuilder AddMeasured(uint pcr, TcgEventType type, ReadOnlySpan<byte> data, ReadOnlySpan<byte> measured)
    {
        var digests = new Dictionary<TpmAlgorithmId, byte[]>();
        foreach (var b in _banks)
        {
            digests[b] = TpmHash.Hash(b, measured);
        }

        return AddWithDigests(pcr, type, data, digests);
    }

    /// <summary>An event with given digests (one per bank of the builder).</summary>
    public EventLogBuilder AddWithDigests(uint pcr, TcgEventType type, ReadOnlySpan<byte> data, IReadOnlyDictionary<TpmAlgorithmId, byte[]> digests)
    {
        foreach (var b in _banks)
        {
            if (!digests.TryGetValue(b, out var d) || d.Length != TpmHash.DigestSize(b))
            {
                throw new ArgumentException($"a {TpmHash.Name(b)} digest of {TpmHash.DigestSize(b)} bytes is needed", nameof(digests));
            }
        }

        WriteEvent(pcr, type, digests, data);
        if (type != TcgEventType.NoAction)
        {
            _extends.Add(new PcrExtend(pcr, type, _banks.ToDictionary(b => b, b => digests[b])));
        }

        return this;
    }

    public EventLogBuilder AddSeparator(uint pcr) => Add(pcr, TcgEventType.Separator, [0, 0, 0, 0]);

    public EventLogBuilder AddEfiAction(uint pcr, string action) => Add(pcr, TcgEventType.EfiAction, Encoding.ASCII.GetBytes(action));

    /// <summary>
    /// EV_IPL as grub logs its commands and the kernel command line: the data is the NUL-terminated string,
    /// the digest covers the string without the NUL.
    /// </summary>
    public EventLogBuilder AddIpl(uint pcr, string text) =>
        AddMeasured(pcr, TcgEventType.Ipl, Encoding.UTF8.GetBytes(text + "\0"), Encoding.UTF8.GetBytes(text));

    /// <summary>grub's PCR8 command event: data "grub_cmd: CMD\0", digest of CMD alone (as grub measures it).</summary>
    public EventLogBuilder AddGrubCommand(string command) =>
        AddMeasured(8, TcgEventType.Ipl, Encoding.UTF8.GetBytes($"{GrubCommandPrefix}{command}\0"), Encoding.UTF8.GetBytes(command));

    /// <summary>grub's PCR8 kernel command line event: data "kernel_cmdline: LINE\0", digest of LINE alone.</summary>
    public EventLogBuilder AddGrubKernelCommandLine(string commandLine) =>
        AddMeasured(8, TcgEventType.Ipl, Encoding.UTF8.GetBytes($"{GrubKernelCommandLinePrefix}{commandLine}\0"), Encoding.UTF8.GetBytes(commandLine));

    internal const string GrubCommandPrefix = "grub_cmd: ";
    internal const string GrubKernelCommandLinePrefix = "kernel_cmdline: ";

    /// <summary>EV_S_CRTM_VERSION with a UTF-16LE version string in PCR0.</summary>
    public EventLogBuilder AddCrtmVersion(string version) => Add(0, TcgEventType.SCrtmVersion, Encoding.Unicode.GetBytes(version + "\0"));

    /// <summary>EV_EFI_PLATFORM_FIRMWARE_BLOB: digest of the firmware volume contents.</summary>
    public EventLogBuilder AddFirmwareBlob(uint pcr, ulong address, ReadOnlySpan<byte> contents)
    {
        var data = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(data, address);
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(8), (ulong)contents.Length);
        return AddMeasured(pcr, TcgEventType.EfiPlatformFirmwareBlob, data, contents);
    }

    /// <summary>UEFI_VARIABLE_DATA event; the digest covers the whole structure (PFP 1.05, 10.4.2).</summary>
    public EventLogBuilder AddVariable(uint pcr, TcgEventType type, Guid vendor, string name, ReadOnlySpan<byte> value)
    {
        var nameBytes = Encoding.Unicode.GetBytes(name);
        var data = new byte[32 + nameBytes.Length + value.Length];
        vendor.TryWriteBytes(data);
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(16), (ulong)name.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(24), (ulong)value.Length);
        nameBytes.CopyTo(data, 32);
        value.CopyTo(data.AsSpan(32 + nameBytes.Length));
        return Add(pcr, type, data);
    }

    /// <summary>
    /// EV_EFI_BOOT_SERVICES_APPLICATION for an image loaded from <paramref name="filePath"/>: the digest is
    /// the hash of <paramref name="image"/> (standing in for the Authenticode hash of a PE image).
    /// </summary>
    public EventLogBuilder AddBootApplication(uint pcr, string filePath, ReadOnlySpan<byte> image, ulong address = 0x7d000000) =>
        AddImage(pcr, TcgEventType.EfiBootServicesApplication, filePath, image, address);

    /// <summary>
    /// EV_EFI_BOOT_SERVICES_DRIVER (an option ROM or a UEFI driver loaded by the firmware, PFP 1.05, 10.4.4: PCR 2 for
    /// drivers from add-in devices): same UEFI_IMAGE_LOAD_EVENT layout as an application.
    /// </summary>
    public EventLogBuilder AddBootDriver(uint pcr, string filePath, ReadOnlySpan<byte> image, ulong address = 0x7c000000) =>
        AddImage(pcr, TcgEventType.EfiBootServicesDriver, filePath, image, address);

    private EventLogBuilder AddImage(uint pcr, TcgEventType type, string filePath, ReadOnlySpan<byte> image, ulong address)
    {
        var path = DevicePath.FilePath(filePath);
        var data = new byte[32 + path.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(data, address);
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(8), (ulong)image.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(24), (ulong)path.Length);
        path.CopyTo(data, 32);
        return AddMeasured(pcr, type, data, image);
    }

    /// <summary>The log bytes so far.</summary>
    public byte[] ToArray() => _out.ToArray();

    private void WriteSpecId()
    {
        // TCG_EfiSpecIDEventStruct in a SHA-1 format EV_NO_ACTION event with a zero digest (PFP 1.05, 10.4.5.1).
        var spec = new MemoryStream();
        spec.Write("Spec ID Event03\0"u8);
        Span<byte> u32 = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(u32, 0); // platformClass: client
        spec.Write(u32);
        spec.Write([0, 2, 0, 2]); // specVersionMinor 0, Major 2, errata 0, uintnSize 2 (64-bit)
        BinaryPrimitives.WriteUInt32LittleEndian(u32, (uint)_banks.Length);
        spec.Write(u32);
        foreach (var b in _banks)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(u32, (ushort)b);
            BinaryPrimitives.WriteUInt16LittleEndian(u32[2..], (ushort)TpmHash.DigestSize(b));
            spec.Write(u32);
        }

        spec.WriteByte(0); // vendorInfoSize
        var data = spec.ToArray();
        WriteU32(0);
        WriteU32((uint)TcgEventType.NoAction);
        _out.Write(new byte[20]);
        WriteU32((uint)data.Length);
        _out.Write(data);
    }

    private void WriteEvent(uint pcr, TcgEventType type, IReadOnlyDictionary<TpmAlgorithmId, byte[]> digests, ReadOnlySpan<byte> data)
    {
        WriteU32(pcr);
        WriteU32((uint)type);
        WriteU32((uint)_banks.Length);
        Span<byte> u16 = stackalloc byte[2];
        foreach (var b in _banks)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(u16, (ushort)b);
            _out.Write(u16);
            _out.Write(digests[b]);
        }

        WriteU32((uint)data.Length);
        _out.Write(data);
        Count++;
    }

    private void WriteU32(uint v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        _out.Write(b);
    }
}
