using Microsoft.Extensions.Logging;
using TrustPool.Tpm.Client;

using TrustPool.Testing;

namespace TrustPool.Agent.Tests.Support;

/// <summary>An in-process agent listener on 127.0.0.1 (random port) with real mutual TLS, plus a client with the test CA's certificate.</summary>
public sealed class AgentHarness : IAsyncDisposable
{
    private readonly bool _ownsPki;

    private AgentHarness(AgentHost host, TestPki pki, string dataDirectory, bool ownsPki)
    {
        _ownsPki = ownsPki;
        Host = host;
        Pki = pki;
        DataDirectory = dataDirectory;
    }

    public AgentHost Host { get; }

    public TestPki Pki { get; }

    public string DataDirectory { get; }

    public Uri BaseAddress => Host.Addresses[0];

    public static Task<AgentHarness> StartAsync(ITpm tpm, AgentOptions? options = null, string? dataDirectory = null) =>
        StartAsync([("", tpm)], options, dataDirectory);

    /// <summary>Several agents (path base, TPM) behind one listener.</summary>
    public static async Task<AgentHarness> StartAsync(IReadOnlyList<(string PathBase, ITpm Tpm)> agents, AgentOptions? options = null, string? dataDirectory = null, TestPki? pki = null)
    {
        var ownsPki = pki is null;
        pki ??= TestPki.Create();
        dataDirectory ??= TestTemp.CreateDirectory("trustpool-agent-data-").FullName;
        var o = (options ?? new AgentOptions()) with
        {
            Urls = "https://127.0.0.1:0",
            ServiceCa = pki.CaPemFile,
            DataDirectory = dataDirectory,
        };
        var host = await AgentHost.StartAsync(o, b => b.SetMinimumLevel(LogLevel.Warning));
        try
        {
            foreach (var (pathBase, tpm) in agents)
            {
                host.AddAgent(pathBase, tpm, "host" + pathBase.Replace('/', '-'));
            }
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }

        return new AgentHarness(host, pki, dataDirectory, ownsPki);
    }

    /// <summary>A client with the CA-issued certificate, pinning the agent's TLS fingerprint.</summary>
    public AgentClient Client(string pathBase = "", int maxConnections = 4) =>
        new(new Uri(BaseAddress, pathBase.Length == 0 ? "/" : pathBase.TrimEnd('/') + "/"), Pki.Client, Host.TlsFingerprint, maxConnections);

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        if (_ownsPki)
        {
            Pki.Dispose();
        }
    }
}
