using System.Text;
using TrustPool.Evidence.Replay;
using TrustPool.Tpm;

namespace TrustPool.Evidence.Tests.Replay;

public class BankHashTests
{
    [Theory]
    // GB/T 32905-2016 appendix A examples.
    [InlineData("abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")]
    [InlineData("abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd", "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732")]
    public void Hash_Sm3StandardVectors_MatchTheStandard(string message, string expected)
    {
        var digest = BankHash.Hash(TpmAlgorithmId.Sm3_256, Encoding.ASCII.GetBytes(message));

        Assert.Equal(expected, Hex.Lower(digest));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(55)]
    [InlineData(56)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(200)]
    public void Extend_Sm3AnyLength_EqualsHashOfConcatenation(int length)
    {
        var pcr = new byte[32];
        pcr[^1] = 4;
        var digest = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();
        var expected = BankHash.Hash(TpmAlgorithmId.Sm3_256, [.. pcr, .. digest]);
        using var extender = new BankHash.Extender(TpmAlgorithmId.Sm3_256);

        if (length <= 96)
        {
            extender.Extend(pcr, digest);
            Assert.Equal(Hex.Lower(expected), Hex.Lower(pcr));
        }

        Assert.Equal(Hex.Lower(expected), Hex.Lower(EventLogReplay.Extend(TpmAlgorithmId.Sm3_256, [.. new byte[31], 4], digest)));
    }

    [Fact]
    public void IsSupported_Sm3AndShaBanks_TrueUnknownFalse()
    {
        Assert.True(BankHash.IsSupported(TpmAlgorithmId.Sm3_256));
        Assert.True(BankHash.IsSupported(TpmAlgorithmId.Sha384));
        Assert.False(BankHash.IsSupported((TpmAlgorithmId)0x0099));
    }
}
