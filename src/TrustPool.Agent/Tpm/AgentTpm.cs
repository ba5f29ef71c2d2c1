using Microsoft.Extensions.Logging;
using TrustPool.Tpm;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Software;
using TrustPool.Tpm.Structures;
using TrustPool.Tpm.Wire;

namespace TrustPool.Agent.Tpm;

/// <summary>What /v1/identity reports about the TPM; fixed for the agent's lifetime.</summary>
public sealed record AgentTpmIdentity(byte[] EkPublic, byte[] EkName, byte[]? EkCertificate, byte[] AkPublic, byte[] AkName, TpmInfo Info);

/// <summary>A quote and the PCR values it covers, read in the same TPM turn.</summary>
public sealed record AgentQuote(TpmAttestation Attestation, PcrValues Pcrs);

/// <summary>
/// The agent's single door to its TPM: every command goes through one <see cref="TpmGate"/>. Holds the AK handle and the
/// identity read at start; keeps no attestation state.
/// </summary>
public sealed class AgentTpm : IDisposable
{
    private readonly ITpm _tpm;
    private readonly TpmGate _gate;
    private readonly TpmKeyAlgorithm _akAlgorithm;
    private readonly TpmKeyAlgorithm _ekAlgorithm;
    private TpmHandle _ak;

    private AgentTpm(ITpm tpm, TpmGate gate, TpmKeyAlgorithm akAlgorithm, TpmKeyAlgorithm ekAlgorithm)
    {
        _tpm = tpm;
        _gate = gate;
        _akAlgorithm = akAlgorithm;
        _ekAlgorithm = ekAlgorithm;
    }

    public AgentTpmIdentity Identity { get; private set; } = null!;

    public TpmGate Gate => _gate;

    public bool IsSimulator => _tpm.IsSimulator;

    /// <summary>The PCR banks the TPM has allocated.</summary>
    public IReadOnlySet<TpmAlgorithmId> Banks { get; private set; } = new HashSet<TpmAlgorithmId>();

    /// <summary>
    /// Takes ownership of <paramref name="tpm"/>: reads the EK (TCG EK Credential Profile template L-1, RSA 2048, whose
    /// certificate is at NV 0x01C00002, or with <paramref name="ekAlgorithm"/> ECC template L-2, NIST P-256, certificate
    /// at NV 0x01C0000A) and its certificate, and loads or creates the AK at <paramref name="akHandle"/>.
    /// </summary>
    public static AgentTpm Start(ITpm tpm, TpmKeyAlgorithm akAlgorithm, TpmHandle akHandle, TpmGate gate, ILogger logger,
        TpmKeyAlgorithm ekAlgorithm = TpmKeyAlgorithm.Rsa2048)
    {
        ArgumentNullException.ThrowIfNull(tpm);
        ArgumentNullException.ThrowIfNull(logger);
        var agent = new AgentTpm(tpm, gate, akAlgorithm, ekAlgorithm);
        try
        {
            agent.Initialize(akHandle, logger);
            return agent;
        }
        catch
        {
            agent.Dispose();
            throw;
        }
    }

    private void Initialize(TpmHandle akHandle, ILogger logger)
    {
        var info = _tpm.GetInfo();
        Banks = info.PcrBanks.ToHashSet();
        var ek = _tpm.CreateEk(_ekAlgorithm);
        _tpm.FlushContext(ek.Handle);

        // TCG EK Credential Profile 2.3: the certificate of the L-1 RSA EK at 0x01C00002, of the L-2 ECC EK at 0x01C0000A.
        var certificateIndex = _ekAlgorithm == TpmKeyAlgorithm.EccP256 ? TpmHandle.EkCertificateEccNvIndex : TpmHandle.EkCertificateRsaNvIndex;
        byte[]? ekCert = null;
        try
        {
            ekCert = _tpm.NvRead(certificateIndex);
        }
        catch (Exception e) when (IsTpmFailure(e))
        {
            AgentLog.NoEkCertificate(logger, certificateIndex, e.Message);
        }

        var ak = LoadOrCreateAk(akHandle, logger);
        Identity = new AgentTpmIdentity(ek.Public.ToTpm2b(), ek.Name, ekCert, ak.ToTpm2b(), ak.Name, info);
    }

    /// <summary>
    /// The AK is a primary key from a fixed template, so CreateAk yields the same key every time on the same TPM;
    /// the persistent handle saves the key generation at each start.
    /// </summary>
    private TpmtPublic LoadOrCreateAk(TpmHandle akHandle, ILogger logger)
    {
        var expected = _akAlgorithm == TpmKeyAlgorithm.Rsa2048 ? TpmAlgorithmId.Rsa : TpmAlgorithmId.Ecc;
        try
        {
            var pub = _tpm.ReadPublic(akHandle);
            if (pub.Type == expected && pub.ObjectAttributes.HasFlag(TpmObjectAttributes.Restricted) && pub.ObjectAttributes.HasFlag(TpmObjectAttributes.Sign))
            {
                _ak = akHandle;
                AgentLog.AkReused(logger, _akAlgorithm.ToString(), akHandle.ToString(), Convert.ToHexStringLower(pub.Name));
                return pub;
            }

            // Something else lives at the handle: leave it alone and use a transient AK.
            var created = _tpm.CreateAk(_akAlgorithm);
            _ak = created.Handle;
            AgentLog.AkTransient(logger, akHandle.ToString(), $"the handle holds a {pub.Type} key that is not a restricted signing key of the configured algorithm");
            return created.Public;
        }
        catch (Exception e) when (IsTpmFailure(e))
        {
            // Absent (TPM_RC_HANDLE): create it below.
        }

        var key = _tpm.CreateAk(_akAlgorithm);
        try
        {
            _tpm.MakePersistent(key.Handle, akHandle);
            _tpm.FlushContext(key.Handle);
            _ak = akHandle;
            AgentLog.AkPersisted(logger, _akAlgorithm.ToString(), akHandle.ToString(), Convert.ToHexStringLower(key.Name));
        }
        catch (Exception e) when (IsTpmFailure(e))
        {
            _ak = key.Handle;
            AgentLog.AkTransient(logger, akHandle.ToString(), e.Message);
        }

        return key.Public;
    }

    /// <summary>TPM2_Quote then TPM2_PCR_Read of the same selection, in one turn: nothing of ours extends in between.</summary>
    public Task<AgentQuote> QuoteAsync(byte[] nonce, PcrSelection selection, CancellationToken cancellationToken) =>
        _gate.RunAsync(() =>
        {
            var attestation = _tpm.Quote(_ak, nonce, selection);
            var pcrs = _tpm.ReadPcrs(selection);
            return new AgentQuote(attestation, pcrs);
        }, cancellationToken);

    /// <summary>
    /// TPM2_ActivateCredential with the AK as the activated object. The EK is created for the call and flushed after it;
    /// the policy session starts and ends inside the same turn, so sessions never interleave.
    /// </summary>
    public Task<byte[]> ActivateCredentialAsync(byte[] credentialBlob, byte[] encryptedSecret, CancellationToken cancellationToken) =>
        _gate.RunAsync(() =>
        {
            var ek = _tpm.CreateEk(_ekAlgorithm);
            try
            {
                return _tpm.ActivateCredential(_ak, ek.Handle, credentialBlob, encryptedSecret);
            }
            finally
            {
                _tpm.FlushContext(ek.Handle);
            }
        }, cancellationToken);

    /// <summary>A cheap TPM round trip for /v1/health.</summary>
    public Task<TpmInfo> PingAsync(CancellationToken cancellationToken) => _gate.RunAsync(_tpm.GetInfo, cancellationToken);

    /// <summary>A failure of the TPM or of the way to it (not of the request): the client gets 503.</summary>
    public static bool IsTpmFailure(Exception e) =>
        e is TpmException or SoftwareTpmException or TpmFormatException or IOException or System.Net.Sockets.SocketException or TimeoutException;

    /// <summary>The TPM_RC of a TPM failure, when the TPM gave one.</summary>
    public static uint? ResponseCode(Exception e) => e switch
    {
        TpmException t when t.Code != 0 => t.Code,
        SoftwareTpmException s => s.ResponseCode,
        _ => null,
    };

    public void Dispose()
    {
        _tpm.Dispose();
        _gate.Dispose();
    }
}
