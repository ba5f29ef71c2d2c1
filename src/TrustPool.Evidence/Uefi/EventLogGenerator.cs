using System.Text;
using TrustPool.Tpm;

namespace TrustPool.Evidence.Uefi;

/// <summary>What a simulated host boots: the inputs of <see cref="EventLogGenerator.PlausibleBoot"/>.</summary>
public sealed record SimulatedBoot
{
    public string FirmwareVersion { get; init; } = "TrustPool SimFirmware 1.0";
    public byte[] FirmwareVolume { get; init; } = Encoding.ASCII.GetBytes("simulated firmware volume");
    public bool SecureBoot { get; init; } = true;
    public byte[] PlatformKey { get; init; } = Encoding.ASCII.GetBytes("simulated PK");
    public byte[] KeyExchangeKeys { get; init; } = Encoding.ASCII.GetBytes("simulated KEK");
    public byte[] Db { get; init; } = Encoding.ASCII.GetBytes("simulated db");
    public byte[] Dbx { get; init; } = Encoding.ASCII.GetBytes("simulated dbx");
    public string BootLoaderPath { get; init; } = @"\EFI\BOOT\BOOTX64.EFI";
    public byte[] BootLoader { get; init; } = Encoding.ASCII.GetBytes("simulated boot loader image");
    public string KernelPath { get; init; } = "/boot/vmlinuz-6.1.0-sim";
    public byte[] Kernel { get; init; } = Encoding.ASCII.GetBytes("simulated kernel image");
    public string KernelCommandLine { get; init; } = "root=/dev/sda1 ro quiet ima_policy=tcb";

    /// <summary>
    /// UEFI drivers from add-in devices (option ROMs: NICs, storage controllers) measured into PCR 2 before the
    /// separators; 0 by default. Real servers load 10-40: with 35 the log has about 60 events, like a real one.
    /// </summary>
    public int BootServicesDrivers { get; init; }
}

/// <summary>Generates event logs: a plausible boot chain for simulated hosts, and random logs for tests and benchmarks.</summary>
public static class EventLogGenerator
{
    /// <summary>
    /// Appends a UEFI + grub boot chain: firmware in PCR0, option ROM drivers (<see cref="SimulatedBoot.BootServicesDrivers"/>)
    /// in PCR2, Secure Boot state and keys in PCR7, boot loader
    /// and kernel in PCR4, grub commands and the command line in PCR8, the kernel file in PCR9.
    /// </summary>
    public static EventLogBuilder PlausibleBoot(EventLogBuilder b, SimulatedBoot boot)
    {
        b.AddCrtmVersion(boot.FirmwareVersion);
        b.AddFirmwareBlob(0, 0xffc00000, boot.FirmwareVolume);
        b.AddVariable(7, TcgEventType.EfiVariableDriverConfig, UefiVariableEvent.GlobalVariable, "SecureBoot", [boot.SecureBoot ? (byte)1 : (byte)0]);
        b.AddVariable(7, TcgEventType.EfiVariableDriverConfig, UefiVariableEvent.GlobalVariable, "PK", boot.PlatformKey);
        b.AddVariable(7, TcgEventType.EfiVariableDriverConfig, UefiVariableEvent.GlobalVariable, "KEK", boot.KeyExchangeKeys);
        b.AddVariable(7, TcgEventType.EfiVariableDriverConfig, UefiVariableEvent.ImageSecurityDatabase, "db", boot.Db);
        b.AddVariable(7, TcgEventType.EfiVariableDriverConfig, UefiVariableEvent.ImageSecurityDatabase, "dbx", boot.Dbx);
        b.AddVariable(1, TcgEventType.EfiVariableBoot, UefiVariableEvent.GlobalVariable, "BootOrder", [0, 0]);
        for (var i = 0; i < boot.BootServicesDrivers; i++)
        {
            var name = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"OptionRom{i:D2}.efi");
            b.AddBootDriver(2, @"\" + name, Encoding.ASCII.GetBytes($"simulated option ROM driver {i} of {boot.FirmwareVersion}"), 0x7c000000UL + ((ulong)i << 16));
        }

        b.AddEfiAction(4, "Calling EFI Application from Boot Option");
        for (uint pcr = 0; pcr <= 7; pcr++)
        {
            b.AddSeparator(pcr);
        }

        b.AddBootApplication(4, boot.BootLoaderPath, boot.BootLoader);
        b.AddGrubCommand("set root=hd0,gpt2");
        b.AddGrubCommand($"linux {boot.KernelPath} {boot.KernelCommandLine}");
        b.AddGrubKernelCommandLine($"{boot.KernelPath} {boot.KernelCommandLine}");
        b.AddMeasured(9, TcgEventType.Ipl, Encoding.UTF8.GetBytes($"(hd0,gpt2){boot.KernelPath}\0"), boot.Kernel);
        b.AddBootApplication(4, boot.KernelPath.Replace('/', '\\'), boot.Kernel);
        b.AddEfiAction(5, EventLogWorkarounds.ExitBootServicesActions[0]);
        b.AddEfiAction(5, EventLogWorkarounds.ExitBootServicesActions[1]);
        return b;
    }

    /// <summary>
    /// A random but well-formed crypto-agile log of <paramref name="events"/> events (Spec ID included)
    /// in PCRs 0-15 with payloads every parser understands; the same seed gives the same bytes.
    /// </summary>
    public static byte[] Random(int seed, int events, params TpmAlgorithmId[] banks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(events, 1);
        var rng = new System.Random(seed);
        var b = new EventLogBuilder(banks.Length == 0 ? [TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256] : banks);
        var blob = new byte[64];
        while (b.Count < events)
        {
            var pcr = (uint)rng.Next(0, 16);
            switch (rng.Next(7))
            {
                case 0:
                    b.AddSeparator(pcr);
                    break;
                case 1:
                    b.AddEfiAction(pcr, $"Action {rng.Next(100000)}");
                    break;
                case 2:
                    // grub logs commands in PCR8 (and files in PCR9); tpm2_eventlog warns about EV_IPL elsewhere.
                    if ((pcr & 1) == 0)
                    {
                        b.AddGrubCommand($"echo {rng.Next()}");
                    }
                    else
                    {
                        b.AddIpl(9, $"(hd0,gpt2)/boot/file{rng.Next(1000)}");
                    }

                    break;
                case 3:
                    rng.NextBytes(blob);
                    b.AddFirmwareBlob(pcr, (ulong)rng.NextInt64(0, 1L << 40), blob);
                    break;
                case 4:
                    rng.NextBytes(blob);
                    b.AddVariable(pcr, TcgEventType.EfiVariableDriverConfig, UefiVariableEvent.GlobalVariable, $"Var{rng.Next(1000)}", blob.AsSpan(0, rng.Next(1, 32)));
                    break;
                case 5:
                    rng.NextBytes(blob);
                    b.AddBootApplication(pcr, $"\\EFI\\app{rng.Next(100)}.efi", blob);
                    break;
                default:
                    rng.NextBytes(blob);
                    b.AddMeasured(pcr, TcgEventType.PostCode, Encoding.ASCII.GetBytes($"POST {rng.Next(1000)}"), blob);
                    break;
            }
        }

        return b.ToArray();
    }
}
