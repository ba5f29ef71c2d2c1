using System.Text.Json;
using TrustPool.Audit.Merkle;
using static TrustPool.Audit.Tests.Merkle.MerkleTestData;

namespace TrustPool.Audit.Tests.Merkle;

/// <summary>
/// The 196 transparency-dev/merkle proof vectors (testdata/inclusion, testdata/consistency; commit 417fb0c) run
/// through <see cref="MerkleVerifier"/>: each must fail exactly when its <c>wantErr</c> says.
/// </summary>
public class TransparencyDevVectorTests
{
    /// <summary>
    /// Equal sizes (1, 1), empty proof and two equal 12-byte "roots" ("don't care 2"): nothing is hashed, the roots
    /// are compared as given and the vector wants success (docs/AUDIT.md).
    /// </summary>
    public const string EqualSizesShortRoots = "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json";

    [SkippableTheory]
    [MemberData(nameof(MerkleTestData.Vectors), MemberType = typeof(MerkleTestData))]
    public void Verify_Vector_FailsExactlyWhenWantErr(string relative)
    {
        using var doc = LoadVector(relative);
        var v = doc.RootElement;
        var wantErr = v.GetProperty("wantErr").GetBoolean();

        var ok = Run(relative, v, out var error);

        Assert.True(ok != wantErr, $"{relative} ({v.GetProperty("desc").GetString()}): wantErr={wantErr}, got {(ok ? "success" : error!.Message)}");
    }

    [SkippableFact]
    public void Vectors_AllPresent_196With12Successes()
    {
        TrustPool.Testing.TestData.Require(Folder, "transparency-dev-merkle", "testdata");
        var files = VectorFiles();
        Assert.Equal(196, files.Count);
        Assert.Equal(98, files.Count(f => f.StartsWith("inclusion/", StringComparison.Ordinal)));
        var successes = files.Where(f =>
        {
            using var d = LoadVector(f);
            return !d.RootElement.GetProperty("wantErr").GetBoolean();
        }).ToArray();
        Assert.Equal(12, successes.Length);
        Assert.Contains(EqualSizesShortRoots, successes);
    }

    [SkippableFact]
    public void HappyPathInclusion_OurTree_ProducesTheVectorProofAndRoot()
    {
        var leaves = KnownLeaves();
        var tree = new MerkleTree();
        foreach (var leaf in leaves)
        {
            tree.Append(leaf);
        }

        foreach (var folder in new[] { "0", "1", "2", "3", "4" })
        {
            using var doc = LoadVector($"inclusion/{folder}/happy-path.json");
            var v = doc.RootElement;
            var index = v.GetProperty("leafIdx").GetUInt64();
            var size = v.GetProperty("treeSize").GetUInt64();
            Assert.Equal(B64(v.GetProperty("root")), tree.RootAt(size));
            Assert.Equal(B64(v.GetProperty("leafHash")), MerkleHash.LeafHash(leaves[(int)index]));
            Assert.Equal(Proof(v.GetProperty("proof")) ?? [], tree.InclusionProof(index, size));
        }

        foreach (var folder in new[] { "1", "2", "3", "4" })
        {
            using var doc = LoadVector($"consistency/{folder}/happy-path.json");
            var v = doc.RootElement;
            var size1 = v.GetProperty("size1").GetUInt64();
            var size2 = v.GetProperty("size2").GetUInt64();
            Assert.Equal(B64(v.GetProperty("root1")), tree.RootAt(size1));
            Assert.Equal(B64(v.GetProperty("root2")), tree.RootAt(size2));
            Assert.Equal(Proof(v.GetProperty("proof")), tree.ConsistencyProof(size1, size2));
        }
    }

    private static bool Run(string relative, JsonElement v, out MerkleProofError? error)
    {
        if (relative.StartsWith("inclusion/", StringComparison.Ordinal))
        {
            return MerkleVerifier.TryVerifyInclusion(B64(v.GetProperty("leafHash")), v.GetProperty("leafIdx").GetUInt64(),
                v.GetProperty("treeSize").GetUInt64(), Proof(v.GetProperty("proof")), B64(v.GetProperty("root")), out error);
        }

        Assert.StartsWith("consistency/", relative, StringComparison.Ordinal);
        return MerkleVerifier.TryVerifyConsistency(v.GetProperty("size1").GetUInt64(), v.GetProperty("size2").GetUInt64(),
            Proof(v.GetProperty("proof")), B64(v.GetProperty("root1")), B64(v.GetProperty("root2")), out error);
    }
}
