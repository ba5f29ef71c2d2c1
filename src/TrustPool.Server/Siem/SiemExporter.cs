using System.Globalization;
using System.Text.Json.Nodes;
using TrustPool.Attestation;
using TrustPool.Audit.Siem;
using TrustPool.Server.Audit;
using TrustPool.Server.Events;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Siem;

/// <summary>
/// Turns the service's security events into SIEM lines (RFC 5424 or CEF) on the on-disk queue that the
/// <see cref="SyslogForwarder"/> delivers. Every trust change and every committed audit record.
/// </summary>
public sealed class SiemExporter : IAsyncDisposable
{
    private readonly DiskQueue _queue;
    private readonly SyslogForwarder _forwarder;
    private readonly string _format;
    private readonly string _hostname = Environment.MachineName;
    private readonly TimeProvider _time;

    public SiemExporter(SyslogTarget target, string queueDirectory, TimeProvider time, Microsoft.Extensions.Logging.ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(target);
        _format = target.Format;
        _time = time;
        _queue = new DiskQueue(queueDirectory);
        _forwarder = new SyslogForwarder(target, _queue, logger);
    }

    public DiskQueue Queue => _queue;

    public SyslogForwarder Forwarder => _forwarder;

    public void Attach(TrustEvents events) => events.Changed += OnTrustChanged;

    /// <summary>Every audit record the store commits becomes one SIEM event (type = record type).</summary>
    public void Attach(ITrustStore store) => store.AuditCommitted += OnAuditCommitted;

    private void OnAuditCommitted(IReadOnlyList<AuditEntry> entries)
    {
        foreach (var e in entries)
        {
            var fields = new List<KeyValuePair<string, string>>
            {
                new("auditIndex", e.Index.ToString(CultureInfo.InvariantCulture)),
                new("leafHash", Convert.ToBase64String(e.LeafHash)),
            };
            foreach (var (k, v) in e.Record.Fields)
            {
                fields.Add(new(k, v is JsonValue jv && jv.TryGetValue<string>(out var str) ? str : v?.ToJsonString() ?? "null"));
            }

            Publish(e.Record.Type, SiemSeverity.Informational, $"audit {e.Record.Type} #{e.Index}", fields);
        }
    }

    private void OnTrustChanged(TrustChange c)
    {
        var severity = c.Current switch
        {
            TrustLevel.Trusted => SiemSeverity.Notice,
            TrustLevel.Untrusted => SiemSeverity.Error,
            _ => SiemSeverity.Warning,
        };
        Publish("trust.changed", severity, $"host {c.Host} trust {(c.Previous?.ToString() ?? "none").ToLowerInvariant()} -> {c.Current.ToString().ToLowerInvariant()}",
        [
            new("host", c.Host),
            new("previous", c.Previous?.ToString().ToLowerInvariant() ?? "none"),
            new("trust", c.Current.ToString().ToLowerInvariant()),
            new("report", c.ReportId),
            new("reasons", string.Join("; ", c.Reasons)),
        ]);
    }

    /// <summary>Queues one event; the sequence number is assigned here, gap-free per data directory.</summary>
    public long? Publish(string type, SiemSeverity severity, string message, IReadOnlyList<KeyValuePair<string, string>> fields)
    {
        var at = _time.GetUtcNow();
        return _queue.Append(seq =>
        {
            var e = new SiemEvent(seq, at, type, severity, message, fields);
            return _format == "cef" ? Cef.Format(e) : Rfc5424.Format(e, _hostname);
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _forwarder.DisposeAsync();
        _queue.Dispose();
    }
}
