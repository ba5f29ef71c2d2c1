using System.Security.Cryptography;
using TrustPool.Server.Agents;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Software;
using TrustPool.Tpm.Structures;

namespace TrustPool.Server.Tests.Fakes;

/// <summary>
/// An <see cref="IAgentClient"/> without a network: an in-memory software TPM answers identity, activate-credential
/// and quote as the real agent would (genuine EK, AK, credentials and quotes). Each call can be replaced to make the
/// agent fail or lie.
/// </summary>
internal sealed class FakeAgent : IAgentClient, IDisposable
{
    public static readonly Uri Url = new("https://agent.test:9443/");

    private readonly SoftwareTpm _tpm;
    private readonly TpmKey _ek;
    private readonly TpmKey _ak;

    public FakeAgent()
    {
        _tpm = SoftwareTpm.CreateInMemory();
        _ek = _tpm.CreateEk(TpmKeyAlgorithm.EccP256);
        _ak = _tpm.CreateAk(TpmKeyAlgorithm.EccP256);
        Identity = new AgentIdentity(_ek.Public.ToTpm2b(), null, _ak.Public.ToTpm2b(), _ak.Name, Fingerprint, "fake-host", "TPSW", "1.0", ["sha256"]);
        QuoteAnswer = (nonce, selection) => Genuine(nonce, selection);
    }

    /// <summary>The TLS fingerprint the agent presents.</summary>
    public string Fingerprint { get; } = Convert.ToHexStringLower(SHA256.HashData("fake agent certificate"u8));

    public TpmtPublic AkPublic => _ak.Public;

    /// <summary>What <c>v1/identity</c> answers.</summary>
    public AgentIdentity Identity { get; set; }

    /// <summary>Replaces <c>v1/activate-credential</c>'s answer when set (input: the challenge; output: the secret).</summary>
    public Func<byte[], byte[], byte[]>? ActivateAnswer { get; set; }

    /// <summary><c>v1/quote</c>'s answer (input: the nonce sent and the selection); throw an AgentException to fail.</summary>
    public Func<byte[], PcrSelection, AgentQuote> QuoteAnswer { get; set; }

    public int Quotes { get; private set; }

    /// <summary>A genuine quote by the AK over <paramref name="nonce"/> with the PCR values read from the TPM.</summary>
    public AgentQuote Genuine(byte[] nonce, PcrSelection selection)
    {
        var q = _tpm.Quote(_ak.Handle, nonce, selection);
        return new AgentQuote(q.Attest, q.Signature, _tpm.ReadPcrs(selection), null, null, null);
    }

    public Task<(AgentIdentity Identity, string PresentedFingerprint)> GetIdentityAsync(Uri agentUrl, string? pinnedFingerprint, CancellationToken ct = default) =>
        Task.FromResult((Identity, Fingerprint));

    public Task<byte[]> ActivateCredentialAsync(Uri agentUrl, string pinnedFingerprint, byte[] credentialBlob, byte[] encryptedSecret, CancellationToken ct = default) =>
        Task.FromResult(ActivateAnswer is { } a ? a(credentialBlob, encryptedSecret) : _tpm.ActivateCredential(_ak.Handle, _ek.Handle, credentialBlob, encryptedSecret));

    public Task<AgentQuote> QuoteAsync(Uri agentUrl, string pinnedFingerprint, byte[] nonce, PcrSelection selection, long? imaOffset, CancellationToken ct = default)
    {
        Quotes++;
        return Task.FromResult(QuoteAnswer(nonce, selection));
    }

    public Task<bool> HealthAsync(Uri agentUrl, string pinnedFingerprint, CancellationToken ct = default) => Task.FromResult(true);

    public void Dispose() => _tpm.Dispose();
}
