using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Security.Cryptography;

namespace TrustPool.Audit.Merkle;

/// <summary>
/// Pure verifiers of RFC 9162 inclusion (2.1.3.2) and consistency (2.1.4.2) proofs, with the preconditions of
/// transparency-dev/merkle <c>proof/verify.go</c> checked first. Everything here is untrusted input: proofs,
/// sizes and roots come from the log or from an export.
/// <para>
/// Hash lengths: the leaf hash, every proof element and every root the algorithm combines must be 32 bytes. The one
/// case where nothing is hashed, a consistency proof between equal sizes, is "the proof is empty and the two roots are
/// the same bytes", as in transparency-dev (its vector <c>consistency/additional/sizes-are-equal-one-and-proof-is-empty.json</c>
/// has two equal 12-byte "roots" and wants success); a tree is consistent with itself whatever its root is written as.
/// </para>
/// </summary>
public static class MerkleVerifier
{
    /// <summary>Checks that <paramref name="leafHash"/> is leaf <paramref name="index"/> of the tree of <paramref name="size"/> leaves with root <paramref name="root"/>.</summary>
    /// <param name="leafHash">SHA-256(0x00 || data), not the data.</param>
    /// <param name="index">0-based leaf index.</param>
    /// <param name="size">Tree size.</param>
    /// <param name="proof">Inclusion path, leaf to root; null is the empty proof.</param>
    /// <param name="root">The tree's root hash.</param>
    /// <param name="error">Why it failed, when it did.</param>
    public static bool TryVerifyInclusion(ReadOnlySpan<byte> leafHash, ulong index, ulong size, IReadOnlyList<byte[]>? proof,
        ReadOnlySpan<byte> root, [NotNullWhen(false)] out MerkleProofError? error)
    {
        proof ??= [];
        error = CheckInclusion(leafHash, index, size, proof, root);
        return error is null;
    }

    /// <summary>As <see cref="TryVerifyInclusion"/>; throws <see cref="MerkleProofException"/> on failure.</summary>
    public static void VerifyInclusion(ReadOnlySpan<byte> leafHash, ulong index, ulong size, IReadOnlyList<byte[]>? proof, ReadOnlySpan<byte> root)
    {
        if (!TryVerifyInclusion(leafHash, index, size, proof, root, out var error))
        {
            throw new MerkleProofException(error);
        }
    }

    /// <summary>
    /// Checks that the tree of <paramref name="size2"/> leaves with root <paramref name="root2"/> extends the tree of
    /// <paramref name="size1"/> leaves with root <paramref name="root1"/>. size1 = size2 is consistent iff the proof is
    /// empty and the roots are equal; size1 = 0 is always an error.
    /// </summary>
    public static bool TryVerifyConsistency(ulong size1, ulong size2, IReadOnlyList<byte[]>? proof, ReadOnlySpan<byte> root1,
        ReadOnlySpan<byte> root2, [NotNullWhen(false)] out MerkleProofError? error)
    {
        proof ??= [];
        error = CheckConsistency(size1, size2, proof, root1, root2);
        return error is null;
    }

    /// <summary>As <see cref="TryVerifyConsistency"/>; throws <see cref="MerkleProofException"/> on failure.</summary>
    public static void VerifyConsistency(ulong size1, ulong size2, IReadOnlyList<byte[]>? proof, ReadOnlySpan<byte> root1, ReadOnlySpan<byte> root2)
    {
        if (!TryVerifyConsistency(size1, size2, proof, root1, root2, out var error))
        {
            throw new MerkleProofException(error);
        }
    }

    /// <summary>Number of hashes in the inclusion proof of <paramref name="index"/> in a tree of <paramref name="size"/> (index &lt; size).</summary>
    public static int InclusionProofLength(ulong index, ulong size)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, size, nameof(index));
        // Levels where the paths to `index` and to the last leaf differ, then the left siblings on the right border.
        var inner = 64 - BitOperations.LeadingZeroCount(index ^ (size - 1));
        var border = BitOperations.PopCount(inner == 64 ? 0 : index >> inner);
        return inner + border;
    }

    /// <summary>Number of hashes in the consistency proof between sizes 0 &lt; size1 ≤ size2.</summary>
    public static int ConsistencyProofLength(ulong size1, ulong size2)
    {
        ArgumentOutOfRangeException.ThrowIfZero(size1, nameof(size1));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size1, size2, nameof(size1));
        if (size1 == size2)
        {
            return 0;
        }

        // The inclusion proof of the last old leaf in the new tree, minus the levels inside the old tree's
        // largest complete subtree at its right edge, plus that subtree's root unless it is the whole old tree.
        var length = InclusionProofLength(size1 - 1, size2) - BitOperations.TrailingZeroCount(size1);
        return BitOperations.IsPow2(size1) ? length : length + 1;
    }

    private static MerkleProofError? CheckInclusion(ReadOnlySpan<byte> leafHash, ulong index, ulong size, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> root)
    {
        if (index >= size)
        {
            return new InvalidProof(InvalidProofReason.IndexOutOfRange, $"leaf index {index} is not below tree size {size}");
        }

        if (CheckHashLengths(leafHash, "leaf hash", root, "root", proof) is { } lengthError)
        {
            return lengthError;
        }

        var want = InclusionProofLength(index, size);
        if (proof.Count != want)
        {
            return WrongLength(proof.Count, want);
        }

        // RFC 9162 2.1.3.2.
        ulong fn = index, sn = size - 1;
        var r = new byte[MerkleHash.Size];
        leafHash.CopyTo(r);
        foreach (var p in proof)
        {
            if (sn == 0)
            {
                return WrongLength(proof.Count, want);
            }

            if ((fn & 1) != 0 || fn == sn)
            {
                MerkleHash.NodeHash(p, r, r);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                MerkleHash.NodeHash(r, p, r);
            }

            fn >>= 1;
            sn >>= 1;
        }

        if (sn != 0)
        {
            return WrongLength(proof.Count, want);
        }

        return Match(root, r, "root");
    }

    private static MerkleProofError? CheckConsistency(ulong size1, ulong size2, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> root1, ReadOnlySpan<byte> root2)
    {
        if (size1 > size2)
        {
            return new InvalidProof(InvalidProofReason.Size1GreaterThanSize2, $"size1 {size1} is greater than size2 {size2}");
        }

        if (size1 == 0)
        {
            // transparency-dev/merkle 8c666a79: even (0, 0) is an error, the empty tree is consistent with anything.
            return new InvalidProof(InvalidProofReason.Size1Zero, "a consistency proof from the empty tree proves nothing");
        }

        if (size1 == size2)
        {
            // RFC 9162 2.1.4.2 fails an empty path; equal trees need none, they must simply have equal roots. Nothing
            // is hashed here, so the roots are compared as given (transparency-dev: verifyMatch without a length check).
            if (proof.Count != 0)
            {
                return WrongLength(proof.Count, 0);
            }

            return Match(root2, root1.ToArray(), "root2");
        }

        if (CheckHashLengths(root1, "root1", root2, "root2", proof) is { } lengthError)
        {
            return lengthError;
        }

        var want = ConsistencyProofLength(size1, size2);
        if (proof.Count != want)
        {
            return WrongLength(proof.Count, want);
        }

        // RFC 9162 2.1.4.2. Step 2: when size1 is a power of two its root is the subtree the path starts from.
        var start = 0;
        ReadOnlySpan<byte> seed = proof[0];
        if (BitOperations.IsPow2(size1))
        {
            seed = root1;
            start = -1;
        }

        ulong fn = size1 - 1, sn = size2 - 1;
        while ((fn & 1) != 0)
        {
            fn >>= 1;
            sn >>= 1;
        }

        var fr = seed.ToArray();
        var sr = seed.ToArray();
        for (var i = start + 1; i < proof.Count; i++)
        {
            var c = proof[i];
            if (sn == 0)
            {
                return WrongLength(proof.Count, want);
            }

            if ((fn & 1) != 0 || fn == sn)
            {
                MerkleHash.NodeHash(c, fr, fr);
                MerkleHash.NodeHash(c, sr, sr);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                MerkleHash.NodeHash(sr, c, sr);
            }

            fn >>= 1;
            sn >>= 1;
        }

        if (sn != 0)
        {
            return WrongLength(proof.Count, want);
        }

        return Match(root1, fr, "root1") ?? Match(root2, sr, "root2");
    }

    private static InvalidProof? CheckHashLengths(ReadOnlySpan<byte> a, string aName, ReadOnlySpan<byte> b, string bName, IReadOnlyList<byte[]> proof)
    {
        if (a.Length != MerkleHash.Size)
        {
            return HashLength(aName, a.Length);
        }

        if (b.Length != MerkleHash.Size)
        {
            return HashLength(bName, b.Length);
        }

        for (var i = 0; i < proof.Count; i++)
        {
            if (proof[i] is null || proof[i].Length != MerkleHash.Size)
            {
                return HashLength($"proof[{i}]", proof[i]?.Length ?? 0);
            }
        }

        return null;
    }

    private static InvalidProof HashLength(string name, int length) =>
        new(InvalidProofReason.InvalidHashLength, $"{name} is {length} bytes, a SHA-256 hash is {MerkleHash.Size}");

    private static InvalidProof WrongLength(int got, int want) =>
        new(InvalidProofReason.WrongProofLength, $"proof has {got} hashes, {want} expected");

    private static RootMismatch? Match(ReadOnlySpan<byte> expected, byte[] calculated, string name) =>
        CryptographicOperations.FixedTimeEquals(expected, calculated)
            ? null
            : new RootMismatch(expected.ToArray(), calculated) { Root = name };
}
