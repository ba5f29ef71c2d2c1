using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustPool.Attestation.Evaluation;

namespace TrustPool.Attestation.Reports;

/// <summary>
/// Signs trust reports as compact JWS (RFC 7515) with ES256 (RFC 7518, 3.4: ECDSA P-256 SHA-256, the signature is
/// the 64-byte IEEE P1363 r||s) with the service's report-signing key, an ECDSA P-256 key handed in by the caller
/// (the server keeps it in a PEM file: TrustPool.Server.Pki.ReportKeyFile); no file I/O here.
/// Thread-safe for signing.
/// </summary>
public sealed class ReportSigner : IDisposable
{
    /// <summary>The explicit JWS type of a trust report (RFC 8725, 3.11): a signed report is never mistaken for another signed document.</summary>
    public const string ReportType = "trustpool-report+jwt";

    private readonly ECDsa _key;
    private readonly string _x;
    private readonly string _y;

    private ReportSigner(ECDsa key)
    {
        var p = key.ExportParameters(includePrivateParameters: false);
        if (key.KeySize != 256 || p.Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
        {
            throw new ArgumentException("the report-signing key must be ECDSA P-256 (ES256)", nameof(key));
        }

        _key = key;
        _x = Base64Url.Encode(p.Q.X!);
        _y = Base64Url.Encode(p.Q.Y!);

        // RFC 7638, 3.2: the required members of an EC key in lexicographic order, no whitespace.
        KeyId = Base64Url.Encode(SHA256.HashData(Encoding.UTF8.GetBytes($"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{_x}\",\"y\":\"{_y}\"}}")));
    }

    /// <summary>RFC 7638 JWK SHA-256 thumbprint, base64url: the <c>kid</c> of every JWS and of the JWKS entry.</summary>
    public string KeyId { get; }

    /// <summary>Takes ownership of <paramref name="key"/> (an ECDSA P-256 private key).</summary>
    public static ReportSigner Create(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new ReportSigner(key);
    }

    /// <summary>
    /// The report as a compact JWS, header <c>{"alg":"ES256","typ":"trustpool-report+jwt","kid":...}</c>. The payload is
    /// <see cref="TrustReportJson"/> plus the registered JWT claims <c>jti</c> (the report id), <c>sub</c> (the host),
    /// <c>iat</c>, <c>nbf</c> and <c>exp</c> (RFC 7519, 4.1) so that generic JWT libraries enforce the validity window.
    /// </summary>
    public string Sign(TrustReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var payload = JsonNode.Parse(TrustReportJson.SerializeToUtf8Bytes(report))!.AsObject();
        payload["jti"] = report.Id;
        payload["sub"] = report.Host;
        payload["iat"] = report.VerifiedAt.ToUnixTimeSeconds();
        payload["nbf"] = report.ValidFrom.ToUnixTimeSeconds();
        payload["exp"] = report.ValidTo.ToUnixTimeSeconds();
        return SignPayload(JsonSerializer.SerializeToUtf8Bytes(payload), ReportType);
    }

    /// <summary>A compact JWS over any JSON document (audit checkpoints), header <c>typ</c> "JWT".</summary>
    public string SignPayload(ReadOnlySpan<byte> utf8Json) => SignPayload(utf8Json, "JWT");

    /// <summary>A compact JWS over any JSON document with an explicit <c>typ</c> header.</summary>
    public string SignPayload(ReadOnlySpan<byte> utf8Json, string type)
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        var header = new ArrayBufferWriter<byte>();
        // Relaxed escaping: "trustpool-report+jwt" stays readable ('+' would otherwise be written as \u002B).
        using (var w = new Utf8JsonWriter(header, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("alg", "ES256");
            w.WriteString("typ", type);
            w.WriteString("kid", KeyId);
            w.WriteEndObject();
        }

        var signingInput = Base64Url.Encode(header.WrittenSpan) + "." + Base64Url.Encode(utf8Json);
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return signingInput + "." + Base64Url.Encode(signature);
    }

    /// <summary>The public key as a JWK Set (RFC 7517, 5).</summary>
    public string JwksJson()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("keys");
            w.WriteStartObject();
            w.WriteString("kty", "EC");
            w.WriteString("crv", "P-256");
            w.WriteString("x", _x);
            w.WriteString("y", _y);
            w.WriteString("kid", KeyId);
            w.WriteString("use", "sig");
            w.WriteString("alg", "ES256");
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The public key, PEM SubjectPublicKeyInfo.</summary>
    public string PublicKeyPem() => _key.ExportSubjectPublicKeyInfoPem();

    public void Dispose() => _key.Dispose();
}

/// <summary>base64url without padding (RFC 7515, 2).</summary>
internal static class Base64Url
{
    public static string Encode(ReadOnlySpan<byte> data) => System.Buffers.Text.Base64Url.EncodeToString(data);

    public static bool TryDecode(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Contains('=', StringComparison.Ordinal) || !System.Buffers.Text.Base64Url.IsValid(text, out var length))
        {
            return false;
        }

        bytes = new byte[length];
        return System.Buffers.Text.Base64Url.TryDecodeFromChars(text, bytes, out var written) && written == length;
    }
}
