using System.Security.Cryptography;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Credentials;
using TrustPool.Tpm.Structures;

namespace TrustPool.Tpm.Software;

/// <summary>
/// The embedded software TPM (TPM backend <c>software:&lt;state file&gt;</c>): a simulator with the same <see cref="ITpm"/>
/// contract as a real TPM. PCR banks SHA-1, SHA-256 and SHA-384 with 24 PCRs each; EK (TCG templates L-1/L-2) and AK
/// with real keys that are created once and then returned by every CreateEk/CreateAk (like primary keys from a fixed
/// seed); genuine TPMS_ATTEST quotes and NV certifications signed with the AK; clock and reset/restart counters;
/// ActivateCredential; NV indices; persistent handles.
/// <para>
/// Life cycle: <see cref="Open"/> is a TPM Restart (Shutdown(STATE) + Startup(CLEAR), Part 3, 9.3): PCRs start at zero,
/// restartCount is incremented, resetCount and clock carry on. <see cref="Reboot"/> is a TPM Reset: PCRs zero,
/// resetCount + 1, restartCount 0, transient objects gone. Keys, counters, clock, NV and persistent handles live in
/// the state file, written atomically (temporary file with mode 0600, then rename).
/// </para>
/// <para>
/// Like a real TPM it executes one command at a time: callers serialize. Every member takes one lock, so concurrent
/// calls cannot corrupt the state, they just wait. One process per state file: two processes that open the same file
/// each keep their own copy and the last save wins. Not for production: private keys are in a file and the RSA
/// private operation is not constant time.
/// </para>
/// </summary>
public sealed class SoftwareTpm : ITpm
{
    /// <summary>TPM_PT_MANUFACTURER: the 4 ASCII characters "TPSW".</summary>
    public const uint ManufacturerId = 0x54505357;

    public const string VendorString = "TrustPool software TPM";

    /// <summary>TPM_PT_FIRMWARE_VERSION_1/2: 1.0.0.0.</summary>
    public const ulong FirmwareVersion = 0x0001_0000_0000_0000;

    public const int PcrCount = 24;

    /// <summary>Transient object slots; a real TPM has 3 or more, the cap only catches leaked handles.</summary>
    public const int MaxTransientObjects = 64;

    private static readonly TpmAlgorithmId[] s_banks = [TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256, TpmAlgorithmId.Sha384];

    private readonly Lock _gate = new();
    private readonly string? _path;
    private readonly SoftwareTpmState _state;
    private readonly TimeProvider _time;
    private readonly Dictionary<TpmAlgorithmId, byte[][]> _pcrs = [];
    private readonly Dictionary<uint, string> _transient = [];
    private readonly Dictionary<string, LoadedKey> _loaded = [];
    private ulong _clockAtStart;
    private long _startedAt;
    private uint _nextTransient = 0x80000000;
    private bool _disposed;

    private SoftwareTpm(string? path, SoftwareTpmState state, TimeProvider time)
    {
        _path = path;
        _state = state;
        _time = time;
        _clockAtStart = state.ClockMs;
        _startedAt = time.GetTimestamp();
        ResetPcrs();
    }

    /// <summary>A software TPM whose state lives only in memory (tests, throw-away simulated hosts).</summary>
    public static SoftwareTpm CreateInMemory(TimeProvider? time = null) => new(null, new SoftwareTpmState(), time ?? TimeProvider.System);

    /// <summary>
    /// Opens (or, when the file does not exist, manufactures) the software TPM kept in <paramref name="stateFile"/>.
    /// Cheap: no key is generated or imported until a command needs it.
    /// </summary>
    /// <exception cref="InvalidDataException">The state file exists but is corrupt or of an unknown version.</exception>
    public static SoftwareTpm Open(string stateFile, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateFile);
        var state = SoftwareTpmStateFile.Load(stateFile);
        var isNew = !File.Exists(stateFile);
        if (!isNew)
        {
            state.RestartCount++;
        }

        var tpm = new SoftwareTpm(stateFile, state, time ?? TimeProvider.System);
        tpm.Save();
        return tpm;
    }

    /// <summary>The state file, or null for an in-memory instance.</summary>
    public string? StateFile => _path;

    public bool IsSimulator => true;

    /// <summary>TPMS_CLOCK_INFO as the next quote would report it.</summary>
    public TpmsClockInfo ClockInfo
    {
        get
        {
            lock (_gate)
            {
                ThrowIfDisposed();
                return CurrentClockInfo();
            }
        }
    }

    /// <summary>TPM Reset ("reboot" of the host): PCRs to zero, resetCount + 1, restartCount 0, transient objects flushed.</summary>
    public void Reboot()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            _state.ResetCount++;
            _state.RestartCount = 0;
            _transient.Clear();
            ResetPcrs();
            Save();
        }
    }

    public void Startup()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
        }
    }

    public TpmInfo GetInfo()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            return new TpmInfo(ManufacturerId, "TPSW", VendorString, FirmwareVersion, [.. s_banks]);
        }
    }

    public PcrValues ReadPcrs(PcrSelection selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        lock (_gate)
        {
            ThrowIfDisposed();
            var values = new PcrValues();
            foreach (var bank in FilterSelection(selection))
            {
                foreach (var i in bank.Indices)
                {
                    values.Set(bank.Hash, i, (byte[])_pcrs[bank.Hash][i].Clone());
                }
            }

            return values;
        }
    }

    public void ExtendPcr(int index, IReadOnlyList<TpmtHa> digests)
    {
        ArgumentNullException.ThrowIfNull(digests);
        lock (_gate)
        {
            ThrowIfDisposed();
            if (index is < 0 or >= PcrCount)
            {
                throw new SoftwareTpmException(TpmRc.OnHandle(TpmRc.Value, 1), $"PCR {index} does not exist (0..{PcrCount - 1})");
            }

            foreach (var d in digests)
            {
                if (!_pcrs.ContainsKey(d.HashAlg))
                {
                    throw new SoftwareTpmException(TpmRc.OnParameter(TpmRc.Hash, 1), $"no {TpmHash.Name(d.HashAlg)} PCR bank");
                }

                if (d.Digest.Length != TpmHash.DigestSize(d.HashAlg))
                {
                    throw new SoftwareTpmException(TpmRc.OnParameter(TpmRc.Size, 1), $"a {TpmHash.Name(d.HashAlg)} digest has {TpmHash.DigestSize(d.HashAlg)} bytes");
                }
            }

            // Part 3, 22.2 (TPM2_PCR_Extend): PCR_new = H(PCR_old || digest), per bank.
            foreach (var d in digests)
            {
                var bank = _pcrs[d.HashAlg];
                bank[index] = TpmHash.Hash(d.HashAlg, [.. bank[index], .. d.Digest]);
            }
        }
    }

    public TpmKey CreateEk(TpmKeyAlgorithm algorithm) => CreatePrimary(algorithm == TpmKeyAlgorithm.Rsa2048 ? SlotEkRsa : SlotEkEcc, algorithm);

    public TpmKey CreateAk(TpmKeyAlgorithm algorithm) => CreatePrimary(algorithm == TpmKeyAlgorithm.Rsa2048 ? SlotAkRsa : SlotAkEcc, algorithm);

    public TpmtPublic ReadPublic(TpmHandle handle)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            return Key(Resolve(handle, 1)).Public;
        }
    }

    public TpmAttestation Quote(TpmHandle signingKey, ReadOnlySpan<byte> qualifyingData, PcrSelection selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        lock (_gate)
        {
            ThrowIfDisposed();
            var key = SigningKey(signingKey);
            CheckQualifyingData(qualifyingData);
            var filtered = FilterSelection(selection);
            var hashAlg = key.Public.Scheme.HashAlg;
            using var h = IncrementalHash.CreateHash(TpmHash.ToHashAlgorithmName(hashAlg));
            foreach (var bank in filtered)
            {
                foreach (var i in bank.Indices)
                {
                    h.AppendData(_pcrs[bank.Hash][i]);
                }
            }

            // Part 3, 18.4: pcrDigest = H_signScheme(selected PCR values, banks in selection order, indices ascending).
            return Attest(key, qualifyingData, TpmStructureTag.AttestQuote, new QuoteInfo(filtered, h.GetHashAndReset()));
        }
    }

    public byte[] ActivateCredential(TpmHandle activateHandle, TpmHandle ekHandle, byte[] credentialBlob, byte[] encryptedSecret)
    {
        ArgumentNullException.ThrowIfNull(credentialBlob);
        ArgumentNullException.ThrowIfNull(encryptedSecret);
        lock (_gate)
        {
            ThrowIfDisposed();
            var activated = Key(Resolve(activateHandle, 1));
            var ekSlot = Resolve(ekHandle, 2);
            if (ekSlot is not (SlotEkRsa or SlotEkEcc))
            {
                // Part 3, 12.5.1: keyHandle must be a restricted decryption (storage) key.
                throw new SoftwareTpmException(TpmRc.OnHandle(TpmRc.Type, 2), $"{ekHandle} is not the EK");
            }

            var ek = Key(ekSlot);
            try
            {
                return ek.Public.Type == TpmAlgorithmId.Rsa
                    ? CredentialProtection.ActivateCredential(ek.Public, ek.RsaParameters, activated.Public.Name, credentialBlob, encryptedSecret)
                    : CredentialProtection.ActivateCredential(ek.Public, ek.Ecdh, activated.Public.Name, credentialBlob, encryptedSecret);
            }
            catch (CredentialException e)
            {
                var rc = e.Failure switch
                {
                    CredentialFailure.IntegrityCheckFailed => TpmRc.OnParameter(TpmRc.Integrity, 1),
                    CredentialFailure.SecretRejected => TpmRc.OnParameter(TpmRc.Value, 2),
                    _ => TpmRc.OnParameter(TpmRc.Size, 1),
                };
                throw new SoftwareTpmException(rc, "ActivateCredential failed: " + e.Message, e);
            }
        }
    }

    public TpmsNvPublic NvReadPublic(uint nvIndex)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            return NvPublic(nvIndex, Nv(nvIndex));
        }
    }

    public byte[] NvRead(uint nvIndex)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            var nv = Nv(nvIndex);
            if (!nv.Written)
            {
                throw new SoftwareTpmException(TpmRc.NvUninitialized, $"NV index 0x{nvIndex:x8} has not been written");
            }

            return (byte[])nv.Data.Clone();
        }
    }

    public void NvDefineSpace(uint nvIndex, ushort size, TpmNvAttributes attributes)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            if ((nvIndex >> 24) != 0x01)
            {
                throw new SoftwareTpmException(TpmRc.OnParameter(TpmRc.Value, 2), $"0x{nvIndex:x8} is not an NV index handle (0x01xxxxxx)");
            }

            if (size > TpmLimits.MaxNvBufferSize)
            {
                throw new SoftwareTpmException(TpmRc.NvSize, $"NV size {size} exceeds {TpmLimits.MaxNvBufferSize}");
            }

            if ((attributes & TpmNvAttributes.Written) != 0 || ((uint)attributes & 0xF0) != 0)
            {
                // Part 3, 31.3: TPMA_NV_WRITTEN is set by the TPM; only ordinary indices (TPM_NT 0) are modelled.
                throw new SoftwareTpmException(TpmRc.OnParameter(TpmRc.Attributes, 2), "attributes must not set WRITTEN or a non-ordinary index type");
            }

            if (_state.Nv.ContainsKey(nvIndex))
            {
                throw new SoftwareTpmException(TpmRc.NvDefined, $"NV index 0x{nvIndex:x8} is already defined");
            }

            _state.Nv[nvIndex] = new StoredNvIndex { Attributes = (uint)attributes, Size = size, Data = new byte[size] };
            Save();
        }
    }

    public void NvWrite(uint nvIndex, ReadOnlySpan<byte> data, ushort offset = 0)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            var nv = Nv(nvIndex);
            if (offset + data.Length > nv.Size)
            {
                throw new SoftwareTpmException(TpmRc.NvRange, $"writing {data.Length} bytes at {offset} exceeds the index size {nv.Size}");
            }

            if (((TpmNvAttributes)nv.Attributes).HasFlag(TpmNvAttributes.WriteAll) && (offset != 0 || data.Length != nv.Size))
            {
                throw new SoftwareTpmException(TpmRc.NvRange, "TPMA_NV_WRITEALL: the whole index must be written at once");
            }

            data.CopyTo(nv.Data.AsSpan(offset));
            nv.Written = true;
            Save();
        }
    }

    public void NvUndefineSpace(uint nvIndex)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            Nv(nvIndex);
            _state.Nv.Remove(nvIndex);
            Save();
        }
    }

    public TpmAttestation NvCertify(TpmHandle signingKey, uint nvIndex, ReadOnlySpan<byte> qualifyingData, ushort size, ushort offset)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            var key = SigningKey(signingKey);
            CheckQualifyingData(qualifyingData);
            var nv = Nv(nvIndex);
            if (!nv.Written)
            {
                throw new SoftwareTpmException(TpmRc.NvUninitialized, $"NV index 0x{nvIndex:x8} has not been written");
            }

            if (offset + size > nv.Size)
            {
                throw new SoftwareTpmException(TpmRc.NvRange, $"{size} bytes at {offset} exceed the index size {nv.Size}");
            }

            var info = new NvCertifyInfo(NvPublic(nvIndex, nv).Name, offset, nv.Data.AsSpan(offset, size).ToArray());
            return Attest(key, qualifyingData, TpmStructureTag.AttestNv, info);
        }
    }

    public void MakePersistent(TpmHandle transient, TpmHandle persistentHandle)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            if (!transient.IsTransient || !_transient.TryGetValue(transient.Value, out var slot))
            {
                throw new SoftwareTpmException(TpmRc.OnHandle(TpmRc.Handle, 2), $"{transient} is not a loaded transient object");
            }

            if (!persistentHandle.IsPersistent)
            {
                throw new SoftwareTpmException(TpmRc.OnParameter(TpmRc.Range, 1), $"{persistentHandle} is not a persistent handle (0x81xxxxxx)");
            }

            if (_state.Persistent.ContainsKey(persistentHandle.Value))
            {
                throw new SoftwareTpmException(TpmRc.NvDefined, $"persistent handle {persistentHandle} is in use");
            }

            _state.Persistent[persistentHandle.Value] = slot;
            Save();
        }
    }

    public void EvictPersistent(TpmHandle persistentHandle)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            if (!_state.Persistent.Remove(persistentHandle.Value))
            {
                throw new SoftwareTpmException(TpmRc.OnHandle(TpmRc.Handle, 2), $"{persistentHandle} is not a persistent object");
            }

            Save();
        }
    }

    public void FlushContext(TpmHandle handle)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            if (!_transient.Remove(handle.Value))
            {
                throw new SoftwareTpmException(TpmRc.OnParameter(TpmRc.Handle, 1), $"{handle} is not a loaded transient object");
            }
        }
    }

    /// <summary>Saves the clock (a real TPM saves it on orderly shutdown) and releases the keys.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            try
            {
                Save();
            }
            finally
            {
                _disposed = true;
                foreach (var key in _loaded.Values)
                {
                    key.Dispose();
                }

                _loaded.Clear();
            }
        }
    }

    internal const string SlotEkRsa = "ek-rsa";
    internal const string SlotEkEcc = "ek-ecc";
    internal const string SlotAkRsa = "ak-rsa";
    internal const string SlotAkEcc = "ak-ecc";

    internal static bool IsKnownSlot(string slot) => slot is SlotEkRsa or SlotEkEcc or SlotAkRsa or SlotAkEcc;

    private TpmKey CreatePrimary(string slot, TpmKeyAlgorithm algorithm)
    {
        if (algorithm is not (TpmKeyAlgorithm.Rsa2048 or TpmKeyAlgorithm.EccP256))
        {
            throw new ArgumentOutOfRangeException(nameof(algorithm));
        }

        lock (_gate)
        {
            ThrowIfDisposed();
            if (_transient.Count >= MaxTransientObjects)
            {
                throw new SoftwareTpmException(TpmRc.ObjectMemory, $"out of memory for object contexts ({MaxTransientObjects} transient objects loaded; flush some)");
            }

            if (!_state.Keys.ContainsKey(slot))
            {
                _state.Keys[slot] = GenerateKey(slot, algorithm);
                Save();
            }

            var handle = _nextTransient++;
            if (_nextTransient >= 0x81000000)
            {
                _nextTransient = 0x80000000;
            }

            _transient[handle] = slot;
            return new TpmKey(new TpmHandle(handle), Key(slot).Public);
        }
    }

    private static StoredKey GenerateKey(string slot, TpmKeyAlgorithm algorithm)
    {
        var isEk = slot is SlotEkRsa or SlotEkEcc;
        if (algorithm == TpmKeyAlgorithm.Rsa2048)
        {
            using var rsa = RSA.Create(2048);
            var modulus = rsa.ExportParameters(false).Modulus!;
            var pub = isEk ? TpmTemplates.Ek(algorithm, modulus) : TpmTemplates.Ak(algorithm, modulus);
            return new StoredKey { Public = pub.Bytes, Pkcs8 = rsa.ExportPkcs8PrivateKey() };
        }

        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var q = ec.ExportParameters(false).Q;
        var eccPub = isEk ? TpmTemplates.Ek(algorithm, eccX: q.X, eccY: q.Y) : TpmTemplates.Ak(algorithm, eccX: q.X, eccY: q.Y);
        return new StoredKey { Public = eccPub.Bytes, Pkcs8 = ec.ExportPkcs8PrivateKey() };
    }

    private LoadedKey Key(string slot)
    {
        if (_loaded.TryGetValue(slot, out var key))
        {
            return key;
        }

        var stored = _state.Keys[slot];
        try
        {
            key = new LoadedKey(TpmtPublic.Parse(stored.Public), stored.Pkcs8, _path ?? "(in memory)", slot);
        }
        catch (Exception e) when (e is Wire.TpmFormatException or CryptographicException)
        {
            throw SoftwareTpmStateFile.Corrupt(_path ?? "(in memory)", $"key '{slot}' cannot be loaded: {e.Message}", e);
        }

        _loaded[slot] = key;
        return key;
    }

    private string Resolve(TpmHandle handle, int handleNumber)
    {
        if (_transient.TryGetValue(handle.Value, out var slot) || _state.Persistent.TryGetValue(handle.Value, out slot))
        {
            return slot;
        }

        throw new SoftwareTpmException(TpmRc.OnHandle(TpmRc.Handle, handleNumber), $"{handle} is not a loaded object");
    }

    private LoadedKey SigningKey(TpmHandle handle)
    {
        var key = Key(Resolve(handle, 1));
        if (!key.Public.ObjectAttributes.HasFlag(TpmObjectAttributes.Sign) || !TpmHash.IsSupported(key.Public.Scheme.HashAlg))
        {
            throw new SoftwareTpmException(TpmRc.OnHandle(TpmRc.Key, 1), $"{handle} is not a signing key with a scheme");
        }

        return key;
    }

    private static void CheckQualifyingData(ReadOnlySpan<byte> qualifyingData)
    {
        if (qualifyingData.Length > TpmLimits.MaxDataSize)
        {
            throw new SoftwareTpmException(TpmRc.OnParameter(TpmRc.Size, 1), $"qualifyingData of {qualifyingData.Length} bytes exceeds TPM2B_DATA ({TpmLimits.MaxDataSize})");
        }
    }

    private StoredNvIndex Nv(uint nvIndex) =>
        _state.Nv.TryGetValue(nvIndex, out var nv)
            ? nv
            : throw new SoftwareTpmException(TpmRc.OnHandle(TpmRc.Handle, 1), $"NV index 0x{nvIndex:x8} is not defined");

    private static TpmsNvPublic NvPublic(uint nvIndex, StoredNvIndex nv)
    {
        var attrs = (TpmNvAttributes)nv.Attributes;
        if (nv.Written)
        {
            attrs |= TpmNvAttributes.Written;
        }

        return new TpmsNvPublic(nvIndex, TpmAlgorithmId.Sha256, attrs, [], nv.Size);
    }

    /// <summary>
    /// Part 3, 18.4 (and the reference code's FilterPcr): the TPM drops PCRs it does not implement from the selection it quotes (and reports the result),
    /// so unallocated banks keep their entry with an empty bitmap and indices above 23 are cleared.
    /// </summary>
    private PcrSelection FilterSelection(PcrSelection selection)
    {
        var banks = new PcrBankSelection[selection.Count];
        for (var b = 0; b < banks.Length; b++)
        {
            var bank = selection[b];
            var mask = _pcrs.ContainsKey(bank.Hash) ? bank.Mask & ((1u << PcrCount) - 1) : 0;
            banks[b] = bank with { Mask = mask };
        }

        return new PcrSelection(banks);
    }

    private TpmAttestation Attest(LoadedKey key, ReadOnlySpan<byte> qualifyingData, TpmStructureTag type, AttestedInfo info)
    {
        var attest = new TpmsAttest(TpmLimits.GeneratedValue, type, EndorsementQualifiedName(key.Public.NameAlg, key.Public.Name), qualifyingData.ToArray(),
            CurrentClockInfo(), FirmwareVersion, info).ToBytes();
        return new TpmAttestation(attest, key.Sign(attest).ToBytes());
    }

    /// <summary>
    /// TPMS_ATTEST.qualifiedSigner is the signer's Qualified Name (Part 1, 16), not its Name: for a primary key of the
    /// endorsement hierarchy QN = nameAlg || H_nameAlg(TPM_RH_ENDORSEMENT || Name), as a real TPM reports it
    /// (checked against swtpm's `tpm2_readpublic` output in the tests).
    /// </summary>
    internal static byte[] EndorsementQualifiedName(TpmAlgorithmId nameAlg, byte[] name)
    {
        byte[] hierarchy = [0x40, 0x00, 0x00, 0x0B];
        return [(byte)((ushort)nameAlg >> 8), (byte)nameAlg, .. TpmHash.Hash(nameAlg, [.. hierarchy, .. name])];
    }

    private TpmsClockInfo CurrentClockInfo() => new(CurrentClock(), _state.ResetCount, _state.RestartCount, Safe: true);

    private ulong CurrentClock() => _clockAtStart + (ulong)Math.Max(0, (long)_time.GetElapsedTime(_startedAt).TotalMilliseconds);

    private void ResetPcrs()
    {
        foreach (var bank in s_banks)
        {
            var values = new byte[PcrCount][];
            for (var i = 0; i < PcrCount; i++)
            {
                values[i] = new byte[TpmHash.DigestSize(bank)];
            }

            _pcrs[bank] = values;
        }
    }

    private void Save()
    {
        _state.ClockMs = CurrentClock();
        _clockAtStart = _state.ClockMs;
        _startedAt = _time.GetTimestamp();
        if (_path is not null)
        {
            SoftwareTpmStateFile.Save(_path, _state);
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>A key imported from its PKCS#8 on first use.</summary>
    private sealed class LoadedKey : IDisposable
    {
        private readonly byte[] _pkcs8;
        private RSA? _rsa;
        private RSAParameters? _rsaParameters;
        private ECDsa? _ecdsa;
        private ECDiffieHellman? _ecdh;

        private readonly string _path;
        private readonly string _slot;
        private bool _verified;

        public LoadedKey(TpmtPublic pub, byte[] pkcs8, string path, string slot)
        {
            Public = pub;
            _pkcs8 = pkcs8;
            _path = path;
            _slot = slot;
            if (pub.Type is not (TpmAlgorithmId.Rsa or TpmAlgorithmId.Ecc))
            {
                throw new CryptographicException($"unsupported key type {pub.Type}");
            }
        }

        public TpmtPublic Public { get; }

        private RSA Rsa
        {
            get
            {
                Verify();
                return _rsa!;
            }
        }

        private ECDsa EcDsa
        {
            get
            {
                Verify();
                return _ecdsa!;
            }
        }

        public ECDiffieHellman Ecdh
        {
            get
            {
                Verify();
                return _ecdh ??= Import(ECDiffieHellman.Create(), e => e.ImportPkcs8PrivateKey(_pkcs8, out _));
            }
        }

        public RSAParameters RsaParameters => _rsaParameters ??= Rsa.ExportParameters(includePrivateParameters: true);

        /// <summary>
        /// Imports the private key on first use (so that opening a state file stays cheap) and checks that it matches
        /// the public area; a mismatch or an unreadable PKCS#8 means the state file is corrupt.
        /// </summary>
        private void Verify()
        {
            if (_verified)
            {
                return;
            }

            try
            {
                if (Public.Type == TpmAlgorithmId.Rsa)
                {
                    _rsa ??= Import(RSA.Create(), r => r.ImportPkcs8PrivateKey(_pkcs8, out _));
                    if (!_rsa.ExportParameters(false).Modulus.AsSpan().SequenceEqual(Public.Rsa!.Modulus))
                    {
                        throw new CryptographicException("private key does not match the public area");
                    }
                }
                else
                {
                    _ecdsa ??= Import(ECDsa.Create(), e => e.ImportPkcs8PrivateKey(_pkcs8, out _));
                    var q = _ecdsa.ExportParameters(false).Q;
                    if (!q.X.AsSpan().SequenceEqual(Public.Ecc!.X) || !q.Y.AsSpan().SequenceEqual(Public.Ecc.Y))
                    {
                        throw new CryptographicException("private key does not match the public area");
                    }
                }
            }
            catch (CryptographicException e)
            {
                throw SoftwareTpmStateFile.Corrupt(_path, $"key '{_slot}' cannot be used: {e.Message}", e);
            }

            _verified = true;
        }

        /// <summary>TPMT_SIGNATURE over the bytes with the key's scheme: RSASSA-PKCS1-v1_5, or ECDSA with r and s padded to the curve size.</summary>
        public TpmtSignature Sign(byte[] message)
        {
            var hashAlg = Public.Scheme.HashAlg;
            var hashName = TpmHash.ToHashAlgorithmName(hashAlg);
            switch (Public.Scheme.Scheme)
            {
                case TpmAlgorithmId.RsaSsa:
                    return TpmtSignature.Rsa(TpmAlgorithmId.RsaSsa, hashAlg, Rsa.SignData(message, hashName, RSASignaturePadding.Pkcs1));
                case TpmAlgorithmId.RsaPss:
                    return TpmtSignature.Rsa(TpmAlgorithmId.RsaPss, hashAlg, Rsa.SignData(message, hashName, RSASignaturePadding.Pss));
                case TpmAlgorithmId.EcDsa:
                {
                    var rs = EcDsa.SignData(message, hashName, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
                    var half = rs.Length / 2;
                    return TpmtSignature.Ecdsa(hashAlg, rs[..half], rs[half..]);
                }

                default:
                    throw new SoftwareTpmException(TpmRc.OnHandle(TpmRc.Key, 1), $"signing scheme {Public.Scheme.Scheme} is not supported");
            }
        }

        public void Dispose()
        {
            _rsa?.Dispose();
            _ecdsa?.Dispose();
            _ecdh?.Dispose();
            if (_rsaParameters is { } p)
            {
                CryptographicOperations.ZeroMemory(p.D);
                CryptographicOperations.ZeroMemory(p.P);
                CryptographicOperations.ZeroMemory(p.Q);
                CryptographicOperations.ZeroMemory(p.DP);
                CryptographicOperations.ZeroMemory(p.DQ);
                CryptographicOperations.ZeroMemory(p.InverseQ);
            }
        }

        private static T Import<T>(T key, Action<T> import)
            where T : IDisposable
        {
            try
            {
                import(key);
                return key;
            }
            catch
            {
                key.Dispose();
                throw;
            }
        }
    }
}
