using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TrustPool.Agent;
using TrustPool.Server.Pki;
using TrustPool.Testing;
using TrustPool.Tpm.Software;

namespace TrustPool.Server.Tests.Agents;

/// <summary>A service CA with its client certificate, and real agents (software TPMs) behind one mutual-TLS listener on 127.0.0.1.</summary>
public sealed class AgentTestBed : IAsyncDisposable
{
    private AgentTestBed(ServiceCa ca, X509Certificate2 clientCertificate, AgentHost host)
    {
        Ca = ca;
        ClientCertificate = clientCertificate;
        Host = host;
    }

    public ServiceCa Ca { get; }

    public X509Certificate2 ClientCertificate { get; }

    public AgentHost Host { get; }

    public string Fingerprint => Host.TlsFingerprint;

    /// <summary>Starts a listener trusting <paramref name="agentTrusts"/> (default: this bed's own CA) with one agent per path base.</summary>
    public static async Task<AgentTestBed> StartAsync(IEnumerable<string> pathBases, string? agentTrusts = null)
    {
        var dir = TestTemp.CreateDirectory("trustpool-agentbed-").FullName;
        var ca = ServiceCa.LoadOrCreate(Path.Combine(dir, "service"), out _);
        var client = ca.LoadOrIssueClientCertificate(Path.Combine(dir, "service"));
        var options = new AgentOptions
        {
            Urls = "https://127.0.0.1:0",
            ServiceCa = agentTrusts ?? ca.CertificatePath,
            DataDirectory = Path.Combine(dir, "agent"),
        };
        var host = await AgentHost.StartAsync(options, b => b.SetMinimumLevel(LogLevel.Critical));
        foreach (var p in pathBases)
        {
            host.AddAgent(p, SoftwareTpm.CreateInMemory(), "host" + p.Replace('/', '-'));
        }

        return new AgentTestBed(ca, client, host);
    }

    public Uri Url(string pathBase) => new(Host.Addresses[0], pathBase);

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        ClientCertificate.Dispose();
        Ca.Dispose();
    }
}

/// <summary>A tiny HTTPS server (Kestrel, self-signed certificate, no client authentication) that answers as a test tells it to.</summary>
public sealed class FakeAgentServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly X509Certificate2 _certificate;

    private FakeAgentServer(WebApplication app, X509Certificate2 certificate, Uri url)
    {
        _app = app;
        _certificate = certificate;
        Url = url;
        Fingerprint = Convert.ToHexStringLower(certificate.GetCertHash(HashAlgorithmName.SHA256));
    }

    public Uri Url { get; }

    public string Fingerprint { get; }

    public static async Task<FakeAgentServer> StartAsync(RequestDelegate handler)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=fake-agent", key, HashAlgorithmName.SHA256);
        var now = DateTimeOffset.UtcNow;
        using var selfSigned = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
        var certificate = X509CertificateLoader.LoadPkcs12(selfSigned.Export(X509ContentType.Pkcs12), null);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, lo => lo.UseHttps(certificate)));
        var app = builder.Build();
        app.Run(handler);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new FakeAgentServer(app, certificate, new Uri(address));
    }

    /// <summary>A server answering every request with <paramref name="status"/> and <paramref name="body"/> as JSON.</summary>
    public static Task<FakeAgentServer> StartAsync(int status, string body, string contentType = "application/json") =>
        StartAsync(async context =>
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = contentType;
            await context.Response.WriteAsync(body);
        });

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _certificate.Dispose();
    }
}
