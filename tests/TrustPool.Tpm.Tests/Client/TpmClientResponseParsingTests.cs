using System.Buffers.Binary;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Structures;
using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Tests.Client;

/// <summary>TpmClient's command bytes and its handling of malformed or hostile responses, through a fake transport.</summary>
public sealed class TpmClientResponseParsingTests
{
    private static TpmClient Client(Func<byte[], byte[]> respond, out FakeTransport transport)
    {
        transport = new FakeTransport(respond);
        return new TpmClient(transport, isSimulator: false);
    }

    [Fact]
    public void Startup_CommandBytes_AreTpm2StartupClear()
    {
        using var tpm = Client(_ => FakeTransport.Response(0), out var t);
        tpm.Startup();
        Assert.Equal("80010000000C000001440000", Convert.ToHexString(t.Commands.Single()));
    }

    [Fact]
    public void Startup_AlreadyInitialized_IsNotAnError()
    {
        using var tpm = Client(_ => FakeTransport.Response(0x100), out _);
        tpm.Startup();
    }

    [Fact]
    public void FlushContext_CommandBytes_HandleIsAParameter()
    {
        using var tpm = Client(_ => FakeTransport.Response(0), out var t);
        tpm.FlushContext(new TpmHandle(0x80000001));
        Assert.Equal("80010000000E0000016580000001", Convert.ToHexString(t.Commands.Single()));
    }

    [Fact]
    public void PcrExtend_CommandBytes_PasswordSessionAndDigestValues()
    {
        using var tpm = Client(_ => FakeTransport.Response(0, [0, 0, 0, 0, 0, 0, 0x01, 0, 0], tag: 0x8002), out var t);
        tpm.ExtendPcr(16, [new TpmtHa(TpmAlgorithmId.Sha1, new byte[20])]);
        var expected = "8002" + "00000035" + "00000182" + "00000010" // tag, size, PCR_Extend, PCR 16
            + "00000009" + "40000009" + "0000" + "01" + "0000"         // authorizationSize, TPM_RS_PW, nonce, attrs, hmac
            + "00000001" + "0004" + new string('0', 40);                // TPML_DIGEST_VALUES
        Assert.Equal(expected, Convert.ToHexString(t.Commands.Single()));
    }

    [Fact]
    public void Execute_ErrorResponse_ThrowsDecodedTpmException()
    {
        using var tpm = Client(_ => FakeTransport.Response(0x1C3), out _);
        var e = Assert.Throws<TpmException>(() => tpm.ReadPcrs(PcrSelection.Parse("sha256:0")));
        Assert.Equal(TpmCommandCode.PcrRead, e.Command);
        Assert.Equal("TPM2_PcrRead failed: TPM_RC_HASH (0x1c3): parameter 1: hash algorithm not supported or not appropriate", e.Message);
    }

    [Fact]
    public void Execute_RetryWarnings_CommandIsSentAgain()
    {
        var calls = 0;
        using var tpm = Client(_ => ++calls switch { 1 => FakeTransport.Response(0x922), 2 => FakeTransport.Response(0x90A), _ => FakeTransport.Response(0) }, out var t);
        tpm.FlushContext(new TpmHandle(0x80000000));
        Assert.Equal(3, t.Commands.Count);
    }

    [Fact]
    public void Execute_EndlessRetry_GivesUpWithTheWarning()
    {
        using var tpm = Client(_ => FakeTransport.Response(0x922), out var t);
        var e = Assert.Throws<TpmException>(() => tpm.FlushContext(new TpmHandle(0x80000000)));
        Assert.Equal("TPM_RC_RETRY", e.ResponseCode.Name);
        Assert.InRange(t.Commands.Count, 2, 10);
    }

    [Theory]
    [InlineData("8001000000", "truncated header")]
    [InlineData("80010000000B00000000", "size field one more than the bytes")]
    [InlineData("8001FFFFFFFF00000000", "size field 4 GiB")]
    [InlineData("80010000000C0000000000", "size field beyond the bytes, body shorter")]
    public void Execute_MalformedHeader_ThrowsTpmFormatException(string hex, string desc)
    {
        using var tpm = Client(_ => Convert.FromHexString(hex), out _);
        var e = Assert.Throws<TpmFormatException>(() => tpm.FlushContext(new TpmHandle(0x80000000)));
        Assert.True(e.Field.StartsWith("response", StringComparison.Ordinal), desc);
    }

    [Fact]
    public void Execute_WrongTag_ThrowsTpmFormatException()
    {
        using var tpm = Client(_ => FakeTransport.Response(0, tag: 0x8002), out _);
        Assert.Throws<TpmFormatException>(() => tpm.FlushContext(new TpmHandle(0x80000000)));
    }

    [Fact]
    public void Execute_TrailingBytes_ThrowsTpmFormatException()
    {
        using var tpm = Client(_ => FakeTransport.Response(0, [1, 2, 3]), out _);
        Assert.Throws<TpmFormatException>(() => tpm.FlushContext(new TpmHandle(0x80000000)));
    }

    [Theory]
    [InlineData("FFFFFFFF", "parameterSize 4 GiB")]
    [InlineData("00000010", "parameterSize beyond the response")]
    [InlineData("00000000" + "00FF", "auth area nonce size beyond the response")]
    [InlineData("00000000" + "0000" + "01" + "0000" + "00", "trailing byte after the auth area")]
    public void Execute_MalformedSessionArea_ThrowsTpmFormatException(string bodyHex, string desc)
    {
        using var tpm = Client(_ => FakeTransport.Response(0, Convert.FromHexString(bodyHex), tag: 0x8002), out _);
        var e = Record.Exception(() => tpm.ExtendPcr(0, [new TpmtHa(TpmAlgorithmId.Sha1, new byte[20])]));
        Assert.True(e is TpmFormatException, $"{desc}: {e}");
    }

    [Fact]
    public void GetInfo_HugePropertyCount_RejectedBeforeAllocating()
    {
        using var tpm = Client(_ => FakeTransport.Response(0, Convert.FromHexString("01" + "00000006" + "FFFFFFFF")), out _);
        var e = Assert.Throws<TpmFormatException>(() => tpm.GetInfo());
        Assert.Equal("TPML_TAGGED_TPM_PROPERTY.count", e.Field);
    }

    [Fact]
    public void GetInfo_WrongCapabilityReturned_ThrowsTpmFormatException()
    {
        using var tpm = Client(_ => FakeTransport.Response(0, Convert.FromHexString("00" + "00000005" + "00000000")), out _);
        Assert.Throws<TpmFormatException>(() => tpm.GetInfo());
    }

    [Fact]
    public void Quote_TruncatedSignature_ThrowsTpmFormatException()
    {
        var body = new TpmWriter();
        body.WriteUInt32(0); // parameterSize, patched below
        body.WriteSized([1, 2, 3]); // TPM2B_ATTEST
        body.WriteUInt16((ushort)TpmAlgorithmId.RsaSsa).WriteUInt16((ushort)TpmAlgorithmId.Sha256).WriteUInt16(256).WriteBytes(new byte[10]);
        var paramSize = body.Length - 4;
        body.PatchUInt32(0, (uint)paramSize);
        body.WriteUInt16(0).WriteByte(1).WriteUInt16(0);
        using var tpm = Client(_ => FakeTransport.Response(0, body.ToArray(), tag: 0x8002), out _);
        Assert.Throws<TpmFormatException>(() => tpm.Quote(new TpmHandle(0x80000000), [1, 2], PcrSelection.Parse("sha256:0")));
    }

    /// <summary>A fake PCR_Read that returns at most <paramref name="perCall"/> values per call, value = [bank, index, 0...].</summary>
    private static byte[] PcrReadResponder(byte[] command, int perCall, Func<uint> counter, Func<PcrBankSelection, PcrBankSelection>? lie = null)
    {
        var r = new TpmReader(command.AsSpan(10));
        var request = PcrSelection.Read(ref r);
        var returned = new List<PcrBankSelection>();
        var values = new List<byte[]>();
        foreach (var bank in request)
        {
            uint mask = 0;
            foreach (var i in bank.Indices)
            {
                if (values.Count == perCall)
                {
                    break;
                }

                mask |= 1u << i;
                var v = new byte[TpmHash.DigestSize(bank.Hash)];
                v[0] = (byte)bank.Hash;
                v[1] = (byte)i;
                values.Add(v);
            }

            var sel = new PcrBankSelection(bank.Hash, mask);
            returned.Add(lie?.Invoke(sel) ?? sel);
        }

        var w = new TpmWriter();
        w.WriteUInt32(counter());
        new PcrSelection(returned).Write(w);
        TpmlDigest.Write(w, values);
        return FakeTransport.Response(0, w.ToArray());
    }

    [Theory]
    [InlineData(8)]
    [InlineData(3)]
    [InlineData(1)]
    public void ReadPcrs_TpmReturnsFewPerCall_LoopsUntilAllRead(int perCall)
    {
        using var tpm = Client(c => PcrReadResponder(c, perCall, () => 7), out var t);
        var values = tpm.ReadPcrs(PcrSelection.Parse("sha1:all+sha256:all"));
        Assert.Equal(48, values.All().Count());
        Assert.Equal((48 + perCall - 1) / perCall, t.Commands.Count);
        foreach (var (bank, index, value) in values.All())
        {
            Assert.Equal((byte)bank, value[0]);
            Assert.Equal((byte)index, value[1]);
        }
    }

    [Fact]
    public void ReadPcrs_CounterChangesOnce_RestartsForOneSnapshot()
    {
        uint n = 0;
        using var tpm = Client(c => PcrReadResponder(c, 8, () => n++ < 1 ? 1u : 2u), out var t);
        var values = tpm.ReadPcrs(PcrSelection.Parse("sha256:all"));
        Assert.Equal(24, values.All().Count());
        Assert.Equal(2 + 3, t.Commands.Count); // counter 1, then 2 (the change is seen here: start over), then three at 2
    }

    [Fact]
    public void ReadPcrs_CounterAlwaysChanging_GivesUpInsteadOfLooping()
    {
        uint n = 0;
        using var tpm = Client(c => PcrReadResponder(c, 8, () => n++), out var t);
        Assert.Throws<InvalidOperationException>(() => tpm.ReadPcrs(PcrSelection.Parse("sha256:all")));
        Assert.InRange(t.Commands.Count, 2, 20);
    }

    [Fact]
    public void ReadPcrs_NoProgress_ThrowsInsteadOfLooping()
    {
        using var tpm = Client(c => PcrReadResponder(c, 0, () => 1), out var t);
        Assert.Throws<InvalidOperationException>(() => tpm.ReadPcrs(PcrSelection.Parse("sha256:0,1")));
        Assert.Single(t.Commands);
    }

    [Fact]
    public void ReadPcrs_UnrequestedPcrReturned_ThrowsTpmFormatException()
    {
        using var tpm = Client(c => PcrReadResponder(c, 8, () => 1, s => s with { Mask = s.Mask | 1u << 20 }), out _);
        Assert.Throws<TpmFormatException>(() => tpm.ReadPcrs(PcrSelection.Parse("sha256:0,1")));
    }

    [Fact]
    public void ReadPcrs_DigestCountDisagreesWithSelection_ThrowsTpmFormatException()
    {
        var w = new TpmWriter();
        w.WriteUInt32(1);
        PcrSelection.Parse("sha256:0,1").Write(w);
        TpmlDigest.Write(w, [new byte[32]]);
        using var tpm = Client(_ => FakeTransport.Response(0, w.ToArray()), out _);
        Assert.Throws<TpmFormatException>(() => tpm.ReadPcrs(PcrSelection.Parse("sha256:0,1")));
    }

    [Fact]
    public void ReadPcrs_WrongDigestSize_ThrowsTpmFormatException()
    {
        var w = new TpmWriter();
        w.WriteUInt32(1);
        PcrSelection.Parse("sha256:0").Write(w);
        TpmlDigest.Write(w, [new byte[20]]);
        using var tpm = Client(_ => FakeTransport.Response(0, w.ToArray()), out _);
        Assert.Throws<TpmFormatException>(() => tpm.ReadPcrs(PcrSelection.Parse("sha256:0")));
    }

    [Fact]
    public void CreatePrimary_NameMismatch_FlushesTheObjectAndThrows()
    {
        var pub = TpmTemplates.Ak(TpmKeyAlgorithm.EccP256, eccX: new byte[32], eccY: new byte[32]);
        var body = new TpmWriter();
        body.WriteUInt32(0x80000000); // handle
        var sizeAt = body.Length;
        body.WriteUInt32(0);
        body.WriteSized(pub.Bytes).WriteUInt16(0).WriteUInt16(0).WriteUInt16(0x8021).WriteUInt32(0x4000000B).WriteUInt16(0);
        body.WriteSized(new byte[34]); // a wrong name
        body.PatchUInt32(sizeAt, (uint)(body.Length - sizeAt - 4));
        body.WriteUInt16(0).WriteByte(1).WriteUInt16(0);
        using var tpm = Client(c => BinaryPrimitives.ReadUInt32BigEndian(c.AsSpan(6)) == (uint)TpmCommandCode.CreatePrimary
            ? FakeTransport.Response(0, body.ToArray(), tag: 0x8002)
            : FakeTransport.Response(0), out var t);
        Assert.Throws<TpmFormatException>(() => tpm.CreateAk(TpmKeyAlgorithm.EccP256));
        Assert.Equal("80010000000E0000016580000000", Convert.ToHexString(t.Commands[^1]));
    }

    [Fact]
    public void Quote_NonceLongerThanTpm2bData_RejectedBeforeSending()
    {
        using var tpm = Client(_ => FakeTransport.Response(0), out var t);
        Assert.Throws<ArgumentException>(() => tpm.Quote(new TpmHandle(0x80000000), new byte[67], PcrSelection.Parse("sha256:0")));
        Assert.Empty(t.Commands);
    }
}
