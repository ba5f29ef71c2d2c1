using System.Diagnostics;
using TrustPool.Agent.Tests.Support;
using TrustPool.Testing;

namespace TrustPool.Agent.Tests.Hosting;

/// <summary><c>trustpool agent</c> as a real process: mutual TLS, enrollment and a verified quote; config errors all at once.</summary>
public sealed class AgentProcessTests
{
    private static string Dotnet
    {
        get
        {
            var d = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            return string.IsNullOrEmpty(d) || !File.Exists(d) ? "dotnet" : d;
        }
    }

    private static string TrustPoolDll => Path.Combine(AppContext.BaseDirectory, "trustpool.dll");

    [Fact]
    public async Task TrustPoolAgentProcess_SoftwareTpm_EnrollAndQuoteOverMutualTls()
    {
        var dir = TestTemp.CreateDirectory("trustpool-agent-proc-").FullName;
        using var pki = TestPki.Create();
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }

        var psi = new ProcessStartInfo(Dotnet) { UseShellExecute = false };
        foreach (var a in new[]
                 {
                     TrustPoolDll, "agent", "--tpm", "software:" + Path.Combine(dir, "tpm.state"), "--urls", $"https://127.0.0.1:{port}",
                     "--data", Path.Combine(dir, "data"), "--service-ca", pki.CaPemFile,
                 })
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        try
        {
            var url = new Uri($"https://127.0.0.1:{port}/");
            using var client = new AgentClient(url, pki.Client);
            var ready = Stopwatch.StartNew();
            while (true)
            {
                Assert.False(process.HasExited, "agent exited with " + (process.HasExited ? process.ExitCode : 0));
                try
                {
                    using var health = await client.Http.GetAsync("v1/health").WaitAsync(TimeSpan.FromSeconds(10));
                    if (health.IsSuccessStatusCode)
                    {
                        break;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TimeoutException && ready.Elapsed < TimeSpan.FromSeconds(60))
                {
                    await Task.Delay(200);
                }
            }

            var identity = await AgentChecks.EnrollAsync(client).WaitAsync(TimeSpan.FromSeconds(30));
            var fingerprint = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
                System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(dir, "data", AgentDefaults.TlsCertificateFile))).RawData));
            Assert.Equal(fingerprint, identity["tlsFingerprint"]!.GetValue<string>());
            await AgentChecks.QuoteAndVerifyAsync(client, identity).WaitAsync(TimeSpan.FromSeconds(30));

            using var stranger = new AgentClient(url, null, fingerprint);
            var refused = await Assert.ThrowsAnyAsync<Exception>(() => stranger.Http.GetAsync("v1/health").WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.IsNotType<TimeoutException>(refused);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            process.WaitForExit(10_000);
        }
    }

    [Fact]
    public void TrustPoolAgent_InvalidConfig_ReportsEveryErrorExit2()
    {
        var r = ProcessRunner.Run(Dotnet, [TrustPoolDll, "agent", "--urls", "http://127.0.0.1:1", "--ak-alg", "dsa", "--ak-handle", "0x01000000"],
            timeout: TimeSpan.FromSeconds(60));
        Assert.Equal(2, r.ExitCode);
        foreach (var key in new[] { "Tpm:", "Urls:", "ServiceCa:", "AkAlgorithm:", "AkHandle:" })
        {
            Assert.Contains(key, r.StdErr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void TrustPoolAgent_EnvironmentVariablesConfigure()
    {
        var r = ProcessRunner.Run(Dotnet, [TrustPoolDll, "agent", "--insecure-no-client-auth"],
            new Dictionary<string, string> { ["TRUSTPOOL__Agent__Tpm"] = "bogus:thing", ["TRUSTPOOL__Agent__MaxQueuedTpmRequests"] = "many" },
            timeout: TimeSpan.FromSeconds(60));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("'bogus:thing'", r.StdErr, StringComparison.Ordinal);
        Assert.Contains("MaxQueuedTpmRequests", r.StdErr, StringComparison.Ordinal);
    }
}
