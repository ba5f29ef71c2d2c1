using System.Text.Json;

namespace TrustPool.Cli.Tests.Bench;

/// <summary>
/// `trustpool bench attest`: a real service in the CLI process, 20 simulated agents in its child process over mutual
/// TLS, enrollment, baselines, a pool and a timed round; every host must come out trusted.
/// </summary>
public class BenchAttestCommandTests
{
    [Fact]
    public void BenchAttest_TwentyHosts_EveryHostTrusted_JsonHasTheNumbers()
    {
        var r = Cli.RunIn(null, TimeSpan.FromSeconds(300), "bench", "attest", "--hosts", "20", "--listeners", "2", "--rounds", "2", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.StdOut);
        var root = doc.RootElement;
        Assert.Equal(20, root.GetProperty("hosts").GetInt32());
        Assert.Equal("sqlite", root.GetProperty("database").GetString());
        Assert.Equal("tofu", root.GetProperty("ekTrust").GetString());
        Assert.Equal(20, root.GetProperty("trusted").GetInt32());
        Assert.True(root.GetProperty("roundSeconds").GetDouble() > 0);
        Assert.True(root.GetProperty("attestationsPerSecond").GetDouble() > 0);
        Assert.True(root.GetProperty("p99Ms").GetDouble() >= root.GetProperty("p50Ms").GetDouble());
        Assert.True(root.GetProperty("p50Ms").GetDouble() > 0);
        Assert.True(root.GetProperty("enrollSeconds").GetDouble() > 0);
        Assert.True(root.GetProperty("serviceCpuSeconds").GetDouble() >= 0);
        Assert.True(root.GetProperty("agentCpuSeconds").GetDouble() >= 0);
        // The agents run in their own process and use CPU: summed over the rounds (20 quotes of the last round alone can
        // take under the 5 ms that the 2-decimal rounding shows as 0; the first round also does the TLS handshakes).
        Assert.True(root.GetProperty("rounds").EnumerateArray().Sum(x => x.GetProperty("agentCpuSeconds").GetDouble()) > 0,
            "the agents run in their own process and use CPU");
        Assert.True(root.GetProperty("servicePeakRssMb").GetDouble() > 0);
        Assert.True(root.GetProperty("agentsPeakRssMb").GetDouble() > 0);
        var rounds = root.GetProperty("rounds").EnumerateArray().ToList();
        Assert.Equal(2, rounds.Count);
        Assert.All(rounds, x =>
        {
            Assert.Equal(20, x.GetProperty("attested").GetInt32());
            Assert.Equal(20, x.GetProperty("trusted").GetInt32());
        });

        // Keep-alive: the second round reuses the connections enrollment and the first round opened (a pool may still
        // grow by a connection or two when more requests to one listener overlap than before).
        Assert.InRange(rounds[1].GetProperty("newTlsConnections").GetInt64(), 0, 2);
    }

    [Theory]
    [InlineData("--hosts", "0")]
    [InlineData("--database", "mysql:x")]
    [InlineData("--rounds", "0")]
    public void BenchAttest_BadOption_Exit2(string option, string value)
    {
        var r = Cli.Run("bench", "attest", option, value);
        Assert.Equal(2, r.ExitCode);
    }
}
