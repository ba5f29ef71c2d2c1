using TrustPool.Tpm.Client;
using TrustPool.Tpm.Structures;

namespace TrustPool.Agent.Tests.Support;

/// <summary>
/// Wraps a TPM and records whether two commands ever ran at the same time (they must not: the agent serializes),
/// how many commands ran, and optionally slows each command down to make overlap likely if serialization were broken.
/// </summary>
public sealed class RecordingTpm(ITpm inner, TimeSpan delay = default) : ITpm
{
    private int _active;
    private int _maxActive;
    private int _commands;
    private int _quotes;

    public int MaxConcurrent => Volatile.Read(ref _maxActive);

    public int Commands => Volatile.Read(ref _commands);

    public int Quotes => Volatile.Read(ref _quotes);

    /// <summary>When set, every command fails with this exception (simulates a broken TPM).</summary>
    public Exception? FailWith { get; set; }

    private T Run<T>(Func<T> f)
    {
        var now = Interlocked.Increment(ref _active);
        Interlocked.Increment(ref _commands);
        int seen;
        while ((seen = Volatile.Read(ref _maxActive)) < now && Interlocked.CompareExchange(ref _maxActive, now, seen) != seen)
        {
        }

        try
        {
            if (delay > TimeSpan.Zero)
            {
                Thread.Sleep(delay);
            }

            if (FailWith is { } e)
            {
                throw e;
            }

            return f();
        }
        finally
        {
            Interlocked.Decrement(ref _active);
        }
    }

    private void Run(Action a) => Run(() =>
    {
        a();
        return 0;
    });

    public bool IsSimulator => inner.IsSimulator;

    public void Startup() => Run(inner.Startup);

    public TpmInfo GetInfo() => Run(inner.GetInfo);

    public PcrValues ReadPcrs(PcrSelection selection) => Run(() => inner.ReadPcrs(selection));

    public void ExtendPcr(int index, IReadOnlyList<TpmtHa> digests) => Run(() => inner.ExtendPcr(index, digests));

    public TpmKey CreateEk(TpmKeyAlgorithm algorithm) => Run(() => inner.CreateEk(algorithm));

    public TpmKey CreateAk(TpmKeyAlgorithm algorithm) => Run(() => inner.CreateAk(algorithm));

    public TpmtPublic ReadPublic(TpmHandle handle) => Run(() => inner.ReadPublic(handle));

    public TpmAttestation Quote(TpmHandle signingKey, ReadOnlySpan<byte> qualifyingData, PcrSelection selection)
    {
        var data = qualifyingData.ToArray();
        Interlocked.Increment(ref _quotes);
        return Run(() => inner.Quote(signingKey, data, selection));
    }

    public byte[] ActivateCredential(TpmHandle activateHandle, TpmHandle ekHandle, byte[] credentialBlob, byte[] encryptedSecret) =>
        Run(() => inner.ActivateCredential(activateHandle, ekHandle, credentialBlob, encryptedSecret));

    public TpmsNvPublic NvReadPublic(uint nvIndex) => Run(() => inner.NvReadPublic(nvIndex));

    public byte[] NvRead(uint nvIndex) => Run(() => inner.NvRead(nvIndex));

    public void NvDefineSpace(uint nvIndex, ushort size, TpmNvAttributes attributes) => Run(() => inner.NvDefineSpace(nvIndex, size, attributes));

    public void NvWrite(uint nvIndex, ReadOnlySpan<byte> data, ushort offset = 0)
    {
        var d = data.ToArray();
        Run(() => inner.NvWrite(nvIndex, d, offset));
    }

    public void NvUndefineSpace(uint nvIndex) => Run(() => inner.NvUndefineSpace(nvIndex));

    public TpmAttestation NvCertify(TpmHandle signingKey, uint nvIndex, ReadOnlySpan<byte> qualifyingData, ushort size, ushort offset)
    {
        var d = qualifyingData.ToArray();
        return Run(() => inner.NvCertify(signingKey, nvIndex, d, size, offset));
    }

    public void MakePersistent(TpmHandle transient, TpmHandle persistentHandle) => Run(() => inner.MakePersistent(transient, persistentHandle));

    public void EvictPersistent(TpmHandle persistentHandle) => Run(() => inner.EvictPersistent(persistentHandle));

    public void FlushContext(TpmHandle handle) => Run(() => inner.FlushContext(handle));

    public void Dispose() => inner.Dispose();
}
