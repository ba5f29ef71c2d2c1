using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TrustPool.Audit.Checkpoints;

/// <summary>C2SP signed-note key naming for ECDSA P-256 (signature type 0x02, as transparency-dev/witness).</summary>
internal static class CheckpointKey
{
    /// <summary>Signature type 0x02: ECDSA, ASN.1 DER signature over SHA-256 of the note text.</summary>
    public const byte SignatureType = 0x02;

    /// <summary>C2SP signed-note: for type 0x02 the key ID is SHA-256(DER SubjectPublicKeyInfo)[:4], big-endian.</summary>
    public static uint KeyId(ECDsa key) =>
        BinaryPrimitives.ReadUInt32BigEndian(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));

    public static void ValidateName(string keyName)
    {
        // C2SP signed-note: key names are non-empty, without Unicode spaces or '+'.
        if (string.IsNullOrEmpty(keyName) || keyName.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c == '+'))
        {
            throw new ArgumentException("a key name is non-empty, without spaces, control characters or '+'", nameof(keyName));
        }
    }

    public static void ValidateKey(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.KeySize != 256)
        {
            throw new ArgumentException($"checkpoints are signed with ECDSA P-256, not a {key.KeySize}-bit key", nameof(key));
        }
    }
}
