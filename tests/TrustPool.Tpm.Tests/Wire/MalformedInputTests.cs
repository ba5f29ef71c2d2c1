using TrustPool.Testing;
using TrustPool.Tpm.Structures;
using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Tests.Wire;

/// <summary>Untrusted bytes: every reader rejects truncated, oversized and mutated input with TpmFormatException only.</summary>
public class MalformedInputTests
{
    [Theory]
    [InlineData("truncated magic", "ff5443")]
    [InlineData("unknown attest type", "ff544347 8099 0000 0000 0000000000000000 00000000 00000000 00 0000000000000000")]
    [InlineData("name longer than TPMU_NAME", "ff544347 8018 0043")]
    [InlineData("TPMI_YES_NO out of range", "ff544347 8018 0000 0000 0000000000000000 00000000 00000000 02")]
    [InlineData("selection count above 16", "ff544347 8018 0000 0000 0000000000000000 00000000 00000000 01 0000000000000000 00000011")]
    [InlineData("sizeofSelect above 4", "ff544347 8018 0000 0000 0000000000000000 00000000 00000000 01 0000000000000000 00000001 000b 05 ffffffffff 0000")]
    [InlineData("pcrDigest above 64", "ff544347 8018 0000 0000 0000000000000000 00000000 00000000 01 0000000000000000 00000000 0041")]
    [InlineData("trailing byte", "ff544347 8018 0000 0000 0000000000000000 00000000 00000000 01 0000000000000000 00000000 0000 00")]
    public void TpmsAttestParse_MalformedBytes_ThrowsTpmFormatException(string description, string hex)
    {
        var bytes = Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));
        var e = Assert.Throws<TpmFormatException>(() => TpmsAttest.Parse(bytes));
        Assert.False(string.IsNullOrEmpty(e.Field), description);
        Assert.InRange(e.Offset, 0, bytes.Length);
    }

    [Theory]
    [InlineData("unknown sigAlg", "0099 000b 0000")]
    [InlineData("RSA signature above 512 bytes", "0014 000b 0201")]
    [InlineData("ECC r above 66 bytes", "0018 000b 0043")]
    [InlineData("truncated s", "0018 000b 0001 aa 0002 bb")]
    public void TpmtSignatureParse_MalformedBytes_ThrowsTpmFormatException(string description, string hex)
    {
        var bytes = Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));
        Assert.Throws<TpmFormatException>(() => TpmtSignature.Parse(bytes));
        Assert.NotEmpty(description);
    }

    [Fact]
    public void ReadSized_SizeAboveRemaining_ReportsFieldAndOffset()
    {
        var e = Assert.Throws<TpmFormatException>(() => TpmtPublic.ParseTpm2b([0x01, 0x00, 0x00, 0x01]));
        Assert.Equal("TPM2B_PUBLIC", e.Field);
        Assert.Equal(2, e.Offset);
    }

    /// <summary>
    /// Random truncations, bit flips, and overwritten length fields over every real structure in the corpus:
    /// only TpmFormatException may escape (or success). Fixed seed: the same mutations on every run.
    /// </summary>
    [SkippableFact]
    public void Corpus_RandomMutations_OnlyTpmFormatException()
    {
        var rng = new Random(20261127);
        var files = 0;
        var rejected = 0;
        foreach (var (name, original, parse) in Fixtures.Corpus())
        {
            files++;
            for (var i = 0; i < 400; i++)
            {
                var bytes = Mutate(original, rng);
                try
                {
                    parse(bytes);
                }
                catch (TpmFormatException e)
                {
                    rejected++;
                    Assert.InRange(e.Offset, 0, Math.Max(bytes.Length, 0) + 2);
                }
                catch (Exception e)
                {
                    Assert.Fail($"{name}: mutation {i} threw {e.GetType().Name}: {e.Message}");
                }
            }

            // Every strict prefix is rejected.
            for (var len = 0; len < original.Length; len++)
            {
                Assert.Throws<TpmFormatException>(() => parse(original[..len]));
            }
        }

        Integration.SkipOrFailUnless(files > 0, "no corpus structures found");
        Assert.True(rejected > files * 100, $"only {rejected} of {files * 400} mutations were rejected");
    }

    private static byte[] Mutate(byte[] original, Random rng)
    {
        var bytes = (byte[])original.Clone();
        switch (rng.Next(4))
        {
            case 0:
                return bytes[..rng.Next(bytes.Length)];
            case 1:
                for (var k = rng.Next(1, 4); k > 0 && bytes.Length > 0; k--)
                {
                    bytes[rng.Next(bytes.Length)] ^= (byte)(1 << rng.Next(8));
                }

                return bytes;
            case 2:
                if (bytes.Length > 2)
                {
                    var at = rng.Next(bytes.Length - 1);
                    bytes[at] = 0xFF;
                    bytes[at + 1] = (byte)rng.Next(256);
                }

                return bytes;
            default:
                var extra = new byte[rng.Next(1, 8)];
                rng.NextBytes(extra);
                return [.. bytes, .. extra];
        }
    }
}
