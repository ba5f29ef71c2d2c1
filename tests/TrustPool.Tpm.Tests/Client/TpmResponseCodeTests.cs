using TrustPool.Tpm.Client;

namespace TrustPool.Tpm.Tests.Client;

public sealed class TpmResponseCodeTests
{
    [Theory]
    [InlineData(0x000u, "success", "TPM_RC_SUCCESS", null, null, null)]
    [InlineData(0x100u, "format-0: TPM2_Startup twice", "TPM_RC_INITIALIZE", null, null, null)]
    [InlineData(0x101u, "format-0: failure mode", "TPM_RC_FAILURE", null, null, null)]
    [InlineData(0x143u, "format-0: unknown command", "TPM_RC_COMMAND_CODE", null, null, null)]
    [InlineData(0x14Cu, "format-0: NV index exists", "TPM_RC_NV_DEFINED", null, null, null)]
    [InlineData(0x084u, "format-1 without a number", "TPM_RC_VALUE", null, null, null)]
    [InlineData(0x1C4u, "format-1: parameter 1", "TPM_RC_VALUE", 1, null, null)]
    [InlineData(0x2C4u, "format-1: parameter 2", "TPM_RC_VALUE", 2, null, null)]
    [InlineData(0x1CBu, "format-1: FlushContext of a bad handle", "TPM_RC_HANDLE", 1, null, null)]
    [InlineData(0x18Bu, "format-1: handle 1", "TPM_RC_HANDLE", null, 1, null)]
    [InlineData(0x28Bu, "format-1: handle 2", "TPM_RC_HANDLE", null, 2, null)]
    [InlineData(0x98Eu, "format-1: session 1 (TPM_RC_S + TPM_RC_1)", "TPM_RC_AUTH_FAIL", null, null, 1)]
    [InlineData(0xAA2u, "format-1: session 2", "TPM_RC_BAD_AUTH", null, null, 2)]
    [InlineData(0x1DFu, "format-1: ActivateCredential for another name", "TPM_RC_INTEGRITY", 1, null, null)]
    [InlineData(0x1C3u, "format-1: unknown hash", "TPM_RC_HASH", 1, null, null)]
    [InlineData(0x99Du, "format-1: policy session 1 fails", "TPM_RC_POLICY_FAIL", null, null, 1)]
    [InlineData(0x902u, "warning: out of object memory", "TPM_RC_OBJECT_MEMORY", null, null, null)]
    [InlineData(0x908u, "warning: yielded", "TPM_RC_YIELDED", null, null, null)]
    [InlineData(0x90Au, "warning: self-testing", "TPM_RC_TESTING", null, null, null)]
    [InlineData(0x910u, "warning: handle 1 not loaded", "TPM_RC_REFERENCE_H0", null, null, null)]
    [InlineData(0x921u, "warning: DA lockout", "TPM_RC_LOCKOUT", null, null, null)]
    [InlineData(0x922u, "warning: retry", "TPM_RC_RETRY", null, null, null)]
    public void Decode_KnownCodes_NameAndSubject(uint value, string desc, string name, int? parameter, int? handle, int? session)
    {
        var rc = new TpmResponseCode(value);
        Assert.True(name == rc.Name, desc);
        Assert.Equal(parameter, rc.Parameter);
        Assert.Equal(handle, rc.Handle);
        Assert.Equal(session, rc.Session);
        Assert.StartsWith($"{name} (0x{value:x3})", rc.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0x1C4u, "TPM_RC_VALUE (0x1c4): parameter 1: value is out of range or is not correct for the context")]
    [InlineData(0x18Bu, "TPM_RC_HANDLE (0x18b): handle 1: the handle is not correct for the use")]
    [InlineData(0x98Eu, "TPM_RC_AUTH_FAIL (0x98e): session 1: the authorization HMAC check failed and DA counter incremented")]
    [InlineData(0x902u, "TPM_RC_OBJECT_MEMORY (0x902): out of memory for object contexts (flush transient objects)")]
    [InlineData(0x100u, "TPM_RC_INITIALIZE (0x100): TPM not initialized by TPM2_Startup or already initialized")]
    [InlineData(0x17Fu, "0x17f: unknown error 0x7f")]
    [InlineData(0x0BFu, "0x0bf: unknown error 0x3f")]
    [InlineData(0x51Eu, "0x51e: vendor-defined error 0x1e")]
    [InlineData(0x01Eu, "0x01e: TPM 1.2 response code (the device is not a TPM 2.0 or did not understand the command)")]
    [InlineData(0x000A0008u, "0xa0008: code from software layer 10 (not the TPM)")]
    public void ToString_Readable(uint value, string expected) => Assert.Equal(expected, new TpmResponseCode(value).ToString());

    [Theory]
    [InlineData(0x000u, TpmResponseCodeFormat.Success)]
    [InlineData(0x100u, TpmResponseCodeFormat.Format0)]
    [InlineData(0x922u, TpmResponseCodeFormat.Format0)]
    [InlineData(0x1C4u, TpmResponseCodeFormat.Format1)]
    [InlineData(0x080u, TpmResponseCodeFormat.Format1)]
    [InlineData(0x01Eu, TpmResponseCodeFormat.Tpm12)]
    [InlineData(0x80280400u, TpmResponseCodeFormat.Layer)]
    public void Format_FromBits(uint value, TpmResponseCodeFormat format) => Assert.Equal(format, new TpmResponseCode(value).Format);

    [Theory]
    [InlineData(0x922u, true, true)]
    [InlineData(0x908u, true, true)]
    [InlineData(0x90Au, true, true)]
    [InlineData(0x902u, true, false)]
    [InlineData(0x100u, false, false)]
    [InlineData(0x9A2u, false, false)] // format-1 BAD_AUTH on session 1: bit 11 is part of N, not a warning
    public void WarningAndRetryable(uint value, bool warning, bool retryable)
    {
        var rc = new TpmResponseCode(value);
        Assert.Equal(warning, rc.IsWarning);
        Assert.Equal(retryable, rc.IsRetryable);
    }

    [Fact]
    public void BaseCode_StripsNumber_ComparableToNamedCode()
    {
        Assert.Equal(0x084u, new TpmResponseCode(0x3C4).BaseCode);
        Assert.Equal(0x08Bu, new TpmResponseCode(0x98B).BaseCode);
        Assert.Equal(0x902u, new TpmResponseCode(0x902).BaseCode);
        Assert.Equal(4, new TpmResponseCode(0x3C4).ErrorNumber);
    }

    [Fact]
    public void TpmException_CarriesCommandAndCode()
    {
        var e = new TpmException(TpmCommandCode.Quote, new TpmResponseCode(0x18B));
        Assert.Equal(0x18Bu, e.Code);
        Assert.Equal(TpmCommandCode.Quote, e.Command);
        Assert.Equal("TPM2_Quote failed: TPM_RC_HANDLE (0x18b): handle 1: the handle is not correct for the use", e.Message);
    }
}
