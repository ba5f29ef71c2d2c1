using System.Text.Json;

namespace TrustPool.Cli.Tests.Bench;

/// <summary>`trustpool bench place` places over synthetic hosts and reports what it measured.</summary>
public class BenchPlaceTests
{
    [Fact]
    public void BenchPlace_ShortRunJson_ReportsLatencyRateAndAllocations()
    {
        var r = Cli.RunIn(null, TimeSpan.FromSeconds(120), "bench", "place", "--hosts", "1000", "--seconds", "1", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.StdOut);
        var root = doc.RootElement;
        Assert.Equal(1000, root.GetProperty("hosts").GetInt32());
        var decisions = root.GetProperty("decisions").GetInt64();
        Assert.True(decisions > 0);
        Assert.Equal(decisions, root.GetProperty("placed").GetInt64());
        Assert.True(root.GetProperty("decisionsPerSecond").GetDouble() > 0);
        var p50 = root.GetProperty("p50Ms").GetDouble();
        var p99 = root.GetProperty("p99Ms").GetDouble();
        var max = root.GetProperty("maxMs").GetDouble();
        Assert.True(p50 > 0 && p50 <= p99 && p99 <= max, $"{p50} {p99} {max}");
        Assert.InRange(root.GetProperty("allocatedBytesPerDecision").GetDouble(), 1, 64 * 1024);
        Assert.InRange(root.GetProperty("rejectedHostsPerDecision").GetDouble(), 1, 999);
    }

    [Theory]
    [InlineData("--hosts", "0")]
    [InlineData("--seconds", "0")]
    public void BenchPlace_BadArguments_Exit2(string option, string value)
    {
        var r = Cli.Run("bench", "place", option, value);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--hosts", r.StdErr, StringComparison.Ordinal);
    }
}
