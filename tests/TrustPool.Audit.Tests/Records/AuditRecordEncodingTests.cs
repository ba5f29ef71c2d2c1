using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using TrustPool.Audit.Merkle;
using TrustPool.Audit.Records;

namespace TrustPool.Audit.Tests.Records;

public class AuditRecordEncodingTests
{
    private static readonly DateTimeOffset s_time = new(2026, 11, 27, 13, 0, 0, 123, TimeSpan.FromHours(2));

    [Fact]
    public void Encode_HostEnrolled_IsSortedCompactUtf8()
    {
        var record = new AuditRecord(AuditRecordTypes.HostEnrolled, 1, s_time, new JsonObject
        {
            ["host"] = "node-1",
            ["akName"] = "000b12",
            ["ekCertificate"] = null,
            ["banks"] = new JsonArray("sha256", "sha1"),
            ["nested"] = new JsonObject { ["z"] = 1, ["a"] = true, ["é"] = "ü\n\"\\\u0001/" },
        });

        var json = Encoding.UTF8.GetString(AuditRecordEncoding.Encode(record));

        Assert.Equal(
            "{\"fields\":{\"akName\":\"000b12\",\"banks\":[\"sha256\",\"sha1\"],\"ekCertificate\":null,\"host\":\"node-1\","
            + "\"nested\":{\"a\":true,\"z\":1,\"é\":\"ü\\n\\\"\\\\\\u0001/\"}},"
            + "\"schemaVersion\":1,\"time\":\"2026-11-27T11:00:00.123Z\",\"type\":\"host.enrolled\"}",
            json);
        Assert.Equal(MerkleHash.LeafHash(AuditRecordEncoding.Encode(record)), record.LeafHash());
    }

    [Fact]
    public void Encode_DocsWorkedExample_MatchesAuditMd()
    {
        var record = new AuditRecord(AuditRecordTypes.HostEnrolled, 1, new DateTimeOffset(2026, 11, 27, 13, 0, 0, TimeSpan.Zero), new JsonObject
        {
            ["host"] = "compute-0042",
            ["ekCertificateSha256"] = "9c1185a5c5e9fc54612808977ee8f548b2258d31",
            ["akName"] = "000b4f1e",
        });

        var bytes = AuditRecordEncoding.Encode(record);

        Assert.Equal(194, bytes.Length);
        Assert.Equal("4ef91f876978bca3d462b172e6ba95f32c1ca70c24653a2f0c31458c8896b600", Convert.ToHexStringLower(record.LeafHash()));
    }

    [Fact]
    public void Encode_AnyInsertionOrder_SameBytes()
    {
        var keys = new[] { "host", "pool", "reportId", "b", "a", "B", "_", "aa", "\u00e9", "\ud83d\ude00", "z9" };
        var reference = AuditRecordEncoding.Encode(Record(keys));
        Gen.Int.Array[keys.Length].Sample(order =>
        {
            var shuffled = keys.Zip(order).OrderBy(p => p.Second).Select(p => p.First).ToArray();
            Assert.Equal(reference, AuditRecordEncoding.Encode(Record(shuffled)));
        }, iter: 500);
    }

    [Fact]
    public void Decode_CanonicalBytes_RoundTrips()
    {
        foreach (var type in AuditRecordTypes.All)
        {
            var record = new AuditRecord(type, 2, s_time, new JsonObject { ["n"] = -9007199254740991L, ["s"] = "x" });
            var bytes = AuditRecordEncoding.Encode(record);

            var decoded = AuditRecordEncoding.Decode(bytes);

            Assert.Equal(type, decoded.Type);
            Assert.Equal(2, decoded.SchemaVersion);
            Assert.Equal(s_time, decoded.Time);
            Assert.Equal(bytes, AuditRecordEncoding.Encode(decoded));
        }
    }

    [Theory]
    [InlineData("{\"fields\":{},\"schemaVersion\":1,\"time\":\"2026-11-27T11:00:00.123Z\",\"type\":\"host.enrolled\"} ", "trailing whitespace")]
    [InlineData("{\"schemaVersion\":1,\"fields\":{},\"time\":\"2026-11-27T11:00:00.123Z\",\"type\":\"host.enrolled\"}", "key order")]
    [InlineData("{\"fields\":{\"a\":1.0},\"schemaVersion\":1,\"time\":\"2026-11-27T11:00:00.123Z\",\"type\":\"host.enrolled\"}", "1.0")]
    [InlineData("{\"fields\":{\"a\":\"\\u0041\"},\"schemaVersion\":1,\"time\":\"2026-11-27T11:00:00.123Z\",\"type\":\"host.enrolled\"}", "needless escape")]
    [InlineData("{\"fields\":{},\"schemaVersion\":1,\"time\":\"2026-11-27T11:00:00Z\",\"type\":\"host.enrolled\"}", "time without milliseconds")]
    [InlineData("{\"fields\":{},\"schemaVersion\":1,\"time\":\"2026-11-27T11:00:00.123Z\",\"type\":\"Host\"}", "bad type")]
    [InlineData("{\"fields\":{\"a\":1,\"a\":1},\"schemaVersion\":1,\"time\":\"2026-11-27T11:00:00.123Z\",\"type\":\"host.enrolled\"}", "duplicate key")]
    [InlineData("{\"fields\":{},\"schemaVersion\":1,\"time\":\"2026-11-27T11:00:00.123Z\",\"type\":\"host.enrolled\",\"x\":1}", "extra member")]
    [InlineData("[]", "not an object")]
    [InlineData("{", "not JSON")]
    public void Decode_NonCanonical_Throws(string json, string why)
    {
        var e = Assert.Throws<AuditRecordFormatException>(() => AuditRecordEncoding.Decode(Encoding.UTF8.GetBytes(json)));
        Assert.False(string.IsNullOrEmpty(e.Message), why);
    }

    [Theory]
    [InlineData(1.5)]
    [InlineData(9007199254740992.0)]
    public void Encode_NonIntegerOrUnsafeNumber_Throws(double value)
    {
        var record = new AuditRecord(AuditRecordTypes.PoolChanged, 1, s_time, new JsonObject { ["v"] = value });
        Assert.Throws<ArgumentException>(() => AuditRecordEncoding.Encode(record));
    }

    [Fact]
    public void Encode_LoneSurrogate_Throws()
    {
        var record = new AuditRecord(AuditRecordTypes.PoolChanged, 1, s_time, new JsonObject { ["v"] = "\ud800" });
        Assert.Throws<ArgumentException>(() => AuditRecordEncoding.Encode(record));
    }

    [Fact]
    public void Types_All_AreValidAndDistinct()
    {
        Assert.Equal(15, AuditRecordTypes.All.Count);
        Assert.Equal(AuditRecordTypes.All.Count, AuditRecordTypes.All.Distinct().Count());
        Assert.All(AuditRecordTypes.All, t => Assert.True(AuditRecordEncoding.IsValidType(t), t));
        Assert.True(AuditRecordTypes.IsKnown("host.reenrollment-required"));
    }

    private static AuditRecord Record(IEnumerable<string> keys)
    {
        var fields = new JsonObject();
        foreach (var k in keys)
        {
            fields[k] = k.Length;
        }

        return new AuditRecord(AuditRecordTypes.ReportIssued, 1, s_time, fields);
    }
}
