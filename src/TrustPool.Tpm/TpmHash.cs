using System.Security.Cryptography;

namespace TrustPool.Tpm;

/// <summary>Hash algorithms a PCR bank or a signing scheme can use, with their digest sizes.</summary>
public static class TpmHash
{
    /// <summary>Digest size in bytes, or 0 when the algorithm is not a hash TrustPool knows.</summary>
    public static int DigestSize(TpmAlgorithmId alg) => alg switch
    {
        TpmAlgorithmId.Sha1 => 20,
        TpmAlgorithmId.Sha256 => 32,
        TpmAlgorithmId.Sm3_256 => 32,
        TpmAlgorithmId.Sha384 => 48,
        TpmAlgorithmId.Sha512 => 64,
        _ => 0,
    };

    /// <summary>True for the hash algorithms TrustPool can compute (SM3 has a known size but no implementation here).</summary>
    public static bool IsSupported(TpmAlgorithmId alg) =>
        alg is TpmAlgorithmId.Sha1 or TpmAlgorithmId.Sha256 or TpmAlgorithmId.Sha384 or TpmAlgorithmId.Sha512;

    public static HashAlgorithmName ToHashAlgorithmName(TpmAlgorithmId alg) => alg switch
    {
        TpmAlgorithmId.Sha1 => HashAlgorithmName.SHA1,
        TpmAlgorithmId.Sha256 => HashAlgorithmName.SHA256,
        TpmAlgorithmId.Sha384 => HashAlgorithmName.SHA384,
        TpmAlgorithmId.Sha512 => HashAlgorithmName.SHA512,
        _ => throw new NotSupportedException($"Hash algorithm {alg} (0x{(ushort)alg:x4}) is not supported."),
    };

    /// <summary>Hashes <paramref name="data"/> into <paramref name="destination"/>; returns bytes written.</summary>
    public static int Hash(TpmAlgorithmId alg, ReadOnlySpan<byte> data, Span<byte> destination) => alg switch
    {
        TpmAlgorithmId.Sha1 => SHA1.HashData(data, destination),
        TpmAlgorithmId.Sha256 => SHA256.HashData(data, destination),
        TpmAlgorithmId.Sha384 => SHA384.HashData(data, destination),
        TpmAlgorithmId.Sha512 => SHA512.HashData(data, destination),
        _ => throw new NotSupportedException($"Hash algorithm {alg} (0x{(ushort)alg:x4}) is not supported."),
    };

    public static byte[] Hash(TpmAlgorithmId alg, ReadOnlySpan<byte> data)
    {
        var result = new byte[DigestSize(alg)];
        Hash(alg, data, result);
        return result;
    }

    /// <summary>Parses a bank name as tpm2-tools spells it (sha1, sha256, sha384, sha512).</summary>
    public static bool TryParseName(string name, out TpmAlgorithmId alg)
    {
        alg = name.ToLowerInvariant() switch
        {
            "sha1" or "sha" => TpmAlgorithmId.Sha1,
            "sha256" => TpmAlgorithmId.Sha256,
            "sha384" => TpmAlgorithmId.Sha384,
            "sha512" => TpmAlgorithmId.Sha512,
            "sm3_256" => TpmAlgorithmId.Sm3_256,
            _ => TpmAlgorithmId.Error,
        };
        return alg != TpmAlgorithmId.Error;
    }

    /// <summary>The lower-case name tpm2-tools uses for a bank.</summary>
    public static string Name(TpmAlgorithmId alg) => alg switch
    {
        TpmAlgorithmId.Sha1 => "sha1",
        TpmAlgorithmId.Sha256 => "sha256",
        TpmAlgorithmId.Sha384 => "sha384",
        TpmAlgorithmId.Sha512 => "sha512",
        TpmAlgorithmId.Sm3_256 => "sm3_256",
        _ => $"0x{(ushort)alg:x4}",
    };
}
