using CsCheck;
using TrustPool.Audit.Merkle;

namespace TrustPool.Audit.Tests.Merkle;

/// <summary>
/// Every proof of a 2,000-leaf log, at every size, equals the RFC 6962 recursive definition and verifies, and
/// single-bit mutations of proof, root, index or sizes are rejected.
/// </summary>
public class MerkleTreePropertyTests
{
    private const int MaxSize = 2000;
    private const long Iterations = 3000;

    private static readonly Lazy<(MerkleTree Tree, byte[][] Leaves, byte[][] Roots)> s_log = new(() =>
    {
        var tree = new MerkleTree();
        var leaves = new byte[MaxSize][];
        var roots = new byte[MaxSize + 1][];
        roots[0] = tree.Root();
        for (var i = 0; i < MaxSize; i++)
        {
            var data = BitConverter.GetBytes(i * 7919L);
            leaves[i] = MerkleHash.LeafHash(data);
            Assert.Equal((ulong)i, tree.Append(data));
            roots[i + 1] = tree.Root();
        }

        return (tree, leaves, roots);
    });

    [Fact]
    public void Root_EverySize_EqualsRecursiveMthAndRootAt()
    {
        var (tree, leaves, roots) = s_log.Value;
        for (var size = 0; size <= MaxSize; size += size < 130 ? 1 : 37)
        {
            Assert.Equal(ReferenceMerkle.Mth(leaves, 0, size), roots[size]);
            Assert.Equal(roots[size], tree.RootAt((ulong)size));
        }
    }

    [Fact]
    public void Proofs_AllPairsUpTo64Leaves_EqualReferenceAndVerify()
    {
        var (tree, leaves, roots) = s_log.Value;
        for (var size = 1; size <= 64; size++)
        {
            for (var i = 0; i < size; i++)
            {
                var proof = tree.InclusionProof((ulong)i, (ulong)size);
                Assert.Equal(ReferenceMerkle.Path(leaves, i, 0, size), proof);
                Assert.Equal(MerkleVerifier.InclusionProofLength((ulong)i, (ulong)size), proof.Length);
                MerkleVerifier.VerifyInclusion(leaves[i], (ulong)i, (ulong)size, proof, roots[size]);
            }

            for (var m = 1; m <= size; m++)
            {
                var proof = tree.ConsistencyProof((ulong)m, (ulong)size);
                Assert.Equal(ReferenceMerkle.Proof(leaves, m, size), proof);
                Assert.Equal(MerkleVerifier.ConsistencyProofLength((ulong)m, (ulong)size), proof.Length);
                MerkleVerifier.VerifyConsistency((ulong)m, (ulong)size, proof, roots[m], roots[size]);
            }
        }
    }

    [Fact]
    public void InclusionProof_RandomSizesTo2000_VerifiesAndEveryMutationFails()
    {
        var (tree, leaves, roots) = s_log.Value;
        Gen.Select(Gen.Int[1, MaxSize], Gen.Double[0, 1], Gen.Int[0, 1 << 20], Gen.Int[0, 255])
            .Sample((size, at, pick, bit) =>
            {
                var index = (int)(at * (size - 1));
                var proof = tree.InclusionProof((ulong)index, (ulong)size);
                Assert.Equal(ReferenceMerkle.Path(leaves, index, 0, size), proof);
                Assert.True(MerkleVerifier.TryVerifyInclusion(leaves[index], (ulong)index, (ulong)size, proof, roots[size], out var error), error?.Message);

                // A flipped bit anywhere in the proof: the calculated root changes.
                if (proof.Length > 0)
                {
                    var bad = Mutate(proof, pick % proof.Length, bit);
                    Assert.IsType<RootMismatch>(Fail(leaves[index], index, size, bad, roots[size]));
                }

                // A flipped bit in the root or the leaf hash.
                Assert.IsType<RootMismatch>(Fail(leaves[index], index, size, proof, FlipBit(roots[size], bit)));
                Assert.IsType<RootMismatch>(Fail(FlipBit(leaves[index], bit), index, size, proof, roots[size]));

                // Another index (one bit flipped, still or no longer inside the tree). The size is not mutated: an
                // inclusion proof does not bind it (index 0 verifies the same way in trees of 5 and 6 leaves);
                // the signed checkpoint binds size and root together.
                var otherIndex = index ^ (1 << (pick % 11));
                Fail(leaves[index], otherIndex, size, proof, roots[size]);

                // A proof one hash shorter or longer.
                if (proof.Length > 0)
                {
                    Assert.Equal(InvalidProofReason.WrongProofLength,
                        Assert.IsType<InvalidProof>(Fail(leaves[index], index, size, proof[..^1], roots[size])).Reason);
                }

                Assert.Equal(InvalidProofReason.WrongProofLength,
                    Assert.IsType<InvalidProof>(Fail(leaves[index], index, size, [.. proof, roots[size]], roots[size])).Reason);
            }, iter: Iterations);
    }

    [Fact]
    public void ConsistencyProof_RandomSizesTo2000_VerifiesAndEveryMutationFails()
    {
        var (tree, leaves, roots) = s_log.Value;
        Gen.Select(Gen.Int[1, MaxSize], Gen.Double[0, 1], Gen.Int[0, 1 << 20], Gen.Int[0, 255])
            .Sample((size2, at, pick, bit) =>
            {
                var size1 = 1 + (int)(at * (size2 - 1));
                var proof = tree.ConsistencyProof((ulong)size1, (ulong)size2);
                Assert.Equal(ReferenceMerkle.Proof(leaves, size1, size2), proof);
                Assert.True(MerkleVerifier.TryVerifyConsistency((ulong)size1, (ulong)size2, proof, roots[size1], roots[size2], out var error), error?.Message);

                if (proof.Length > 0)
                {
                    Assert.IsType<RootMismatch>(FailConsistency(size1, size2, Mutate(proof, pick % proof.Length, bit), roots[size1], roots[size2]));
                    Assert.Equal(InvalidProofReason.WrongProofLength,
                        Assert.IsType<InvalidProof>(FailConsistency(size1, size2, proof[..^1], roots[size1], roots[size2])).Reason);
                }

                Assert.IsType<RootMismatch>(FailConsistency(size1, size2, proof, FlipBit(roots[size1], bit), roots[size2]));
                Assert.IsType<RootMismatch>(FailConsistency(size1, size2, proof, roots[size1], FlipBit(roots[size2], bit)));
                if (size1 != size2)
                {
                    Assert.IsType<RootMismatch>(FailConsistency(size1, size2, proof, roots[size2], roots[size1]));
                    Assert.IsType<InvalidProof>(FailConsistency(size2, size1, proof, roots[size2], roots[size1]));
                }

                Assert.Equal(InvalidProofReason.Size1Zero,
                    Assert.IsType<InvalidProof>(FailConsistency(0, size2, proof, MerkleHash.EmptyRoot, roots[size2])).Reason);
            }, iter: Iterations);
    }

    [Fact]
    public void MerkleTree_ReopenedOverItsStore_ContinuesIdentically()
    {
        var store = new InMemoryMerkleNodeStore();
        var first = new MerkleTree(store);
        var reference = new MerkleTree();
        for (var i = 0; i < 1000; i++)
        {
            first.Append(BitConverter.GetBytes(i));
            reference.Append(BitConverter.GetBytes(i));
        }

        var reopened = new MerkleTree(store, 1000);
        Assert.Equal(reference.Root(), reopened.Root());
        for (var i = 1000; i < 1500; i++)
        {
            reopened.Append(BitConverter.GetBytes(i));
            reference.Append(BitConverter.GetBytes(i));
        }

        Assert.Equal(reference.Root(), reopened.Root());
        Assert.Equal(reference.InclusionProof(999), reopened.InclusionProof(999));
        Assert.Equal(reference.ConsistencyProof(1000, 1500), reopened.ConsistencyProof(1000, 1500));
    }

    [Fact]
    public void AppendLeafHash_StoreThrows_TreeUnchanged()
    {
        var store = new FailingStore();
        var tree = new MerkleTree(store);
        tree.Append([1]);
        tree.Append([2]);
        var root = tree.Root();
        store.Fail = true;

        Assert.Throws<IOException>(() => tree.Append([3]));

        Assert.Equal(2UL, tree.Size);
        Assert.Equal(root, tree.Root());
        store.Fail = false;
        tree.Append([3]);
        Assert.Equal(3UL, tree.Size);
    }

    [Theory]
    [InlineData(0UL, 0UL)]
    [InlineData(3UL, 3UL)]
    [InlineData(0UL, 4UL)]
    public void InclusionProof_IndexNotBelowSizeOrSizeBeyondTree_Throws(ulong index, ulong size)
    {
        var tree = new MerkleTree();
        tree.Append([1]);
        tree.Append([2]);
        tree.Append([3]);
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.InclusionProof(index, size));
    }

    [Fact]
    public void VerifyInclusion_Failure_ThrowsMerkleProofExceptionWithTypedError()
    {
        var leaf = MerkleHash.LeafHash([1]);
        var e = Assert.Throws<MerkleProofException>(() => MerkleVerifier.VerifyInclusion(leaf, 0, 1, null, MerkleHash.EmptyRoot));
        var mismatch = Assert.IsType<RootMismatch>(e.Error);
        Assert.Equal(MerkleHash.EmptyRoot, mismatch.Expected);
        Assert.Equal(leaf, mismatch.Calculated);
        Assert.Contains(Convert.ToHexStringLower(leaf), e.Message, StringComparison.Ordinal);
    }

    private static MerkleProofError Fail(byte[] leaf, int index, int size, byte[][] proof, byte[] root)
    {
        Assert.False(MerkleVerifier.TryVerifyInclusion(leaf, (ulong)(uint)index, (ulong)size, proof, root, out var error),
            $"mutated inclusion proof verified: index {index} size {size}");
        return error;
    }

    private static MerkleProofError FailConsistency(int size1, int size2, byte[][] proof, byte[] root1, byte[] root2)
    {
        Assert.False(MerkleVerifier.TryVerifyConsistency((ulong)size1, (ulong)size2, proof, root1, root2, out var error),
            $"mutated consistency proof verified: {size1} -> {size2}");
        return error;
    }

    private static byte[][] Mutate(byte[][] proof, int element, int bit)
    {
        var copy = proof.Select(p => (byte[])p.Clone()).ToArray();
        copy[element] = FlipBit(copy[element], bit);
        return copy;
    }

    private static byte[] FlipBit(byte[] hash, int bit)
    {
        var copy = (byte[])hash.Clone();
        copy[bit / 8 % copy.Length] ^= (byte)(1 << (bit % 8));
        return copy;
    }

    private sealed class FailingStore : IMerkleNodeStore
    {
        private readonly InMemoryMerkleNodeStore _inner = new();

        public bool Fail { get; set; }

        public bool TryGetNodes(ReadOnlySpan<MerkleNodeId> ids, Span<byte> hashes) => _inner.TryGetNodes(ids, hashes);

        public void PutNodes(ReadOnlySpan<MerkleNodeId> ids, ReadOnlySpan<byte> hashes)
        {
            if (Fail)
            {
                throw new IOException("database unavailable");
            }

            _inner.PutNodes(ids, hashes);
        }
    }
}
