using TrustPool.Tpm.Credentials;

namespace TrustPool.Tpm.Tests.Credentials;

public class TpmKdfTests
{
    // Known answers from two independent sources:
    //  - "tpmtv": the TCG-style vectors of chrisfenner/tpm-test-vectors (generated with go-tpm, README and vectors/kdfe.json),
    //    which also cover bit counts that are not a multiple of 8;
    //  - "openssl": OpenSSL 3.0 `openssl kdf ... KBKDF` (SP 800-108 counter mode, HMAC, salt = label, info = contextU||contextV,
    //    with its default 0x00 separator and [L]_32 suffix) and `... SSKDF` (SP 800-56C one-step, info = label\0||U||V).
    [Theory]
    [InlineData("tpmtv 27_SHA256_116 IDENTITY", 0x000B, "aff14e568afc0ea51eea748c8915df067c7700", "IDENTITY", "ce4edfb881540700e300",
        "68ddb4a0e59d74cd34dfe631d91e1ea3fbc95865440adedff7e9d011890fba", 116, "019ed5e0956338ddda4413ecee5cf2")]
    [InlineData("openssl KBKDF SHA256 STORAGE 128 bits (symKey shape)", 0x000B, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "STORAGE",
        "000b5f3c9e1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6", "", 128, "8f3523fb60032d33e85bf092c3d21453")]
    [InlineData("openssl KBKDF SHA256 INTEGRITY 256 bits (HMAC key shape)", 0x000B, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "INTEGRITY",
        "", "", 256, "8d1c082133a729cb712d67b89d2500e650a4cdaba3552bdc62f94be1d3bfdb5f")]
    [InlineData("openssl KBKDF SHA1 context split over U and V", 0x0004, "a1b2c3d4e5f6", "INTEGRITY", "0102", "030405", 160,
        "c1bb2184e2019796b7f0b551b8810a17cde54b90")]
    [InlineData("openssl KBKDF SHA384 two blocks, truncated", 0x000C, "00ff00ff00ff00ff00ff", "STORAGE", "0a0b0c0d", "", 640,
        "53ec33d2374a9aa234fa0ab7a78e4d4234f563dbae5644b52e385f2a2d8751e8db041d738aa23e81971940a8878ca1a35c7bc4320b88d4dc6144b1cf35c24b00edb29a1c5b2efb661f6751c83583c8d9")]
    public void KdfA_KnownAnswer_Matches(string description, ushort hashAlg, string key, string label, string contextU, string contextV, int bits, string expected)
    {
        var actual = TpmKdf.KdfA((TpmAlgorithmId)hashAlg, Convert.FromHexString(key), label, Convert.FromHexString(contextU),
            Convert.FromHexString(contextV), bits);
        Assert.True(expected == Convert.ToHexStringLower(actual), $"{description}: got {Convert.ToHexStringLower(actual)}");
    }

    [Theory]
    [InlineData("tpmtv 33_SHA256_215", 0x000B, "ffcead5817fa51", "OBFUSCATE", "3a25c7420a6ea094aff570c12fd40d2b8eff",
        "8505ad0684d7196c4153860ece58c62c20fa07f18fff", 215, "7e20d953e93f3760753b0aeba83c1114c440493bd8101f12665868")]
    [InlineData("tpmtv 31_SHA256_13 IDENTITY", 0x000B, "739245447ead0deea5f834f06e043159c6ff", "IDENTITY",
        "ad503e36c2314ec9afa2f4047bf19ce7fbc6fe2def32c58459c0fc828c00", "ba6dd80b788034161743c95e8ef7a9486fbd69d3ff", 13, "0956")]
    [InlineData("tpmtv 32_SHA256_148", 0x000B, "6f081bdc0fc2f5a89ff06078cd0f94bd", "INTEGRITY", "00ec23bb38062261bbcf3a90df3a6109446365c6bd7173ca3e0b",
        "9d9f3c8f9e45ff", 148, "0232d9229b799058cf0c1348498fbae25ca3f0")]
    [InlineData("tpmtv 06_SHA1_32 IDENTITY", 0x0004, "9b050039c8e5ca60deeb978f2faf573c94af61", "IDENTITY", "ff1a1852db7b60a5c963f17eb306f3a905d100ae",
        "0047ee45771a256d58b091b6d6", 32, "94c3c160")]
    [InlineData("tpmtv 04_SHA1_253 empty Z and U", 0x0004, "", "STORAGE", "", "c0227aff", 253,
        "0f10d821af67e1ec776b390f3b4572bb433efd2b94fa7842d879d24d825ed2f9")]
    [InlineData("tpmtv 37_SHA256_431 empty V", 0x000B, "e89fc5304cf46c1cf7d1f5de5d3d1ec7eddc80b0386700", "SECRET",
        "e602bc959fd97af0405649e0c80e02e9dd64e9d79e698292b043c79dfa9f9261", "", 431,
        "3a8e893b8b76cdddbf87845b2567fa7152577829f6a55b73cb82d4a1f0342a051d6e50e20ec2f96bc4de38d7d0d79a9caf99e1d574b9")]
    [InlineData("openssl SSKDF SHA256 seed shape", 0x000B, "6f081bdc0fc2f5a89ff06078cd0f94bd6f081bdc0fc2f5a89ff06078cd0f94bd", "IDENTITY",
        "1122334455", "667788", 256, "6ca450c1cd6bae1334cb856090f9d3b3880dd3b0e3164ef4187c7d66d15aeaac")]
    [InlineData("openssl SSKDF SHA384 two blocks", 0x000C, "abcdef", "IDENTITY", "", "01", 560,
        "e6776d924290cbfe7b27cd9ef8df197defd8de32434e95fb8dc73342fbfd9383e8d7584b56f3c3c6818eb0868b5675abb826fa726b104111f937d2906a704b1fdc71109e58da")]
    public void KdfE_KnownAnswer_Matches(string description, ushort hashAlg, string z, string label, string partyU, string partyV, int bits, string expected)
    {
        var actual = TpmKdf.KdfE((TpmAlgorithmId)hashAlg, Convert.FromHexString(z), label, Convert.FromHexString(partyU),
            Convert.FromHexString(partyV), bits);
        Assert.True(expected == Convert.ToHexStringLower(actual), $"{description}: got {Convert.ToHexStringLower(actual)}");
    }

    [Fact]
    public void KdfA_LabelWithExplicitTerminator_IsNotDoubled()
    {
        var key = new byte[32];
        Assert.Equal(TpmKdf.KdfA(TpmAlgorithmId.Sha256, key, "STORAGE", [], [], 128), TpmKdf.KdfA(TpmAlgorithmId.Sha256, key, "STORAGE\0", [], [], 128));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-8)]
    [InlineData(8193)]
    public void KdfA_BitCountOutOfRange_Throws(int bits) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => TpmKdf.KdfA(TpmAlgorithmId.Sha256, new byte[32], "X", [], [], bits));
}
