using Microsoft.Extensions.Logging;

namespace TrustPool.Agent;

/// <summary>Every log line of the agent, source-generated, with stable EventIds (STYLE.md, YP EventIds.cs). Never renumber.</summary>
internal static partial class AgentLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Agent {PathBase} listening on {Urls}; TLS certificate SHA-256 fingerprint {Fingerprint}")]
    public static partial void Started(ILogger logger, string pathBase, string urls, string fingerprint);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "TPM backend {Backend} is a simulator: its quotes prove nothing about real hardware")]
    public static partial void SimulatorBackend(ILogger logger, string backend);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Client authentication is OFF (--insecure-no-client-auth): anyone who reaches this port can ask the TPM for quotes")]
    public static partial void InsecureNoClientAuth(ILogger logger);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Created the TLS certificate {CertificateFile} (fingerprint {Fingerprint})")]
    public static partial void TlsCertificateCreated(ILogger logger, string certificateFile, string fingerprint);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "AK {Algorithm} at persistent handle {Handle} reused, name {Name}")]
    public static partial void AkReused(ILogger logger, string algorithm, string handle, string name);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "AK {Algorithm} created and made persistent at {Handle}, name {Name}")]
    public static partial void AkPersisted(ILogger logger, string algorithm, string handle, string name);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "AK could not be made persistent at {Handle} ({Reason}); using a transient primary key (same template, same key)")]
    public static partial void AkTransient(ILogger logger, string handle, string reason);

    [LoggerMessage(EventId = 8, Level = LogLevel.Information, Message = "No EK certificate in NV 0x{NvIndex:x8} ({Reason})")]
    public static partial void NoEkCertificate(ILogger logger, uint nvIndex, string reason);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "TPM command failed: {Message}")]
    public static partial void TpmFailed(ILogger logger, string message);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "TPM busy, answered 503: {Reason}")]
    public static partial void TpmQueueFull(ILogger logger, string reason);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "Client certificate {Subject} refused: {Reason}")]
    public static partial void ClientCertificateRefused(ILogger logger, string subject, string reason);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "Log file {Path} could not be read: {Reason}")]
    public static partial void LogFileUnreadable(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 13, Level = LogLevel.Error, Message = "Unexpected error serving {Path}")]
    public static partial void Unexpected(ILogger logger, string path, Exception exception);
}
