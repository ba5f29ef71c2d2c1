using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using TrustPool.Server.Audit;
using TrustPool.Server.Auth;
using TrustPool.Server.Enrollment;
using TrustPool.Server.Hosting;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Api;

/// <summary><c>/v1/hosts</c>: enroll, list, show, attest now, re-enroll, tags, reports, remove.</summary>
public static class HostEndpoints
{
    public static void Map(IEndpointRouteBuilder v1)
    {
        v1.MapPost("/hosts", EnrollAsync).RequireRole(Role.Operator).WithName("EnrollHost");
        v1.MapGet("/hosts", ListAsync).RequireRole(Role.Reader).WithName("ListHosts");
        v1.MapGet("/hosts/{name}", ShowAsync).RequireRole(Role.Reader).WithName("ShowHost");
        v1.MapDelete("/hosts/{name}", RemoveAsync).RequireRole(Role.Operator).WithName("RemoveHost");
        v1.MapPost("/hosts/{name}/attest", AttestAsync).RequireRole(Role.Operator).WithName("AttestHost");
        v1.MapPost("/hosts/{name}/enroll", ReEnrollAsync).RequireRole(Role.Operator).WithName("ReEnrollHost");
        v1.MapPut("/hosts/{name}/tags", SetTagsAsync).RequireRole(Role.Operator).WithName("SetHostTags");
        v1.MapGet("/hosts/{name}/report", LatestReportAsync).RequireRole(Role.Reader).WithName("LatestReport");
        v1.MapGet("/hosts/{name}/reports", ReportHistoryAsync).RequireRole(Role.Reader).WithName("ReportHistory");
    }

    private static async Task<IResult> EnrollAsync(HttpContext http, ServerContext s)
    {
        using var body = await JsonBody.ReadAsync(http.Request);
        var request = EnrollmentService.ParseRequest(body);
        var host = await s.Enrollment.EnrollAsync(request, reEnroll: false, RoleFilter.ActorOf(http), http.RequestAborted);
        // A new enrollment starts unknown: the name's traits (if an earlier host of this name left any) go now.
        s.Placement?.Enqueue(host.Name);
        return Results.Created($"/v1/hosts/{host.Name}", View(host, null, s));
    }

    private static async Task<IResult> ReEnrollAsync(HttpContext http, ServerContext s, string name)
    {
        var existing = await s.Store.GetHostAsync(name, http.RequestAborted) ?? throw ServiceException.NotFound($"host '{name}'");
        using var body = await JsonBody.ReadAsync(http.Request);
        var url = body.OptionalString("agentUrl", 2048) ?? existing.AgentUrl;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var agentUrl) || agentUrl.Scheme != Uri.UriSchemeHttps)
        {
            throw ServiceException.Invalid("agentUrl", "must be an absolute https URL");
        }

        var fingerprint = body.OptionalString("agentCertFingerprint", 128);
        if (fingerprint is not null && !EnrollmentService.IsFingerprint(fingerprint))
        {
            throw ServiceException.Invalid("agentCertFingerprint", "must be the 64 hex digits of a SHA-256");
        }

        var tags = body.OptionalStringMap("tags") ?? JsonSerializer.Deserialize<Dictionary<string, string>>(existing.TagsJson) ?? [];
        s.Attestations.Forget(name);
        var host = await s.Enrollment.EnrollAsync(new EnrollmentRequest(name, agentUrl, fingerprint?.ToLowerInvariant(), tags), reEnroll: true, RoleFilter.ActorOf(http), http.RequestAborted);
        // The reports of the previous enrollment no longer count: unknown (and no trusted traits) until attested again.
        s.Attestations.Forget(name);
        s.Placement?.Enqueue(name);
        s.Events.PublishEnrollmentEnded(name, existing.EnrollmentId);
        return Results.Ok(View(host, null, s));
    }

    private static async Task<IResult> ListAsync(HttpContext http, ServerContext s)
    {
        var hosts = await s.Store.ListHostsAsync(http.RequestAborted);
        var latest = await s.Store.GetLatestReportsAsync(http.RequestAborted);
        return Results.Json(new JsonObject { ["hosts"] = new JsonArray([.. hosts.Select(h => (JsonNode)View(h, latest.GetValueOrDefault(h.Name), s))]) });
    }

    private static async Task<IResult> ShowAsync(HttpContext http, ServerContext s, string name)
    {
        var host = await s.Store.GetHostAsync(name, http.RequestAborted) ?? throw ServiceException.NotFound($"host '{name}'");
        var latest = await s.Store.GetLatestReportAsync(name, http.RequestAborted);
        var view = View(host, latest, s);
        view["report"] = latest is null ? null : ReportEndpoints.ReportNode(latest);
        return Results.Json(view);
    }

    private static async Task<IResult> RemoveAsync(HttpContext http, ServerContext s, string name)
    {
        await using var tx = await s.Store.BeginAsync(http.RequestAborted);
        var removed = await tx.GetHostAsync(name);
        if (!await tx.DeleteHostAsync(name))
        {
            throw ServiceException.NotFound($"host '{name}'");
        }

        tx.Audit(AuditRecords.HostRemoved(removed, name, RoleFilter.ActorOf(http), s.Now));
        await tx.CommitAsync();
        s.Attestations.Forget(name);
        s.Placement?.Enqueue(name);
        s.Events.PublishEnrollmentEnded(name, removed?.EnrollmentId);
        ServerLog.HostRemoved(s.Logger, name);
        return Results.NoContent();
    }

    private static async Task<IResult> AttestAsync(HttpContext http, ServerContext s, string name)
    {
        var outcome = await s.Attestations.AttestAsync(name, http.RequestAborted);
        if (outcome.Stored is not null)
        {
            var node = ReportEndpoints.ReportNode(outcome.Stored);
            if (outcome.AgentFailure is not null)
            {
                node["agentFailure"] = outcome.AgentFailure.Message;
            }

            return Results.Json(node);
        }

        // The agent failed and the previous report still holds: say so, with the report that still applies.
        var failure = outcome.AgentFailure!;
        var latest = await s.Store.GetLatestReportAsync(name, http.RequestAborted);
        return Problems.Result(502, "agent-" + failure.Failure.ToString().ToLowerInvariant(), $"agent: {failure.Message}",
            extensions: new Dictionary<string, object?> { ["currentReportId"] = latest?.Id, ["currentTrust"] = latest?.Trust, ["validTo"] = latest?.ValidTo });
    }

    private static async Task<IResult> SetTagsAsync(HttpContext http, ServerContext s, string name)
    {
        using var body = await JsonBody.ReadAsync(http.Request);
        var tags = body.OptionalStringMap("tags") ?? throw ServiceException.Invalid("tags", "is required (an object of strings)");
        await using var tx = await s.Store.BeginAsync(http.RequestAborted);
        var host = await tx.GetHostAsync(name) ?? throw ServiceException.NotFound($"host '{name}'");
        var tagsJson = JsonSerializer.Serialize(new SortedDictionary<string, string>(tags.ToDictionary(), StringComparer.Ordinal));
        await tx.UpdateHostTagsAsync(name, tagsJson);

        // Tags change pool membership and placement and are only the operator's word: audited with old and new values.
        tx.Audit(AuditRecords.HostTagsChanged(name, host.TagsJson, tagsJson, RoleFilter.ActorOf(http), s.Now));
        await tx.CommitAsync();
        s.Placement?.Enqueue(name);
        // A trusted report was judged against the old tags: a pool that required them must not keep trusting the host.
        s.Reattestation.HostChanged(name);
        return Results.Ok(View(host with { TagsJson = tagsJson }, null, s));
    }

    private static async Task<IResult> LatestReportAsync(HttpContext http, ServerContext s, string name)
    {
        _ = await s.Store.GetHostAsync(name, http.RequestAborted) ?? throw ServiceException.NotFound($"host '{name}'");
        var latest = await s.Store.GetLatestReportAsync(name, http.RequestAborted) ?? throw ServiceException.NotFound($"a report for host '{name}'");
        var node = ReportEndpoints.ReportNode(latest);
        node["currentTrust"] = s.Attestations.CurrentTrust(latest).ToString().ToLowerInvariant();
        return Results.Json(node);
    }

    private static async Task<IResult> ReportHistoryAsync(HttpContext http, ServerContext s, string name, int? limit, string? before)
    {
        var n = limit ?? 50;
        if (n is < 1 or > 1000)
        {
            throw ServiceException.Invalid("limit", "must be 1..1000");
        }

        DateTimeOffset? until = null;
        if (before is not null)
        {
            if (!DateTimeOffset.TryParse(before, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var b))
            {
                throw ServiceException.Invalid("before", "must be an ISO 8601 time");
            }

            until = b;
        }

        var reports = await s.Store.ListReportsAsync(name, n, until, http.RequestAborted);
        return Results.Json(new JsonObject { ["host"] = name, ["reports"] = new JsonArray([.. reports.Select(r => (JsonNode)ReportEndpoints.ReportNode(r))]) });
    }

    /// <summary>
    /// A host as the API shows it, with its trust as of now (an expired report means unknown). Its tags are labelled
    /// <c>tagSource: asserted</c>: an operator set them, the TPM never attested them.
    /// </summary>
    public static JsonObject View(HostRecord h, ReportRecord? latest, ServerContext s) => new()
    {
        ["name"] = h.Name,
        ["agentUrl"] = h.AgentUrl,
        ["tlsFingerprint"] = h.TlsFingerprint,
        ["akName"] = Convert.ToHexStringLower(h.AkName),
        ["ekCertificate"] = h.EkCertificate is not null,
        ["ekTrust"] = h.EkTrust,
        ["state"] = h.State,
        ["tags"] = JsonNode.Parse(h.TagsJson),
        ["tagSource"] = AuditRecords.TagSourceAsserted,
        ["enrolledAt"] = h.EnrolledAt,
        ["trust"] = s.Attestations.CurrentTrust(latest).ToString().ToLowerInvariant(),
        ["reportId"] = latest?.Id,
        ["verifiedAt"] = latest?.VerifiedAt,
        ["validTo"] = latest?.ValidTo,
    };
}
