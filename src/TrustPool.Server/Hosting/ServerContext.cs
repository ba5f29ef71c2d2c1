using TrustPool.Attestation.Reports;
using TrustPool.Server.Agents;
using TrustPool.Server.Attesting;
using TrustPool.Server.Auth;
using TrustPool.Server.Baselines;
using TrustPool.Server.Enrollment;
using TrustPool.Server.Events;
using TrustPool.Server.Observability;
using TrustPool.Server.Pools;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Hosting;

/// <summary>Everything the endpoints use, built once at start (one per service instance).</summary>
public sealed class ServerContext
{
    public required ServerOptions Options { get; init; }

    public required TimeProvider Time { get; init; }

    public required ITrustStore Store { get; init; }

    public required AgentClient Agents { get; init; }

    public required ReportSigner Signer { get; init; }

    public required TokenService Tokens { get; init; }

    public required EnrollmentService Enrollment { get; init; }

    public required AttestationService Attestations { get; init; }

    public required PolicyCache Policy { get; init; }

    public required TrustEvents Events { get; init; }

    public required ServerMetrics Metrics { get; init; }

    public required PollingLoop Polling { get; init; }

    /// <summary>Attests trusted hosts again at once after a change that can narrow their verdict.</summary>
    public required Reattestation Reattestation { get; init; }

    public required Microsoft.Extensions.Logging.ILogger Logger { get; init; }

    /// <summary>The native scheduler (pure: filters and weighers over host views).</summary>
    public TrustPool.Scheduling.Scheduler Scheduler { get; init; } = new();

    /// <summary>SIEM export (syslog / CEF), when configured.</summary>
    public Siem.SiemExporter? Siem { get; init; }

    /// <summary>The Merkle audit log's checkpoints, proofs and reads (changes record on their store transaction).</summary>
    public required global::TrustPool.Server.Audit.AuditLog Audit { get; init; }

    /// <summary>OpenStack Placement trait sync, when configured.</summary>
    public OpenStack.PlacementSync? Placement { get; init; }

    /// <summary>Placements, evacuation plans and host inventory (the write sequences with their audit records).</summary>
    public Placements.PlacementService Placements => field ??= new(this);

    /// <summary>API tokens and webhook subscriptions (the write sequences with their audit records).</summary>
    public AdminService Admin => field ??= new(this);

    /// <summary>Baseline changes (each one transaction with its audit records) and reads.</summary>
    public BaselineService Baselines => field ??= new(this);

    /// <summary>Pool changes (each one transaction with its audit record) and reads.</summary>
    public PoolService Pools => field ??= new(this);

    /// <summary>Host changes and reads behind <c>/v1/hosts</c> (one unit of work each).</summary>
    public global::TrustPool.Server.Hosts.HostService Hosts => field ??= new(this);

    /// <summary>Report reads behind <c>/v1/reports</c>.</summary>
    public global::TrustPool.Server.Hosts.ReportService Reports => field ??= new(this);

    public DateTimeOffset Now => Time.GetUtcNow();
}
