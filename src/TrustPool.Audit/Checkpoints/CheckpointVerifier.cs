using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using TrustPool.Audit.Merkle;

namespace TrustPool.Audit.Checkpoints;

/// <summary>
/// Verifies C2SP signed-note checkpoints from one key (ECDSA P-256 public key and key name) and, optionally, one
/// origin. C2SP signed-note rules: signatures from other keys are ignored; a signature from our key that does
/// not verify rejects the note; at least one of ours must verify. The note text is untrusted until then.
/// </summary>
public sealed class CheckpointVerifier
{
    // C2SP signed-note: verifiers must accept at least 16 signatures; bound the work beyond that.
    private const int MaxSignatures = 100;

    private readonly ECDsa _key;
    private readonly string? _origin;

    /// <summary>Accepts notes signed as <paramref name="keyName"/> by <paramref name="publicKey"/>; for <paramref name="origin"/> only when given.</summary>
    public CheckpointVerifier(string keyName, ECDsa publicKey, string? origin = null)
    {
        CheckpointKey.ValidateName(keyName);
        CheckpointKey.ValidateKey(publicKey);
        KeyName = keyName;
        _key = publicKey;
        _origin = origin;
        KeyId = CheckpointKey.KeyId(publicKey);
    }

    /// <summary>The expected key name.</summary>
    public string KeyName { get; }

    /// <summary>The expected C2SP key ID.</summary>
    public uint KeyId { get; }

    /// <summary>Verifies a signed note and returns its checkpoint, or the typed reason it was rejected.</summary>
    public bool TryVerify(string signedNote, [NotNullWhen(true)] out Checkpoint? checkpoint, [NotNullWhen(false)] out CheckpointError? error)
    {
        ArgumentNullException.ThrowIfNull(signedNote);
        checkpoint = null;
        // C2SP signed-note: text ending in newline, a blank line, then signature lines; the text may not itself
        // contain a blank line that ends it, so the last "\n\n" separates them.
        var split = signedNote.LastIndexOf("\n\n", StringComparison.Ordinal);
        if (split < 0 || split + 2 >= signedNote.Length || !signedNote.EndsWith('\n'))
        {
            error = new MalformedCheckpoint("no blank line between text and signatures, or no final newline");
            return false;
        }

        if (signedNote.Any(c => char.IsControl(c) && c != '\n'))
        {
            error = new MalformedCheckpoint("control character in note");
            return false;
        }

        var text = signedNote[..(split + 1)];
        var signatureLines = signedNote[(split + 2)..^1].Split('\n');
        if (signatureLines.Length > MaxSignatures)
        {
            error = new MalformedCheckpoint($"more than {MaxSignatures} signatures");
            return false;
        }

        var textBytes = Encoding.UTF8.GetBytes(text);
        var verified = false;
        foreach (var line in signatureLines)
        {
            var parts = line.Split(' ');
            if (parts.Length != 3 || parts[0] != "\u2014")
            {
                error = new MalformedCheckpoint("signature line is not '\u2014 <name> <base64>'");
                return false;
            }

            byte[] blob;
            try
            {
                blob = Convert.FromBase64String(parts[2]);
            }
            catch (FormatException)
            {
                error = new MalformedCheckpoint("signature is not base64");
                return false;
            }

            if (blob.Length < 5)
            {
                error = new MalformedCheckpoint("signature shorter than key ID plus one byte");
                return false;
            }

            if (parts[1] != KeyName || BinaryPrimitives.ReadUInt32BigEndian(blob) != KeyId)
            {
                continue; // another key's (a witness's) signature
            }

            if (!_key.VerifyData(textBytes, blob.AsSpan(4), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence))
            {
                error = new CheckpointSignatureInvalid(KeyName, KeyId);
                return false;
            }

            verified = true;
        }

        if (!verified)
        {
            error = new CheckpointSignatureMissing(KeyName, KeyId);
            return false;
        }

        if (!Checkpoint.TryParse(text, out checkpoint, out var reason))
        {
            error = new MalformedCheckpoint(reason);
            return false;
        }

        if (_origin is not null && checkpoint.Origin != _origin)
        {
            error = new OriginMismatch(_origin, checkpoint.Origin);
            checkpoint = null;
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>As <see cref="TryVerify"/>; throws <see cref="CheckpointException"/> on failure.</summary>
    public Checkpoint Verify(string signedNote) =>
        TryVerify(signedNote, out var checkpoint, out var error) ? checkpoint : throw new CheckpointException(error);

    /// <summary>
    /// Checks that <paramref name="newer"/> extends <paramref name="older"/> (both already verified) with an RFC 9162
    /// consistency proof. Checkpoints of different origins are a caller error.
    /// </summary>
    public static bool TryVerifyConsistencyBetween(Checkpoint older, Checkpoint newer, IReadOnlyList<byte[]>? proof,
        [NotNullWhen(false)] out MerkleProofError? error)
    {
        ArgumentNullException.ThrowIfNull(older);
        ArgumentNullException.ThrowIfNull(newer);
        if (older.Origin != newer.Origin)
        {
            throw new ArgumentException($"checkpoints of different logs: '{older.Origin}' and '{newer.Origin}'", nameof(newer));
        }

        return MerkleVerifier.TryVerifyConsistency(older.Size, newer.Size, proof, older.RootHash, newer.RootHash, out error);
    }

    /// <summary>As <see cref="TryVerifyConsistencyBetween"/>; throws <see cref="MerkleProofException"/> on failure.</summary>
    public static void VerifyConsistencyBetween(Checkpoint older, Checkpoint newer, IReadOnlyList<byte[]>? proof)
    {
        if (!TryVerifyConsistencyBetween(older, newer, proof, out var error))
        {
            throw new MerkleProofException(error);
        }
    }
}
