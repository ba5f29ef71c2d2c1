using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace TrustPool.Audit.Checkpoints;

/// <summary>A checkpoint and its complete signed note (text, blank line, signature line).</summary>
public sealed record SignedCheckpoint(Checkpoint Checkpoint, string Note);

/// <summary>
/// Signs checkpoints as C2SP signed notes with the service's ECDSA P-256 key:
/// <c>— &lt;key name&gt; base64(key ID (4 bytes, big-endian) || DER ECDSA-SHA256 signature of the note text)</c>.
/// The key stays the caller's: this class never disposes it.
/// </summary>
public sealed class CheckpointSigner
{
    private readonly ECDsa _key;

    /// <summary>Signs as <paramref name="keyName"/> (for example the log origin) with <paramref name="key"/> (P-256, private).</summary>
    public CheckpointSigner(string keyName, ECDsa key)
    {
        CheckpointKey.ValidateName(keyName);
        CheckpointKey.ValidateKey(key);
        KeyName = keyName;
        _key = key;
        KeyId = CheckpointKey.KeyId(key);
    }

    /// <summary>The key name of the signature line.</summary>
    public string KeyName { get; }

    /// <summary>C2SP key ID of the key (SHA-256 of its SubjectPublicKeyInfo, first 4 bytes).</summary>
    public uint KeyId { get; }

    /// <summary>
    /// Signs <paramref name="checkpoint"/>. The returned checkpoint is the one parsed back from the signed text,
    /// so it is exactly what was signed (timestamp at millisecond precision).
    /// </summary>
    public SignedCheckpoint Sign(Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var text = checkpoint.ToNoteText();
        var signature = _key.SignData(Encoding.UTF8.GetBytes(text), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var blob = new byte[4 + signature.Length];
        BinaryPrimitives.WriteUInt32BigEndian(blob, KeyId);
        signature.CopyTo(blob, 4);
        var note = $"{text}\n\u2014 {KeyName} {Convert.ToBase64String(blob)}\n";
        return new SignedCheckpoint(Checkpoint.Parse(text), note);
    }
}
