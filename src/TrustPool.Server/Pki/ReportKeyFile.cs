using System.Security.Cryptography;
using System.Text;
using TrustPool.Attestation.Reports;
using TrustPool.Tpm.Files;

namespace TrustPool.Server.Pki;

/// <summary>
/// The service's report-signing key file (an ECDSA P-256 PKCS#8 PEM under the data directory). The file I/O lives
/// here, in the server's key store beside <see cref="ServiceCa"/>; <see cref="ReportSigner"/> only takes a key.
/// </summary>
public static class ReportKeyFile
{
    /// <summary>
    /// Loads the PKCS#8 PEM key at <paramref name="keyPemPath"/>, or creates a new P-256 key there (file mode 0600, by
    /// <see cref="AtomicFile.TryCreate"/>: a reader never sees half a key, an existing key is never replaced, and two
    /// starting instances end up with one key).
    /// </summary>
    public static ReportSigner LoadOrCreate(string keyPemPath, out bool created)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyPemPath);
        if (File.Exists(keyPemPath))
        {
            created = false;
            return Load(keyPemPath);
        }

        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(keyPemPath))!);
        bool won;
        try
        {
            won = AtomicFile.TryCreate(keyPemPath, Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem()), AtomicFile.OwnerOnly);
        }
        catch
        {
            key.Dispose();
            throw;
        }

        if (!won)
        {
            // Another instance created the key first: use that one.
            key.Dispose();
            created = false;
            return Load(keyPemPath);
        }

        created = true;
        return ReportSigner.Create(key);
    }

    private static ReportSigner Load(string path)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(File.ReadAllText(path));
            return ReportSigner.Create(key);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new CryptographicException($"{path} is not an ECDSA P-256 PKCS#8 PEM private key", e);
        }
    }
}
