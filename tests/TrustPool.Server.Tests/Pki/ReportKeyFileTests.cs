using System.Security.Cryptography;
using TrustPool.Attestation;
using TrustPool.Attestation.Evaluation;
using TrustPool.Attestation.Reports;
using TrustPool.Server.Pki;
using TrustPool.Testing;

namespace TrustPool.Server.Tests.Pki;

/// <summary>The report-signing key file (moved here with the file I/O from ReportSigner.LoadOrCreate).</summary>
public sealed class ReportKeyFileTests
{
    private static TrustReport Fresh()
    {
        var now = DateTimeOffset.UtcNow;
        return new TrustReport
        {
            Id = Guid.NewGuid().ToString("N"),
            Host = "node1",
            Trust = TrustLevel.Untrusted,
            EkTrust = "ca",
            VerifiedAt = now,
            ValidFrom = now,
            ValidTo = now.AddMinutes(10),
        };
    }

    private static ECDsa PublicKey(ReportSigner signer)
    {
        var key = ECDsa.Create();
        key.ImportFromPem(signer.PublicKeyPem());
        return key;
    }

    [Fact]
    public void LoadOrCreate_CalledTwice_SameKeyAndFileIs0600()
    {
        var path = Path.Combine(TestTemp.CreateDirectory("attest-key-").FullName, "keys", "report-signing.pem");

        using var first = ReportKeyFile.LoadOrCreate(path, out var created1);
        using var second = ReportKeyFile.LoadOrCreate(path, out var created2);
        using var pub = PublicKey(second);

        Assert.True(created1);
        Assert.False(created2);
        Assert.Equal(first.KeyId, second.KeyId);
        Assert.Equal("node1", ReportJws.Verify(first.Sign(Fresh()), pub).Host);
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(path), StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!)); // no temporary file left behind
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public void LoadOrCreate_FileIsNotAKey_ThrowsCryptographicException()
    {
        var path = Path.Combine(TestTemp.CreateDirectory("attest-key-").FullName, "bad.pem");
        File.WriteAllText(path, "not a key");

        Assert.ThrowsAny<CryptographicException>(() => ReportKeyFile.LoadOrCreate(path, out _));
    }
}
