using System.Security.Cryptography;
using TrustPool.Audit.Checkpoints;
using TrustPool.Audit.Merkle;

namespace TrustPool.Audit.Tests.Checkpoints;

public sealed class CheckpointTests : IDisposable
{
    private const string Origin = "trustpool.example/audit";
    private static readonly DateTimeOffset s_time = new(2026, 11, 27, 13, 0, 0, 123, TimeSpan.Zero);

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public void Dispose()
    {
        _key.Dispose();
        _otherKey.Dispose();
    }

    [Fact]
    public void ToNoteText_Checkpoint_IsC2spBodyWithTimestampLine()
    {
        var root = MerkleHash.EmptyRoot;
        var text = new Checkpoint(Origin, 0, root, s_time).ToNoteText();

        Assert.Equal("trustpool.example/audit\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\ntimestamp 1795784400123\n", text);
        Assert.True(new Checkpoint(Origin, 0, root, s_time).SameAs(Checkpoint.Parse(text)));
    }

    [Fact]
    public void SignThenVerify_RoundTrip_ReturnsSameCheckpoint()
    {
        var tree = Tree(10);
        var signer = new CheckpointSigner(Origin, _key);
        var signed = signer.Sign(new Checkpoint(Origin, tree.Size, tree.Root(), s_time.AddTicks(1234)));

        var verified = Verifier().Verify(signed.Note);

        Assert.True(verified.SameAs(signed.Checkpoint));
        Assert.Equal(10UL, verified.Size);
        Assert.Equal(tree.Root(), verified.RootHash);
        Assert.Equal(s_time, verified.Timestamp); // sub-millisecond ticks are not part of the signed text
        Assert.StartsWith(signed.Checkpoint.ToNoteText() + "\n\u2014 " + Origin + " ", signed.Note, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("trustpool.example/audit\n10\n", "trustpool.example/audit\n11\n")]
    [InlineData("trustpool.example/audit\n", "trustpool.example/audiT\n")]
    [InlineData("timestamp 17", "timestamp 27")]
    public void Verify_TamperedText_SignatureInvalid(string find, string replace)
    {
        var signed = new CheckpointSigner(Origin, _key).Sign(new Checkpoint(Origin, 10, Tree(10).Root(), s_time));
        var tampered = ReplaceFirst(signed.Note, find, replace);
        Assert.NotEqual(signed.Note, tampered);

        Assert.False(new CheckpointVerifier(Origin, _key).TryVerify(tampered, out _, out var error));

        Assert.IsType<CheckpointSignatureInvalid>(error);
    }

    [Fact]
    public void Verify_TamperedRoot_SignatureInvalid()
    {
        var cp = new Checkpoint(Origin, 10, Tree(10).Root(), s_time);
        var signed = new CheckpointSigner(Origin, _key).Sign(cp);
        var otherRoot = Convert.ToBase64String(Tree(11).Root());
        var tampered = signed.Note.Replace(Convert.ToBase64String(cp.RootHash), otherRoot, StringComparison.Ordinal);

        var e = Assert.Throws<CheckpointException>(() => Verifier().Verify(tampered));

        Assert.IsType<CheckpointSignatureInvalid>(e.Error);
    }

    [Fact]
    public void Verify_SignedByAnotherKey_SignatureMissing()
    {
        var signed = new CheckpointSigner(Origin, _otherKey).Sign(new Checkpoint(Origin, 1, Tree(1).Root(), s_time));

        Assert.False(Verifier().TryVerify(signed.Note, out _, out var error));

        Assert.IsType<CheckpointSignatureMissing>(error);
    }

    [Fact]
    public void Verify_ExtraWitnessSignature_Ignored()
    {
        var signed = new CheckpointSigner(Origin, _key).Sign(new Checkpoint(Origin, 3, Tree(3).Root(), s_time));
        var witness = new CheckpointSigner("witness.example/w1", _otherKey).Sign(signed.Checkpoint);
        var both = signed.Note + witness.Note[(witness.Note.IndexOf('\u2014', StringComparison.Ordinal))..];

        Assert.True(Verifier().TryVerify(both, out var cp, out var error), error?.Message);
        Assert.Equal(3UL, cp.Size);
    }

    [Fact]
    public void Verify_OtherOrigin_OriginMismatch()
    {
        var signed = new CheckpointSigner(Origin, _key).Sign(new Checkpoint("other.example/log", 1, Tree(1).Root(), s_time));

        Assert.False(Verifier().TryVerify(signed.Note, out _, out var error));

        Assert.Equal(new OriginMismatch(Origin, "other.example/log"), error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("trustpool.example/audit\n1\n")]
    [InlineData("trustpool.example/audit\n1\nAAAA\ntimestamp 1\n\n")]
    [InlineData("trustpool.example/audit\n1\nAAAA\ntimestamp 1\n\n\u2014 trustpool.example/audit\n")]
    [InlineData("trustpool.example/audit\n1\nAAAA\ntimestamp 1\n\n\u2014 trustpool.example/audit !!!\n")]
    public void Verify_MalformedNote_Malformed(string note)
    {
        Assert.False(Verifier().TryVerify(note, out _, out var error));
        Assert.IsType<MalformedCheckpoint>(error);
    }

    [Theory]
    [InlineData("o\n01\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\ntimestamp 1\n")]
    [InlineData("o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\ntimestamp 1\n")]
    [InlineData("o\n1\nAAAA\ntimestamp 1\n")]
    [InlineData("o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\ntimestamp 01\n")]
    [InlineData("o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n")]
    [InlineData("o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\ntimestamp 1\nextra\n")]
    [InlineData("\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\ntimestamp 1\n")]
    [InlineData("o\n-1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\ntimestamp 1\n")]
    public void TryParse_NonCanonicalText_False(string text)
    {
        Assert.False(Checkpoint.TryParse(text, out _, out var reason));
        Assert.NotEmpty(reason);
    }

    [Fact]
    public void VerifyConsistencyBetween_GrowingLog_AcceptsAndRejectsForgedHistory()
    {
        var tree = Tree(100);
        var signer = new CheckpointSigner(Origin, _key);
        var older = Verifier().Verify(signer.Sign(new Checkpoint(Origin, 37, tree.RootAt(37), s_time)).Note);
        var newer = Verifier().Verify(signer.Sign(new Checkpoint(Origin, 100, tree.Root(), s_time.AddMinutes(1))).Note);

        CheckpointVerifier.VerifyConsistencyBetween(older, newer, tree.ConsistencyProof(37, 100));

        // A log that rewrote leaf 5 after the older checkpoint cannot prove consistency with it.
        var forked = new MerkleTree();
        for (var i = 0; i < 100; i++)
        {
            forked.Append(BitConverter.GetBytes(i == 5 ? -1 : i));
        }

        var forkedHead = new Checkpoint(Origin, 100, forked.Root(), s_time.AddMinutes(1));
        var e = Assert.Throws<MerkleProofException>(() =>
            CheckpointVerifier.VerifyConsistencyBetween(older, forkedHead, forked.ConsistencyProof(37, 100)));
        Assert.Equal("root1", Assert.IsType<RootMismatch>(e.Error).Root);
        Assert.Throws<ArgumentException>(() =>
            CheckpointVerifier.VerifyConsistencyBetween(older, newer with { Origin = "other.example/log" }, []));
    }

    [Fact]
    public void CheckpointSigner_P384Key_Rejected()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        Assert.Throws<ArgumentException>(() => new CheckpointSigner(Origin, p384));
        Assert.Throws<ArgumentException>(() => new CheckpointSigner("has space", _key));
    }

    [Fact]
    public void CheckpointSigner_KeyId_IsSha256OfSubjectPublicKeyInfo()
    {
        var signer = new CheckpointSigner(Origin, _key);
        var expected = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(SHA256.HashData(_key.ExportSubjectPublicKeyInfo()));
        Assert.Equal(expected, signer.KeyId);
        Assert.Equal(expected, new CheckpointVerifier(Origin, _key).KeyId);
    }

    private CheckpointVerifier Verifier() => new(Origin, _key, Origin);

    private static MerkleTree Tree(int size)
    {
        var tree = new MerkleTree();
        for (var i = 0; i < size; i++)
        {
            tree.Append(BitConverter.GetBytes(i));
        }

        return tree;
    }

    private static string ReplaceFirst(string s, string find, string replace)
    {
        var at = s.IndexOf(find, StringComparison.Ordinal);
        Assert.True(at >= 0, $"'{find}' not in note");
        return s[..at] + replace + s[(at + find.Length)..];
    }
}
