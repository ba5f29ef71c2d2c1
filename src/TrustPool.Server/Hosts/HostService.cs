using System.Text.Json;
using TrustPool.Server.Agents;
using TrustPool.Server.Api.Contracts;
using TrustPool.Server.Audit;
using TrustPool.Server.Auth;
using TrustPool.Server.Enrollment;
using TrustPool.Server.Hosting;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Hosts;

/// <summary>What attest-now gave: the new report, or the agent's failure and the report that still applies.</summary>
/// <param name="Report">The new report (with <c>agentFailure</c> when the agent failed and an unknown report was recorded).</param>
/// <param name="Failure">The agent's failure when no report was recorded.</param>
/// <param name="Current">Then, the host's latest report, which still holds.</param>
public sealed record AttestNowResult(ReportView? Report, AgentException? Failure, ReportRecord? Current);

/// <summary>
/// The host changes behind <c>/v1/hosts</c> (enroll, re-enroll, set tags, remove, attest now) and its reads, each one
/// unit of work: the rows, their audit records and, once committed, the side effects (trust cache, Placement sync,
/// events, re-attestation, log lines). Throws <see cref="ServiceException"/>; knows nothing of HTTP.
/// </summary>
public sealed class HostService
{
    private readonly ServerContext _s;

    public HostService(ServerContext s) => _s = s;

    /// <summary>Enrolls a new host; a new enrollment starts unknown, so the name's traits (an earlier host's) go once committed.</summary>
    public async Task<HostView> EnrollAsync(EnrollmentRequest request, Actor? actor, CancellationToken ct)
    {
        var host = await _s.Enrollment.EnrollAsync(request, reEnroll: false, actor, h => _s.Placement?.Enqueue(h.Name), ct);
        return HostView.From(host, null, _s);
    }

    /// <summary>
    /// Enrolls <paramref name="name"/> again (new keys, URL, pin or tags; absent members keep the current values). The
    /// reports of the previous enrollment no longer count: unknown (and no trusted traits) until attested again.
    /// </summary>
    public async Task<HostView> ReEnrollAsync(string name, ReEnrollHostRequest request, Actor? actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var existing = await _s.Store.GetHostAsync(name, ct) ?? throw ServiceException.NotFound($"host '{name}'");
        var url = request.AgentUrl ?? existing.AgentUrl;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var agentUrl) || agentUrl.Scheme != Uri.UriSchemeHttps)
        {
            throw ServiceException.Invalid("agentUrl", "must be an absolute https URL");
        }

        var tags = request.Tags ?? JsonSerializer.Deserialize<Dictionary<string, string>>(existing.TagsJson) ?? [];
        _s.Attestations.Forget(name);
        var host = await _s.Enrollment.EnrollAsync(new EnrollmentRequest(name, agentUrl, request.AgentCertFingerprint?.ToLowerInvariant(), tags),
            reEnroll: true, actor, _ =>
            {
                _s.Attestations.Forget(name);
                _s.Placement?.Enqueue(name);
                _s.Events.PublishEnrollmentEnded(name, existing.EnrollmentId);
            }, ct);
        return HostView.From(host, null, _s);
    }

    /// <summary>Removes a host: unknown at once everywhere (trust cache, Placement traits, the enrollment-ended event).</summary>
    public async Task RemoveAsync(string name, Actor? actor, CancellationToken ct)
    {
        await using var tx = await _s.Store.BeginAsync(ct);
        var removed = await tx.GetHostAsync(name);
        if (!await tx.DeleteHostAsync(name))
        {
            throw ServiceException.NotFound($"host '{name}'");
        }

        tx.Audit(AuditRecords.HostRemoved(removed, name, actor, _s.Now));
        tx.OnCommitted(() =>
        {
            _s.Attestations.Forget(name);
            _s.Placement?.Enqueue(name);
            _s.Events.PublishEnrollmentEnded(name, removed?.EnrollmentId);
            ServerLog.HostRemoved(_s.Logger, name);
        });
        await tx.CommitAsync();
    }

    /// <summary>Replaces a host's operator-asserted tags (audited with old and new values) and has it judged again.</summary>
    public async Task<HostView> SetTagsAsync(string name, IReadOnlyDictionary<string, string> tags, Actor? actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tags);
        await using var tx = await _s.Store.BeginAsync(ct);
        var host = await tx.GetHostAsync(name) ?? throw ServiceException.NotFound($"host '{name}'");
        var tagsJson = JsonSerializer.Serialize(new SortedDictionary<string, string>(tags.ToDictionary(), StringComparer.Ordinal));
        await tx.UpdateHostTagsAsync(name, tagsJson);

        // Tags change pool membership and placement and are only the operator's word: audited with old and new values.
        tx.Audit(AuditRecords.HostTagsChanged(name, host.TagsJson, tagsJson, actor, _s.Now));
        tx.OnCommitted(() =>
        {
            _s.Placement?.Enqueue(name);
            // A trusted report was judged against the old tags: a pool that required them must not keep trusting the host.
            _s.Reattestation.HostChanged(name);
        });
        await tx.CommitAsync();
        return HostView.From(host with { TagsJson = tagsJson }, null, _s);
    }

    /// <summary>Attests a host now.</summary>
    public async Task<AttestNowResult> AttestAsync(string name, CancellationToken ct)
    {
        var outcome = await _s.Attestations.AttestAsync(name, ct);
        if (outcome.Stored is not null)
        {
            return new(ReportView.From(outcome.Stored) with { AgentFailure = outcome.AgentFailure?.Message }, null, null);
        }

        // The agent failed and the previous report still holds: say so, with the report that still applies.
        return new(null, outcome.AgentFailure!, await _s.Store.GetLatestReportAsync(name, ct));
    }

    /// <summary>Every host with its trust as of now.</summary>
    public async Task<HostListView> ListAsync(CancellationToken ct)
    {
        var hosts = await _s.Store.ListHostsAsync(ct);
        var latest = await _s.Store.GetLatestReportsAsync(ct);
        return new([.. hosts.Select(h => HostView.From(h, latest.GetValueOrDefault(h.Name), _s))]);
    }

    /// <summary>One host with its latest report.</summary>
    public async Task<HostDetailView> ShowAsync(string name, CancellationToken ct)
    {
        var host = await _s.Store.GetHostAsync(name, ct) ?? throw ServiceException.NotFound($"host '{name}'");
        var latest = await _s.Store.GetLatestReportAsync(name, ct);
        return new HostDetailView(HostView.From(host, latest, _s), latest);
    }

    /// <summary>A host's latest report with its trust as of now.</summary>
    public async Task<ReportView> LatestReportAsync(string name, CancellationToken ct)
    {
        _ = await _s.Store.GetHostAsync(name, ct) ?? throw ServiceException.NotFound($"host '{name}'");
        var latest = await _s.Store.GetLatestReportAsync(name, ct) ?? throw ServiceException.NotFound($"a report for host '{name}'");
        return ReportView.From(latest) with { CurrentTrust = ReportView.TrustName(_s.Attestations.CurrentTrust(latest)) };
    }

    /// <summary>A host's reports, newest first, up to <paramref name="limit"/> (1..1000), verified before <paramref name="before"/>.</summary>
    public async Task<ReportHistoryView> ReportHistoryAsync(string name, int limit, DateTimeOffset? before, CancellationToken ct)
    {
        var reports = await _s.Store.ListReportsAsync(name, limit, before, ct);
        return new(name, [.. reports.Select(ReportView.From)]);
    }
}
