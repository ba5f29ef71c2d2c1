using System.Buffers;
using System.Security.Cryptography;

namespace TrustPool.Audit.Merkle;

/// <summary>
/// RFC 6962 section 2.1 / RFC 9162 section 2.1.1 hashing with SHA-256: a leaf is SHA-256(0x00 || data), an
/// interior node SHA-256(0x01 || left || right), the empty tree SHA-256(""). The one-byte prefixes keep a leaf
/// from ever being mistaken for a node (second-preimage resistance of the tree).
/// </summary>
public static class MerkleHash
{
    /// <summary>Length in bytes of every hash in the log (SHA-256).</summary>
    public const int Size = 32;

    /// <summary>Domain-separation prefix of a leaf hash (RFC 6962 2.1).</summary>
    public const byte LeafPrefix = 0x00;

    /// <summary>Domain-separation prefix of an interior node hash (RFC 6962 2.1).</summary>
    public const byte NodePrefix = 0x01;

    // Inputs up to this size are hashed from the stack; larger ones from a pooled buffer.
    private const int StackLimit = 512;

    private static readonly byte[] s_emptyRoot = SHA256.HashData(ReadOnlySpan<byte>.Empty);

    /// <summary>MTH({}) = SHA-256 of the empty string, the root of a tree with no leaves.</summary>
    public static byte[] EmptyRoot => (byte[])s_emptyRoot.Clone();

    /// <summary>SHA-256(0x00 || data).</summary>
    public static byte[] LeafHash(ReadOnlySpan<byte> data)
    {
        var hash = new byte[Size];
        LeafHash(data, hash);
        return hash;
    }

    /// <summary>Writes SHA-256(0x00 || data) to <paramref name="destination"/> (32 bytes).</summary>
    public static void LeafHash(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        if (data.Length < StackLimit)
        {
            Span<byte> buffer = stackalloc byte[StackLimit];
            buffer[0] = LeafPrefix;
            data.CopyTo(buffer[1..]);
            SHA256.HashData(buffer[..(data.Length + 1)], destination);
            return;
        }

        var rented = ArrayPool<byte>.Shared.Rent(data.Length + 1);
        try
        {
            rented[0] = LeafPrefix;
            data.CopyTo(rented.AsSpan(1));
            SHA256.HashData(rented.AsSpan(0, data.Length + 1), destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>SHA-256(0x01 || left || right).</summary>
    public static byte[] NodeHash(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        var hash = new byte[Size];
        NodeHash(left, right, hash);
        return hash;
    }

    /// <summary>
    /// Writes SHA-256(0x01 || left || right) to <paramref name="destination"/>. The children are normally 32-byte
    /// hashes; any lengths are hashed as given (the RFC 6962 hasher test vectors use short children).
    /// <paramref name="destination"/> may overlap either child.
    /// </summary>
    public static void NodeHash(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, Span<byte> destination)
    {
        var length = 1 + left.Length + right.Length;
        if (length <= StackLimit)
        {
            Span<byte> buffer = stackalloc byte[StackLimit];
            buffer[0] = NodePrefix;
            left.CopyTo(buffer[1..]);
            right.CopyTo(buffer[(1 + left.Length)..]);
            SHA256.HashData(buffer[..length], destination);
            return;
        }

        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            rented[0] = NodePrefix;
            left.CopyTo(rented.AsSpan(1));
            right.CopyTo(rented.AsSpan(1 + left.Length));
            SHA256.HashData(rented.AsSpan(0, length), destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
