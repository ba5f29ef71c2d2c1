using Microsoft.Extensions.Configuration;
using TrustPool.Tpm;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Options;

namespace TrustPool.Agent;

/// <summary>
/// The agent's configuration. Sources, later wins: <see cref="AgentDefaults"/>, <c>appsettings.json</c>,
/// environment variables <c>TRUSTPOOL__Agent__…</c>, the command line. Validate with <see cref="Validate"/>.
/// </summary>
public sealed record AgentOptions
{
    public const string Section = "Agent";

    /// <summary>TPM backend: <c>device:/dev/tpmrm0</c>, <c>swtpm:HOST:PORT</c> or <c>software:STATE_FILE</c>.</summary>
    public string? Tpm { get; init; }

    /// <summary>Where Kestrel listens, e.g. <c>https://0.0.0.0:9443</c>; only https URLs, port 0 picks a free port.</summary>
    public string Urls { get; init; } = AgentDefaults.Urls;

    /// <summary>PEM file with the CA (or CAs) that issue the attestation service's client certificates.</summary>
    public string? ServiceCa { get; init; }

    /// <summary>Run without client authentication (tests, demos). Logged as a warning every minute.</summary>
    public bool InsecureNoClientAuth { get; init; }

    /// <summary>Check revocation of client certificates (online); off unless configured.</summary>
    public bool CheckClientRevocation { get; init; }

    public string? UefiLog { get; init; }

    public string? ImaLog { get; init; }

    /// <summary>Keeps the TLS certificate and key; nothing else is written.</summary>
    public string DataDirectory { get; init; } = AgentDefaults.DataDirectory;

    /// <summary><c>ecc</c> (P-256) or <c>rsa</c> (2048).</summary>
    public string AkAlgorithm { get; init; } = AgentDefaults.AkAlgorithm;

    public uint AkHandle { get; init; } = AgentDefaults.AkHandle;

    /// <summary>
    /// <c>rsa</c> (TCG EK template L-1, RSA 2048, certificate at NV 0x01C00002; default) or <c>ecc</c> (template L-2,
    /// NIST P-256, certificate at NV 0x01C0000A). Used for the identity and for ActivateCredential.
    /// </summary>
    public string EkAlgorithm { get; init; } = AgentDefaults.EkAlgorithm;

    public int MaxQueuedTpmRequests { get; init; } = AgentDefaults.MaxQueuedTpmRequests;

    public int MaxTpmWaitMilliseconds { get; init; } = AgentDefaults.MaxTpmWaitMilliseconds;

    public TpmKeyAlgorithm EkKeyAlgorithm => string.Equals(EkAlgorithm, "ecc", StringComparison.OrdinalIgnoreCase) ? TpmKeyAlgorithm.EccP256 : TpmKeyAlgorithm.Rsa2048;

    public TpmKeyAlgorithm AkKeyAlgorithm => string.Equals(AkAlgorithm, "rsa", StringComparison.OrdinalIgnoreCase) ? TpmKeyAlgorithm.Rsa2048 : TpmKeyAlgorithm.EccP256;

    /// <summary>Every configuration error at once (STYLE.md, YP IConfigValidator); empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Tpm))
        {
            errors.Add("Tpm: a TPM backend is required (device:/dev/tpmrm0, swtpm:HOST:PORT or software:STATE_FILE)");
        }
        else if (!Tpm.StartsWith(TpmConnection.SoftwarePrefix, StringComparison.Ordinal) && !Tpm.StartsWith("device:", StringComparison.Ordinal) &&
                 !Tpm.StartsWith("swtpm:", StringComparison.Ordinal))
        {
            errors.Add($"Tpm: '{Tpm}' is not device:PATH, swtpm:HOST:PORT or software:STATE_FILE");
        }

        foreach (var url in Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!AgentUrl.TryParse(url, out _, out var why))
            {
                errors.Add($"Urls: '{url}' {why}");
            }
        }

        if (ServiceCa is null && !InsecureNoClientAuth)
        {
            errors.Add("ServiceCa: required (mutual TLS); pass --insecure-no-client-auth to run without client authentication");
        }
        else if (ServiceCa is not null && !File.Exists(ServiceCa))
        {
            errors.Add($"ServiceCa: '{ServiceCa}' does not exist");
        }

        if (UefiLog is not null && !File.Exists(UefiLog))
        {
            errors.Add($"UefiLog: '{UefiLog}' does not exist");
        }

        if (ImaLog is not null && !File.Exists(ImaLog))
        {
            errors.Add($"ImaLog: '{ImaLog}' does not exist");
        }

        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            errors.Add("DataDirectory: required");
        }

        if (!string.Equals(AkAlgorithm, "ecc", StringComparison.OrdinalIgnoreCase) && !string.Equals(AkAlgorithm, "rsa", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"AkAlgorithm: '{AkAlgorithm}' is not ecc or rsa");
        }

        if (!string.Equals(EkAlgorithm, "ecc", StringComparison.OrdinalIgnoreCase) && !string.Equals(EkAlgorithm, "rsa", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"EkAlgorithm: '{EkAlgorithm}' is not rsa or ecc");
        }

        if (!new TpmHandle(AkHandle).IsPersistent)
        {
            errors.Add($"AkHandle: 0x{AkHandle:x8} is not a persistent handle (0x81xxxxxx)");
        }

        OptionParser.CheckRange(errors, nameof(MaxQueuedTpmRequests), MaxQueuedTpmRequests, 0, 100_000);
        OptionParser.CheckRange(errors, nameof(MaxTpmWaitMilliseconds), MaxTpmWaitMilliseconds, 1, 600_000);

        return errors;
    }

    /// <summary>Reads the <c>Agent</c> section (keys named as the properties); values that do not parse are added to <paramref name="errors"/>, in the same words as the service's (<see cref="OptionParser"/>).</summary>
    public static AgentOptions FromConfiguration(IConfiguration configuration, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(errors);
        var s = configuration.GetSection(Section);
        var p = new OptionParser(k => s[k], errors);
        var o = new AgentOptions();
        return o with
        {
            Tpm = p.GetString(nameof(Tpm), o.Tpm),
            Urls = p.GetString(nameof(Urls), o.Urls),
            ServiceCa = p.GetString(nameof(ServiceCa), o.ServiceCa),
            InsecureNoClientAuth = p.GetBool(nameof(InsecureNoClientAuth), o.InsecureNoClientAuth),
            CheckClientRevocation = p.GetBool(nameof(CheckClientRevocation), o.CheckClientRevocation),
            UefiLog = p.GetString(nameof(UefiLog), o.UefiLog),
            ImaLog = p.GetString(nameof(ImaLog), o.ImaLog),
            DataDirectory = p.GetString(nameof(DataDirectory), o.DataDirectory),
            AkAlgorithm = p.GetString(nameof(AkAlgorithm), o.AkAlgorithm),
            EkAlgorithm = p.GetString(nameof(EkAlgorithm), o.EkAlgorithm),
            AkHandle = p.GetUInt32(nameof(AkHandle), o.AkHandle, "a handle such as 0x81010002"),
            MaxQueuedTpmRequests = p.GetInt(nameof(MaxQueuedTpmRequests), o.MaxQueuedTpmRequests),
            MaxTpmWaitMilliseconds = p.GetInt(nameof(MaxTpmWaitMilliseconds), o.MaxTpmWaitMilliseconds),
        };
    }
}

/// <summary>An https listen URL: host, port and an optional path base.</summary>
public static class AgentUrl
{
    public static bool TryParse(string url, out Uri uri, out string why)
    {
        why = "";
        if (!Uri.TryCreate(url, UriKind.Absolute, out uri!))
        {
            why = "is not an absolute URL";
            return false;
        }

        if (uri.Scheme != Uri.UriSchemeHttps)
        {
            why = "must be https (the agent serves only TLS)";
            return false;
        }

        return true;
    }
}
