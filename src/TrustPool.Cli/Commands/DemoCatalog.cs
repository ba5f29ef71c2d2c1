using System.Text;
using TrustPool.Evidence.Uefi;

namespace TrustPool.Cli.Commands;

/// <summary>A simulated hardware model: what its firmware measures into PCR 0 (CRTM version, firmware volume).</summary>
internal sealed record DemoHardware(string Name, string Baseline, string FirmwareVersion, string FirmwareVolume);

/// <summary>A simulated OS version: boot loader, kernel and command line (PCR 4, 8 and 9).</summary>
internal sealed record DemoOs(string Name, string Baseline, string BootLoader, string KernelPath, string Kernel, string CommandLine);

/// <summary>The demo fleet: two hardware models x two OS versions, and which host gets which.</summary>
internal static class DemoCatalog
{
    public static readonly DemoHardware[] Hardware =
    [
        new("Contoso R7 (fw 2.19.1)", "model-r7", "Contoso R7 BIOS 2.19.1", "Contoso R7 firmware volume 2.19.1"),
        new("Fabrikam X9 (fw 1.62)", "model-x9", "Fabrikam X9 UEFI U46 v1.62", "Fabrikam X9 firmware volume U46 1.62"),
    ];

    public static readonly DemoOs[] Os =
    [
        new("Debian 12 (6.1)", "os-debian12", "shim 15.7 + grub 2.06-13", "/boot/vmlinuz-6.1.0-28-amd64", "linux 6.1.0-28 image", "root=UUID=4f1c ro quiet ima_policy=tcb"),
        new("Debian 13 (6.12)", "os-debian13", "shim 15.8 + grub 2.12-9", "/boot/vmlinuz-6.12.48-amd64", "linux 6.12.48 image", "root=UUID=4f1c ro quiet ima_policy=tcb lockdown=integrity"),
    ];

    /// <summary>
    /// Host i (1-based) cycles through (model 0, os 0), (model 1, os 1), (model 0, os 1), (model 1, os 0): the first two
    /// hosts are the reference hosts of both models and both OS versions, every third host is in France.
    /// </summary>
    public static (DemoHardware Hardware, DemoOs Os, string Country) Assign(int i)
    {
        var k = (i - 1) % 4;
        return (Hardware[k % 2], Os[k is 1 or 2 ? 1 : 0], i % 3 == 0 ? "FR" : "DE");
    }

    public static SimulatedBoot Boot(DemoHardware hardware, DemoOs os) => new()
    {
        FirmwareVersion = hardware.FirmwareVersion,
        FirmwareVolume = Encoding.ASCII.GetBytes(hardware.FirmwareVolume),
        BootLoader = Encoding.ASCII.GetBytes(os.BootLoader),
        KernelPath = os.KernelPath,
        Kernel = Encoding.ASCII.GetBytes(os.Kernel),
        KernelCommandLine = os.CommandLine,
    };

    /// <summary>The same boot with an implant in the firmware volume (what the tampered host boots).</summary>
    public static SimulatedBoot Tampered(DemoHardware hardware, DemoOs os) =>
        Boot(hardware, os) with { FirmwareVolume = Encoding.ASCII.GetBytes(hardware.FirmwareVolume + " + implant") };
}
