using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using TrustPool.Attestation;
using TrustPool.Attestation.Reports;
using TrustPool.Server.Agents;
using TrustPool.Server.Attesting;
using TrustPool.Server.Enrollment;
using TrustPool.Server.Events;
using TrustPool.Server.Observability;
using TrustPool.Server.Storage;
using TrustPool.Testing;

namespace TrustPool.Server.Tests.Fakes;

/// <summary>
/// The services on a SQLite store in a fresh temp directory, a manual clock and no network: what enrollment and
/// attestation unit tests build on. EK trust is trust-on-first-use (no vendor CA for the software TPM) and there are
/// no retries (a retry waits on the clock).
/// </summary>
internal sealed class ServiceBed : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly List<IDisposable> _ownedSync = [];

    private ServiceBed(ITrustStore store, ServerOptions options, ManualClock time)
    {
        Store = store;
        Options = options;
        Time = time;
    }

    public ITrustStore Store { get; }

    public ServerOptions Options { get; }

    public ManualClock Time { get; }

    public static async Task<ServiceBed> OpenAsync()
    {
        var dir = TestTemp.CreateDirectory("server-unit-");
        var options = new ServerOptions { DataDirectory = dir.FullName, EkTrust = "tofu", Retries = 0 };
        var time = new ManualClock();
        var store = await TrustStore.OpenAsync("sqlite:trust.db", dir.FullName, time: time);
        return new ServiceBed(store, options, time);
    }

    public EnrollmentService Enrollment(IAgentClient agent) => new(Store, agent, Options, Time, NullLogger.Instance);

    public AttestationService Attestation(IAgentClient agent)
    {
        var signer = ReportSigner.Create(ECDsa.Create(ECCurve.NamedCurves.nistP256));
        var writer = new ReportWriter(Store);
        var events = new TrustEvents(Store, NullLogger.Instance);
        var metrics = new ServerMetrics(() => new Dictionary<TrustLevel, int>());
        var service = new AttestationService(Store, agent, signer, new PolicyCache(Store, Time), new NonceRegistry(Time), writer, events, metrics,
            Options, Time, NullLogger.Instance);
        _ownedSync.Add(service);
        _ownedSync.Add(metrics);
        _ownedSync.Add(signer);
        _owned.Add(events);
        _owned.Add(writer);
        return service;
    }

    /// <summary>Enrolls <paramref name="agent"/>'s TPM as <paramref name="name"/>.</summary>
    public Task<HostRecord> EnrollAsync(IAgentClient agent, string name = "node1") =>
        Enrollment(agent).EnrollAsync(Request(name), reEnroll: false, actor: null, CancellationToken.None);

    public static EnrollmentRequest Request(string name) => new(name, FakeAgent.Url, null, new Dictionary<string, string>());

    public async ValueTask DisposeAsync()
    {
        foreach (var d in _ownedSync)
        {
            d.Dispose();
        }

        foreach (var d in _owned)
        {
            await d.DisposeAsync();
        }

        await Store.DisposeAsync();
    }
}
