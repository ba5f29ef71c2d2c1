using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using TrustPool.Attestation;
using TrustPool.Attestation.Evaluation;
using TrustPool.Attestation.Reports;
using TrustPool.Attestation.Verification;
using TrustPool.Server.Agents;
using TrustPool.Server.Api;
using TrustPool.Server.Enrollment;
using TrustPool.Server.Events;
using TrustPool.Server.Observability;
using TrustPool.Server.Audit;
using TrustPool.Server.Storage;
using TrustPool.Tpm.Quotes;
using TrustPool.Tpm.Structures;

namespace TrustPool.Server.Attesting;

/// <summary>The outcome of one attestation attempt: the report written (if any) and the agent failure (if any).</summary>
public sealed record AttestationOutcome(TrustReport? Report, ReportRecord? Stored, AgentException? AgentFailure);

/// <summary>
/// Attests one host: nonce → quote over mTLS → verify (signature with the enrolled AK, nonce, PCR digest, clock,
/// logs) → evaluate every pool → sign → store. A host whose agent cannot be reached keeps its last report until it
/// expires, then gets an <c>unknown</c> report: an unreachable host never stays trusted.
/// </summary>
public sealed class AttestationService : IDisposable
{
    private readonly ITrustStore _store;
    private readonly IAgentClient _agents;
    private readonly ReportSigner _signer;
    private readonly PolicyCache _policy;
    private readonly NonceRegistry _nonces;
    private readonly ReportWriter _writer;
    private readonly TrustEvents _events;
    private readonly ServerMetrics _metrics;
    private readonly ServerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, (string AkName, AttestationKey Key, string? Weak)> _keys = new(StringComparer.Ordinal);
    /// <summary>The last trust written per host, with the enrollment it belonged to: a new enrollment's first report is always a change.</summary>
    private readonly ConcurrentDictionary<string, (string? Enrollment, TrustLevel Trust)> _lastTrust = new(StringComparer.Ordinal);

    public AttestationService(ITrustStore store, IAgentClient agents, ReportSigner signer, PolicyCache policy, NonceRegistry nonces, ReportWriter writer,
        TrustEvents events, ServerMetrics metrics, ServerOptions options, TimeProvider time, ILogger logger)
    {
        _store = store;
        _agents = agents;
        _signer = signer;
        _policy = policy;
        _nonces = nonces;
        _writer = writer;
        _events = events;
        _metrics = metrics;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Every report once it is stored (metrics keep the current trust per host from it).</summary>
    public event Action<ReportRecord>? Recorded;

    /// <summary>Attests <paramref name="hostName"/> now (API "attest now" and the polling loop).</summary>
    public async Task<AttestationOutcome> AttestAsync(string hostName, CancellationToken ct)
    {
        var host = await _store.GetHostAsync(hostName, ct) ?? throw ServiceException.NotFound($"host '{hostName}'");
        return await AttestAsync(host, ct);
    }

    public async Task<AttestationOutcome> AttestAsync(HostRecord host, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var context = Context(host);
        if (host.State != HostStates.Enrolled)
        {
            var r = Evaluator.Unknown(context, new Fault(FaultCodes.ReEnrollmentRequired, $"host '{host.Name}' must be enrolled again: its TPM keys changed"), _time.GetUtcNow(), _options.ReportValidity);
            return await RecordAsync(host, r, null, started, ct);
        }

        if (KeyOf(host).Weak is { } weak)
        {
            // Enrolled before enrollment refused weak AKs: a SHA-1 name or scheme (or none) does not bind its quotes well enough.
            var r = Evaluator.Unknown(context, new Fault(FaultCodes.AkWeak, $"host '{host.Name}' must be enrolled again with a stronger AK: {weak}"),
                _time.GetUtcNow(), _options.ReportValidity);
            return await RecordAsync(host, r, null, started, ct);
        }

        var policy = await _policy.GetAsync(ct);
        var nonce = _nonces.Issue(host.Name);
        AgentQuote quote;
        try
        {
            quote = await FetchWithRetriesAsync(host, nonce, policy.Selection, ct);
        }
        catch (AgentException e)
        {
            _nonces.Consume(nonce, host.Name);
            _metrics.AgentFailure(e.Failure);
            ServerLog.AgentFailed(_logger, host.Name, e.Failure.ToString(), e.Message);
            return await UnreachableAsync(host, context, e, started, ct);
        }

        if (!_nonces.Consume(nonce, host.Name))
        {
            // The answer came after the nonce's lifetime: it proves nothing about now.
            var late = Evaluator.Unknown(context, new Fault(FaultCodes.NonceExpired, $"the quote arrived more than {ServerDefaults.NonceLifetimeSeconds} s after its nonce was issued"),
                _time.GetUtcNow(), _options.ReportValidity);
            return await RecordAsync(host, late, null, started, ct);
        }

        var evidence = EvidenceVerifier.Verify(new EvidenceInput(Key(host), nonce, policy.Selection, quote.Quote, quote.Signature, quote.Pcrs,
            quote.UefiLog, quote.ImaLog, ReadClock(host.LastClockInfo)));
        Fault? mismatch = null;
        if (evidence.Faults.Any(f => f.Code == nameof(SignatureInvalid) || f.Code == nameof(SignatureSchemeMismatch)))
        {
            // A quote the enrolled AK did not sign: if the agent now presents other keys, the host must be enrolled
            // again; either way nothing it says is believed.
            mismatch = await CheckKeysChangedAsync(host, ct);
        }

        var report = Evaluator.Evaluate(context, evidence, policy.Pools, policy.Baseline, _time.GetUtcNow(), _options.ReportValidity);
        if (mismatch is not null)
        {
            // Not the enrolled host's TPM answering (issue 13): the fault leads the report, whose verdict the invalid
            // signature already makes untrusted; never trusted, whatever the evaluation said.
            report = report.Trust == TrustLevel.Trusted
                ? Evaluator.Unknown(context, mismatch, _time.GetUtcNow(), _options.ReportValidity) with { Faults = [mismatch, .. evidence.Faults] }
                : report with { Faults = [mismatch, .. report.Faults] };
            return await RecordAsync(host, report, null, started, ct);
        }

        var clock = evidence.Clock is { } c && evidence.Faults.All(f => f.Code != "ClockRollback") && evidence.Pcrs is not null ? WriteClock(c) : null;
        return await RecordAsync(host, report, clock, started, ct);
    }

    /// <summary>Fresh evidence verified but not evaluated: what baseline import derives expected values from.</summary>
    public async Task<(HostRecord Host, VerifiedEvidence Evidence)> CollectVerifiedEvidenceAsync(string hostName, PcrSelection selection, CancellationToken ct)
    {
        var host = await _store.GetHostAsync(hostName, ct) ?? throw ServiceException.NotFound($"host '{hostName}'");
        if (host.State != HostStates.Enrolled)
        {
            throw ServiceException.Conflict(ServiceErrors.ReEnrollmentRequired, $"host '{hostName}' must be enrolled again before its evidence can be used");
        }

        if (KeyOf(host).Weak is { } weak)
        {
            throw ServiceException.Conflict(ServiceErrors.ReEnrollmentRequired, $"host '{hostName}' must be enrolled again with a stronger AK before its evidence can be used: {weak}");
        }

        var nonce = _nonces.Issue(host.Name);
        AgentQuote quote;
        try
        {
            quote = await FetchWithRetriesAsync(host, nonce, selection, ct);
        }
        catch (AgentException e)
        {
            throw EnrollmentService.AgentProblem(e);
        }

        if (!_nonces.Consume(nonce, host.Name))
        {
            throw new ServiceException(ServiceErrorKind.AgentFailed, ServiceErrors.NonceExpired, "the agent answered after the nonce expired");
        }

        var evidence = EvidenceVerifier.Verify(new EvidenceInput(Key(host), nonce, selection, quote.Quote, quote.Signature, quote.Pcrs,
            quote.UefiLog, quote.ImaLog, ReadClock(host.LastClockInfo)));
        if (!evidence.IsVerified)
        {
            throw ServiceException.Refused(ServiceErrors.EvidenceNotVerified,
                $"evidence from '{hostName}' did not verify, no baseline taken from it: {string.Join("; ", evidence.Faults.Select(f => f.Message))}");
        }

        return (host, evidence);
    }

    /// <summary>The latest report of a host with its trust as of now: an expired report means unknown.</summary>
    public TrustLevel CurrentTrust(ReportRecord? latest) =>
        latest is null || latest.ValidTo <= _time.GetUtcNow() || !Enum.TryParse<TrustLevel>(latest.Trust, true, out var t) ? TrustLevel.Unknown : t;

    public void Forget(string hostName)
    {
        if (_keys.TryRemove(hostName, out var k))
        {
            k.Key.Dispose();
        }

        _lastTrust.TryRemove(hostName, out _);
    }

    private async Task<AgentQuote> FetchWithRetriesAsync(HostRecord host, byte[] nonce, PcrSelection selection, CancellationToken ct)
    {
        var url = new Uri(host.AgentUrl);
        for (var attempt = 0; ; attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(_options.RequestTimeout);
            try
            {
                return await _agents.QuoteAsync(url, host.TlsFingerprint, nonce, selection, null, timeout.Token);
            }
            catch (AgentException e) when (attempt < _options.Retries && Retryable(e) && !ct.IsCancellationRequested)
            {
                // Back-off with jitter: 200 ms, 400 ms, ... (+ up to 100 ms), bounded by the nonce's lifetime.
                await Task.Delay(TimeSpan.FromMilliseconds((200 << attempt) + Random.Shared.Next(100)), _time, ct);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                if (attempt >= _options.Retries)
                {
                    throw new AgentException(AgentFailure.Timeout, $"no answer within {_options.RequestTimeoutSeconds} s");
                }
            }
        }
    }

    private static bool Retryable(AgentException e) =>
        e.Failure is AgentFailure.Unreachable or AgentFailure.Timeout || (e.Failure == AgentFailure.HttpError && e.StatusCode == 503);

    private async Task<AttestationOutcome> UnreachableAsync(HostRecord host, HostContext context, AgentException e, long started, CancellationToken ct)
    {
        var latest = await _store.GetLatestReportAsync(host.Name, ct);
        if (latest is not null && latest.ValidTo > _time.GetUtcNow())
        {
            // The last report still holds; it expires on its own.
            return new AttestationOutcome(null, null, e);
        }

        if (latest is not null && latest.Trust == "unknown")
        {
            return new AttestationOutcome(null, latest, e);
        }

        var r = Evaluator.Unknown(context, new Fault(FaultCodes.AgentUnreachable, $"agent {host.AgentUrl}: {e.Failure}: {e.Message}"), _time.GetUtcNow(), _options.ReportValidity);
        return (await RecordAsync(host, r, null, started, ct)) with { AgentFailure = e };
    }

    /// <summary>
    /// After a quote the enrolled AK did not sign: asks the agent who it is. Other keys than enrolled (the host's TPM
    /// was replaced, or its URL now reaches another host's agent) mark the host re-enrollment-required and give an
    /// <see cref="FaultCodes.AgentIdentityMismatch"/> naming the enrolled host the keys belong to, if any. The identity
    /// answer is the agent's word, not evidence: it only ever makes the verdict worse.
    /// </summary>
    private async Task<Fault?> CheckKeysChangedAsync(HostRecord host, CancellationToken ct)
    {
        AgentIdentity identity;
        try
        {
            (identity, _) = await _agents.GetIdentityAsync(new Uri(host.AgentUrl), host.TlsFingerprint, ct);
        }
        catch (AgentException)
        {
            // Nothing more to learn; the report already says the quote did not verify.
            return null;
        }

        if (identity.AkName.AsSpan().SequenceEqual(host.AkName) && identity.EkPublic.AsSpan().SequenceEqual(host.EkPublic))
        {
            return null;
        }

        var ekKey = HostKeys.TryEkKey(identity.EkPublic);
        var other = await _store.FindHostByKeysAsync(ekKey, identity.AkName, host.Name, ct);
        await using (var tx = await _store.BeginAsync(ct))
        {
            await tx.UpdateHostStateAsync(host.Name, HostStates.ReEnrollmentRequired);
            tx.Audit(AuditRecords.HostReenrollmentRequired(host, _time.GetUtcNow()));
            tx.OnCommitted(() =>
            {
                Forget(host.Name);
                if (other is not null)
                {
                    ServerLog.IdentityOfOtherHost(_logger, host.Name, other.Name);
                }
                else
                {
                    ServerLog.KeysChanged(_logger, host.Name);
                }
            });
            await tx.CommitAsync();
        }

        return new Fault(FaultCodes.AgentIdentityMismatch, other is not null
            ? $"the agent at {host.AgentUrl} presents the TPM keys of enrolled host '{other.Name}', not those '{host.Name}' enrolled with: re-enrollment required"
            : $"the agent at {host.AgentUrl} presents other TPM keys (AK {Convert.ToHexStringLower(identity.AkName)[..Math.Min(12, identity.AkName.Length * 2)]}..) than '{host.Name}' enrolled with: re-enrollment required")
        {
            Expected = Convert.ToHexStringLower(host.AkName),
            Actual = Convert.ToHexStringLower(identity.AkName),
            Detail = other is not null ? $"keys of host '{other.Name}'" : "keys of no enrolled host",
        };
    }

    /// <summary>Signs and stores the report for the enrollment of <paramref name="host"/> read at the start of the attempt.</summary>
    private async Task<AttestationOutcome> RecordAsync(HostRecord host, TrustReport report, byte[]? clock, long started, CancellationToken ct)
    {
        // The enrollment id goes into the signed payload and the row: if the host was removed or re-enrolled meanwhile,
        // this report is history only and never becomes anyone's current report.
        report = report with { Enrollment = host.EnrollmentId };
        var jws = _signer.Sign(report);
        var record = new ReportRecord(report.Id, report.Host, Name(report.Trust), report.VerifiedAt, report.ValidFrom, report.ValidTo, jws,
            TrustReportJson.Serialize(report), report.Enrollment);
        await _writer.WriteAsync(new ReportWrite(record, clock), ct);
        _metrics.Attested(report.Trust, Stopwatch.GetElapsedTime(started));
        Recorded?.Invoke(record);
        // A report of an attempt that outlived its enrollment (host removed or enrolled again meanwhile) must not make
        // the new enrollment's first trusted report look like no change (no event, no Placement sync).
        var previous = _lastTrust.TryGetValue(report.Host, out var p) && p.Enrollment == report.Enrollment ? p.Trust : (TrustLevel?)null;
        _lastTrust[report.Host] = (report.Enrollment, report.Trust);
        if (previous != report.Trust)
        {
            _events.Publish(new TrustChange(report.Host, previous, report.Trust, report.Id, report.VerifiedAt,
                report.Faults.Concat(report.Pools.SelectMany(x => x.Rules).SelectMany(x => x.Faults)).Select(f => f.Message).Distinct().Take(5).ToList()));
        }

        return new AttestationOutcome(report, record, null);
    }

    private AttestationKey Key(HostRecord host) => KeyOf(host).Key;

    /// <summary>The enrolled AK, imported once per AK name, and why it is too weak to be believed (null when it is not).</summary>
    private (AttestationKey Key, string? Weak) KeyOf(HostRecord host)
    {
        var akName = Convert.ToHexString(host.AkName);
        if (_keys.TryGetValue(host.Name, out var k) && k.AkName == akName)
        {
            return (k.Key, k.Weak);
        }

        var pub = TpmtPublic.ParseTpm2b(host.AkPublic);
        var key = AttestationKey.FromPublic(pub);
        var weak = KeyStrength.WeakAk(pub);
        _keys[host.Name] = (akName, key, weak);
        return (key, weak);
    }

    public static HostContext Context(HostRecord host) =>
        new(host.Name, host.EkTrust, JsonSerializer.Deserialize<Dictionary<string, string>>(host.TagsJson) ?? []);

    public static string Name(TrustLevel t) => t switch
    {
        TrustLevel.Trusted => "trusted",
        TrustLevel.Untrusted => "untrusted",
        _ => "unknown",
    };

    /// <summary>TPMS_CLOCK_INFO as stored: clock (u64), resetCount, restartCount (u32), safe (u8), big-endian like the TPM.</summary>
    public static byte[] WriteClock(TpmsClockInfo c)
    {
        var b = new byte[17];
        BinaryPrimitives.WriteUInt64BigEndian(b, c.Clock);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(8), c.ResetCount);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(12), c.RestartCount);
        b[16] = c.Safe ? (byte)1 : (byte)0;
        return b;
    }

    public static TpmsClockInfo? ReadClock(byte[]? b) => b is { Length: 17 }
        ? new TpmsClockInfo(BinaryPrimitives.ReadUInt64BigEndian(b), BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(8)), BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(12)), b[16] == 1)
        : null;

    public void Dispose()
    {
        foreach (var k in _keys.Values)
        {
            k.Key.Dispose();
        }

        _keys.Clear();
    }
}
