using System.Security.Cryptography;
using TrustPool.Attestation;
using TrustPool.Attestation.Reports;
using TrustPool.Server.Api.Contracts;
using TrustPool.Server.Hosting;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Hosts;

/// <summary>The reads behind <c>/v1/reports</c>: a report by id with its trust as of now, and checking a report's signature.</summary>
public sealed class ReportService
{
    private readonly ServerContext _s;

    public ReportService(ServerContext s) => _s = s;

    /// <summary>A report by id; a report of a removed host, or of an earlier enrollment of its name, is history: its current trust is unknown.</summary>
    public async Task<ReportView> GetAsync(string id, CancellationToken ct)
    {
        if (id is null || id.Length > 64)
        {
            throw ServiceException.Invalid("id", "is not a report id");
        }

        var r = await _s.Store.GetReportAsync(id, ct) ?? throw ServiceException.NotFound($"report '{id}'");
        var host = await _s.Store.GetHostAsync(r.Host, ct);
        var current = IsCurrentEnrollment(host, r.Enrollment) ? _s.Attestations.CurrentTrust(r) : TrustLevel.Unknown;
        return ReportView.From(r) with { CurrentTrust = ReportView.TrustName(current) };
    }

    /// <summary>Checks a report's signature with this service's key and says whether it is still inside its validity window.</summary>
    public async Task<VerifyReportResult> VerifyAsync(string jws, CancellationToken ct)
    {
        using var key = ECDsa.Create();
        key.ImportFromPem(_s.Signer.PublicKeyPem());
        TrustPool.Attestation.Evaluation.TrustReport report;
        try
        {
            report = ReportJws.Verify(jws, key);
        }
        catch (ReportSignatureException e)
        {
            return new(false, false, e.Message);
        }

        var now = _s.Now;
        var fresh = report.ValidFrom <= now && now < report.ValidTo;
        var enrolled = IsCurrentEnrollment(await _s.Store.GetHostAsync(report.Host, ct), report.Enrollment);
        var reason = !fresh ? "ReportExpired: the report is outside its validity window"
            : !enrolled ? $"NotCurrentEnrollment: host '{report.Host}' was removed or enrolled again since this report" : null;
        return new(true, fresh && enrolled, reason) { Report = ReportPayload.From(report) };
    }

    /// <summary>True when <paramref name="enrollment"/> (a report's) is the current enrollment of <paramref name="host"/>.</summary>
    public static bool IsCurrentEnrollment(HostRecord? host, string? enrollment) =>
        host?.EnrollmentId is { } current && enrollment is not null && string.Equals(current, enrollment, StringComparison.Ordinal);
}
