using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace TrustPool.Testing;

/// <summary>
/// HTTPS clients of a TrustPool service as an operator's would be: the service certificate must name the host asked
/// for and chain to the service CA (the only trust anchor; no system roots, no revocation lookups).
/// </summary>
public static class ServiceHttp
{
    /// <param name="baseAddress">The service origin.</param>
    /// <param name="caPemFile">The service CA (PEM), e.g. DATA/ca.pem.</param>
    /// <param name="token">Bearer token, or none.</param>
    /// <param name="timeout">Per-request timeout (default 60 s).</param>
    /// <param name="onTrusted">Called with each server certificate that passed, e.g. to pin it elsewhere.</param>
    public static HttpClient Create(Uri baseAddress, string caPemFile, string? token = null, TimeSpan? timeout = null, Action<X509Certificate2>? onTrusted = null)
    {
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(caPemFile);
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    // Only the chain is judged here (against our root); a name mismatch or a missing certificate fails.
                    if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
                    {
                        return false;
                    }

                    using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    if (!chain.Build(leaf))
                    {
                        return false;
                    }

                    onTrusted?.Invoke(leaf);
                    return true;
                },
            },
        };
        var http = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = timeout ?? TimeSpan.FromSeconds(60) };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return http;
    }
}
