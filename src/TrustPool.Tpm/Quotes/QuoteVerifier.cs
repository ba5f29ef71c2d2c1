using System.Security.Cryptography;
using TrustPool.Tpm.Structures;
using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Quotes;

/// <summary>Outcome of QuoteVerifier.Verify: valid with the verified content, or the first fault found.</summary>
public sealed class QuoteVerification
{
    // The covered values exactly as hashed, copied at verification time: later changes to the caller's
    // PcrValues cannot change what this result reports as verified.
    private readonly byte[]? _coveredValues;
    private PcrValues? _verified;

    private QuoteVerification(QuoteFault? fault, TpmsAttest? attest, byte[]? coveredValues)
    {
        Fault = fault;
        Attest = attest;
        _coveredValues = coveredValues;
    }

    public bool IsValid => Fault is null;

    public QuoteFault? Fault { get; }

    /// <summary>The parsed quote. Set once the signature verified (its content is then the TPM's), even if a later check failed.</summary>
    public TpmsAttest? Attest { get; }

    /// <summary>Clock, reset and restart counters for rollback checks against the previous quote.</summary>
    public TpmsClockInfo? ClockInfo => Attest?.ClockInfo;

    /// <summary>Only the PCR values inside the quote's selection; null unless <see cref="IsValid"/>.</summary>
    public PcrValues? VerifiedPcrs => _coveredValues is null ? null : _verified ??= Split();

    private PcrValues Split()
    {
        var covered = new PcrValues();
        var pos = 0;
        foreach (var bank in ((QuoteInfo)Attest!.Attested).PcrSelect)
        {
            var size = TpmHash.DigestSize(bank.Hash);
            foreach (var i in bank.Indices)
            {
                covered.Set(bank.Hash, i, _coveredValues![pos..(pos + size)]);
                pos += size;
            }
        }

        return covered;
    }

    internal static QuoteVerification Valid(TpmsAttest attest, byte[] coveredValues) => new(null, attest, coveredValues);

    internal static QuoteVerification Rejected(QuoteFault fault, TpmsAttest? attest = null) => new(fault, attest, null);

    public override string ToString() => IsValid ? "valid" : Fault!.ToString();
}

/// <summary>
/// Verifies a TPM2_Quote (TPM 2.0 Part 3, 18.4): signature with the attestation key over the exact TPMS_ATTEST
/// bytes, magic TPM_GENERATED_VALUE, type TPM_ST_ATTEST_QUOTE, extraData equal to the nonce, selection equal to the
/// request, and pcrDigest equal to H_sig(PCR values in selection order). Nothing in the quote is used before the
/// signature verified. Pure: no I/O.
/// </summary>
public static class QuoteVerifier
{
    public static QuoteVerification Verify(AttestationKey key, ReadOnlySpan<byte> attestBytes, ReadOnlySpan<byte> signatureBytes,
        PcrValues pcrs, ReadOnlySpan<byte> expectedNonce, PcrSelection? requested = null)
    {
        TpmtSignature signature;
        try
        {
            signature = TpmtSignature.Parse(signatureBytes);
        }
        catch (TpmFormatException e)
        {
            return QuoteVerification.Rejected(new MalformedEvidence(e.Field, e.Offset, "signature: " + e.Message));
        }

        return Verify(key, attestBytes, signature, pcrs, expectedNonce, requested);
    }

    public static QuoteVerification Verify(AttestationKey key, ReadOnlySpan<byte> attestBytes, TpmtSignature signature,
        PcrValues pcrs, ReadOnlySpan<byte> expectedNonce, PcrSelection? requested = null)
    {
        if (key.Public is { } pub && pub.Scheme.Scheme != TpmAlgorithmId.Null &&
            (pub.Scheme.Scheme != signature.SigAlg || pub.Scheme.HashAlg != signature.HashAlg))
        {
            return QuoteVerification.Rejected(new SignatureSchemeMismatch(pub.Scheme, signature.SigAlg, signature.HashAlg));
        }

        if (!key.Verify(attestBytes, signature))
        {
            return QuoteVerification.Rejected(new SignatureInvalid(signature.SigAlg, signature.HashAlg));
        }

        return CheckSignedContent(attestBytes, signature.HashAlg, signature.SigAlg, pcrs, expectedNonce, requested);
    }

    /// <summary>
    /// Everything after the signature: only ever called on bytes whose signature verified. Internal so that the
    /// benchmark can measure the verifier's own cost apart from the cryptography.
    /// </summary>
    internal static QuoteVerification CheckSignedContent(ReadOnlySpan<byte> attestBytes, TpmAlgorithmId digestAlg, TpmAlgorithmId sigAlg,
        PcrValues pcrs, ReadOnlySpan<byte> expectedNonce, PcrSelection? requested)
    {
        TpmsAttest attest;
        try
        {
            attest = TpmsAttest.Parse(attestBytes);
        }
        catch (TpmFormatException e)
        {
            return QuoteVerification.Rejected(new MalformedEvidence(e.Field, e.Offset, e.Message));
        }

        if (attest.Magic != TpmLimits.GeneratedValue)
        {
            return QuoteVerification.Rejected(new MagicInvalid(attest.Magic), attest);
        }

        if (attest.Attested is not QuoteInfo quote)
        {
            return QuoteVerification.Rejected(new NotAQuote(attest.Type), attest);
        }

        if (!CryptographicOperations.FixedTimeEquals(attest.ExtraData, expectedNonce))
        {
            return QuoteVerification.Rejected(new NonceMismatch(expectedNonce.ToArray(), attest.ExtraData), attest);
        }

        if (requested is not null && !requested.Equals(quote.PcrSelect))
        {
            return QuoteVerification.Rejected(new SelectionMismatch(requested, quote.PcrSelect), attest);
        }

        // The TPM hashes the selected PCR values with the signing scheme's hash (Part 3, 18.4.1; go-tpm-tools'
        // GCE quotes show a SHA-256 pcrDigest even over the SHA-1 and SHA-384 banks).
        if (!TpmHash.IsSupported(digestAlg))
        {
            return QuoteVerification.Rejected(new SignatureInvalid(sigAlg, digestAlg), attest);
        }

        // Index loops, not foreach: PcrSelection's enumerator is an interface enumerator (an allocation per loop).
        var selection = quote.PcrSelect;
        var total = 0;
        for (var b = 0; b < selection.Count; b++)
        {
            total += selection[b].Count * TpmHash.DigestSize(selection[b].Hash);
        }

        byte[]? rented = null;
        var concat = total <= 2048 ? stackalloc byte[total] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(total)).AsSpan(0, total);
        try
        {
            var pos = 0;
            for (var b = 0; b < selection.Count; b++)
            {
                var bank = selection[b];
                var values = pcrs.GetBank(bank.Hash);
                var mask = bank.Mask;
                while (mask != 0)
                {
                    var i = System.Numerics.BitOperations.TrailingZeroCount(mask);
                    mask &= mask - 1;
                    if (values?[i] is not { } v)
                    {
                        return QuoteVerification.Rejected(new PcrValueMissing(bank.Hash, i), attest);
                    }

                    v.CopyTo(concat[pos..]);
                    pos += v.Length;
                }
            }

            Span<byte> computed = stackalloc byte[TpmLimits.MaxDigestSize];
            var n = TpmHash.Hash(digestAlg, concat, computed);
            if (!CryptographicOperations.FixedTimeEquals(computed[..n], quote.PcrDigest))
            {
                return QuoteVerification.Rejected(new PcrDigestMismatch(quote.PcrDigest, computed[..n].ToArray()), attest);
            }

            return QuoteVerification.Valid(attest, concat.ToArray());
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
