using System.Globalization;
using System.Text.Json;
using TrustPool.Audit.Merkle;
using static TrustPool.Audit.Tests.Merkle.MerkleTestData;

namespace TrustPool.Audit.Tests.Merkle;

/// <summary>known_answers.json (transparency-dev/merkle testonly constants, cross-checked with CT C++): our hashes, roots and proofs equal them.</summary>
public class KnownAnswerTests
{
    [SkippableFact]
    public void Hasher_KnownAnswers_Equal()
    {
        var checkedCount = 0;
        foreach (var kat in Known.GetProperty("hasher_kats").EnumerateArray())
        {
            var expected = kat.GetProperty("hash").GetString();
            var actual = kat.GetProperty("op").GetString() switch
            {
                "empty_tree" => MerkleHash.EmptyRoot,
                "leaf" => MerkleHash.LeafHash(Hex(kat.GetProperty("input_hex").GetString()!)),
                "node" => MerkleHash.NodeHash(Hex(kat.GetProperty("left_hex").GetString()!), Hex(kat.GetProperty("right_hex").GetString()!)),
                var op => throw new InvalidOperationException($"unknown op {op}"),
            };
            Assert.Equal(expected, Convert.ToHexStringLower(actual));
            checkedCount++;
        }

        Assert.Equal(4, checkedCount);
        Assert.Equal(Known.GetProperty("empty_root").GetString(), Convert.ToHexStringLower(new MerkleTree().Root()));
    }

    [SkippableFact]
    public void Root_EverySize1To8_EqualsKnownRoots()
    {
        var leaves = KnownLeaves();
        var tree = new MerkleTree();
        var compact = new CompactRange();
        foreach (var leaf in leaves)
        {
            tree.Append(leaf);
            compact.AppendLeafData(leaf);
            var expected = Known.GetProperty("roots").GetProperty(tree.Size.ToString(CultureInfo.InvariantCulture)).GetString();
            Assert.Equal(expected, Convert.ToHexStringLower(tree.Root()));
            Assert.Equal(expected, Convert.ToHexStringLower(compact.Root()));
        }

        for (ulong size = 1; size <= 8; size++)
        {
            Assert.Equal(Known.GetProperty("roots").GetProperty(size.ToString(CultureInfo.InvariantCulture)).GetString(),
                Convert.ToHexStringLower(tree.RootAt(size)));
        }

        Assert.Equal(Known.GetProperty("empty_root").GetString(), Convert.ToHexStringLower(tree.RootAt(0)));
    }

    [SkippableFact]
    public void NodeStore_EightLeaves_HoldsKnownNodeHashes()
    {
        var store = new InMemoryMerkleNodeStore();
        var tree = new MerkleTree(store);
        foreach (var leaf in KnownLeaves())
        {
            tree.Append(leaf);
        }

        var levels = Known.GetProperty("node_hashes");
        var compared = 0;
        for (var level = 0; level < 4; level++)
        {
            var expected = levels.GetProperty(level.ToString(CultureInfo.InvariantCulture)).EnumerateArray().Select(e => e.GetString()).ToArray();
            Assert.Equal((ulong)expected.Length, store.Count(level));
            for (var i = 0; i < expected.Length; i++)
            {
                var hash = new byte[MerkleHash.Size];
                Assert.True(store.TryGetNodes([new MerkleNodeId(level, (ulong)i)], hash));
                Assert.Equal(expected[i], Convert.ToHexStringLower(hash));
                compared++;
            }
        }

        Assert.Equal(15, compared);
    }

    [SkippableFact]
    public void InclusionProof_KnownCases_EqualAndVerify()
    {
        var tree = EightLeafTree(out var leaves);
        var cases = Known.GetProperty("inclusion").EnumerateArray().ToArray();
        Assert.Equal(7, cases.Length);
        foreach (var c in cases)
        {
            var index = c.GetProperty("index").GetUInt64();
            var size = c.GetProperty("size").GetUInt64();
            var expected = HexList(c.GetProperty("proof"));

            var proof = tree.InclusionProof(index, size);

            Assert.Equal(expected, proof.Select(Convert.ToHexStringLower));
            MerkleVerifier.VerifyInclusion(MerkleHash.LeafHash(leaves[(int)index]), index, size, proof, tree.RootAt(size));
        }
    }

    [SkippableFact]
    public void ConsistencyProof_KnownCases_EqualAndVerify()
    {
        var tree = EightLeafTree(out _);
        var cases = Known.GetProperty("consistency").EnumerateArray().ToArray();
        Assert.Equal(5, cases.Length);
        foreach (var c in cases)
        {
            var size1 = c.GetProperty("size1").GetUInt64();
            var size2 = c.GetProperty("size2").GetUInt64();
            var expected = HexList(c.GetProperty("proof"));

            var proof = tree.ConsistencyProof(size1, size2);

            Assert.Equal(expected, proof.Select(Convert.ToHexStringLower));
            MerkleVerifier.VerifyConsistency(size1, size2, proof, tree.RootAt(size1), tree.RootAt(size2));
        }
    }

    private static MerkleTree EightLeafTree(out byte[][] leaves)
    {
        leaves = KnownLeaves();
        var tree = new MerkleTree();
        foreach (var leaf in leaves)
        {
            tree.Append(leaf);
        }

        return tree;
    }

    private static string[] HexList(JsonElement e) => [.. e.EnumerateArray().Select(x => x.GetString()!)];
}
