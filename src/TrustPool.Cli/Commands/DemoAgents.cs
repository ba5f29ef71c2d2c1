using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using TrustPool.Agent;
using TrustPool.Server.Agents;
using TrustPool.Server.Pki;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Credentials;
using TrustPool.Tpm.Structures;

namespace TrustPool.Cli.Commands;

/// <summary>
/// The demo's agents: every simulated host is a real TrustPool agent (its own software TPM and boot log) behind
/// one HTTPS listener on 127.0.0.1 with a path base per host, and the demo talks to them as the service does:
/// <see cref="AgentClient"/> with mutual TLS, a client certificate from a demo <see cref="ServiceCa"/>, the agent's
/// TLS certificate pinned.
/// </summary>
internal sealed class DemoAgents : IAsyncDisposable
{
    private readonly AgentHost _host;
    private readonly X509Certificate2 _clientCertificate;
    private readonly string _directory;
    private readonly AgentClient _client;

    private DemoAgents(AgentHost host, X509Certificate2 clientCertificate, string directory)
    {
        _host = host;
        _clientCertificate = clientCertificate;
        _directory = directory;
        _client = new AgentClient(clientCertificate, new AgentClientOptions { Timeout = TimeSpan.FromSeconds(30) });
    }

    public Uri BaseAddress => _host.Addresses[0];

    public static async Task<DemoAgents> StartAsync(string directory)
    {
        // The demo's service CA lives (and dies) in the demo's directory, as the service's would in its data directory.
        var caDirectory = Path.Combine(directory, "service");
        string caFile;
        X509Certificate2 client;
        using (var ca = ServiceCa.LoadOrCreate(caDirectory, out _))
        {
            client = ca.LoadOrIssueClientCertificate(caDirectory);
            caFile = ca.CertificatePath;
        }

        var options = new AgentOptions { Urls = "https://127.0.0.1:0", ServiceCa = caFile, DataDirectory = Path.Combine(directory, "agent") };
        AgentHost host;
        try
        {
            host = await AgentHost.StartAsync(options, b => b.SetMinimumLevel(LogLevel.Error));
        }
        catch
        {
            client.Dispose();
            throw;
        }

        return new DemoAgents(host, client, directory);
    }

    /// <summary>Registers a host's agent at /agents/NAME/ serving its TPM and the UEFI log file the host wrote.</summary>
    public Uri Add(string name, ITpm tpm, string uefiLogFile)
    {
        var pathBase = $"/agents/{name}/";
        _host.AddAgent(pathBase, tpm, name, new AgentOptions { UefiLog = uefiLogFile, DataDirectory = Path.Combine(_directory, "agent") });
        return new Uri(BaseAddress, pathBase);
    }

    /// <summary>The agent's identity over the pinned channel (unverified until enrollment proves the AK).</summary>
    public async Task<AgentIdentity> IdentityAsync(Uri agent) => (await _client.GetIdentityAsync(agent, _host.TlsFingerprint)).Identity;

    /// <summary>The secret the agent's TPM recovers from <paramref name="challenge"/>.</summary>
    public Task<byte[]> ActivateCredentialAsync(Uri agent, EncryptedCredential challenge) =>
        _client.ActivateCredentialAsync(agent, _host.TlsFingerprint, challenge.CredentialBlob, challenge.EncryptedSecret);

    /// <summary>A quote of <paramref name="selection"/> with a fresh nonce: the attestation bytes, the PCRs and the UEFI log, all unverified.</summary>
    public async Task<(byte[] Attest, byte[] Signature, PcrValues Pcrs, byte[]? UefiLog)> QuoteAsync(Uri agent, byte[] nonce, PcrSelection selection)
    {
        var q = await _client.QuoteAsync(agent, _host.TlsFingerprint, nonce, selection, imaOffset: null);
        return (q.Quote, q.Signature, q.Pcrs, q.UefiLog);
    }

    /// <summary>Stops the agents and removes the demo's directory (CA, logs, agent data).</summary>
    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
        _clientCertificate.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
