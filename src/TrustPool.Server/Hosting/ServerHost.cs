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
using OpenTelemetry.Metrics;
using TrustPool.Attestation;
using TrustPool.Attestation.Baselines;
using TrustPool.Attestation.Pools;
using TrustPool.Attestation.Reports;
using TrustPool.Server.Agents;
using TrustPool.Server.Api;
using TrustPool.Server.Attesting;
using TrustPool.Server.Auth;
using TrustPool.Server.Compat;
using TrustPool.Server.Enrollment;
using TrustPool.Server.Events;
using TrustPool.Server.Observability;
using TrustPool.Server.Pki;
using TrustPool.Server.Storage;
using TrustPool.Tpm.Files;

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
    private readonly List<IAsyncDisposable> _asyncOwned = [];
    private readonly List<IDisposable> _owned = [];
    private WebApplication? _app;
    private int _disposed;

    private ServerHost(ServerContext context, ILoggerFactory loggerFactory)
    {
        Context = context;
        LoggerFactory = loggerFactory;
    }

    public ServerContext Context { get; }

    public ILoggerFactory LoggerFactory { get; }

    /// <summary>The bound https base URLs (with the real port when 0 was asked for).</summary>
    public IReadOnlyList<Uri> Addresses { get; private set; } = [];

    public string CaCertificatePath { get; private set; } = "";

    /// <summary>Every routed endpoint (for tests and the OpenAPI check).</summary>
    public IReadOnlyList<Microsoft.AspNetCore.Routing.RouteEndpoint> Endpoints =>
        _app is null ? [] : [.. ((Microsoft.AspNetCore.Routing.IEndpointRouteBuilder)_app).DataSources.SelectMany(d => d.Endpoints).OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>()];

    public string AdminTokenPath { get; private set; } = "";

    public string ReportKeyPath { get; private set; } = "";

    /// <summary>True when this start created the CA, the signing key and the admin token (an empty data dir).</summary>
    public bool FirstStart { get; private set; }

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
        var owned = new List<IDisposable>();
        var asyncOwned = new List<IAsyncDisposable>();
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

            var store = await TrustStore.OpenAsync(options.Database, data, cancellationToken, time);
            asyncOwned.Add(store);
            ServerLog.DatabaseOpened(logger, store.Provider, ServerOptions.Redact(options.Database));

            var ca = ServiceCa.LoadOrCreate(data, out var caCreated);
            owned.Add(ca);
            if (caCreated)
            {
                ServerLog.CaCreated(logger, ca.CertificatePath);
            }

            var urls = options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(u => new Uri(u)).ToList();
            var (dns, ips) = SubjectNames(urls);
            var serverCertificate = ca.LoadOrIssueServerCertificate(data, dns, ips);
            owned.Add(serverCertificate);
            var clientCertificate = ca.LoadOrIssueClientCertificate(data);
            owned.Add(clientCertificate);

            var keyPath = Path.Combine(data, ServerDefaults.ReportKeyFile);
            var signer = ReportKeyFile.LoadOrCreate(keyPath, out var keyCreated);
            owned.Add(signer);
            if (keyCreated)
            {
                ServerLog.ReportKeyCreated(logger, keyPath);
            }

            var tokens = new TokenService(store, time);
            var adminTokenPath = Path.Combine(data, ServerDefaults.AdminTokenFile);
            var firstStart = false;
            if ((await store.ListTokensAsync(cancellationToken)).Count == 0)
            {
                var (_, token) = await tokens.CreateAsync("admin (first start)", Role.Admin, cancellationToken);
                AtomicFile.Write(adminTokenPath, token + "\n", AtomicFile.OwnerOnly);
                ServerLog.AdminTokenCreated(logger, adminTokenPath);
                firstStart = true;
            }

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

            var agents = new AgentClient(clientCertificate, new AgentClientOptions { Timeout = options.RequestTimeout });
            owned.Add(agents);
            var auditKey = System.Security.Cryptography.ECDsa.Create();
            owned.Add(auditKey);
            auditKey.ImportFromPem(await File.ReadAllTextAsync(keyPath, cancellationToken));
            var audit = new Audit.AuditLog(auditKey, time, TimeSpan.FromSeconds(options.CheckpointIntervalSeconds));
            var writer = new ReportWriter(store);
            asyncOwned.Insert(0, writer);
            var events = new TrustEvents(store, logger);
            asyncOwned.Insert(0, events);
            var policy = new PolicyCache(store, time);
            var hostsByTrust = new HostsByTrust(time);
            var metrics = new ServerMetrics(hostsByTrust.Snapshot);
            owned.Add(metrics);
            var attestations = new AttestationService(store, agents, signer, policy, new NonceRegistry(time), writer, events, metrics, options, time, logger);
            owned.Add(attestations);
            attestations.Recorded += hostsByTrust.Apply;
            events.EnrollmentEnded += hostsByTrust.End;
            var polling = new PollingLoop(store, attestations, options, time, logger);
            asyncOwned.Insert(0, polling);
            var reattestation = new Reattestation(store, attestations, options, logger);
            asyncOwned.Insert(0, reattestation);
            policy.Invalidated += reattestation.PolicyChanged;
            OpenStack.PlacementSync? placement = null;
            if (options.OpenStackPlacement is not null)
            {
                Func<CancellationToken, Task<string>> token;
                // Secrets are read here, once, from the file or the value; never logged.
                if (options.ReadPlacementNoAuthToken() is { } noauth)
                {
                    token = _ => Task.FromResult(noauth);
                }
                else
                {
                    var keystone = new OpenStack.KeystoneToken(new OpenStack.KeystoneCredentials(new Uri(options.Keystone!), options.OsUsername!, options.ReadOsPassword()!,
                        options.OsProjectName!, options.OsUserDomainName, options.OsProjectDomainName), time);
                    owned.Add(keystone);
                    token = keystone.GetAsync;
                }

                placement = new OpenStack.PlacementSync(new OpenStack.PlacementClient(new Uri(options.OpenStackPlacement), token), store, time, logger,
                    TimeSpan.FromSeconds(options.PlacementReconcileSeconds));
                asyncOwned.Insert(0, placement);
            }

            Siem.SiemExporter? siem = null;
            if (options.Syslog is not null)
            {
                siem = new Siem.SiemExporter(Siem.SyslogTarget.Parse(options.Syslog, options.SyslogTls, options.SyslogFormat, options.SyslogCaFile),
                    Path.Combine(data, "siem-queue"), time, logger);
                asyncOwned.Insert(0, siem);
                siem.Attach(events);
                siem.Attach(store);
            }

            var context = new ServerContext
            {
                Siem = siem,
                Audit = audit,
                Placement = placement,
                Options = options,
                Time = time,
                Store = store,
                Agents = agents,
                Signer = signer,
                Tokens = tokens,
                Enrollment = new EnrollmentService(store, agents, options, time, logger),
                Attestations = attestations,
                Policy = policy,
                Events = events,
                Metrics = metrics,
                Polling = polling,
                Reattestation = reattestation,
                Logger = logger,
            };
            var host = new ServerHost(context, loggerFactory)
            {
                CaCertificatePath = ca.CertificatePath,
                AdminTokenPath = adminTokenPath,
                ReportKeyPath = keyPath,
                FirstStart = firstStart,
            };
            host._owned.AddRange(owned);
            host._asyncOwned.AddRange(asyncOwned);
            owned.Clear();
            asyncOwned.Clear();
            await host.ListenAsync(urls, serverCertificate, cancellationToken);
            await hostsByTrust.LoadAsync(store, cancellationToken);
            placement?.Start(events);
            polling.Start();
            return host;
        }
        catch
        {
            foreach (var d in asyncOwned)
            {
                await d.DisposeAsync();
            }

            foreach (var d in owned)
            {
                d.Dispose();
            }

            loggerFactory.Dispose();
            throw;
        }
    }

    private async Task ListenAsync(List<Uri> urls, X509Certificate2 certificate, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(LoggerFactory);
        builder.Services.AddSingleton(Context);
        builder.Services.AddSingleton(Context.Tokens);
        builder.Services.ConfigureHttpJsonOptions(o => ApiJson.Configure(o.SerializerOptions));
        builder.Services.AddOpenApi();
        builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(ServerMetrics.MeterName).AddPrometheusExporter());
        builder.WebHost.ConfigureKestrel(k =>
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
                    ServerCertificate = certificate,
                    SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    ClientCertificateMode = ClientCertificateMode.NoCertificate,
                }));
            }
        });

        var app = builder.Build();
        app.Use(ErrorsAsProblemsAsync);
        app.UseRouting();
        app.MapOpenApi();
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapGet("/healthz", () => Results.Json(new { status = "ok" })).ExcludeFromDescription();
        app.MapGet("/readyz", (Func<HttpContext, Task<IResult>>)ReadyAsync).ExcludeFromDescription();
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
        app.MapFallback(context => Problems.Result(404, "not-found", $"no endpoint {context.Request.Method} {context.Request.Path}").ExecuteAsync(context));
        await app.StartAsync(cancellationToken);
        _app = app;
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        Addresses = [.. bound.Select(a => new Uri(a.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal)))];
        ServerLog.Listening(Context.Logger, string.Join(", ", Addresses));
    }

    /// <summary>Ready when the database answers; the polling loop's last round is reported alongside.</summary>
    private async Task<IResult> ReadyAsync(HttpContext http)
    {
        try
        {
            _ = await Context.Store.GetHostAsync("readiness-probe", http.RequestAborted);
            // Placement being down is reported, never a reason to stop serving trust (attestation does not depend on it).
            return Results.Json(new { status = "ready", database = Context.Store.Provider, lastRound = Context.Polling.LastRoundAt, placement = Context.Placement?.Status,
                siem = Context.Siem is { } siem ? new { connected = siem.Forwarder.Connected, queued = siem.Queue.Count, dropped = siem.Queue.Dropped, lastError = siem.Forwarder.LastError } : null });
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Results.Json(new { status = "not-ready", database = Context.Store.Provider, error = e.GetType().Name }, statusCode: 503);
        }
    }

    /// <summary>One error envelope: refusals as ProblemDetails with their status, anything unexpected as a logged 500.</summary>
    private async Task ErrorsAsProblemsAsync(HttpContext context, RequestDelegate next)
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
                ServerLog.Unhandled(Context.Logger, context.Request.Method, context.Request.Path, e);
                result = Problems.Result(500, "internal", "internal error; see the service log");
            }

            await result.ExecuteAsync(context);
        }
    }

    private static (List<string> Dns, List<IPAddress> Ips) SubjectNames(List<Uri> urls)
    {
        var dns = new List<string> { "localhost", Environment.MachineName };
        var ips = new List<IPAddress> { IPAddress.Loopback, IPAddress.IPv6Loopback };
        foreach (var u in urls)
        {
            if (IPAddress.TryParse(u.Host.Trim('[', ']'), out var ip))
            {
                if (!ip.Equals(IPAddress.Any) && !ip.Equals(IPAddress.IPv6Any) && !ips.Contains(ip))
                {
                    ips.Add(ip);
                }
            }
            else if (!dns.Contains(u.Host, StringComparer.OrdinalIgnoreCase) && u.Host is not ("*" or "+"))
            {
                dns.Add(u.Host);
            }
        }

        return (dns, ips);
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

        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        foreach (var d in _asyncOwned)
        {
            await d.DisposeAsync();
        }

        foreach (var d in _owned)
        {
            d.Dispose();
        }

        LoggerFactory.Dispose();
    }

    /// <summary>
    /// Current trust per host for the <c>trustpool.hosts</c> gauge, from every stored report of the host's current
    /// enrollment; a report past its validTo counts as unknown at scrape time, like everywhere else. An ended enrollment
    /// (host removed or enrolled again) leaves the gauge at once, and a report of it stored later (an attestation that
    /// was in flight) is never counted.
    /// </summary>
    private sealed class HostsByTrust(TimeProvider time)
    {
        /// <summary>
        /// How long an ended enrollment is remembered: far longer than any attempt can take between reading the host and
        /// storing its report (request timeout and retries, bounded by the nonce lifetime on the evidence path).
        /// </summary>
        private static readonly TimeSpan s_endedKept = TimeSpan.FromHours(1);

        private readonly Lock _lock = new();
        private readonly Dictionary<string, (string Enrollment, string Trust, DateTimeOffset ValidTo)> _hosts = new(StringComparer.Ordinal);
        private readonly Dictionary<string, DateTimeOffset> _ended = new(StringComparer.Ordinal);

        public void Apply(ReportRecord r)
        {
            lock (_lock)
            {
                // A report without an enrollment (older rows) is nobody's current report; one of an ended enrollment never again.
                if (r.Enrollment is { } e && !_ended.ContainsKey(e))
                {
                    _hosts[r.Host] = (e, r.Trust, r.ValidTo);
                }
            }
        }

        public void End(string host, string? enrollment)
        {
            lock (_lock)
            {
                var now = time.GetUtcNow();
                foreach (var old in _ended.Where(kv => now - kv.Value > s_endedKept).Select(kv => kv.Key).ToList())
                {
                    _ended.Remove(old);
                }

                if (enrollment is not null)
                {
                    _ended[enrollment] = now;
                }

                // Not a report of the new enrollment that may already have been counted (re-enrolled, attested at once).
                if (_hosts.TryGetValue(host, out var v) && (enrollment is null || v.Enrollment == enrollment))
                {
                    _hosts.Remove(host);
                }
            }
        }

        /// <summary>Every level, 0 included: a series that stops being reported would keep its last value in the exporter.</summary>
        public IReadOnlyDictionary<TrustLevel, int> Snapshot()
        {
            var now = time.GetUtcNow();
            var counts = Enum.GetValues<TrustLevel>().ToDictionary(t => t, _ => 0);
            lock (_lock)
            {
                foreach (var v in _hosts.Values)
                {
                    counts[v.ValidTo <= now || !Enum.TryParse<TrustLevel>(v.Trust, true, out var t) ? TrustLevel.Unknown : t]++;
                }
            }

            return counts;
        }

        public async Task LoadAsync(ITrustStore store, CancellationToken ct)
        {
            foreach (var (_, report) in await store.GetLatestReportsAsync(ct))
            {
                lock (_lock)
                {
                    // Reports stored since the start won over what the store said then.
                    if (report.Enrollment is { } e && !_ended.ContainsKey(e))
                    {
                        _hosts.TryAdd(report.Host, (e, report.Trust, report.ValidTo));
                    }
                }
            }
        }
    }
}
