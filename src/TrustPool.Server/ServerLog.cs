using Microsoft.Extensions.Logging;

namespace TrustPool.Server;

/// <summary>The service's log messages with stable event ids (STYLE.md: one file, source-generated).</summary>
internal static partial class ServerLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "listening on {Urls}")]
    public static partial void Listening(ILogger logger, string urls);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "database {Provider} {Database}, schema ready")]
    public static partial void DatabaseOpened(ILogger logger, string provider, string database);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "first start: created the service CA {Path} (give it to agents as --service-ca)")]
    public static partial void CaCreated(ILogger logger, string path);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "first start: created the report-signing key {Path}")]
    public static partial void ReportKeyCreated(ILogger logger, string path);

    [LoggerMessage(EventId = 104, Level = LogLevel.Warning, Message = "first start: wrote an admin token to {Path} (mode 0600)")]
    public static partial void AdminTokenCreated(ILogger logger, string path);

    [LoggerMessage(EventId = 105, Level = LogLevel.Warning, Message = "EK trust is tofu: EK certificates are not checked; every report says so (labs only)")]
    public static partial void TrustOnFirstUse(ILogger logger);

    [LoggerMessage(EventId = 106, Level = LogLevel.Information, Message = "{Count} EK CA certificate(s) loaded from {Directory}")]
    public static partial void EkAnchorsLoaded(ILogger logger, int count, string directory);

    [LoggerMessage(EventId = 107, Level = LogLevel.Warning, Message = "{Option} was given on the command line, which every local user can read (ps, /proc/PID/cmdline); use {Instead}")]
    public static partial void SecretOnCommandLine(ILogger logger, string option, string instead);

    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "host {Host} enrolled: agent {AgentUrl}, AK {AkName}, EK trust {EkTrust}")]
    public static partial void HostEnrolled(ILogger logger, string host, string agentUrl, string akName, string ekTrust);

    [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "host {Host} presents other TPM keys than at enrollment: re-enrollment required")]
    public static partial void KeysChanged(ILogger logger, string host);

    [LoggerMessage(EventId = 202, Level = LogLevel.Information, Message = "host {Host} removed")]
    public static partial void HostRemoved(ILogger logger, string host);

    [LoggerMessage(EventId = 203, Level = LogLevel.Information,
        Message = "host {Host} enrolled with the agent TLS certificate {Fingerprint} that host {Other} also presents (one agent serving several TPMs, or a relay)")]
    public static partial void SharedAgentCertificate(ILogger logger, string host, string other, string fingerprint);

    [LoggerMessage(EventId = 204, Level = LogLevel.Warning,
        Message = "host {Host}: its agent now presents the TPM keys of enrolled host {Other}: re-enrollment required")]
    public static partial void IdentityOfOtherHost(ILogger logger, string host, string other);

    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "host {Host}: agent {Failure}: {Detail}")]
    public static partial void AgentFailed(ILogger logger, string host, string failure, string detail);

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "host {Host} trust {Previous} -> {Current} (report {ReportId}) {Reasons}")]
    public static partial void TrustChanged(ILogger logger, string host, string previous, string current, string reportId, string reasons);

    [LoggerMessage(EventId = 302, Level = LogLevel.Error, Message = "attestation of {Host} failed")]
    public static partial void AttestationFailed(ILogger logger, string host, Exception exception);

    [LoggerMessage(EventId = 303, Level = LogLevel.Information, Message = "attestation round: {Count} host(s) in {Milliseconds:0} ms")]
    public static partial void RoundDone(ILogger logger, int count, double milliseconds);

    [LoggerMessage(EventId = 304, Level = LogLevel.Error, Message = "attestation round failed")]
    public static partial void RoundFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 305, Level = LogLevel.Information, Message = "attesting {Count} trusted host(s) again at once: {Reason}")]
    public static partial void Reattesting(ILogger logger, int count, string reason);

    [LoggerMessage(EventId = 306, Level = LogLevel.Error, Message = "attesting trusted hosts again after a change failed (the polling round retries)")]
    public static partial void ReattestationFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "webhook {Id} {Url}: {Detail}")]
    public static partial void WebhookFailed(ILogger logger, string id, string url, string detail);

    [LoggerMessage(EventId = 401, Level = LogLevel.Error, Message = "a trust-change subscriber failed")]
    public static partial void SubscriberFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 450, Level = LogLevel.Warning, Message = "Placement sync of {Host}: {Detail}")]
    public static partial void PlacementFailed(ILogger logger, string host, string detail);

    [LoggerMessage(EventId = 451, Level = LogLevel.Information, Message = "Placement: {Host} now carries [{Traits}]")]
    public static partial void PlacementSynced(ILogger logger, string host, string traits);

    [LoggerMessage(EventId = 452, Level = LogLevel.Debug, Message = "Placement has no resource provider named {Host}")]
    public static partial void PlacementNoProvider(ILogger logger, string host);

    [LoggerMessage(EventId = 460, Level = LogLevel.Warning, Message = "syslog {Target}: {Detail} (will retry; events are queued on disk)")]
    public static partial void SyslogFailed(ILogger logger, string target, string detail);

    [LoggerMessage(EventId = 461, Level = LogLevel.Information, Message = "syslog {Target} connected (TLS {Tls})")]
    public static partial void SyslogConnected(ILogger logger, string target, bool tls);

    [LoggerMessage(EventId = 500, Level = LogLevel.Error, Message = "unhandled error serving {Method} {Path}")]
    public static partial void Unhandled(ILogger logger, string method, string path, Exception exception);
}
