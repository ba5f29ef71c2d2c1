using TrustPool.Tpm.Client;
using TrustPool.Tpm.Software;
using TrustPool.Tpm.Transport;

namespace TrustPool.Tpm;

/// <summary>
/// Opens a TPM backend by its ARCHITECTURE.md name: <c>device:/dev/tpmrm0</c>, <c>swtpm:127.0.0.1:2321</c> or
/// <c>software:STATE_FILE</c>. Everything above <see cref="ITpm"/> cannot tell them apart.
/// </summary>
public static class TpmConnection
{
    public const string SoftwarePrefix = "software:";

    public static ITpm Open(string backend)
    {
        ArgumentException.ThrowIfNullOrEmpty(backend);
        if (backend.StartsWith(SoftwarePrefix, StringComparison.Ordinal))
        {
            var path = backend[SoftwarePrefix.Length..];
            if (path.Length == 0)
            {
                throw new ArgumentException($"'{backend}': expected software:STATE_FILE", nameof(backend));
            }

            return SoftwareTpm.Open(path);
        }

        if (!TpmBackend.IsTransportBackend(backend))
        {
            throw new ArgumentException($"'{backend}': expected device:PATH, swtpm:HOST:PORT or software:STATE_FILE", nameof(backend));
        }

        var tpm = new TpmClient(TpmBackend.Open(backend));
        tpm.Startup();
        return tpm;
    }
}
