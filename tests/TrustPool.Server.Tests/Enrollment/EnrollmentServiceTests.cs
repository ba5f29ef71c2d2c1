using System.Security.Cryptography;
using TrustPool.Server.Enrollment;
using TrustPool.Server.Tests.Fakes;
using TrustPool.Tpm.Structures;

namespace TrustPool.Server.Tests.Enrollment;

/// <summary>EnrollmentService against a fake agent (software TPM, no network) and a SQLite store.</summary>
public sealed class EnrollmentServiceTests
{
    [Fact]
    public async Task EnrollAsync_GenuineAgent_StoresHostWithItsKeys()
    {
        await using var bed = await ServiceBed.OpenAsync();
        using var agent = new FakeAgent();

        var host = await bed.EnrollAsync(agent);

        Assert.Equal(HostStates.Enrolled, host.State);
        Assert.Equal("tofu", host.EkTrust);
        var stored = await bed.Store.GetHostAsync("node1");
        Assert.NotNull(stored);
        Assert.Equal(agent.AkPublic.Name, stored.AkName);
        Assert.Equal(agent.Fingerprint, stored.TlsFingerprint);
    }

    [Fact]
    public async Task EnrollAsync_AkNotRestricted_RefusedAkAttributesNothingStored()
    {
        await using var bed = await ServiceBed.OpenAsync();
        using var agent = new FakeAgent();
        var ak = agent.AkPublic;
        var unrestricted = new TpmtPublic(ak.Type, ak.NameAlg, ak.ObjectAttributes & ~TpmObjectAttributes.Restricted, ak.AuthPolicy, ak.Rsa, ak.Ecc);
        agent.Identity = agent.Identity with { AkPublic = unrestricted.ToTpm2b(), AkName = unrestricted.Name };

        var e = await Assert.ThrowsAsync<ServiceException>(() => bed.EnrollAsync(agent));

        Assert.Equal(ServiceErrorKind.Refused, e.Kind);
        Assert.Equal("enrollment-ak-attributes", e.Code);
        Assert.Contains("Restricted", e.Message, StringComparison.Ordinal);
        Assert.Null(await bed.Store.GetHostAsync("node1"));
    }

    [Fact]
    public async Task EnrollAsync_WrongSecretFromActivateCredential_RefusedCredentialActivationNothingStored()
    {
        await using var bed = await ServiceBed.OpenAsync();
        using var agent = new FakeAgent { ActivateAnswer = (_, _) => RandomNumberGenerator.GetBytes(32) };

        var e = await Assert.ThrowsAsync<ServiceException>(() => bed.EnrollAsync(agent));

        Assert.Equal(ServiceErrorKind.Refused, e.Kind);
        Assert.Equal("enrollment-credential-activation", e.Code);
        Assert.Null(await bed.Store.GetHostAsync("node1"));
    }

    [Fact]
    public async Task EnrollAsync_SecondHostWithSameEk_ConflictEkAlreadyEnrolled()
    {
        await using var bed = await ServiceBed.OpenAsync();
        using var agent = new FakeAgent();
        await bed.EnrollAsync(agent, "node1");

        var e = await Assert.ThrowsAsync<ServiceException>(() => bed.EnrollAsync(agent, "node2"));

        Assert.Equal(ServiceErrorKind.Conflict, e.Kind);
        Assert.Equal(ServiceErrors.EnrollmentEkAlreadyEnrolled, e.Code);
        Assert.Contains("'node1'", e.Message, StringComparison.Ordinal);
        Assert.Null(await bed.Store.GetHostAsync("node2"));
    }

    [Fact]
    public async Task EnrollAsync_SameNameTwiceWithoutReEnroll_Conflict()
    {
        await using var bed = await ServiceBed.OpenAsync();
        using var agent = new FakeAgent();
        await bed.EnrollAsync(agent, "node1");

        var e = await Assert.ThrowsAsync<ServiceException>(() => bed.EnrollAsync(agent, "node1"));

        Assert.Equal(ServiceErrors.Conflict, e.Code);
    }
}
