namespace TrustPool.Audit.Records;

/// <summary>The audit record types the service writes (issue 7). Names are stable: they are hashed into the log.</summary>
public static class AuditRecordTypes
{
    /// <summary>A host was enrolled (EK and AK recorded).</summary>
    public const string HostEnrolled = "host.enrolled";

    /// <summary>A host was removed.</summary>
    public const string HostRemoved = "host.removed";

    /// <summary>A host must enroll again (for example its EK or AK changed).</summary>
    public const string HostReenrollmentRequired = "host.reenrollment-required";

    /// <summary>A baseline was created, edited or given a new version.</summary>
    public const string BaselineChanged = "baseline.changed";

    /// <summary>A pool's definition changed.</summary>
    public const string PoolChanged = "pool.changed";

    /// <summary>A trust report was issued.</summary>
    public const string ReportIssued = "report.issued";

    /// <summary>The scheduler placed a workload.</summary>
    public const string PlacementMade = "placement.made";

    /// <summary>A placement was released.</summary>
    public const string PlacementReleased = "placement.released";

    /// <summary>An evacuation was planned for a host that lost trust.</summary>
    public const string EvacuationPlanned = "evacuation.planned";

    // Operator assertions and authority (issue 13, hole 6): every write that can change a verdict, a placement or who may act.

    /// <summary>A host's tags (operator-asserted, they decide pool membership) were replaced: old and new values.</summary>
    public const string HostTagsChanged = "host.tags-changed";

    /// <summary>A host's inventory (operator-asserted capacity and power, used by the scheduler) was replaced.</summary>
    public const string HostInventoryChanged = "host.inventory-changed";

    /// <summary>An API token was created (id, name, role; never the token or its hash).</summary>
    public const string TokenCreated = "token.created";

    /// <summary>An API token was revoked.</summary>
    public const string TokenRevoked = "token.revoked";

    /// <summary>A webhook subscription was created (id, URL, events; never its HMAC secret).</summary>
    public const string WebhookCreated = "webhook.created";

    /// <summary>A webhook subscription was deleted.</summary>
    public const string WebhookDeleted = "webhook.deleted";

    /// <summary>Every type above.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        HostEnrolled, HostRemoved, HostReenrollmentRequired, BaselineChanged, PoolChanged, ReportIssued,
        PlacementMade, PlacementReleased, EvacuationPlanned,
        HostTagsChanged, HostInventoryChanged, TokenCreated, TokenRevoked, WebhookCreated, WebhookDeleted,
    ];

    /// <summary>Whether <paramref name="type"/> is one of <see cref="All"/>.</summary>
    public static bool IsKnown(string type) => All.Contains(type, StringComparer.Ordinal);
}
