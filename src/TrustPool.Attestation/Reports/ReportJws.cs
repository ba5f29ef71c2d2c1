using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TrustPool.Attestation.Evaluation;

namespace TrustPool.Attestation.Reports;

/// <summary>
/// Verifies compact JWS (RFC 7515, 5.2) made by <see cref="ReportSigner"/>. Only ES256 is accepted: the algorithm is
/// fixed by the verifier, never chosen by the token, so "none" and HS256 (RFC 8725, 2.1 and 3.1) are rejected, as is
/// any header the verifier does not understand (<c>crit</c>).
/// </summary>
public static class ReportJws
{
    /// <summary>Largest JWS accepted (characters).</summary>
    public const int MaxLength = 4 * 1024 * 1024;

    /// <summary>Verifies a signed trust report (header typ must be <c>trustpool-report+jwt</c>) and returns it.</summary>
    /// <exception cref="ReportSignatureException">Bad format, algorithm, type or signature.</exception>
    public static TrustReport Verify(string jws, ECDsa publicKey)
    {
        var payload = VerifyCore(jws, publicKey, ReportSigner.ReportType);
        try
        {
            return TrustReportJson.Parse(payload.Span);
        }
        catch (JsonException e)
        {
            throw new ReportSignatureException("the signed payload is not a trust report: " + e.Message, e);
        }
    }

    /// <summary>Verifies any ES256 compact JWS and returns its payload bytes.</summary>
    /// <exception cref="ReportSignatureException">Bad format, algorithm or signature.</exception>
    public static ReadOnlyMemory<byte> VerifyPayload(string jws, ECDsa publicKey) => VerifyCore(jws, publicKey, null);

    private static ReadOnlyMemory<byte> VerifyCore(string jws, ECDsa publicKey, string? requiredType)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        if (string.IsNullOrEmpty(jws) || jws.Length > MaxLength)
        {
            throw new ReportSignatureException("not a compact JWS: empty or too long");
        }

        var parts = jws.Split('.');
        if (parts.Length != 3)
        {
            throw new ReportSignatureException($"not a compact JWS: {parts.Length} parts, not 3");
        }

        if (!Base64Url.TryDecode(parts[0], out var headerBytes) || !Base64Url.TryDecode(parts[1], out var payload) ||
            !Base64Url.TryDecode(parts[2], out var signature))
        {
            throw new ReportSignatureException("not a compact JWS: a part is not base64url");
        }

        CheckHeader(headerBytes, requiredType);
        if (publicKey.KeySize != 256)
        {
            throw new ReportSignatureException("ES256 needs a P-256 key");
        }

        // RFC 7518, 3.4: the ES256 signature is exactly 64 bytes, R || S.
        if (signature.Length != 64)
        {
            throw new ReportSignatureException($"an ES256 signature has 64 bytes, not {signature.Length}");
        }

        var signingInput = Encoding.ASCII.GetBytes(string.Concat(parts[0], ".", parts[1]));
        if (!publicKey.VerifyData(signingInput, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
        {
            throw new ReportSignatureException("the signature does not verify with the report-signing key");
        }

        return payload;
    }

    private static void CheckHeader(byte[] headerBytes, string? requiredType)
    {
        try
        {
            using var header = JsonDocument.Parse(headerBytes, new JsonDocumentOptions { MaxDepth = 4 });
            var root = header.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ReportSignatureException("the JWS header is not a JSON object");
            }

            var alg = root.TryGetProperty("alg", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
            if (alg != "ES256")
            {
                throw new ReportSignatureException($"JWS algorithm '{alg ?? "(none)"}' is not accepted: only ES256");
            }

            if (root.TryGetProperty("crit", out _))
            {
                throw new ReportSignatureException("the JWS header has critical extensions this verifier does not understand");
            }

            if (requiredType is not null)
            {
                var typ = root.TryGetProperty("typ", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                if (!string.Equals(typ, requiredType, StringComparison.OrdinalIgnoreCase))
                {
                    throw new ReportSignatureException($"JWS type '{typ ?? "(none)"}' is not {requiredType}");
                }
            }
        }
        catch (JsonException e)
        {
            throw new ReportSignatureException("the JWS header is not JSON", e);
        }
    }
}
