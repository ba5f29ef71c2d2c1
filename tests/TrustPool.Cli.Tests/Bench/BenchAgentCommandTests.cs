using System.Text.Json;

namespace TrustPool.Cli.Tests.Bench;

/// <summary>`trustpool bench agent` runs a real in-process agent under load and reports numbers it measured.</summary>
public class BenchAgentCommandTests
{
    [Fact]
    public void BenchAgent_ShortRun_ReportsQuotesWithoutFailures()
    {
        var r = Cli.RunIn(null, TimeSpan.FromSeconds(120), "bench", "agent", "--seconds", "1", "--connections", "2", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.StdOut);
        Assert.Equal(0, doc.RootElement.GetProperty("failures").GetInt32());
        Assert.True(doc.RootElement.GetProperty("quotes").GetInt32() > 0);
        Assert.True(doc.RootElement.GetProperty("p99Ms").GetDouble() >= doc.RootElement.GetProperty("p50Ms").GetDouble());
    }

    [Theory]
    [InlineData("http://127.0.0.1:1/")]
    [InlineData("not a url")]
    public void BenchAgent_BadUrl_Exit2(string url)
    {
        var r = Cli.Run("bench", "agent", "--url", url);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--url", r.StdErr, StringComparison.Ordinal);
    }
}
