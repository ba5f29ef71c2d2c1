using System.Text.Json;
using TrustPool.Testing;

namespace TrustPool.Audit.Tests.Merkle;

/// <summary>
/// ../shared/testdata/merkle (MANIFEST.md there), read in place: known_answers.json (hex) and the 196
/// transparency-dev/merkle proof vectors (base64, wantErr).
/// </summary>
internal static class MerkleTestData
{
    public const string Folder = "merkle";
    public const string VectorRoot = "transparency-dev-merkle/testdata";

    private static readonly Lazy<JsonDocument> s_known = new(() =>
        JsonDocument.Parse(TestData.ReadBytes(Folder, "known_answers.json")));

    public static JsonElement Known => s_known.Value.RootElement;

    public static byte[] Hex(string s) => Convert.FromHexString(s);

    public static byte[][] KnownLeaves() => [.. Known.GetProperty("leaves").EnumerateArray().Select(e => Hex(e.GetString()!))];

    /// <summary>
    /// Every vector file, relative to <see cref="VectorRoot"/> with '/' separators. Without the test data one
    /// placeholder is listed so that the theory skips (or fails under TRUSTPOOL_REQUIRE_INTEGRATION=1) with the reason.
    /// </summary>
    public static TheoryData<string> Vectors()
    {
        var files = VectorFiles();
        return files.Count == 0 ? ["(../shared/testdata/merkle missing)"] : [.. files];
    }

    public static IReadOnlyList<string> VectorFiles()
    {
        if (TestData.Root is null)
        {
            return [];
        }

        var root = Path.Combine(TestData.Root, Folder, VectorRoot);
        if (!Directory.Exists(root))
        {
            return [];
        }

        return [.. Directory.EnumerateFiles(root, "*.json", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)];
    }

    public static JsonDocument LoadVector(string relative) =>
        JsonDocument.Parse(TestData.ReadBytes([Folder, .. VectorRoot.Split('/'), .. relative.Split('/')]));

    /// <summary>Standard padded base64 as Go's encoding/json writes []byte; "" is zero bytes.</summary>
    public static byte[] B64(JsonElement e) => Convert.FromBase64String(e.GetString()!);

    /// <summary>A proof array; JSON null (Go's nil slice) is the empty proof and comes back as null.</summary>
    public static byte[][]? Proof(JsonElement e) =>
        e.ValueKind == JsonValueKind.Null ? null : [.. e.EnumerateArray().Select(B64)];
}
