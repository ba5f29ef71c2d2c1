using System.Net;
using System.Security.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using TrustPool.Server.Api;
using TrustPool.Server.Auth;
using TrustPool.Server.Compat;
using TrustPool.Server.Enrollment;
using TrustPool.Server.Observability;
using TrustPool.Server.Pki;
using TrustPool.Server.Storage;
using TrustPool.Tpm.Files;
using KestrelServerOptions = Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions;

namespace TrustPool.Server.Hosting;

/// <summary>Invalid service configuration: every problem at once.</summary>
public sealed class ServerConfigurationException : Exception
{
    public ServerConfigurationException(IReadOnlyList<string> errors)
        : base("invalid server configuration: " + string.Join("; ", errors)) => Errors = errors;

    public ServerConfigurationException()
        : this([])
    {
    }

    public ServerConfigurationException(string message)
        : this([message])
    {
    }

    public ServerConfigurationException(string message, Exception innerException)
        : base(message, innerException) => Errors = [message];

    public IReadOnlyList<string> Errors { get; }
}

/// <summary>
/// The attestation service (<c>trustpool server</c>): opens the store (migrations at start), loads or creates the
/// service CA, its TLS and agent-client certificates, the report-signing key and (first start) an admin token, and
/// serves the <c>/v1</c> API, OAT PollHosts, health, readiness and metrics over HTTPS while the polling loop
/// re-attests every host.
/// </summary>
public sealed class ServerHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _disposed;

    private ServerHost(WebApplication app, ILoggerFactory loggerFactory)
    {
        _app = app;
        Context = app.Services.GetRequiredService<ServerContext>();
        LoggerFactory = loggerFactory;
    }

    public ServerContext Context { get; }

    public ILoggerFactory LoggerFactory { get; }

    /// <summary>The bound https base URLs (with the real port when 0 was asked for).</summary>
    public IReadOnlyList<Uri> Addresses { get; private set; } = [];

    public string CaCertificatePath { get; private init; } = "";

    /// <summary>Every routed endpoint (for tests and the OpenAPI check).</summary>
    public IReadOnlyList<Microsoft.AspNetCore.Routing.RouteEndpoint> Endpoints =>
        [.. ((Microsoft.AspNetCore.Routing.IEndpointRouteBuilder)_app).DataSources.SelectMany(d => d.Endpoints).OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>()];

    public string AdminTokenPath { get; private init; } = "";

    public string ReportKeyPath { get; private init; } = "";

    /// <summary>True when this start created the CA, the signing key and the admin token (an empty data dir).</summary>
    public bool FirstStart { get; private set; }

    /// <summary>
    /// Validates the options (every error at once), opens the store (migrations before anything is served), builds the
    /// service in the container (<see cref="ServerServices"/>), creates the first admin token on an empty store, then
    /// listens; the background pieces start once it listens.
    /// </summary>
    public static async Task<ServerHost> StartAsync(ServerOptions options, Action<ILoggingBuilder>? logging = null, TimeProvider? time = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ServerConfigurationException(errors);
        }

        time ??= TimeProvider.System;
        var loggerFactory = Microsoft.Extensions.Logging.LoggerFactory.Create(b =>
        {
            b.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
            b.AddFilter("System.Net.Http", LogLevel.Warning);
            if (logging is null)
            {
                b.AddSimpleConsole(o => o.SingleLine = true);
            }
            else
            {
                logging(b);
            }
        });
        var logger = loggerFactory.CreateLogger("TrustPool.Server");
        ITrustStore? store = null;
        WebApplication? app = null;
        try
        {
            var data = Directory.CreateDirectory(options.DataDirectory).FullName;
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(data, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            foreach (var option in options.SecretsOnCommandLine)
            {
                ServerLog.SecretOnCommandLine(logger, option, SecretAlternatives(option));
            }

            store = await TrustStore.OpenAsync(options.Database, data, time, cancellationToken);
            ServerLog.DatabaseOpened(logger, store.Provider, ServerOptions.Redact(options.Database));

            var files = new ServerFiles(data);
            var urls = options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(u => new Uri(u)).ToList();
            app = Build(options, files, urls, store, time, logger, loggerFactory);
            // From here the container owns the store (and disposes it after everything built on it).
            _ = app.Services.GetRequiredService<ITrustStore>();
            store = null;

            // Build every piece now, in dependency order, so a bad key or CA file fails the start before anything is served.
            var host = new ServerHost(app, loggerFactory)
            {
                CaCertificatePath = app.Services.GetRequiredService<ServiceCa>().CertificatePath,
                AdminTokenPath = files.AdminToken,
                ReportKeyPath = files.ReportKey,
            };
            host.FirstStart = await CreateFirstAdminTokenAsync(host.Context, files, cancellationToken);

            if (options.EkTrustOnFirstUse)
            {
                ServerLog.TrustOnFirstUse(logger);
            }

            if (options.EkCaDirectory is not null)
            {
                // Read once here so an unreadable folder fails the start; enrollment re-reads it for every host.
                using var anchors = EkTrustAnchors.Load(options.EkCaDirectory);
                ServerLog.EkAnchorsLoaded(logger, anchors.Count, options.EkCaDirectory);
            }

            await app.StartAsync(cancellationToken);
            var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            host.Addresses = [.. bound.Select(a => new Uri(a.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal)))];
            ServerLog.Listening(logger, string.Join(", ", host.Addresses));
            return host;
        }
        catch
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }

            if (store is not null)
            {
                await store.DisposeAsync();
            }

            loggerFactory.Dispose();
            throw;
        }
    }

    /// <summary>An empty token set (first start): one admin token, written 0600 to the data directory and never logged.</summary>
    private static async Task<bool> CreateFirstAdminTokenAsync(ServerContext context, ServerFiles files, CancellationToken cancellationToken)
    {
        if ((await context.Store.ListTokensAsync(cancellationToken)).Count != 0)
        {
            return false;
        }

        var (_, token) = await context.Tokens.CreateAsync("admin (first start)", Role.Admin, actor: null, cancellationToken);
        AtomicFile.Write(files.AdminToken, token + "\n", AtomicFile.OwnerOnly);
        ServerLog.AdminTokenCreated(context.Logger, files.AdminToken);
        return true;
    }

    private static WebApplication Build(ServerOptions options, ServerFiles files, List<Uri> urls, ITrustStore store, TimeProvider time, ILogger logger,
        ILoggerFactory loggerFactory)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        // The host's own factory, disposed by the host after the container, so disposal can still log.
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddTrustPoolServer(options, files, urls, store, time, logger);
        builder.Services.ConfigureHttpJsonOptions(o => ApiJson.Configure(o.SerializerOptions));
        builder.Services.AddOpenApi();
        builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(ServerMetrics.MeterName).AddPrometheusExporter());
        builder.Services.AddOptions<KestrelServerOptions>().Configure<ServiceCertificates>((k, certificates) =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = 32 << 20;
            foreach (var url in urls)
            {
                var address = url.Host switch
                {
                    "0.0.0.0" or "*" or "+" => IPAddress.Any,
                    "[::]" => IPAddress.IPv6Any,
                    "localhost" => IPAddress.Loopback,
                    var h => IPAddress.TryParse(h.Trim('[', ']'), out var ip) ? ip : throw new ServerConfigurationException($"Urls: '{url}': the host must be an IP address"),
                };
                k.Listen(address, url.Port, lo => lo.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = certificates.Server,
                    SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    ClientCertificateMode = ClientCertificateMode.NoCertificate,
                }));
            }
        });

        var app = builder.Build();
        app.Use((http, next) => ErrorsAsProblemsAsync(http, next, logger));
        app.UseRouting();
        app.MapOpenApi();
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapGet("/healthz", () => Results.Json(new { status = "ok" })).ExcludeFromDescription();
        app.MapGet("/readyz", (Func<HttpContext, Task<IResult>>)(http => ReadyAsync(http, http.RequestServices.GetRequiredService<ServerContext>()))).ExcludeFromDescription();
        Dashboard.DashboardEndpoints.Map(app);
        var v1 = app.MapGroup("/v1");
        HostEndpoints.Map(v1);
        ReportEndpoints.Map(v1);
        BaselineEndpoints.Map(v1);
        PoolEndpoints.Map(v1);
        AdminEndpoints.Map(v1);
        Placements.PlacementEndpoints.Map(v1);
        AuditEndpoints.Map(v1);
        PollHostsEndpoint.Map(app);
        app.MapFallback(context => Problems.Result(404, ServiceErrors.NotFound, $"no endpoint {context.Request.Method} {context.Request.Path}").ExecuteAsync(context));
        return app;
    }

    /// <summary>Ready when the database answers; the polling loop's last round is reported alongside.</summary>
    private static async Task<IResult> ReadyAsync(HttpContext http, ServerContext context)
    {
        try
        {
            _ = await context.Store.GetHostAsync("readiness-probe", http.RequestAborted);
            // Placement being down is reported, never a reason to stop serving trust (attestation does not depend on it).
            return Results.Json(new { status = "ready", database = context.Store.Provider, lastRound = context.Polling.LastRoundAt, placement = context.Placement?.Status,
                siem = context.Siem is { } siem ? new { connected = siem.Forwarder.Connected, queued = siem.Queue.Count, dropped = siem.Queue.Dropped, lastError = siem.Forwarder.LastError } : null });
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Results.Json(new { status = "not-ready", database = context.Store.Provider, error = e.GetType().Name }, statusCode: 503);
        }
    }

    /// <summary>One error envelope: refusals as ProblemDetails with their status, anything unexpected as a logged 500.</summary>
    private static async Task ErrorsAsProblemsAsync(HttpContext context, RequestDelegate next, ILogger logger)
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (!context.Response.HasStarted && e is not OperationCanceledException)
        {
            var result = Problems.FromException(e);
            if (result is null)
            {
                ServerLog.Unhandled(logger, context.Request.Method, context.Request.Path, e);
                result = Problems.Result(500, ServiceErrors.Internal, "internal error; see the service log");
            }

            await result.ExecuteAsync(context);
        }
    }

    /// <summary>Where a secret given on the command line should come from instead (ServerOptions, SERVICE.md).</summary>
    private static string SecretAlternatives(string option) => option switch
    {
        "--noauth-token" => "--noauth-token-file FILE or TRUSTPOOL__Server__PlacementNoAuthToken",
        "--database" => "TRUSTPOOL__Server__Database, or PGPASSWORD / a passfile (Passfile=, PGPASSFILE, ~/.pgpass) without Password= in the string",
        _ => "a file or an environment variable",
    };

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Stops the server and the background pieces, then the container disposes every piece, the store last.
        await _app.StopAsync();
        await _app.DisposeAsync();
        LoggerFactory.Dispose();
    }
}
