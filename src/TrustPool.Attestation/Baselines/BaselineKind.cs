namespace TrustPool.Attestation.Baselines;

/// <summary>
/// What a baseline describes (ARCHITECTURE.md "Terms"). JSON: <c>"platform"</c>, <c>"os"</c>, <c>"host-unique"</c>,
/// <c>"software"</c>, <c>"asset-tag"</c> (see <see cref="BaselineKinds"/>).
/// </summary>
public enum BaselineKind
{
    /// <summary>Firmware: PCR 0-7 (UEFI) or PCR 17 (TXT).</summary>
    Platform,

    /// <summary>Boot loader, kernel, command line: PCR 8-9 (grub) or PCR 18-19 (tboot).</summary>
    Os,

    /// <summary>One host's own platform and OS values.</summary>
    HostUnique,

    /// <summary>An IMA allowlist: file path to allowed digests.</summary>
    Software,

    /// <summary>Asset tags (and PCR 23 when a tag is measured there).</summary>
    AssetTag,
}

/// <summary>The JSON names of <see cref="BaselineKind"/>.</summary>
public static class BaselineKinds
{
    public static string ToJson(BaselineKind kind) => kind switch
    {
        BaselineKind.Platform => "platform",
        BaselineKind.Os => "os",
        BaselineKind.HostUnique => "host-unique",
        BaselineKind.Software => "software",
        BaselineKind.AssetTag => "asset-tag",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown baseline kind"),
    };

    public static bool TryParse(string? text, out BaselineKind kind)
    {
        switch (text)
        {
            case "platform": kind = BaselineKind.Platform; return true;
            case "os": kind = BaselineKind.Os; return true;
            case "host-unique": kind = BaselineKind.HostUnique; return true;
            case "software": kind = BaselineKind.Software; return true;
            case "asset-tag": kind = BaselineKind.AssetTag; return true;
            default: kind = default; return false;
        }
    }
}
