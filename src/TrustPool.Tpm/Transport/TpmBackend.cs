using System.Globalization;

namespace TrustPool.Tpm.Transport;

/// <summary>Opens the transport a TPM backend string names (ARCHITECTURE.md): <c>device:/dev/tpmrm0</c>, <c>swtpm:127.0.0.1:2321</c>.</summary>
public static class TpmBackend
{
    /// <summary>True for a backend this project reaches through a transport (the software TPM has no transport).</summary>
    public static bool IsTransportBackend(string backend) =>
        backend.StartsWith("device:", StringComparison.Ordinal) || backend.StartsWith("swtpm:", StringComparison.Ordinal);

    public static ITpmTransport Open(string backend)
    {
        ArgumentException.ThrowIfNullOrEmpty(backend);
        if (backend.StartsWith("device:", StringComparison.Ordinal))
        {
            var path = backend["device:".Length..];
            return new DeviceTransport(path.Length == 0 ? DeviceTransport.ResourceManagerPath : path);
        }

        if (backend.StartsWith("swtpm:", StringComparison.Ordinal))
        {
            var rest = backend["swtpm:".Length..];
            var colon = rest.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(rest[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            {
                throw new ArgumentException($"'{backend}': expected swtpm:HOST:PORT", nameof(backend));
            }

            return new SwtpmTcpTransport(rest[..colon], port);
        }

        throw new ArgumentException($"'{backend}': expected device:PATH or swtpm:HOST:PORT", nameof(backend));
    }
}
