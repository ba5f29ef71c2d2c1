using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using TrustPool.Agent.Tls;

namespace TrustPool.Server.Tests.EndToEnd;

/// <summary>
/// A malicious agent in front of a real one: forwards every request to an upstream agent (no client
/// authentication beyond the service's own client certificate) and lets a test rewrite the answer: replay an old quote, send another TPM's quote, edit a PCR,
/// swap the event log, weaken the AK's attributes. Serves TLS with its own certificate (pinned by the service).
/// </summary>
public sealed class TamperingProxy : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _upstream;

    private TamperingProxy(WebApplication app, HttpClient upstream, string fingerprint, Uri url)
    {
        _app = app;
        _upstream = upstream;
        Fingerprint = fingerprint;
        Url = url;
    }

    public string Fingerprint { get; }

    public Uri Url { get; }

    /// <summary>Where requests go; change it to answer from another agent.</summary>
    public Uri Upstream { get; set; } = null!;

    /// <summary>(path, request, upstream answer) → answer to send.</summary>
    public Func<string, JsonNode?, JsonNode, JsonNode>? Rewrite { get; set; }

    public static async Task<TamperingProxy> StartAsync(string dataDirectory, System.Security.Cryptography.X509Certificates.X509Certificate2 clientCertificate)
    {
        var cert = AgentCertificate.LoadOrCreate(dataDirectory, out _);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, lo => lo.UseHttps(cert)));
        var app = builder.Build();
        var upstream = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new System.Net.Security.SslClientAuthenticationOptions
            {
                ClientCertificates = [clientCertificate],
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            },
        });
        TamperingProxy? proxy = null;
        app.Run(async context => await proxy!.ForwardAsync(context));
        await app.StartAsync();
        var address = app.Urls.First();
        proxy = new TamperingProxy(app, upstream, AgentCertificate.Fingerprint(cert), new Uri(address.TrimEnd('/') + "/"));
        return proxy;
    }

    private async Task ForwardAsync(HttpContext context)
    {
        var path = context.Request.Path.Value!.TrimStart('/');
        using var reader = new StreamReader(context.Request.Body);
        var requestText = await reader.ReadToEndAsync();
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(Upstream, path));
        if (requestText.Length > 0)
        {
            request.Content = new StringContent(requestText, Encoding.UTF8, "application/json");
        }

        using var response = await _upstream.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        context.Response.StatusCode = (int)response.StatusCode;
        context.Response.ContentType = "application/json";
        if (response.IsSuccessStatusCode && path == "v1/identity")
        {
            // The proxy presents its own TLS certificate: an identity naming the upstream's would be refused outright.
            var identity = JsonNode.Parse(text)!;
            identity["tlsFingerprint"] = Fingerprint;
            text = identity.ToJsonString();
        }

        if (response.IsSuccessStatusCode && Rewrite is not null)
        {
            text = Rewrite(path, requestText.Length > 0 ? JsonNode.Parse(requestText) : null, JsonNode.Parse(text)!).ToJsonString();
        }

        await context.Response.WriteAsync(text);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _upstream.Dispose();
    }
}
