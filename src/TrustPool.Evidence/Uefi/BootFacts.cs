using TrustPool.Tpm;

namespace TrustPool.Evidence.Uefi;

/// <summary>An EFI application the firmware loaded (EV_EFI_BOOT_SERVICES_APPLICATION), with its digests.</summary>
public sealed record EfiApplication(int EventNumber, uint PcrIndex, string DevicePath, IReadOnlyList<TcgDigest> Digests);

/// <summary>A Secure Boot database variable as measured: the event's digests and what it holds.</summary>
public sealed record SecureBootVariable(string Name, IReadOnlyList<TcgDigest> Digests, byte[] Sha256OfData, int SignatureCount, IReadOnlyList<string> CertificateSubjects);

/// <summary>
/// The facts a baseline is made of, extracted from a UEFI event log (ARCHITECTURE.md: baseline kinds
/// platform and os). Unverified until the log replays to a verified quote.
/// </summary>
public sealed class BootFacts
{
    /// <summary>SecureBoot variable as measured into PCR7; null when the log does not measure it.</summary>
    public bool? SecureBoot { get; private init; }

    /// <summary>PK, KEK, db, dbx as measured (EV_EFI_VARIABLE_DRIVER_CONFIG), by name.</summary>
    public IReadOnlyDictionary<string, SecureBootVariable> SecureBootVariables { get; private init; } = new Dictionary<string, SecureBootVariable>();

    /// <summary>Every EFI application in load order (shim, boot loader, sd-boot stub, kernel with EFI stub, ...).</summary>
    public IReadOnlyList<EfiApplication> EfiApplications { get; private init; } = [];

    /// <summary>The first EFI application loaded from a disk (not a firmware volume): the boot loader.</summary>
    public EfiApplication? BootLoader { get; private init; }

    /// <summary>The kernel: grub's PCR9 EV_IPL of a vmlinuz file, else the last EFI application after the boot loader.</summary>
    public IReadOnlyList<TcgDigest>? KernelDigests { get; private init; }

    public string? KernelName { get; private init; }

    /// <summary>The kernel command line (grub "kernel_cmdline:" in PCR8, or systemd-boot's UTF-16 EV_IPL in PCR12/PCR8).</summary>
    public string? KernelCommandLine { get; private init; }

    /// <summary>Certificates that authorized loaded images (EV_EFI_VARIABLE_AUTHORITY), in log order: variable and subject.</summary>
    public IReadOnlyList<string> Authorities { get; private init; } = [];

    /// <summary>Firmware version strings (EV_S_CRTM_VERSION).</summary>
    public IReadOnlyList<string> FirmwareVersions { get; private init; } = [];

    /// <summary>Facts from every event of the log: for inspecting a log file, never for a decision (nothing here is verified).</summary>
    public static BootFacts Extract(TcgEventLog log)
    {
        ArgumentNullException.ThrowIfNull(log);
        return Extract(log, log.Events);
    }

    /// <summary>
    /// Facts from <paramref name="events"/> only (the service passes EventLogVerification.VerifiedEvents: events bound to
    /// a quoted PCR). A fact whose event is not among them is absent (null / empty), never guessed from the rest of the log.
    /// </summary>
    public static BootFacts Extract(TcgEventLog log, IEnumerable<TcgEvent> events)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(events);
        bool? secureBoot = null;
        var vars = new Dictionary<string, SecureBootVariable>();
        var apps = new List<EfiApplication>();
        var versions = new List<string>();
        var authorities = new List<string>();
        string? cmdline = null;
        IReadOnlyList<TcgDigest>? kernel = null;
        string? kernelName = null;
        foreach (var e in events)
        {
            var decoded = TcgEventDecoder.TryDecode(e, log.UintnBytes, out _);
            switch (decoded)
            {
                case UefiVariableEvent v when e.EventType == TcgEventType.EfiVariableDriverConfig:
                    if (v.SecureBoot is { } sb)
                    {
                        secureBoot = sb;
                    }
                    else if (v.Name is "PK" or "KEK" or "db" or "dbx")
                    {
                        var subjects = v.SignatureLists?.SelectMany(l => l.Signatures).Select(s => s.CertificateSubject).OfType<string>().ToArray() ?? [];
                        vars[v.Name] = new SecureBootVariable(v.Name, e.Digests, TpmHash.Hash(TpmAlgorithmId.Sha256, v.Data),
                            v.SignatureLists?.Sum(l => l.Signatures.Count) ?? 0, subjects);
                    }

                    break;
                case UefiVariableEvent a when e.EventType == TcgEventType.EfiVariableAuthority:
                    foreach (var sig in a.SignatureLists?.SelectMany(l => l.Signatures) ?? [])
                    {
                        authorities.Add($"{a.Name}: {sig.CertificateSubject}");
                    }

                    break;
                case ImageLoadEvent img when e.EventType == TcgEventType.EfiBootServicesApplication:
                    apps.Add(new EfiApplication(e.Number, e.PcrIndex, img.DevicePath, e.Digests));
                    break;
                case CrtmVersionEvent c when c.Version is { Length: > 0 } ver:
                    versions.Add(ver);
                    break;
                case TextEvent t when e.EventType == TcgEventType.Ipl:
                    var text = t.Text;
                    if (text.StartsWith("kernel_cmdline: ", StringComparison.Ordinal))
                    {
                        cmdline = text["kernel_cmdline: ".Length..].Trim();
                    }
                    else if (e.PcrIndex == 12 || (e.PcrIndex == 8 && !text.StartsWith("grub_cmd: ", StringComparison.Ordinal) && LooksUtf16(e.Data)))
                    {
                        cmdline ??= text.Trim();
                    }
                    else if (e.PcrIndex == 9 && text.Contains("vmlinu", StringComparison.Ordinal))
                    {
                        kernel = e.Digests;
                        kernelName = text;
                    }

                    break;
            }
        }

        var loader = apps.FirstOrDefault(a => !a.DevicePath.Contains("FvFile(", StringComparison.Ordinal));
        if (kernel is null && loader is not null && apps.Count > 0 && apps[^1] != loader)
        {
            kernel = apps[^1].Digests;
            kernelName = apps[^1].DevicePath;
        }

        return new BootFacts
        {
            SecureBoot = secureBoot,
            SecureBootVariables = vars,
            EfiApplications = apps,
            BootLoader = loader,
            KernelDigests = kernel,
            KernelName = kernelName,
            KernelCommandLine = cmdline,
            FirmwareVersions = versions,
            Authorities = authorities,
        };
    }

    private static bool LooksUtf16(byte[] data) => data.Length >= 4 && data[1] == 0 && data[3] == 0;
}
