using System.Security.Cryptography;
using CsCheck;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Credentials;
using TrustPool.Tpm.Structures;
using TrustPool.Tpm.Tests.Support;

namespace TrustPool.Tpm.Tests.Credentials;

public sealed class CredentialProtectionTests : IDisposable
{
    private readonly RSA _rsaEk = RSA.Create(2048);
    private readonly ECDiffieHellman _eccEk = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
    private readonly RSAParameters _rsaPrivate;
    private readonly TpmtPublic _rsaEkPublic;
    private readonly TpmtPublic _eccEkPublic;
    private readonly byte[] _akName;

    public CredentialProtectionTests()
    {
        _rsaPrivate = _rsaEk.ExportParameters(includePrivateParameters: true);
        _rsaEkPublic = TpmTemplates.Ek(TpmKeyAlgorithm.Rsa2048, _rsaPrivate.Modulus);
        var q = _eccEk.ExportParameters(includePrivateParameters: false).Q;
        _eccEkPublic = TpmTemplates.Ek(TpmKeyAlgorithm.EccP256, eccX: q.X, eccY: q.Y);
        using var ak = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var akq = ak.ExportParameters(false).Q;
        _akName = TpmTemplates.Ak(TpmKeyAlgorithm.EccP256, eccX: akq.X, eccY: akq.Y).Name;
    }

    public void Dispose()
    {
        _rsaEk.Dispose();
        _eccEk.Dispose();
    }

    private byte[] Activate(bool rsa, byte[] name, EncryptedCredential c) => rsa
        ? CredentialProtection.ActivateCredential(_rsaEkPublic, _rsaPrivate, name, c.CredentialBlob, c.EncryptedSecret)
        : CredentialProtection.ActivateCredential(_eccEkPublic, _eccEk, name, c.CredentialBlob, c.EncryptedSecret);

    [Theory]
    [InlineData(true, 32)]
    [InlineData(true, 1)]
    [InlineData(true, 0)]
    [InlineData(false, 32)]
    [InlineData(false, 16)]
    public void MakeCredential_ThenActivate_RecoversSecret(bool rsa, int secretLength)
    {
        var secret = RandomNumberGenerator.GetBytes(secretLength);
        var made = CredentialProtection.MakeCredential(rsa ? _rsaEkPublic : _eccEkPublic, _akName, secret);

        Assert.Equal(2 + 32 + 2 + secretLength, made.CredentialBlob.Length);
        Assert.Equal(rsa ? 256 : 68, made.EncryptedSecret.Length);
        Assert.Equal(secret, Activate(rsa, _akName, made));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Activate_OtherObjectName_FailsIntegrityCheck(bool rsa)
    {
        var made = CredentialProtection.MakeCredential(rsa ? _rsaEkPublic : _eccEkPublic, _akName, [1, 2, 3]);
        var other = (byte[])_akName.Clone();
        other[^1] ^= 1;
        var e = Assert.Throws<CredentialException>(() => Activate(rsa, other, made));
        Assert.Equal(CredentialFailure.IntegrityCheckFailed, e.Failure);
    }

    [Fact]
    public void Activate_CredentialForAnotherEk_Fails()
    {
        using var otherEcc = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var q = otherEcc.ExportParameters(false).Q;
        var made = CredentialProtection.MakeCredential(TpmTemplates.Ek(TpmKeyAlgorithm.EccP256, eccX: q.X, eccY: q.Y), _akName, [9]);
        var e = Assert.Throws<CredentialException>(() => Activate(rsa: false, _akName, made));
        Assert.Equal(CredentialFailure.IntegrityCheckFailed, e.Failure);

        using var otherRsa = RSA.Create(2048);
        var madeRsa = CredentialProtection.MakeCredential(TpmTemplates.Ek(TpmKeyAlgorithm.Rsa2048, otherRsa.ExportParameters(false).Modulus), _akName, [9]);
        Assert.Throws<CredentialException>(() => Activate(rsa: true, _akName, madeRsa));
    }

    [Fact]
    public void MakeCredential_SecretLongerThanDigest_IsMisuse() =>
        Assert.Throws<ArgumentException>(() => CredentialProtection.MakeCredential(_rsaEkPublic, _akName, new byte[33]));

    [Fact]
    public void MakeCredential_AkAsEk_IsMisuse()
    {
        using var ak = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var q = ak.ExportParameters(false).Q;
        Assert.Throws<ArgumentException>(() =>
            CredentialProtection.MakeCredential(TpmTemplates.Ak(TpmKeyAlgorithm.EccP256, eccX: q.X, eccY: q.Y), _akName, [1]));
    }

    [Fact]
    public void Activate_EphemeralPointOffTheCurve_IsRejectedBeforeAnyEcdh()
    {
        var made = CredentialProtection.MakeCredential(_eccEkPublic, _akName, [1, 2]);
        var point = (byte[])made.EncryptedSecret.Clone();
        point[^1] ^= 0x01; // y no longer matches x: an invalid-curve point must not reach the EK private key
        var e = Assert.Throws<CredentialException>(() => Activate(rsa: false, _akName, made with { EncryptedSecret = point }));
        Assert.Equal(CredentialFailure.SecretRejected, e.Failure);
    }

    [Fact]
    public void MakeCredential_UnusableEkPublicKey_IsArgumentException()
    {
        // The EK public comes from the host: a zero modulus or an off-curve point must not crash the service.
        Assert.Throws<ArgumentException>(() => CredentialProtection.MakeCredential(TpmTemplates.Ek(TpmKeyAlgorithm.Rsa2048), _akName, [1]));
        var q = _eccEk.ExportParameters(false).Q;
        var badY = (byte[])q.Y!.Clone();
        badY[^1] ^= 1;
        Assert.Throws<ArgumentException>(() => CredentialProtection.MakeCredential(TpmTemplates.Ek(TpmKeyAlgorithm.EccP256, eccX: q.X, eccY: badY), _akName, [1]));
    }

    [Fact]
    public void Tpm2ToolsFile_RoundTrips()
    {
        var made = CredentialProtection.MakeCredential(_eccEkPublic, _akName, [1, 2]);
        var file = made.ToTpm2ToolsFile();
        Assert.Equal(new byte[] { 0xBA, 0xDC, 0xC0, 0xDE, 0, 0, 0, 1 }, file[..8]);
        var back = EncryptedCredential.FromTpm2ToolsFile(file);
        Assert.Equal(made.CredentialBlob, back.CredentialBlob);
        Assert.Equal(made.EncryptedSecret, back.EncryptedSecret);
    }

    /// <summary>
    /// Random mutations (byte flips, truncation, extension, size-field rewrites) of a genuine blob and secret:
    /// activation either returns the secret (mutation was a no-op) or throws CredentialException, nothing else.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Activate_MutatedInput_ThrowsOnlyCredentialException(bool rsa)
    {
        var secret = new byte[] { 0xC0, 0xFF, 0xEE };
        var made = CredentialProtection.MakeCredential(rsa ? _rsaEkPublic : _eccEkPublic, _akName, secret);
        var mutation = Gen.Select(Gen.Int[0, 5], Gen.Int[0, 1000], Gen.Byte, Gen.Bool);
        FixedSeed.Check(mutation, rsa ? 300 : 600, m =>
        {
            var (kind, position, value, onBlob) = m;
            var blob = (byte[])made.CredentialBlob.Clone();
            var enc = (byte[])made.EncryptedSecret.Clone();
            var target = onBlob ? blob : enc;
            var at = position % target.Length;
            target = kind switch
            {
                0 => Flip(target, at, value),
                1 => target[..at],
                2 => [.. target, value],
                3 => Flip(target, 0, value),               // TPM2B size high byte / OAEP leading zero / point size
                4 => Flip(target, Math.Min(1, target.Length - 1), value),
                _ => [],
            };
            if (onBlob)
            {
                blob = target;
            }
            else
            {
                enc = target;
            }

            try
            {
                var result = Activate(rsa, _akName, new EncryptedCredential(blob, enc));
                return result.AsSpan().SequenceEqual(secret);
            }
            catch (CredentialException)
            {
                return true;
            }
        });
    }

    private static byte[] Flip(byte[] data, int at, byte value)
    {
        var copy = (byte[])data.Clone();
        copy[at] ^= value == 0 ? (byte)1 : value;
        return copy;
    }
}
