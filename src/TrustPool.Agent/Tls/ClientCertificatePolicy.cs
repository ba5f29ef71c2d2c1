using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace TrustPool.Agent.Tls;

/// <summary>
/// Mutual TLS: a client certificate is accepted only when it chains to one of the configured service CAs
/// (X509ChainPolicy.CustomTrustStore with TrustMode CustomRootTrust: the system roots play no part).
/// Revocation is not checked unless configured: the agent may have no route to a CRL or OCSP responder.
/// </summary>
public sealed class ClientCertificatePolicy : IDisposable
{
    private readonly X509Certificate2Collection _roots;
    private readonly bool _checkRevocation;

    public ClientCertificatePolicy(X509Certificate2Collection roots, bool checkRevocation)
    {
        ArgumentNullException.ThrowIfNull(roots);
        if (roots.Count == 0)
        {
            throw new ArgumentException("no CA certificate", nameof(roots));
        }

        _roots = roots;
        _checkRevocation = checkRevocation;
    }

    public static ClientCertificatePolicy FromPemFile(string path, bool checkRevocation)
    {
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(path);
        return new ClientCertificatePolicy(roots, checkRevocation);
    }

    /// <summary>True when <paramref name="certificate"/> chains to a configured CA; <paramref name="reason"/> says why not.</summary>
    public bool Validate(X509Certificate2 certificate, X509Chain? presented, out string reason)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_roots);
        chain.ChainPolicy.RevocationMode = _checkRevocation ? X509RevocationMode.Online : X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.2")); // clientAuth
        chain.ChainPolicy.DisableCertificateDownloads = true;
        if (presented is not null)
        {
            // Intermediates the client sent may help build the chain; they are never trusted by themselves.
            for (var i = 1; i < presented.ChainElements.Count; i++)
            {
                chain.ChainPolicy.ExtraStore.Add(presented.ChainElements[i].Certificate);
            }
        }

        if (chain.Build(certificate))
        {
            reason = "";
            return true;
        }

        reason = string.Join("; ", chain.ChainStatus.Select(s => s.Status + ": " + s.StatusInformation.Trim()));
        return false;
    }

    /// <summary>SslStream's callback form.</summary>
    public bool Validate(X509Certificate2 certificate, X509Chain? presented, SslPolicyErrors errors) => Validate(certificate, presented, out _);

    public void Dispose()
    {
        foreach (var c in _roots)
        {
            c.Dispose();
        }
    }
}
