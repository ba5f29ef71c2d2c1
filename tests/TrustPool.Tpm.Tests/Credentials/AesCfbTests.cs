using System.Security.Cryptography;
using TrustPool.Tpm.Credentials;

namespace TrustPool.Tpm.Tests.Credentials;

public class AesCfbTests
{
    [Theory]
    [InlineData("one partial block (empty credential TPM2B)", 2)]
    [InlineData("TPM2B of a 32-byte credential", 34)]
    [InlineData("whole blocks", 48)]
    [InlineData("empty", 0)]
    public void Encrypt_MatchesDotnetCfb128WithZeroIvOnThePaddedInput_AndDecrypts(string description, int length)
    {
        var key = RandomNumberGenerator.GetBytes(16);
        var plain = RandomNumberGenerator.GetBytes(length);
        using var aes = Aes.Create();
        aes.Key = key;
        var padded = new byte[(length + 15) / 16 * 16];
        plain.CopyTo(padded, 0);
        var reference = aes.EncryptCfb(padded, new byte[16], PaddingMode.None, feedbackSizeInBits: 128);

        var encrypted = AesCfb.Encrypt(key, plain);

        Assert.True(reference.AsSpan(0, length).SequenceEqual(encrypted), description);
        Assert.Equal(plain, AesCfb.Decrypt(key, encrypted));
    }
}
