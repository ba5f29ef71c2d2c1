using TrustPool.Tpm.Structures;

namespace TrustPool.Tpm.Quotes;

/// <summary>One named reason a quote was rejected, carrying its evidence (STYLE: a typed result, not a bool).</summary>
public abstract record QuoteFault
{
    /// <summary>Stable machine-readable name, e.g. <c>NonceMismatch</c>.</summary>
    public string Code => GetType().Name;

    /// <summary>One line for an operator.</summary>
    public abstract string Describe();

    public sealed override string ToString() => $"{Code}: {Describe()}";
}

/// <summary>The quote, signature or PCR bytes could not be parsed.</summary>
public sealed record MalformedEvidence(string Field, int Offset, string Problem) : QuoteFault
{
    public override string Describe() => $"{Field} at offset {Offset}: {Problem}";
}

/// <summary>The signature does not verify with the attestation key over the exact TPMS_ATTEST bytes.</summary>
public sealed record SignatureInvalid(TpmAlgorithmId SigAlg, TpmAlgorithmId HashAlg) : QuoteFault
{
    public override string Describe() => $"{SigAlg}/{HashAlg} signature does not verify with the attestation key";
}

/// <summary>The signature uses a scheme the key does not (restricted keys sign only with their own scheme).</summary>
public sealed record SignatureSchemeMismatch(TpmScheme KeyScheme, TpmAlgorithmId SigAlg, TpmAlgorithmId HashAlg) : QuoteFault
{
    public override string Describe() => $"signature is {SigAlg}/{HashAlg} but the key's scheme is {KeyScheme.Scheme}/{KeyScheme.HashAlg}";
}

/// <summary>TPMS_ATTEST.magic is not TPM_GENERATED_VALUE: the TPM did not produce this structure.</summary>
public sealed record MagicInvalid(uint Actual) : QuoteFault
{
    public override string Describe() => $"magic is 0x{Actual:x8}, not TPM_GENERATED_VALUE 0x{TpmLimits.GeneratedValue:x8}";
}

/// <summary>TPMS_ATTEST.type is not TPM_ST_ATTEST_QUOTE.</summary>
public sealed record NotAQuote(TpmStructureTag Actual) : QuoteFault
{
    public override string Describe() => $"attestation type is 0x{(ushort)Actual:x4} ({Actual}), not TPM_ST_ATTEST_QUOTE";
}

/// <summary>extraData is not the nonce the verifier sent (a replayed or foreign quote).</summary>
public sealed record NonceMismatch(byte[] Expected, byte[] Actual) : QuoteFault
{
    public override string Describe() => $"extraData {Convert.ToHexStringLower(Actual)} is not the nonce {Convert.ToHexStringLower(Expected)}";
}

/// <summary>The quote covers other PCRs than were requested.</summary>
public sealed record SelectionMismatch(PcrSelection Requested, PcrSelection Quoted) : QuoteFault
{
    public override string Describe() => $"quote covers {Quoted}, requested {Requested}";
}

/// <summary>A PCR the quote covers has no value among the supplied PCRs.</summary>
public sealed record PcrValueMissing(TpmAlgorithmId Bank, int Index) : QuoteFault
{
    public override string Describe() => $"no {TpmHash.Name(Bank)} value supplied for quoted PCR {Index}";
}

/// <summary>The hash of the supplied PCR values (selection order) differs from the quote's pcrDigest.</summary>
public sealed record PcrDigestMismatch(byte[] Quoted, byte[] Computed) : QuoteFault
{
    public override string Describe() => $"pcrDigest {Convert.ToHexStringLower(Quoted)} != hash of supplied PCRs {Convert.ToHexStringLower(Computed)}";
}
