using CsCheck;
using TrustPool.Tpm.Structures;
using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Tests.Wire;

/// <summary>Every reader/writer pair round-trips: write(read(write(x))) == write(x) (STYLE: DR CborPropertyTests).</summary>
public class RoundTripPropertyTests
{
    private const long Iterations = 500;

    private static Gen<T> Pick<T>(params T[] items) => Gen.Int[0, items.Length - 1].Select(i => items[i]);

    private static readonly Gen<TpmAlgorithmId> s_hash = Pick(TpmAlgorithmId.Sha1, TpmAlgorithmId.Sha256, TpmAlgorithmId.Sha384, TpmAlgorithmId.Sha512);

    private static readonly Gen<PcrSelection> s_selection =
        Gen.Select(s_hash, Gen.UInt[1, 0xFFFFFF]).Select(t => new PcrBankSelection(t.Item1, t.Item2, 3))
            .Array[0, 4].Select(b => new PcrSelection(b));

    private static readonly Gen<byte[]> s_digest = Gen.Byte.Array[0, 64];
    private static readonly Gen<byte[]> s_name = Gen.Byte.Array[0, 66];

    private static readonly Gen<TpmsClockInfo> s_clock =
        Gen.Select(Gen.ULong, Gen.UInt, Gen.UInt, Gen.Bool).Select(t => new TpmsClockInfo(t.Item1, t.Item2, t.Item3, t.Item4));

    private static readonly Gen<AttestedInfo> s_attested = Gen.OneOf<AttestedInfo>(
        Gen.Select(s_selection, s_digest).Select(t => (AttestedInfo)new QuoteInfo(t.Item1, t.Item2)),
        Gen.Select(s_name, s_name).Select(t => (AttestedInfo)new CertifyInfo(t.Item1, t.Item2)),
        Gen.Select(s_name, Gen.UShort, Gen.Byte.Array[0, 300]).Select(t => (AttestedInfo)new NvCertifyInfo(t.Item1, t.Item2, t.Item3)),
        Gen.Select(s_name, s_digest).Select(t => (AttestedInfo)new NvDigestCertifyInfo(t.Item1, t.Item2)),
        Gen.Select(s_name, s_digest).Select(t => (AttestedInfo)new CreationInfo(t.Item1, t.Item2)));

    private static readonly Gen<TpmsAttest> s_attest =
        Gen.Select(Gen.UInt, s_name, Gen.Byte.Array[0, 66], s_clock, Gen.ULong, s_attested)
            .Select(t => new TpmsAttest(t.Item1, TypeOf(t.Item6), t.Item2, t.Item3, t.Item4, t.Item5, t.Item6));

    private static TpmStructureTag TypeOf(AttestedInfo a) => a switch
    {
        QuoteInfo => TpmStructureTag.AttestQuote,
        CertifyInfo => TpmStructureTag.AttestCertify,
        NvCertifyInfo => TpmStructureTag.AttestNv,
        NvDigestCertifyInfo => TpmStructureTag.AttestNvDigest,
        _ => TpmStructureTag.AttestCreation,
    };

    private static readonly Gen<TpmtPublic> s_public = Gen.OneOf(
        Gen.Select(Gen.UInt, s_digest, Gen.Byte.Array[0, 512], Gen.UInt, Pick(TpmAlgorithmId.RsaSsa, TpmAlgorithmId.RsaPss, TpmAlgorithmId.Null, TpmAlgorithmId.RsaEs, TpmAlgorithmId.Oaep))
            .Select(t => new TpmtPublic(TpmAlgorithmId.Rsa, TpmAlgorithmId.Sha256, (TpmObjectAttributes)t.Item1, t.Item2,
                new RsaPublicParameters(TpmSymmetricDefinition.Aes128Cfb,
                    t.Item5 is TpmAlgorithmId.Null or TpmAlgorithmId.RsaEs ? new TpmScheme(t.Item5) : new TpmScheme(t.Item5, TpmAlgorithmId.Sha256),
                    2048, t.Item4, t.Item3), null)),
        Gen.Select(Gen.UInt, s_digest, Gen.Byte.Array[0, 66], Gen.Byte.Array[0, 66], Gen.Bool)
            .Select(t => new TpmtPublic(TpmAlgorithmId.Ecc, TpmAlgorithmId.Sha384, (TpmObjectAttributes)t.Item1, t.Item2, null,
                new EccPublicParameters(TpmSymmetricDefinition.Null,
                    t.Item5 ? new TpmScheme(TpmAlgorithmId.EcDaa, TpmAlgorithmId.Sha256, 7) : new TpmScheme(TpmAlgorithmId.EcDsa, TpmAlgorithmId.Sha256),
                    TpmEccCurve.NistP384, new TpmScheme(TpmAlgorithmId.Kdf1Sp800_56A, TpmAlgorithmId.Sha256), t.Item3, t.Item4))));

    private static readonly Gen<TpmtSignature> s_signature = Gen.OneOf(
        Gen.Select(s_hash, Gen.Byte.Array[0, 512], Gen.Bool).Select(t => TpmtSignature.Rsa(t.Item3 ? TpmAlgorithmId.RsaSsa : TpmAlgorithmId.RsaPss, t.Item1, t.Item2)),
        Gen.Select(s_hash, Gen.Byte.Array[0, 66], Gen.Byte.Array[0, 66]).Select(t => TpmtSignature.Ecdsa(t.Item1, t.Item2, t.Item3)));

    [Fact]
    public void TpmsAttest_WriteReadWrite_SameBytes() =>
        s_attest.Sample(a =>
        {
            var bytes = a.ToBytes();
            Assert.Equal(bytes, TpmsAttest.Parse(bytes).ToBytes());
        }, iter: Iterations);

    [Fact]
    public void TpmtPublic_WriteReadWrite_SameBytesAndName() =>
        s_public.Sample(p =>
        {
            var bytes = p.ToTpm2b();
            var again = TpmtPublic.ParseTpm2b(bytes);
            Assert.Equal(bytes, again.ToTpm2b());
            Assert.Equal(p.Name, again.Name);
            Assert.Equal(p.Bytes, TpmtPublic.Parse(p.Bytes).Bytes);
        }, iter: Iterations);

    [Fact]
    public void TpmtSignature_WriteReadWrite_SameBytes() =>
        s_signature.Sample(s =>
        {
            var bytes = s.ToBytes();
            Assert.Equal(bytes, TpmtSignature.Parse(bytes).ToBytes());
        }, iter: Iterations);

    [Fact]
    public void PcrSelection_WriteReadWrite_SameBytesAndEqual() =>
        s_selection.Sample(sel =>
        {
            var w = new TpmWriter();
            sel.Write(w);
            var r = new TpmReader(w.WrittenSpan);
            var again = PcrSelection.Read(ref r);
            r.ThrowIfNotEmpty("TPML_PCR_SELECTION");
            Assert.Equal(sel, again);
            var w2 = new TpmWriter();
            again.Write(w2);
            Assert.Equal(w.ToArray(), w2.ToArray());
        }, iter: Iterations);

    [Fact]
    public void TpmlDigestAndTpmtHa_WriteReadWrite_SameBytes() =>
        Gen.Select(s_digest.Array[0, 8], s_hash, Gen.Byte.Array[64]).Sample(t =>
        {
            var w = new TpmWriter();
            TpmlDigest.Write(w, t.Item1);
            var ha = new TpmtHa(t.Item2, t.Item3[..TpmHash.DigestSize(t.Item2)]);
            ha.Write(w);
            var r = new TpmReader(w.WrittenSpan);
            var list = TpmlDigest.Read(ref r);
            var ha2 = TpmtHa.Read(ref r);
            r.ThrowIfNotEmpty("test");
            Assert.Equal(t.Item1, list);
            Assert.Equal(ha, ha2);
        }, iter: Iterations);

    [Fact]
    public void Tpm2ToolsPcrFile_WriteRead_SameSelectionAndValues() =>
        Gen.Select(s_selection.Where(s => s.Count > 0), Gen.Int).Sample(t =>
        {
            var (sel, seed) = t;
            var rng = new Random(seed);
            var values = new PcrValues();
            foreach (var b in sel)
            {
                foreach (var i in b.Indices)
                {
                    var v = new byte[TpmHash.DigestSize(b.Hash)];
                    rng.NextBytes(v);
                    values.Set(b.Hash, i, v);
                }
            }

            var file = TrustPool.Tpm.Quotes.Tpm2ToolsPcrFile.Write(sel, values);
            var (sel2, values2) = TrustPool.Tpm.Quotes.Tpm2ToolsPcrFile.Read(file);
            Assert.Equal(sel, sel2);
            Assert.Equal(values.All().Select(x => (x.Bank, x.Index, Convert.ToHexString(x.Value))).OrderBy(x => x),
                values2.All().Select(x => (x.Bank, x.Index, Convert.ToHexString(x.Value))).OrderBy(x => x));
        }, iter: 200);
}
