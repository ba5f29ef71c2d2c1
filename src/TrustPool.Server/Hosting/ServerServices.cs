using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TrustPool.Attestation.Reports;
using TrustPool.Server.Agents;
using TrustPool.Server.Attesting;
using TrustPool.Server.Auth;
using TrustPool.Server.Enrollment;
using TrustPool.Server.Events;
using TrustPool.Server.Observability;
using TrustPool.Server.OpenStack;
using TrustPool.Server.Pki;
using TrustPool.Server.Siem;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Hosting;

/// <summary>Where one service instance keeps its files (the data directory, created and 0700 before anything is read).</summary>
internal sealed record ServerFiles(string Data)
{
    public string ReportKey => Path.Combine(Data, ServerDefaults.ReportKeyFile);

    public string AdminToken => Path.Combine(Data, ServerDefaults.AdminTokenFile);

    public string SiemQueue => Path.Combine(Data, "siem-queue");
}

/// <summary>The service's TLS certificate (for its listen URLs) and the client certificate it shows agents, issued by the service CA.</summary>
internal sealed class ServiceCertificates(X509Certificate2 server, X509Certificate2 client) : IDisposable
{
    public X509Certificate2 Server { get; } = server;

    public X509Certificate2 Client { get; } = client;

    public void Dispose()
    {
        Server.Dispose();
        Client.Dispose();
    }
}

/// <summary>
/// The attestation service's object graph, registered in the container ASP.NET Core already brings (YP
/// <c>AddReverseProxy()</c>): every piece a singleton built from the others, files and keys loaded in its factory, the
/// container disposing them in the reverse order of their creation. <see cref="ServerHost"/> only composes.
/// </summary>
internal static class ServerServices
{
    /// <summary>The audit log's signing key (the report-signing key file, read a second time: ECDsa objects are not shared).</summary>
    private const string AuditKey = "audit";

    /// <summary>
    /// Registers the service. <paramref name="store"/> is opened (migrations applied) before the container exists,
    /// since opening is asynchronous; its factory hands it over, so the container disposes it last.
    /// </summary>
    public static IServiceCollection AddTrustPoolServer(this IServiceCollection services, ServerOptions options, ServerFiles files, IReadOnlyList<Uri> urls,
        ITrustStore store, TimeProvider time, ILogger logger)
    {
        services.AddSingleton(options);
        services.AddSingleton(files);
        services.AddSingleton(time);
        services.AddSingleton(logger);
        services.AddSingleton(_ => store);

        services.AddSingleton(_ =>
        {
            var ca = ServiceCa.LoadOrCreate(files.Data, out var created);
            if (created)
            {
                ServerLog.CaCreated(logger, ca.CertificatePath);
            }

            return ca;
        });
        services.AddSingleton(sp =>
        {
            var ca = sp.GetRequiredService<ServiceCa>();
            var (dns, ips) = SubjectNames(urls);
            var server = ca.LoadOrIssueServerCertificate(files.Data, dns, ips);
            try
            {
                return new ServiceCertificates(server, ca.LoadOrIssueClientCertificate(files.Data));
            }
            catch
            {
                server.Dispose();
                throw;
            }
        });
        services.AddSingleton(_ =>
        {
            var signer = ReportKeyFile.LoadOrCreate(files.ReportKey, out var created);
            if (created)
            {
                ServerLog.ReportKeyCreated(logger, files.ReportKey);
            }

            return signer;
        });
        services.AddKeyedSingleton(AuditKey, (sp, _) =>
        {
            // After the signer, which creates the file on first start.
            _ = sp.GetRequiredService<ReportSigner>();
            var key = ECDsa.Create();
            try
            {
                key.ImportFromPem(File.ReadAllText(files.ReportKey));
                return key;
            }
            catch
            {
                key.Dispose();
                throw;
            }
        });
        services.AddSingleton(sp => new Audit.AuditLog(sp.GetRequiredKeyedService<ECDsa>(AuditKey), time, TimeSpan.FromSeconds(options.CheckpointIntervalSeconds)));

        services.AddSingleton(sp => new TokenService(sp.GetRequiredService<ITrustStore>(), time));
        services.AddSingleton(sp => new AgentClient(sp.GetRequiredService<ServiceCertificates>().Client, new AgentClientOptions { Timeout = options.RequestTimeout }));
        services.AddSingleton(sp => new ReportWriter(sp.GetRequiredService<ITrustStore>()));
        services.AddSingleton(sp => new TrustEvents(sp.GetRequiredService<ITrustStore>(), logger));
        services.AddSingleton(sp => new PolicyCache(sp.GetRequiredService<ITrustStore>(), time));
        services.AddSingleton(sp =>
        {
            var hosts = new HostsByTrust(time);
            sp.GetRequiredService<TrustEvents>().EnrollmentEnded += hosts.End;
            return hosts;
        });
        services.AddSingleton(sp => new ServerMetrics(sp.GetRequiredService<HostsByTrust>().Snapshot));
        services.AddSingleton(sp =>
        {
            var attestations = new AttestationService(sp.GetRequiredService<ITrustStore>(), sp.GetRequiredService<AgentClient>(), sp.GetRequiredService<ReportSigner>(),
                sp.GetRequiredService<PolicyCache>(), new NonceRegistry(time), sp.GetRequiredService<ReportWriter>(), sp.GetRequiredService<TrustEvents>(),
                sp.GetRequiredService<ServerMetrics>(), options, time, logger);
            attestations.Recorded += sp.GetRequiredService<HostsByTrust>().Apply;
            return attestations;
        });
        services.AddSingleton(sp => new PollingLoop(sp.GetRequiredService<ITrustStore>(), sp.GetRequiredService<AttestationService>(), options, time, logger));
        services.AddSingleton(sp =>
        {
            var reattestation = new Reattestation(sp.GetRequiredService<ITrustStore>(), sp.GetRequiredService<AttestationService>(), options, logger);
            sp.GetRequiredService<PolicyCache>().Invalidated += reattestation.PolicyChanged;
            return reattestation;
        });
        services.AddSingleton(sp => new EnrollmentService(sp.GetRequiredService<ITrustStore>(), sp.GetRequiredService<AgentClient>(), options, time, logger));

        if (options.Syslog is not null)
        {
            services.AddSingleton(sp =>
            {
                var siem = new SiemExporter(SyslogTarget.Parse(options.Syslog, options.SyslogTls, options.SyslogFormat, options.SyslogCaFile), files.SiemQueue, time, logger);
                siem.Attach(sp.GetRequiredService<TrustEvents>());
                siem.Attach(sp.GetRequiredService<ITrustStore>());
                return siem;
            });
        }

        if (options.OpenStackPlacement is not null)
        {
            AddPlacement(services, options, store, time, logger);
        }

        services.AddSingleton(sp => new ServerContext
        {
            Siem = sp.GetService<SiemExporter>(),
            Audit = sp.GetRequiredService<Audit.AuditLog>(),
            Placement = sp.GetService<PlacementSync>(),
            Options = options,
            Time = time,
            Store = sp.GetRequiredService<ITrustStore>(),
            Agents = sp.GetRequiredService<AgentClient>(),
            Signer = sp.GetRequiredService<ReportSigner>(),
            Tokens = sp.GetRequiredService<TokenService>(),
            Enrollment = sp.GetRequiredService<EnrollmentService>(),
            Attestations = sp.GetRequiredService<AttestationService>(),
            Policy = sp.GetRequiredService<PolicyCache>(),
            Events = sp.GetRequiredService<TrustEvents>(),
            Metrics = sp.GetRequiredService<ServerMetrics>(),
            Polling = sp.GetRequiredService<PollingLoop>(),
            Reattestation = sp.GetRequiredService<Reattestation>(),
            Logger = logger,
        });

        // Background pieces start once the service listens, in this order (the gauge's reports first, then Placement,
        // then the polling loop); the container stops them when it disposes them.
        services.AddSingleton<IHostedService>(sp => new StartWhenListening(ct => sp.GetRequiredService<HostsByTrust>().LoadAsync(sp.GetRequiredService<ITrustStore>(), ct)));
        if (options.OpenStackPlacement is not null)
        {
            services.AddSingleton<IHostedService>(sp => new StartWhenListening(_ =>
            {
                sp.GetRequiredService<PlacementSync>().Start(sp.GetRequiredService<TrustEvents>());
                return Task.CompletedTask;
            }));
        }

        services.AddSingleton<IHostedService>(sp => new StartWhenListening(_ =>
        {
            sp.GetRequiredService<PollingLoop>().Start();
            return Task.CompletedTask;
        }));
        return services;
    }

    private static void AddPlacement(IServiceCollection services, ServerOptions options, ITrustStore store, TimeProvider time, ILogger logger)
    {
        // Secrets are read here, once, from the file or the value; never logged.
        Func<IServiceProvider, Func<CancellationToken, Task<string>>> token;
        if (options.ReadPlacementNoAuthToken() is { } noauth)
        {
            token = _ => _ => Task.FromResult(noauth);
        }
        else
        {
            services.AddSingleton(_ => new KeystoneToken(new KeystoneCredentials(new Uri(options.Keystone!), options.OsUsername!, options.ReadOsPassword()!,
                options.OsProjectName!, options.OsUserDomainName, options.OsProjectDomainName), time));
            token = sp => sp.GetRequiredService<KeystoneToken>().GetAsync;
        }

        services.AddSingleton(sp => new PlacementSync(new PlacementClient(new Uri(options.OpenStackPlacement!), token(sp)), store, time, logger,
            TimeSpan.FromSeconds(options.PlacementReconcileSeconds)));
    }

    /// <summary>The DNS names and addresses the service's TLS certificate carries: loopback, the machine name and every listen host.</summary>
    private static (List<string> Dns, List<IPAddress> Ips) SubjectNames(IReadOnlyList<Uri> urls)
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

    /// <summary>
    /// Starts a background piece after the server has started listening (<see cref="IHostedLifecycleService.StartedAsync"/>),
    /// as the hand-wired start did; stopping is the piece's own <c>DisposeAsync</c>, which the container calls.
    /// </summary>
    private sealed class StartWhenListening(Func<CancellationToken, Task> start) : IHostedLifecycleService
    {
        public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StartedAsync(CancellationToken cancellationToken) => start(cancellationToken);

        public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
