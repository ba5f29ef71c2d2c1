using TrustPool.Tpm.Structures;
using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Client;

public sealed partial class TpmClient
{
    /// <summary>TPM2_NV_ReadPublic (Part 3, 31.6). The returned name is checked against the hash of the public area.</summary>
    public TpmsNvPublic NvReadPublic(uint nvIndex)
    {
        var w = Begin(TpmCommandCode.NvReadPublic, [nvIndex], []);
        var r = Send(w, TpmCommandCode.NvReadPublic, 0, 0).Parameters();
        var pubAt = r.Offset;
        var pub = TpmsNvPublic.ReadTpm2b(ref r);
        var nameAt = r.Offset;
        var name = r.ReadSizedBytes("TPM2B_NAME nvName", TpmLimits.MaxNameSize);
        r.ThrowIfNotEmpty("TPM2_NV_ReadPublic response");
        if (pub.NvIndex != nvIndex)
        {
            throw new TpmFormatException("TPMS_NV_PUBLIC.nvIndex", pubAt + 2, $"0x{pub.NvIndex:x8} returned for 0x{nvIndex:x8}");
        }

        if (TpmHash.IsSupported(pub.NameAlg) && !name.SequenceEqual(pub.Name))
        {
            throw new TpmFormatException("TPM2B_NAME nvName", nameAt, "the name does not match the returned public area");
        }

        return pub;
    }

    /// <summary>
    /// TPM2_NV_Read (Part 3, 31.13) of the whole index in chunks of TPM_PT_NV_BUFFER_MAX. Authorized with an empty
    /// password by the index itself (TPMA_NV_AUTHREAD), else the owner (OWNERREAD), else the platform (PPREAD):
    /// EK certificate indices written by manufacturers and swtpm_setup allow AUTHREAD or OWNERREAD.
    /// </summary>
    public byte[] NvRead(uint nvIndex)
    {
        var pub = NvReadPublic(nvIndex);
        var auth = ReadAuthorization(pub);
        var result = new byte[pub.DataSize];
        var chunk = NvBufferMax;
        for (var offset = 0; offset < result.Length; offset += chunk)
        {
            var n = Math.Min(chunk, result.Length - offset);
            var w = Begin(TpmCommandCode.NvRead, [auth, nvIndex], [SessionAuth.Password]);
            w.WriteUInt16((ushort)n).WriteUInt16((ushort)offset);
            var r = Send(w, TpmCommandCode.NvRead, 1, 0).Parameters();
            var at = r.Offset;
            var data = r.ReadSizedBytes("TPM2B_MAX_NV_BUFFER data", TpmLimits.MaxNvBufferSize);
            r.ThrowIfNotEmpty("TPM2_NV_Read response");
            if (data.Length != n)
            {
                throw new TpmFormatException("TPM2B_MAX_NV_BUFFER data", at, $"{data.Length} bytes returned for a read of {n}");
            }

            data.CopyTo(result.AsSpan(offset));
        }

        return result;
    }

    private static uint ReadAuthorization(TpmsNvPublic pub) =>
        (pub.Attributes & TpmNvAttributes.AuthRead) != 0 ? pub.NvIndex
        : (pub.Attributes & TpmNvAttributes.OwnerRead) != 0 ? TpmHandle.Owner.Value
        : (pub.Attributes & TpmNvAttributes.PpRead) != 0 ? TpmHandle.Platform.Value
        : throw new NotSupportedException($"NV index 0x{pub.NvIndex:x8} can only be read with a policy (attributes 0x{(uint)pub.Attributes:x8})");

    /// <summary>TPM2_NV_DefineSpace (Part 3, 31.3) under the owner with an empty auth value and no policy; nameAlg SHA-256.</summary>
    public void NvDefineSpace(uint nvIndex, ushort size, TpmNvAttributes attributes)
    {
        var w = Begin(TpmCommandCode.NvDefineSpace, [TpmHandle.Owner.Value], [SessionAuth.Password]);
        w.WriteUInt16(0); // TPM2B_AUTH auth
        new TpmsNvPublic(nvIndex, TpmAlgorithmId.Sha256, attributes, [], size).WriteTpm2b(w);
        Send(w, TpmCommandCode.NvDefineSpace, 1, 0).Parameters().ThrowIfNotEmpty("TPM2_NV_DefineSpace response");
    }

    /// <summary>TPM2_NV_Write (Part 3, 31.9) authorized by the index (empty auth), in chunks of TPM_PT_NV_BUFFER_MAX.</summary>
    public void NvWrite(uint nvIndex, ReadOnlySpan<byte> data, ushort offset = 0)
    {
        if (offset + data.Length > ushort.MaxValue)
        {
            throw new ArgumentException("offset + length exceed an NV index's 16-bit range", nameof(data));
        }

        var chunk = NvBufferMax;
        var done = 0;
        do
        {
            var n = Math.Min(chunk, data.Length - done);
            var w = Begin(TpmCommandCode.NvWrite, [nvIndex, nvIndex], [SessionAuth.Password]);
            w.WriteSized(data.Slice(done, n)).WriteUInt16((ushort)(offset + done));
            Send(w, TpmCommandCode.NvWrite, 1, 0).Parameters().ThrowIfNotEmpty("TPM2_NV_Write response");
            done += n;
        }
        while (done < data.Length);
    }

    /// <summary>TPM2_NV_UndefineSpace (Part 3, 31.4) under the owner.</summary>
    public void NvUndefineSpace(uint nvIndex)
    {
        var w = Begin(TpmCommandCode.NvUndefineSpace, [TpmHandle.Owner.Value, nvIndex], [SessionAuth.Password]);
        Send(w, TpmCommandCode.NvUndefineSpace, 1, 0).Parameters().ThrowIfNotEmpty("TPM2_NV_UndefineSpace response");
    }

    /// <summary>
    /// TPM2_NV_Certify (Part 3, 31.16) with the key's own scheme; both the signing key and the index read are
    /// authorized with empty passwords (the index's read authorization chosen as for <see cref="NvRead"/>).
    /// </summary>
    public TpmAttestation NvCertify(TpmHandle signingKey, uint nvIndex, ReadOnlySpan<byte> qualifyingData, ushort size, ushort offset)
    {
        CheckData(qualifyingData, nameof(qualifyingData));
        var auth = ReadAuthorization(NvReadPublic(nvIndex));
        var w = Begin(TpmCommandCode.NvCertify, [signingKey.Value, auth, nvIndex], [SessionAuth.Password, SessionAuth.Password]);
        w.WriteSized(qualifyingData);
        w.WriteAlgorithm(TpmAlgorithmId.Null); // TPMT_SIG_SCHEME inScheme
        w.WriteUInt16(size).WriteUInt16(offset);
        var r = Send(w, TpmCommandCode.NvCertify, 2, 0).Parameters();
        return ReadAttestation(ref r, "TPM2_NV_Certify response");
    }
}
