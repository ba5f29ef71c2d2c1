namespace TrustPool.Attestation.Baselines;

/// <summary>One expected PCR value: <paramref name="Bank"/> as tpm2-tools names it (<c>sha256</c>), lower-case hex value.</summary>
public sealed record ExpectedPcr(string Bank, int Index, string Value);

/// <summary>
/// A named, versioned set of expected values of one kind (ARCHITECTURE.md "Terms"), made from a reference host's
/// verified evidence by <see cref="BaselineBuilder"/> or imported with <see cref="BaselineJson.Parse"/>.
/// </summary>
public sealed record Baseline
{
    /// <summary>[A-Za-z0-9._-]{1,64}.</summary>
    public required string Name { get; init; }

    public required BaselineKind Kind { get; init; }

    public int Version { get; init; } = 1;

    public string? Description { get; init; }

    /// <summary>The reference host the values were taken from, when made from evidence.</summary>
    public string? FromHost { get; init; }

    public DateTimeOffset Created { get; init; }

    public IReadOnlyList<ExpectedPcr> Pcrs { get; init; } = [];

    /// <summary>
    /// The reference host's verified UEFI event log (base64 in JSON). Used only to name the first event where a
    /// host's (verified) log differs from it; never to decide trust.
    /// </summary>
    public byte[]? ReferenceUefiLog { get; init; }

    /// <summary>Informational: secureBoot, bootLoader, kernel, cmdline, firmware.</summary>
    public IReadOnlyDictionary<string, string> Facts { get; init; } = new Dictionary<string, string>();

    /// <summary>Software kind: IMA file path to the allowed lower-case hex file digests.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>>? ImaAllowlist { get; init; }

    /// <summary>Asset-tag kind: the tags.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
}
