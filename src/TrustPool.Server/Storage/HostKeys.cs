using System.Buffers.Binary;
using System.Security.Cryptography;
using TrustPool.Tpm.Wire;
using TrustPool.Tpm.Structures;

namespace TrustPool.Server.Storage;

/// <summary>The keys that make a TPM one host (ARCHITECTURE.md "Trust semantics": one EK is enrolled as one host).</summary>
public static class HostKeys
{
    /// <summary>
    /// SHA-256 over the EK's public key alone: type, then RSA key bits, effective exponent and modulus, or ECC curve, X and Y.
    /// Not over the whole public area and not its TPM Name: a host's root can present the same key with another authPolicy
    /// or other attributes (MakeCredential binds the AK's Name, not the EK's), which would change both but not the TPM.
    /// </summary>
    public static byte[] EkKey(TpmtPublic ek)
    {
        ArgumentNullException.ThrowIfNull(ek);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> u32 = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16BigEndian(u32, (ushort)ek.Type);
        hash.AppendData(u32[..2]);
        if (ek.Rsa is { } rsa)
        {
            BinaryPrimitives.WriteUInt16BigEndian(u32, rsa.KeyBits);
            hash.AppendData(u32[..2]);
            BinaryPrimitives.WriteUInt32BigEndian(u32, rsa.EffectiveExponent);
            hash.AppendData(u32);
            AppendSized(hash, rsa.Modulus);
        }
        else if (ek.Ecc is { } ecc)
        {
            BinaryPrimitives.WriteUInt16BigEndian(u32, (ushort)ecc.Curve);
            hash.AppendData(u32[..2]);
            AppendSized(hash, ecc.X);
            AppendSized(hash, ecc.Y);
        }
        else
        {
            // Not an RSA or ECC key (enrollment refuses those earlier): the whole public area stands for the key.
            AppendSized(hash, ek.Bytes);
        }

        return hash.GetHashAndReset();
    }

    /// <summary><see cref="EkKey(TpmtPublic)"/> of a stored TPM2B_PUBLIC; null when it does not parse.</summary>
    public static byte[]? TryEkKey(byte[] ekPublic)
    {
        try
        {
            return EkKey(TpmtPublic.ParseTpm2b(ekPublic));
        }
        catch (TpmFormatException)
        {
            return null;
        }
    }

    private static void AppendSized(IncrementalHash hash, byte[] value)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, value.Length);
        hash.AppendData(length);
        hash.AppendData(value);
    }
}
