using System.Text.Json;

namespace TrustPool.Cli.Tests.Bench;

/// <summary>`trustpool bench audit` measures the Merkle audit log in-process and reports every number it promises.</summary>
public class BenchAuditTests
{
    [Fact]
    public void BenchAudit_SmallTreeJson_ReportsAllFieldsAndRootMatches()
    {
        var r = Cli.Run("bench", "audit", "--leaves", "10000", "--json");

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
}
