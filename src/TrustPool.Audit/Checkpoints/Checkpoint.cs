using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using TrustPool.Audit.Merkle;

namespace TrustPool.Audit.Checkpoints;

/// <summary>
/// A tree head: the log <paramref name="Origin"/> had <paramref name="Size"/> leaves with root
/// <paramref name="RootHash"/> at <paramref name="Timestamp"/>. Its canonical form is the body of a C2SP
/// tlog-checkpoint (the transparency-dev signed-note format) with one extension line for the time:
/// <code>
/// &lt;origin&gt;\n
/// &lt;size, decimal&gt;\n
/// &lt;base64(root hash)&gt;\n
/// timestamp &lt;milliseconds since the Unix epoch&gt;\n
/// </code>
/// The timestamp is in milliseconds, as RFC 6962 3.5 tree heads have it; finer precision is dropped.
/// </summary>
public sealed record Checkpoint(string Origin, ulong Size, byte[] RootHash, DateTimeOffset Timestamp)
{
    private const string TimestampPrefix = "timestamp ";

    /// <summary>The note text: the exact bytes a <see cref="CheckpointSigner"/> signs, as a string.</summary>
    public string ToNoteText()
    {
        Validate(Origin, RootHash);
        return string.Create(CultureInfo.InvariantCulture,
            $"{Origin}\n{Size}\n{Convert.ToBase64String(RootHash)}\n{TimestampPrefix}{Timestamp.ToUnixTimeMilliseconds()}\n");
    }

    /// <summary>UTF-8 of <see cref="ToNoteText"/>.</summary>
    public byte[] ToNoteBytes() => Encoding.UTF8.GetBytes(ToNoteText());

    /// <summary>Whether this and <paramref name="other"/> have the same note text (records compare byte arrays by reference).</summary>
    public bool SameAs(Checkpoint? other) => other is not null && ToNoteText() == other.ToNoteText();

    /// <summary>Parses note text in exactly the canonical form <see cref="ToNoteText"/> writes.</summary>
    public static Checkpoint Parse(string text) =>
        TryParse(text, out var checkpoint, out var reason) ? checkpoint : throw new FormatException(reason);

    /// <summary>Parses note text in exactly the canonical form; <paramref name="reason"/> says what is wrong.</summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out Checkpoint? checkpoint, [NotNullWhen(false)] out string? reason)
    {
        checkpoint = null;
        ArgumentNullException.ThrowIfNull(text);
        if (!text.EndsWith('\n'))
        {
            reason = "checkpoint text does not end with a newline";
            return false;
        }

        var lines = text[..^1].Split('\n');
        if (lines.Length != 4)
        {
            reason = $"checkpoint has {lines.Length} lines, 4 expected (origin, size, root, timestamp)";
            return false;
        }

        if (!ulong.TryParse(lines[1], NumberStyles.None, CultureInfo.InvariantCulture, out var size)
            || lines[1] != size.ToString(CultureInfo.InvariantCulture))
        {
            reason = $"tree size '{lines[1]}' is not a canonical decimal";
            return false;
        }

        byte[] root;
        try
        {
            root = Convert.FromBase64String(lines[2]);
        }
        catch (FormatException)
        {
            reason = "root hash is not base64";
            return false;
        }

        if (root.Length != MerkleHash.Size || Convert.ToBase64String(root) != lines[2])
        {
            reason = "root hash is not the canonical base64 of 32 bytes";
            return false;
        }

        if (!lines[3].StartsWith(TimestampPrefix, StringComparison.Ordinal)
            || !long.TryParse(lines[3].AsSpan(TimestampPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            || lines[3] != TimestampPrefix + ms.ToString(CultureInfo.InvariantCulture)
            || ms > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            reason = $"'{lines[3]}' is not a canonical 'timestamp <unix milliseconds>' line";
            return false;
        }

        if (InvalidOrigin(lines[0]) is { } originReason)
        {
            reason = originReason;
            return false;
        }

        checkpoint = new Checkpoint(lines[0], size, root, DateTimeOffset.FromUnixTimeMilliseconds(ms));
        reason = null;
        return true;
    }

    internal static string? InvalidOrigin(string origin)
    {
        if (string.IsNullOrEmpty(origin))
        {
            return "origin is empty";
        }

        // C2SP signed-note: no control characters; the origin is one line.
        return origin.Any(char.IsControl) ? "origin contains a control character" : null;
    }

    private static void Validate(string origin, byte[] root)
    {
        if (InvalidOrigin(origin) is { } reason)
        {
            throw new ArgumentException(reason, nameof(Origin));
        }

        if (root is null || root.Length != MerkleHash.Size)
        {
            throw new ArgumentException($"a root hash is {MerkleHash.Size} bytes", nameof(RootHash));
        }
    }
}
