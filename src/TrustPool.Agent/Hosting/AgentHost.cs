using System.Collections.Concurrent;
using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TrustPool.Agent.Api;
using TrustPool.Agent.Tls;
using TrustPool.Agent.Tpm;
using TrustPool.Tpm;
using TrustPool.Tpm.Client;

namespace TrustPool.Agent;

/// <summary>The configuration is invalid; <see cref="Errors"/> lists every problem.</summary>
public sealed class AgentConfigurationException : Exception
{
    public AgentConfigurationException(IReadOnlyList<string> errors)
        : base("invalid agent configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  " + e)))
    {
        Errors = errors;
    }

    public AgentConfigurationException()
        : this([])
    {
    }

    public AgentConfigurationException(string message)
        : base(message)
    {
        Errors = [message];
    }

    public AgentConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [message];
    }

    public IReadOnlyList<string> Errors { get; }
}

/// <summary>
/// Runs agents in-process: one Kestrel listener (TLS, mutual TLS unless configured off) and any number of agents
/// behind it, each at its own path base with its own TPM (one for <c>trustpool agent</c>; many for simulated hosts).
/// A request is routed by the longest registered path base that prefixes its path.
/// </summary>
public sealed class AgentHost : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, AgentInstance> _agents = new(StringComparer.Ordinal);
    private readonly AgentOptions _options;
    private readonly X509Certificate2 _certificate;
    private readonly ClientCertificatePolicy? _clientPolicy;
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;
    private Task? _insecureWarnings;

    private AgentHost(AgentOptions options, X509Certificate2 certificate, ClientCertificatePolicy? clientPolicy, ILoggerFactory loggerFactory)
    {
        _options = options;
        _certificate = certificate;
        _clientPolicy = clientPolicy;
        LoggerFactory = loggerFactory;
        Logger = loggerFactory.CreateLogger("TrustPool.Agent");
        TlsFingerprint = AgentCertificate.Fingerprint(certificate);
    }

    /// <summary>Lower-case hex SHA-256 of the DER TLS certificate (pinned by the service at enrollment).</summary>
    public string TlsFingerprint { get; }

    public X509Certificate2 Certificate => _certificate;

    internal ILogger Logger { get; }

    internal ILoggerFactory LoggerFactory { get; }

    /// <summary>The bound https base URLs (with the real port when 0 was asked for), without path base.</summary>
    public IReadOnlyList<Uri> Addresses { get; private set; } = [];

    public IReadOnlyCollection<AgentInstance> Agents => (IReadOnlyCollection<AgentInstance>)_agents.Values;

    /// <summary>
    /// Validates <paramref name="options"/> (every error at once), loads or creates the TLS certificate, opens
    /// <see cref="AgentOptions.Tpm"/> as the agent at the URL's path base when it is set, and starts listening.
    /// </summary>
    public static async Task<AgentHost> StartAsync(AgentOptions options, Action<ILoggingBuilder>? logging = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate().Where(e => options.Tpm is not null || !e.StartsWith("Tpm:", StringComparison.Ordinal)).ToList();
        if (errors.Count > 0)
        {
            throw new AgentConfigurationException(errors);
        }

        var loggerFactory = Microsoft.Extensions.Logging.LoggerFactory.Create(b =>
        {
            // Per-request lines from ASP.NET Core would cost more than the quote; the agent logs what matters itself.
            b.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
            if (logging is null)
            {
                b.AddSimpleConsole(o => o.SingleLine = true);
            }
            else
            {
                logging(b);
            }
        });
        var certificate = AgentCertificate.LoadOrCreate(options.DataDirectory, out var created);
        var policy = options.ServiceCa is null ? null : ClientCertificatePolicy.FromPemFile(options.ServiceCa, options.CheckClientRevocation);
        var host = new AgentHost(options, certificate, policy, loggerFactory);
        try
        {
            if (created)
            {
                AgentLog.TlsCertificateCreated(host.Logger, Path.Combine(options.DataDirectory, AgentDefaults.TlsCertificateFile), host.TlsFingerprint);
            }

            var urls = options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(u => new Uri(u)).ToList();
            if (options.Tpm is not null)
            {
                host.AddAgent(urls[0].AbsolutePath, TpmConnection.Open(options.Tpm), Environment.MachineName, options, options.Tpm);
            }

            await host.ListenAsync(urls, cancellationToken);
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Adds an agent at <paramref name="pathBase"/> (before or after start) and takes ownership of <paramref name="tpm"/>:
    /// reads the EK, loads or creates the AK. The agent's TPM queue limits come from <paramref name="agentOptions"/>.
    /// </summary>
    public AgentInstance AddAgent(string pathBase, ITpm tpm, string hostname, AgentOptions? agentOptions = null, string? backendName = null)
    {
        ArgumentNullException.ThrowIfNull(tpm);
        var o = agentOptions ?? _options;
        var key = AgentInstance.NormalizePathBase(pathBase);
        if (_agents.ContainsKey(key))
        {
            tpm.Dispose();
            throw new ArgumentException($"an agent already serves path base '{key}'", nameof(pathBase));
        }

        if (tpm.IsSimulator)
        {
            AgentLog.SimulatorBackend(Logger, backendName ?? "(in-process)");
        }

        var gate = new TpmGate(o.MaxQueuedTpmRequests, TimeSpan.FromMilliseconds(o.MaxTpmWaitMilliseconds));
        var agentTpm = AgentTpm.Start(tpm, o.AkKeyAlgorithm, new TpmHandle(o.AkHandle), gate, Logger, o.EkKeyAlgorithm);
        var agent = new AgentInstance(key, agentTpm, hostname, o.UefiLog, o.ImaLog);
        if (!_agents.TryAdd(key, agent))
        {
            agent.Dispose();
            throw new ArgumentException($"an agent already serves path base '{key}'", nameof(pathBase));
        }

        return agent;
    }

    /// <summary>The agent serving <paramref name="path"/>: the longest registered path base that is a segment prefix of it.</summary>
    internal bool TryResolve(string path, out AgentInstance agent)
    {
        var end = path.Length;
        while (true)
        {
            var prefix = path[..end];
            if (_agents.TryGetValue(prefix, out agent!))
            {
                return true;
            }

            if (end == 0)
            {
                return false;
            }

            end = path.LastIndexOf('/', end - 1);
            if (end < 0)
            {
                end = 0;
            }
        }
    }

    private async Task ListenAsync(List<Uri> urls, CancellationToken cancellationToken)
    {
        // Issue 4 (idle RSS): the empty builder, not the slim one. The agent is configured by AgentOptions only, so it
        // needs none of the slim builder's configuration sources (appsettings.json with a reload-on-change file
        // watcher, DOTNET_/ASPNETCORE_ environment variables), host filtering or logging configuration: Kestrel core,
        // its HTTPS support and routing core are all it uses.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseKestrelCore().UseKestrelHttpsConfiguration();
        builder.Services.AddRoutingCore();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(LoggerFactory);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = AgentDefaults.MaxRequestBodyBytes;
            k.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            foreach (var url in urls)
            {
                var address = url.Host switch
                {
                    "0.0.0.0" or "*" or "+" => IPAddress.Any,
                    "[::]" => IPAddress.IPv6Any,
                    "localhost" => IPAddress.Loopback,
                    var h => IPAddress.TryParse(h.Trim('[', ']'), out var ip) ? ip : throw new AgentConfigurationException($"Urls: '{url}': the host must be an IP address"),
                };
                k.Listen(address, url.Port, lo => lo.UseHttps(ConfigureTls));
            }
        });

        var app = builder.Build();
        app.Use(RouteToAgent);
        app.UseRouting();
        AgentEndpoints.Map(app, this);
        app.MapFallback(context => new AgentProblem(404, AgentProblem.NotFound, "Not found", $"no endpoint {context.Request.Method} {context.Request.Path}").WriteAsync(context));
        await app.StartAsync(cancellationToken);
        _app = app;
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        Addresses = [.. bound.Select(a => new Uri(a.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal)))];
        foreach (var agent in _agents.Values)
        {
            AgentLog.Started(Logger, agent.PathBase.Length == 0 ? "/" : agent.PathBase, string.Join(", ", Addresses), TlsFingerprint);
        }

        if (_clientPolicy is null)
        {
            AgentLog.InsecureNoClientAuth(Logger);
            _insecureWarnings = WarnInsecureAsync(_stopping.Token);
        }
    }

    private void ConfigureTls(HttpsConnectionAdapterOptions https)
    {
        https.ServerCertificate = _certificate;
        https.SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
        https.CheckCertificateRevocation = false;
        if (_clientPolicy is null)
        {
            https.ClientCertificateMode = ClientCertificateMode.NoCertificate;
            return;
        }

        // Refused in the handshake: a client without a certificate chaining to the service CA never reaches HTTP.
        https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
        https.ClientCertificateValidation = (certificate, chain, _) =>
        {
            if (_clientPolicy.Validate(certificate, chain, out var reason))
            {
                return true;
            }

            AgentLog.ClientCertificateRefused(Logger, certificate.Subject, reason);
            return false;
        };
    }

    private async Task RouteToAgent(HttpContext context, RequestDelegate next)
    {
        var path = context.Request.Path.Value ?? "";
        if (TryResolve(path, out var agent))
        {
            context.Features.Set(agent);
            if (agent.PathBase.Length > 0)
            {
                context.Request.PathBase = context.Request.PathBase.Add(agent.PathBase);
                context.Request.Path = new PathString(path[agent.PathBase.Length..]);
            }
        }

        await next(context);

        // Routing's own refusals (405 for a wrong method) come without a body: give them the one envelope too.
        if (!context.Response.HasStarted && context.Response.StatusCode >= 400)
        {
            var status = context.Response.StatusCode;
            await new AgentProblem(status, status == 405 ? AgentProblem.MethodNotAllowed : AgentProblem.NotFound,
                status == 405 ? "Method not allowed" : "Request refused", $"{context.Request.Method} {context.Request.Path}: {status}").WriteAsync(context);
        }
    }

    private async Task WarnInsecureAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(AgentDefaults.InsecureWarningInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                AgentLog.InsecureNoClientAuth(Logger);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Waits until the host stops (Ctrl+C / SIGTERM when run by <c>trustpool agent</c>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) =>
        _app is null ? Task.CompletedTask : Microsoft.Extensions.Hosting.HostingAbstractionsHostExtensions.WaitForShutdownAsync(_app, cancellationToken);

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        // Idempotent: a second dispose (e.g. `await using` after an explicit stop) is a no-op.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (_insecureWarnings is not null)
        {
            await _insecureWarnings;
        }

        foreach (var agent in _agents.Values)
        {
            agent.Dispose();
        }

        _agents.Clear();
        _clientPolicy?.Dispose();
        _certificate.Dispose();
        _stopping.Dispose();
        LoggerFactory.Dispose();
    }
}
