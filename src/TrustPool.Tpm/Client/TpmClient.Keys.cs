using System.Security.Cryptography;
using TrustPool.Tpm.Structures;
using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Client;

public sealed partial class TpmClient
{
    private const byte SessionTypePolicy = 0x01; // TPM_SE_POLICY
    private const int NonceSize = 32;

    public TpmKey CreateEk(TpmKeyAlgorithm algorithm) => CreatePrimary(TpmHandle.Endorsement, TpmTemplates.Ek(algorithm));

    public TpmKey CreateAk(TpmKeyAlgorithm algorithm) => CreatePrimary(TpmHandle.Endorsement, TpmTemplates.Ak(algorithm));

    /// <summary>
    /// TPM2_CreatePrimary (Part 3, 24.1) with an empty userAuth, no outsideInfo and no creation PCRs.
    /// The same template in the same hierarchy yields the same key (derived from the hierarchy seed).
    /// </summary>
    public TpmKey CreatePrimary(TpmHandle hierarchy, TpmtPublic template)
    {
        ArgumentNullException.ThrowIfNull(template);
        var w = Begin(TpmCommandCode.CreatePrimary, [hierarchy.Value], [SessionAuth.Password]);
        w.WriteSized(s => s.WriteUInt16(0).WriteUInt16(0)); // TPM2B_SENSITIVE_CREATE { userAuth = empty, data = empty }
        w.WriteSized(template.Bytes);                      // TPM2B_PUBLIC inPublic
        w.WriteUInt16(0);                                  // TPM2B_DATA outsideInfo
        w.WriteUInt32(0);                                  // TPML_PCR_SELECTION creationPCR
        var response = Send(w, TpmCommandCode.CreatePrimary, 1, 1);
        var handle = response.Handles[0];
        try
        {
            var r = response.Parameters();
            var pub = TpmtPublic.ReadTpm2b(ref r);
            r.ReadSizedBytes("TPM2B_CREATION_DATA", TpmLimits.MaxStructureSize);
            r.ReadSizedBytes("TPM2B_DIGEST creationHash", TpmLimits.MaxDigestSize);
            r.ReadUInt16("TPMT_TK_CREATION.tag");
            r.ReadUInt32("TPMT_TK_CREATION.hierarchy");
            r.ReadSizedBytes("TPMT_TK_CREATION.digest", TpmLimits.MaxDigestSize);
            var nameAt = r.Offset;
            var name = r.ReadSizedBytes("TPM2B_NAME", TpmLimits.MaxNameSize);
            r.ThrowIfNotEmpty("TPM2_CreatePrimary response");
            CheckName(pub, name, nameAt);
            return new TpmKey(new TpmHandle(handle), pub);
        }
        catch
        {
            TryFlush(handle);
            throw;
        }
    }

    /// <summary>TPM2_ReadPublic (Part 3, 12.4). The returned name is checked against the hash of the public area.</summary>
    public TpmtPublic ReadPublic(TpmHandle handle)
    {
        var w = Begin(TpmCommandCode.ReadPublic, [handle.Value], []);
        var r = Send(w, TpmCommandCode.ReadPublic, 0, 0).Parameters();
        var pub = TpmtPublic.ReadTpm2b(ref r);
        var nameAt = r.Offset;
        var name = r.ReadSizedBytes("TPM2B_NAME name", TpmLimits.MaxNameSize);
        r.ReadSizedBytes("TPM2B_NAME qualifiedName", TpmLimits.MaxNameSize);
        r.ThrowIfNotEmpty("TPM2_ReadPublic response");
        CheckName(pub, name, nameAt);
        return pub;
    }

    /// <summary>
    /// The TPM's name for an object must be nameAlg || H(TPMT_PUBLIC) of the public area it returned (Part 1, 16).
    /// A nameAlg TrustPool cannot compute (SM3) is left unchecked here; using such a key's Name fails later.
    /// </summary>
    private static void CheckName(TpmtPublic pub, ReadOnlySpan<byte> name, int nameAt)
    {
        if (TpmHash.IsSupported(pub.NameAlg) && !name.SequenceEqual(pub.Name))
        {
            throw new TpmFormatException("TPM2B_NAME", nameAt, "the name does not match the returned public area");
        }
    }

    /// <summary>TPM2_Quote (Part 3, 18.4) with inScheme TPM_ALG_NULL: the key's own scheme signs.</summary>
    public TpmAttestation Quote(TpmHandle signingKey, ReadOnlySpan<byte> qualifyingData, PcrSelection selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        CheckData(qualifyingData, nameof(qualifyingData));
        var w = Begin(TpmCommandCode.Quote, [signingKey.Value], [SessionAuth.Password]);
        w.WriteSized(qualifyingData);
        w.WriteAlgorithm(TpmAlgorithmId.Null); // TPMT_SIG_SCHEME inScheme
        selection.Write(w);
        var r = Send(w, TpmCommandCode.Quote, 1, 0).Parameters();
        return ReadAttestation(ref r, "TPM2_Quote response");
    }

    /// <summary>TPM2B_ATTEST then TPMT_SIGNATURE, both returned as the TPM produced them (the signature checked to parse).</summary>
    private static TpmAttestation ReadAttestation(ref TpmReader r, string structure)
    {
        var attest = r.ReadSizedBytes("TPM2B_ATTEST", TpmLimits.MaxStructureSize).ToArray();
        var before = r;
        var start = r.Remaining;
        TpmtSignature.Read(ref r);
        var signature = before.ReadBytes(start - r.Remaining, "TPMT_SIGNATURE").ToArray();
        r.ThrowIfNotEmpty(structure);
        return new TpmAttestation(attest, signature);
    }

    private static void CheckData(ReadOnlySpan<byte> data, string name)
    {
        if (data.Length > TpmLimits.MaxDataSize)
        {
            throw new ArgumentException($"TPM2B_DATA holds at most {TpmLimits.MaxDataSize} bytes, not {data.Length}", name);
        }
    }

    /// <summary>
    /// TPM2_ActivateCredential (Part 3, 12.5). The activated object (AK, userWithAuth) is authorized by an empty
    /// password; the EK (adminWithPolicy, authPolicy = PolicySecret(TPM_RH_ENDORSEMENT)) by a fresh policy session
    /// that has run PolicySecret. That session has neither PolicyAuthValue nor PolicyPassword and no salt or bind,
    /// so its HMAC key is empty and the empty HMAC is accepted (Part 1, 19.6.17; reference code ComputeCommandHMAC).
    /// The session is used once (continueSession clear) and flushed here when the command fails.
    /// </summary>
    public byte[] ActivateCredential(TpmHandle activateHandle, TpmHandle ekHandle, byte[] credentialBlob, byte[] encryptedSecret)
    {
        ArgumentNullException.ThrowIfNull(credentialBlob);
        ArgumentNullException.ThrowIfNull(encryptedSecret);
        var session = StartPolicySession();
        var consumed = false;
        try
        {
            PolicySecret(TpmHandle.Endorsement, session);
            var policy = new SessionAuth(session, RandomNumberGenerator.GetBytes(NonceSize), 0x00, []);
            var w = Begin(TpmCommandCode.ActivateCredential, [activateHandle.Value, ekHandle.Value], [SessionAuth.Password, policy]);
            w.WriteSized(credentialBlob);  // TPM2B_ID_OBJECT
            w.WriteSized(encryptedSecret); // TPM2B_ENCRYPTED_SECRET
            var response = Send(w, TpmCommandCode.ActivateCredential, 2, 0);
            consumed = true;
            var r = response.Parameters();
            var certInfo = r.ReadSizedBytes("TPM2B_DIGEST certInfo", TpmLimits.MaxDigestSize).ToArray();
            r.ThrowIfNotEmpty("TPM2_ActivateCredential response");
            return certInfo;
        }
        finally
        {
            if (!consumed)
            {
                TryFlush(session);
            }
        }
    }

    /// <summary>TPM2_StartAuthSession (Part 3, 11.1): an unsalted, unbound SHA-256 policy session without parameter encryption.</summary>
    private uint StartPolicySession()
    {
        var w = Begin(TpmCommandCode.StartAuthSession, [TpmHandle.Null.Value, TpmHandle.Null.Value], []);
        w.WriteSized(RandomNumberGenerator.GetBytes(NonceSize)); // nonceCaller (16 bytes at least)
        w.WriteUInt16(0);                                        // encryptedSalt
        w.WriteByte(SessionTypePolicy);
        w.WriteAlgorithm(TpmAlgorithmId.Null);                   // TPMT_SYM_DEF symmetric
        w.WriteAlgorithm(TpmAlgorithmId.Sha256);                 // authHash
        var response = Send(w, TpmCommandCode.StartAuthSession, 0, 1);
        var handle = response.Handles[0];
        try
        {
            var r = response.Parameters();
            r.ReadSizedBytes("TPM2B_NONCE nonceTPM", TpmLimits.MaxDigestSize);
            r.ThrowIfNotEmpty("TPM2_StartAuthSession response");
            return handle;
        }
        catch
        {
            TryFlush(handle);
            throw;
        }
    }

    /// <summary>TPM2_PolicySecret (Part 3, 23.4) with an empty password for <paramref name="authHandle"/>; no nonce, cpHash, policyRef or expiration.</summary>
    private void PolicySecret(TpmHandle authHandle, uint policySession)
    {
        var w = Begin(TpmCommandCode.PolicySecret, [authHandle.Value, policySession], [SessionAuth.Password]);
        w.WriteUInt16(0); // nonceTPM
        w.WriteUInt16(0); // cpHashA
        w.WriteUInt16(0); // policyRef
        w.WriteUInt32(0); // expiration
        var r = Send(w, TpmCommandCode.PolicySecret, 1, 0).Parameters();
        r.ReadSizedBytes("TPM2B_TIMEOUT", 8);
        r.ReadUInt16("TPMT_TK_AUTH.tag");
        r.ReadUInt32("TPMT_TK_AUTH.hierarchy");
        r.ReadSizedBytes("TPMT_TK_AUTH.digest", TpmLimits.MaxDigestSize);
        r.ThrowIfNotEmpty("TPM2_PolicySecret response");
    }

    /// <summary>TPM2_EvictControl (Part 3, 28.5) under owner authorization.</summary>
    public void MakePersistent(TpmHandle transient, TpmHandle persistentHandle)
    {
        if (!transient.IsTransient || !persistentHandle.IsPersistent)
        {
            throw new ArgumentException($"expected a transient object and a persistent handle, got {transient} and {persistentHandle}");
        }

        EvictControl(transient, persistentHandle);
    }

    public void EvictPersistent(TpmHandle persistentHandle)
    {
        if (!persistentHandle.IsPersistent)
        {
            throw new ArgumentException($"{persistentHandle} is not a persistent handle", nameof(persistentHandle));
        }

        EvictControl(persistentHandle, persistentHandle);
    }

    private void EvictControl(TpmHandle obj, TpmHandle persistentHandle)
    {
        var w = Begin(TpmCommandCode.EvictControl, [TpmHandle.Owner.Value, obj.Value], [SessionAuth.Password]);
        w.WriteUInt32(persistentHandle.Value);
        Send(w, TpmCommandCode.EvictControl, 1, 0).Parameters().ThrowIfNotEmpty("TPM2_EvictControl response");
    }
}
