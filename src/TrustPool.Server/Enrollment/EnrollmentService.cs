using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using TrustPool.Server.Agents;
using TrustPool.Server.Api;
using TrustPool.Server.Audit;
using TrustPool.Server.Auth;
using TrustPool.Server.Storage;
using TrustPool.Tpm;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Credentials;
using TrustPool.Tpm.Structures;
using TrustPool.Tpm.Wire;

namespace TrustPool.Server.Enrollment;

/// <summary>What an operator asks to enroll.</summary>
public sealed record EnrollmentRequest(string Name, Uri AgentUrl, string? AgentCertFingerprint, IReadOnlyDictionary<string, string> Tags);

/// <summary>
/// Enrollment (ARCHITECTURE.md): fetch the agent's identity over TLS (pinning the fingerprint when given), check the
/// AK is a restricted signing key that cannot leave its TPM, check the EK certificate against the vendor CAs (unless
/// trust-on-first-use), prove with MakeCredential / ActivateCredential that the AK lives beside the EK, and only
/// then record the host. Nothing is stored for a host that fails any step.
/// </summary>
public sealed partial class EnrollmentService
{
    /// <summary>The attributes an AK must have; Keylime does not check these, we refuse anything else.</summary>
    public const TpmObjectAttributes RequiredAkAttributes =
        TpmObjectAttributes.Restricted | TpmObjectAttributes.Sign | TpmObjectAttributes.FixedTpm |
        TpmObjectAttributes.FixedParent | TpmObjectAttributes.SensitiveDataOrigin;

    private readonly ITrustStore _store;
    private readonly IAgentClient _agents;
    private readonly ServerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public EnrollmentService(ITrustStore store, IAgentClient agents, ServerOptions options, TimeProvider time, ILogger logger)
    {
        _store = store;
        _agents = agents;
        _options = options;
        _time = time;
        _logger = logger;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$")]
    public static partial Regex HostNamePattern();

    /// <summary>Parses and bounds an enrollment request body.</summary>
    public static EnrollmentRequest ParseRequest(JsonBody body)
    {
        var name = body.RequiredString("name", 253);
        if (!HostNamePattern().IsMatch(name))
        {
            throw ServiceException.Invalid("name", "must be 1..253 characters of letters, digits, '.', '_' or '-'");
        }

        var url = body.RequiredString("agentUrl", 2048);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var agentUrl) || agentUrl.Scheme != Uri.UriSchemeHttps)
        {
            throw ServiceException.Invalid("agentUrl", "must be an absolute https URL");
        }

        var fingerprint = body.OptionalString("agentCertFingerprint", 128);
        if (fingerprint is not null && !IsFingerprint(fingerprint))
        {
            throw ServiceException.Invalid("agentCertFingerprint", "must be the 64 hex digits of a SHA-256");
        }

        var tags = body.OptionalStringMap("tags") ?? new Dictionary<string, string>();
        return new EnrollmentRequest(name, agentUrl, fingerprint?.ToLowerInvariant(), tags);
    }

    public static bool IsFingerprint(string s) => s.Length == 64 && s.All(Uri.IsHexDigit);

    /// <summary>
    /// Enrolls a new host, or re-enrolls one (same name) that is marked re-enrollment-required or is being re-keyed by an
    /// operator. <paramref name="actor"/>: the token that asked, for the <c>host.enrolled</c> record (null when no request did).
    /// </summary>
    public Task<HostRecord> EnrollAsync(EnrollmentRequest request, bool reEnroll, Actor? actor, CancellationToken ct) =>
        EnrollAsync(request, reEnroll, actor, committed: null, ct);

    /// <summary>
    /// As <see cref="EnrollAsync(EnrollmentRequest, bool, Actor?, CancellationToken)"/>; <paramref name="committed"/> runs
    /// with the stored host once the enrollment committed (never when it rolled back), for the caller's side effects.
    /// </summary>
    public async Task<HostRecord> EnrollAsync(EnrollmentRequest request, bool reEnroll, Actor? actor, Action<HostRecord>? committed, CancellationToken ct)
    {
        var existing = await _store.GetHostAsync(request.Name, ct);
        if (existing is not null && !reEnroll)
        {
            throw ServiceException.Conflict($"host '{request.Name}' is already enrolled");
        }

        if (existing is null && reEnroll)
        {
            throw ServiceException.NotFound($"host '{request.Name}'");
        }

        AgentIdentity identity;
        string fingerprint;
        try
        {
            (identity, fingerprint) = await _agents.GetIdentityAsync(request.AgentUrl, request.AgentCertFingerprint, ct);
        }
        catch (AgentException e)
        {
            throw AgentProblem(e);
        }

        TpmtPublic ek, ak;
        try
        {
            ek = TpmtPublic.ParseTpm2b(identity.EkPublic);
            ak = TpmtPublic.ParseTpm2b(identity.AkPublic);
        }
        catch (TpmFormatException e)
        {
            throw Refused("key-malformed", $"the agent's EK or AK public area does not parse: {e.Message}");
        }

        var missing = RequiredAkAttributes & ~ak.ObjectAttributes;
        if (missing != 0 || (ak.ObjectAttributes & TpmObjectAttributes.Decrypt) != 0)
        {
            throw Refused("ak-attributes", $"the AK must be a restricted signing key bound to its TPM; it lacks {missing}" +
                ((ak.ObjectAttributes & TpmObjectAttributes.Decrypt) != 0 ? " and is a decryption key" : ""));
        }

        // Weak algorithms (SHA-1 names or schemes, short keys) and certificates that are not EK certificates are
        // refused before any Name is computed or credential made from them.
        if (KeyStrength.WeakAk(ak) is { } weakAk)
        {
            throw Refused("ak-weak", weakAk);
        }

        if (KeyStrength.WeakEk(ek) is { } weakEk)
        {
            throw Refused("ek-weak", weakEk);
        }

        if (!_options.EkTrustOnFirstUse && identity.EkCertificate is { } ekCertificate && EkCertificateProfile.Check(ekCertificate, ek) is { } notEk)
        {
            throw Refused("ek-certificate-profile", notEk);
        }

        if (!ak.Name.AsSpan().SequenceEqual(identity.AkName))
        {
            throw Refused("ak-name", "the agent's akName is not the name of its akPublic");
        }

        if ((ek.ObjectAttributes & (TpmObjectAttributes.Restricted | TpmObjectAttributes.Decrypt | TpmObjectAttributes.FixedTpm)) !=
            (TpmObjectAttributes.Restricted | TpmObjectAttributes.Decrypt | TpmObjectAttributes.FixedTpm))
        {
            throw Refused("ek-attributes", "the EK must be a restricted decryption key bound to its TPM");
        }

        var ekTrust = _options.EkTrustOnFirstUse ? "tofu" : "ca";
        if (!_options.EkTrustOnFirstUse)
        {
            if (identity.EkCertificate is null)
            {
                throw Refused("ek-certificate-missing", "the TPM has no EK certificate (NV 0x01C00002 / 0x01C0000A); enroll it with --ek-trust tofu only in a lab");
            }

            // Re-read per enrollment (rare): an operator adds a vendor CA to the folder without restarting the service.
            using var anchors = EkTrustAnchors.Load(_options.EkCaDirectory);
            if (anchors.Validate(identity.EkCertificate, ek, _time.GetUtcNow()) is { } why)
            {
                throw Refused("ek-certificate-untrusted", why);
            }
        }

        // TPM 2.0 Part 1, 24: only the TPM holding the EK's private key, and only for an object of this exact
        // name loaded in it, releases the secret.
        var secret = RandomNumberGenerator.GetBytes(32);
        var challenge = CredentialProtection.MakeCredential(ek, ak.Name, secret);
        byte[] answer;
        try
        {
            answer = await _agents.ActivateCredentialAsync(request.AgentUrl, fingerprint, challenge.CredentialBlob, challenge.EncryptedSecret, ct);
        }
        catch (AgentException e) when (e.Failure == AgentFailure.HttpError)
        {
            throw Refused("credential-activation", $"the agent could not activate the credential ({e.StatusCode}: {e.Message})");
        }
        catch (AgentException e)
        {
            throw AgentProblem(e);
        }

        if (!CryptographicOperations.FixedTimeEquals(answer, secret))
        {
            throw Refused("credential-activation", "the agent returned the wrong secret: its AK and EK are not in the same TPM");
        }

        // One TPM is one host (issue 13): a relay to an enrolled host's agent proves that host's TPM, not a second one.
        // Checked here for the message, enforced by the unique indexes on ek_key / ak_key for the race.
        var ekKey = HostKeys.EkKey(ek);
        if (await _store.FindHostByKeysAsync(ekKey, ak.Name, request.Name, ct) is { } holder)
        {
            throw AlreadyEnrolled(holder, ekKey);
        }

        if (await _store.FindHostByTlsFingerprintAsync(fingerprint, request.Name, ct) is { } sameTls)
        {
            // Not refused: one agent process may serve several TPMs (path bases); its TPM is the identity, checked above.
            ServerLog.SharedAgentCertificate(_logger, request.Name, sameTls.Name, fingerprint);
        }

        // A new enrollment id on every enrollment and re-enrollment: reports of an earlier enrollment are history only.
        var host = new HostRecord(request.Name, request.AgentUrl.ToString(), fingerprint, identity.EkPublic, identity.EkCertificate, identity.AkPublic,
            ak.Name, ekTrust, HostStates.Enrolled, JsonSerializer.Serialize(request.Tags), _time.GetUtcNow(), null, 0, null, existing?.InventoryJson,
            Guid.NewGuid().ToString("N"), ekKey, ak.Name);
        try
        {
            await using var tx = await _store.BeginAsync(ct);
            if (existing is null)
            {
                await tx.InsertHostAsync(host);
            }
            else
            {
                await tx.UpdateHostAsync(host);
            }

            tx.Audit(AuditRecords.HostEnrolled(host, existing is not null, actor, _time.GetUtcNow()));
            tx.OnCommitted(() => ServerLog.HostEnrolled(_logger, host.Name, host.AgentUrl, Convert.ToHexStringLower(ak.Name), ekTrust));
            if (committed is not null)
            {
                tx.OnCommitted(() => committed(host));
            }

            await tx.CommitAsync();
        }
        catch (StoreConflictException)
        {
            // A concurrent enrollment took the name, the EK or the AK between the check and the insert.
            if (await _store.FindHostByKeysAsync(ekKey, ak.Name, request.Name, ct) is { } racer)
            {
                throw AlreadyEnrolled(racer, ekKey);
            }

            throw ServiceException.Conflict($"host '{request.Name}' is already enrolled");
        }

        return host;
    }

    private static ServiceException Refused(string code, string detail) => ServiceException.Refused(ServiceErrors.EnrollmentPrefix + code, detail);

    /// <summary>409 <c>enrollment-ek-already-enrolled</c>: the TPM (its EK, or its AK) already is another enrolled host.</summary>
    private static ServiceException AlreadyEnrolled(HostRecord holder, byte[] ekKey)
    {
        var which = holder.EkKey is { } k && k.AsSpan().SequenceEqual(ekKey) ? "EK" : "AK";
        return ServiceException.Conflict(ServiceErrors.EnrollmentEkAlreadyEnrolled,
            $"this TPM's {which} is already enrolled as host '{holder.Name}' (one TPM is one host): remove '{holder.Name}' first, " +
            $"or re-enroll '{holder.Name}' itself if the host was renamed");
    }

    /// <summary>An agent that cannot be reached or misbehaves is not the API client's fault: 502 with what happened.</summary>
    public static ServiceException AgentProblem(AgentException e) => e.Failure switch
    {
        AgentFailure.TlsPinMismatch => ServiceException.Refused(ServiceErrors.AgentTlsPinMismatch, $"the agent's TLS certificate does not match the pinned fingerprint: {e.Message}"),
        _ => new ServiceException(ServiceErrorKind.AgentFailed, ServiceErrors.AgentPrefix + e.Failure.ToString().ToLowerInvariant(), $"agent: {e.Message}"),
    };
}

/// <summary>Host states in the store.</summary>
public static class HostStates
{
    public const string Enrolled = "enrolled";
    public const string ReEnrollmentRequired = "re-enrollment-required";
}
