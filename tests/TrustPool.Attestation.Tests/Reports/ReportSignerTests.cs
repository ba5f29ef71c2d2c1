using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TrustPool.Attestation.Evaluation;
using TrustPool.Attestation.Reports;
using TrustPool.Attestation.Tests.Evaluation;

namespace TrustPool.Attestation.Tests.Reports;

public class ReportSignerTests
{
    private static TrustReport Fresh(TrustLevel trust = TrustLevel.Untrusted)
    {
        var now = DateTimeOffset.UtcNow;
        return TrustReportJsonTests.Sample(trust) with { VerifiedAt = now, ValidFrom = now, ValidTo = now.AddMinutes(10) };
    }

    private static ECDsa PublicKey(ReportSigner signer)
    {
        var key = ECDsa.Create();
        key.ImportFromPem(signer.PublicKeyPem());
        return key;
    }

    private static string B64(string s) => Base64UrlEncoder.Encode(s);

    [Fact]
    public void Sign_ThenVerify_ReturnsTheReport()
    {
        using var signer = ReportSigner.Create(ECDsa.Create(ECCurve.NamedCurves.nistP256));
        using var pub = PublicKey(signer);
        var report = Fresh();

        var jws = signer.Sign(report);
        var verified = ReportJws.Verify(jws, pub);

        Assert.Equal(3, jws.Split('.').Length);
        Assert.Equal(report.Id, verified.Id);
        Assert.Equal(report.Trust, verified.Trust);
        Assert.Equal(report.Pools[0].Rules[0].Faults, verified.Pools[0].Rules[0].Faults);
        var header = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(jws.Split('.')[0]));
        Assert.Equal($$"""{"alg":"ES256","typ":"trustpool-report+jwt","kid":"{{signer.KeyId}}"}""", header);
    }

    [Fact]
    public void Verify_TamperedPayload_Rejected()
    {
        using var signer = ReportSigner.Create(ECDsa.Create(ECCurve.NamedCurves.nistP256));
        using var pub = PublicKey(signer);
        var parts = signer.Sign(Fresh(TrustLevel.Untrusted)).Split('.');
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1]));
        Assert.Contains("\"trust\":\"untrusted\"", payload, StringComparison.Ordinal);
        var forged = $"{parts[0]}.{B64(payload.Replace("\"trust\":\"untrusted\"", "\"trust\":\"trusted\"", StringComparison.Ordinal))}.{parts[2]}";

        Assert.Throws<ReportSignatureException>(() => ReportJws.Verify(forged, pub));
    }

    [Fact]
    public void Verify_OtherSigningKey_Rejected()
    {
        using var signer = ReportSigner.Create(ECDsa.Create(ECCurve.NamedCurves.nistP256));
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        Assert.Throws<ReportSignatureException>(() => ReportJws.Verify(signer.Sign(Fresh()), other));
    }

    [Theory]
    [InlineData("none")]
    [InlineData("HS256")]
    [InlineData("ES384")]
    public void Verify_AlgorithmOtherThanEs256_Rejected(string alg)
    {
        using var signer = ReportSigner.Create(ECDsa.Create(ECCurve.NamedCurves.nistP256));
        using var pub = PublicKey(signer);
        var header = B64($$"""{"alg":"{{alg}}","typ":"trustpool-report+jwt"}""");
        var payload = B64(TrustReportJson.Serialize(Fresh(TrustLevel.Trusted)));
        // HS256 keyed with the public key bytes: the classic algorithm-confusion forgery.
        var signature = alg == "HS256" ? Base64UrlEncoder.Encode(HMACSHA256.HashData(Encoding.ASCII.GetBytes(signer.PublicKeyPem()), Encoding.ASCII.GetBytes(header + "." + payload))) : "";

        var e = Assert.Throws<ReportSignatureException>(() => ReportJws.Verify($"{header}.{payload}.{signature}", pub));

        Assert.Contains("ES256", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a.b")]
    [InlineData("a.b.c.d")]
    [InlineData("!!.e30.AA")]
    public void Verify_NotACompactJws_Rejected(string jws)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        Assert.Throws<ReportSignatureException>(() => ReportJws.Verify(jws, key));
    }

    [Fact]
    public void Verify_GenericPayloadSignedAsJwt_NotAcceptedAsReport()
    {
        using var signer = ReportSigner.Create(ECDsa.Create(ECCurve.NamedCurves.nistP256));
        using var pub = PublicKey(signer);
        var jws = signer.SignPayload(Encoding.UTF8.GetBytes(TrustReportJson.Serialize(Fresh(TrustLevel.Trusted))));

        Assert.Throws<ReportSignatureException>(() => ReportJws.Verify(jws, pub));
        Assert.Contains("\"trust\":\"trusted\"", Encoding.UTF8.GetString(ReportJws.VerifyPayload(jws, pub).Span), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_ValidatedByJsonWebTokenHandlerWithTheJwk_TamperedFails()
    {
        using var signer = ReportSigner.Create(ECDsa.Create(ECCurve.NamedCurves.nistP256));
        var jwk = new JsonWebKeySet(signer.JwksJson()).Keys.Single();
        var parameters = new TokenValidationParameters
        {
            IssuerSigningKey = jwk,
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidAlgorithms = ["ES256"],
            ValidTypes = [ReportSigner.ReportType],
        };
        var handler = new JsonWebTokenHandler();
        var report = Fresh(TrustLevel.Trusted);
        var jws = signer.Sign(report);

        var result = await handler.ValidateTokenAsync(jws, parameters);
        var parts = jws.Split('.');
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1])).Replace("node1", "node2", StringComparison.Ordinal);
        var tampered = await handler.ValidateTokenAsync($"{parts[0]}.{B64(payload)}.{parts[2]}", parameters);

        Assert.True(result.IsValid, result.Exception?.ToString());
        Assert.Equal(signer.KeyId, ((JsonWebToken)result.SecurityToken).Kid);
        Assert.Equal("node1", ((JsonWebToken)result.SecurityToken).Subject);
        Assert.Equal(report.Id, ((JsonWebToken)result.SecurityToken).Id);
        Assert.False(tampered.IsValid);
        Assert.Equal(Base64UrlEncoder.Encode(jwk.ComputeJwkThumbprint()), signer.KeyId);
    }

    [Fact]
    public void JwksJson_PublishesOneEs256SigningKey()
    {
        using var signer = ReportSigner.Create(ECDsa.Create(ECCurve.NamedCurves.nistP256));

        var jwk = new JsonWebKeySet(signer.JwksJson()).Keys.Single();

        Assert.Equal(("EC", "P-256", "sig", "ES256", signer.KeyId), (jwk.Kty, jwk.Crv, jwk.Use, jwk.Alg, jwk.Kid));
        Assert.Equal(32, Base64UrlEncoder.DecodeBytes(jwk.X).Length);
    }

    [Fact]
    public void Create_NonP256Key_Throws()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);

        Assert.Throws<ArgumentException>(() => ReportSigner.Create(p384));
    }
}

public class ReportSignerConcurrencyTests
{
    [Fact]
    public void Sign_FromManyThreads_EverySignatureVerifies()
    {
        using var signer = ReportSigner.Create(ECDsa.Create(ECCurve.NamedCurves.nistP256));
        using var pub = ECDsa.Create();
        pub.ImportFromPem(signer.PublicKeyPem());
        var reports = Enumerable.Range(0, 64).Select(i => TrustReportJsonTests.Sample() with { Host = $"node{i}" }).ToArray();

        var signed = new string[reports.Length];
        Parallel.For(0, reports.Length, i => signed[i] = signer.Sign(reports[i]));

        Assert.Equal(reports.Select(r => r.Host), signed.Select(s => ReportJws.Verify(s, pub).Host));
    }
}
