namespace TrustPool.Evidence.Uefi;

/// <summary>The decoded payload of one event. <see cref="ToString"/> gives the one-line text of <c>eventlog show</c>.</summary>
public abstract record DecodedEvent;

/// <summary>EV_NO_ACTION with the Spec ID structure (PFP 1.05, 10.4.5.1).</summary>
public sealed record SpecIdEventData(TcgSpecIdEvent SpecId) : DecodedEvent
{
    public override string ToString() =>
        $"{SpecId.Signature} platformClass={SpecId.PlatformClass} spec {SpecId.SpecVersionMajor}.{SpecId.SpecVersionMinor} errata {SpecId.SpecErrata} algorithms {string.Join(",", SpecId.Algorithms.Select(a => $"{Tpm.TpmHash.Name(a.Algorithm)}/{a.DigestSize}"))}";
}

/// <summary>EV_NO_ACTION "StartupLocality" (PFP 1.05, 10.4.5.3): PCR0 starts at this locality.</summary>
public sealed record StartupLocalityEvent(byte Locality) : DecodedEvent
{
    public override string ToString() => $"StartupLocality {Locality}";
}

/// <summary>Any other EV_NO_ACTION (SP800-155 Event3, NvIndexInstance, ...): informational, never extended.</summary>
public sealed record NoActionEvent(string Signature, byte[] Rest) : DecodedEvent
{
    public override string ToString() => $"{Signature} ({Rest.Length} bytes, not extended)";
}

/// <summary>A text payload: EV_EFI_ACTION, EV_ACTION, EV_IPL (grub commands, kernel command line), EV_POST_CODE strings.</summary>
public sealed record TextEvent(string Text) : DecodedEvent
{
    public override string ToString() => Text;
}

/// <summary>EV_S_CRTM_VERSION: a UTF-16 version string, or a GUID on some platforms.</summary>
public sealed record CrtmVersionEvent(string? Version, Guid? Guid, byte[] Raw) : DecodedEvent
{
    public override string ToString() => Version ?? Guid?.ToString() ?? Hex.Lower(Raw);
}

/// <summary>UEFI_PLATFORM_FIRMWARE_BLOB (EV_EFI_PLATFORM_FIRMWARE_BLOB, EV_POST_CODE blobs) and _BLOB2 with a description.</summary>
public sealed record FirmwareBlobEvent(ulong Base, ulong Length, string? Description) : DecodedEvent
{
    public override string ToString() =>
        (Description is null ? "" : Description + " ") + $"base=0x{Base:x} length=0x{Length:x}";
}

/// <summary>One EFI_SIGNATURE_DATA: owner and content (an X.509 certificate or a hash).</summary>
public sealed record EfiSignature(Guid Owner, byte[] Data, string? CertificateSubject);

/// <summary>One EFI_SIGNATURE_LIST (UEFI 2.10, 32.4.1).</summary>
public sealed record EfiSignatureList(Guid SignatureType, IReadOnlyList<EfiSignature> Signatures)
{
    public static readonly Guid X509 = new("a5c059a1-94e4-4aa7-87b5-ab155c2bf072");
    public static readonly Guid Sha256 = new("c1c41626-504c-4092-aca9-41f936934328");

    public string TypeName => SignatureType == X509 ? "X509" : SignatureType == Sha256 ? "SHA256" : SignatureType.ToString();
}

/// <summary>UEFI_VARIABLE_DATA (PFP 1.05, 10.4.2): EV_EFI_VARIABLE_DRIVER_CONFIG / _BOOT / _BOOT2 / _AUTHORITY.</summary>
public sealed record UefiVariableEvent(Guid VendorGuid, string Name, byte[] Data) : DecodedEvent
{
    public static readonly Guid GlobalVariable = new("8be4df61-93ca-11d2-aa0d-00e098032b8c");
    public static readonly Guid ImageSecurityDatabase = new("d719b2cb-3d3a-4596-a3bc-dad00e67656f");

    /// <summary>SecureBoot variable: true when its single byte is 1; null for other variables.</summary>
    public bool? SecureBoot { get; init; }

    /// <summary>PK, KEK, db, dbx (and MokList-style) contents, when they parse as signature lists.</summary>
    public IReadOnlyList<EfiSignatureList>? SignatureLists { get; init; }

    /// <summary>Boot#### as EFI_LOAD_OPTION: description and device path text.</summary>
    public string? LoadOption { get; init; }

    public override string ToString()
    {
        var detail = SecureBoot is { } sb ? $"= {(sb ? "enabled" : "disabled")}"
            : SignatureLists is { } lists ? $"= {lists.Sum(l => l.Signatures.Count)} signatures in {lists.Count} lists" +
                string.Concat(lists.SelectMany(l => l.Signatures).Where(s => s.CertificateSubject is not null).Select(s => $"; {s.CertificateSubject}"))
            : LoadOption is not null ? "= " + LoadOption
            : $"({Data.Length} bytes)";
        return $"{Name} {{{VendorGuid}}} {detail}";
    }
}

/// <summary>UEFI_IMAGE_LOAD_EVENT (PFP 1.05, 10.4.3): EV_EFI_BOOT_SERVICES_APPLICATION / _DRIVER, EV_EFI_RUNTIME_SERVICES_DRIVER.</summary>
public sealed record ImageLoadEvent(ulong ImageLocation, ulong ImageLength, ulong LinkTimeAddress, string DevicePath) : DecodedEvent
{
    public override string ToString() => $"{DevicePath} (length 0x{ImageLength:x})";
}

/// <summary>A GPT partition entry.</summary>
public sealed record GptPartition(Guid TypeGuid, Guid UniqueGuid, ulong StartLba, ulong EndLba, ulong Attributes, string Name);

/// <summary>UEFI_GPT_DATA (PFP 1.05, 10.4.4): EV_EFI_GPT_EVENT.</summary>
public sealed record GptEvent(Guid DiskGuid, IReadOnlyList<GptPartition> Partitions) : DecodedEvent
{
    public override string ToString() => $"disk {DiskGuid}, {Partitions.Count} partitions: " +
        string.Join(", ", Partitions.Select(p => string.IsNullOrEmpty(p.Name) ? p.UniqueGuid.ToString() : p.Name));
}

/// <summary>EV_SEPARATOR: 0 normally, 0xFFFFFFFF (or other) on a pre-OS error.</summary>
public sealed record SeparatorEvent(uint Value) : DecodedEvent
{
    public bool IsError => Value != 0;

    public override string ToString() => IsError ? $"separator (error 0x{Value:x8})" : "separator";
}

/// <summary>Intel TXT DRTM events (PCR 17/18) and other payloads shown as hex.</summary>
public sealed record OpaqueEvent(string Kind, byte[] Data) : DecodedEvent
{
    public override string ToString() => Data.Length == 0 ? Kind : Data.Length <= 64 ? $"{Kind} {Hex.Lower(Data)}" : $"{Kind} ({Data.Length} bytes)";
}
