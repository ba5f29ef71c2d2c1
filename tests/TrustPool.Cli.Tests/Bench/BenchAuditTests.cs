using System.Text.Json;

namespace TrustPool.Cli.Tests.Bench;

/// <summary>`trustpool bench audit` measures the Merkle audit log in-process and reports every number it promises.</summary>
public class BenchAuditTests
{
    [Fact]
    public void BenchAudit_SmallTreeJson_ReportsAllFieldsAndRootMatches()
    {
        var r = Cli.Run("bench", "audit", "--leaves", "10000", "--events", "500", "--batch", "2", "--json");

        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.StdOut);
        var o = doc.RootElement;
        Assert.Equal(10000, o.GetProperty("leaves").GetInt64());
        Assert.Equal(10000, o.GetProperty("exportRecords").GetInt64());
        Assert.True(o.GetProperty("exportRootMatches").GetBoolean());
        foreach (var name in new[]
        {
            "appendsPerSecond", "appendWithRootAndProofPerSecond", "inclusionProofMeanMicroseconds", "inclusionProofP99Microseconds",
            "consistencyProofMeanMicroseconds", "inclusionVerifyMeanMicroseconds", "exportReplaySeconds", "exportDecodeSeconds", "storeBytes",
        })
        {
            Assert.True(o.GetProperty(name).GetDouble() > 0, $"{name} = {o.GetProperty(name)}");
        }

        // Appends through SQLite, one transaction per two records; the bench reads proofs back from the store.
        var store = o.GetProperty("store");
        Assert.Equal("sqlite", store.GetProperty("provider").GetString());
        Assert.Equal(500, store.GetProperty("events").GetInt32());
        Assert.Equal(2, store.GetProperty("recordsPerTransaction").GetInt32());
        Assert.True(store.GetProperty("appendsPerSecond").GetDouble() > 0);
        Assert.True(store.GetProperty("proofsVerify").GetBoolean());
    }

    [Fact]
    public void BenchAudit_DatabaseWithAuditRecords_RefusedExit2()
    {
        var dir = TrustPool.Testing.TestTemp.CreateDirectory("trustpool-bench-audit-").FullName;
        var db = $"sqlite:{Path.Combine(dir, "used.db")}";
        Assert.Equal(0, Cli.Run("bench", "audit", "--leaves", "2", "--events", "10", "--database", db).ExitCode);

        var again = Cli.Run("bench", "audit", "--leaves", "2", "--events", "10", "--database", db);

        Assert.Equal(2, again.ExitCode);
        Assert.Contains("not empty", again.StdErr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("ten")]
    public void BenchAudit_BadLeaves_Exit2(string leaves)
    {
        var r = Cli.Run("bench", "audit", "--leaves", leaves);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--leaves", r.StdErr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--events", "-1")]
    [InlineData("--batch", "0")]
    public void BenchAudit_BadStoreOptions_Exit2(string option, string value)
    {
        var r = Cli.Run("bench", "audit", "--leaves", "2", option, value);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(option, r.StdErr, StringComparison.Ordinal);
    }
}
