using System.Security.Cryptography;
using TrustPool.Attestation;
using TrustPool.Attestation.Evaluation;
using TrustPool.Server.Agents;
using TrustPool.Server.Tests.Fakes;

namespace TrustPool.Server.Tests.Attesting;

/// <summary>AttestationService against a fake agent whose software TPM signs genuine quotes; no network, SQLite store.</summary>
public sealed class AttestationServiceTests
{
    private static List<string> Codes(TrustReport report) =>
        [.. report.Faults.Concat(report.Pools.SelectMany(p => p.Rules).SelectMany(r => r.Faults)).Select(f => f.Code).Distinct()];

    [Fact]
    public async Task AttestAsync_GenuineQuoteNoPools_VerifiedAndStoredOnlyNoPoolMatched()
    {
        await using var bed = await ServiceBed.OpenAsync();
        using var agent = new FakeAgent();
        await bed.EnrollAsync(agent);
        var service = bed.Attestation(agent);

        var outcome = await service.AttestAsync("node1", CancellationToken.None);

        Assert.Null(outcome.AgentFailure);
        Assert.NotNull(outcome.Report);
        Assert.Equal([FaultCodes.NoPoolMatched], Codes(outcome.Report));
        Assert.Equal(outcome.Report.Id, (await bed.Store.GetLatestReportAsync("node1"))?.Id);
        Assert.Equal(1, agent.Quotes);
    }

    [Fact]
    public async Task AttestAsync_AgentFailsWhilePreviousReportValid_KeepsPreviousReportYieldsAgentFailure()
    {
        await using var bed = await ServiceBed.OpenAsync();
        using var agent = new FakeAgent();
        await bed.EnrollAsync(agent);
        var service = bed.Attestation(agent);
        var first = await service.AttestAsync("node1", CancellationToken.None);
        agent.QuoteAnswer = (_, _) => throw new AgentException(AgentFailure.Unreachable, "connection refused");

        bed.Time.Advance(TimeSpan.FromSeconds(30));
        var outcome = await service.AttestAsync("node1", CancellationToken.None);

        Assert.NotNull(outcome.AgentFailure);
        Assert.Equal(AgentFailure.Unreachable, outcome.AgentFailure.Failure);
        Assert.Null(outcome.Report);
        Assert.Null(outcome.Stored);
        Assert.Equal(first.Report!.Id, (await bed.Store.GetLatestReportAsync("node1"))?.Id);
    }

    [Fact]
    public async Task AttestAsync_AgentFailsAfterPreviousReportExpired_UnknownAgentUnreachable()
    {
        await using var bed = await ServiceBed.OpenAsync();
        using var agent = new FakeAgent();
        await bed.EnrollAsync(agent);
        var service = bed.Attestation(agent);
        var first = await service.AttestAsync("node1", CancellationToken.None);
        agent.QuoteAnswer = (_, _) => throw new AgentException(AgentFailure.Timeout, "no answer");

        bed.Time.Advance(bed.Options.ReportValidity + TimeSpan.FromSeconds(1));
        var outcome = await service.AttestAsync("node1", CancellationToken.None);

        Assert.Equal(AgentFailure.Timeout, outcome.AgentFailure?.Failure);
        Assert.NotNull(outcome.Report);
        Assert.Equal(TrustLevel.Unknown, outcome.Report.Trust);
        Assert.Equal([FaultCodes.AgentUnreachable], Codes(outcome.Report));
        var latest = await bed.Store.GetLatestReportAsync("node1");
        Assert.NotEqual(first.Report!.Id, latest?.Id);
        Assert.Equal("unknown", latest?.Trust);
    }

    [Fact]
    public async Task AttestAsync_QuoteOverAnotherNonce_RefusedNonceMismatch()
    {
        await using var bed = await ServiceBed.OpenAsync();
        using var agent = new FakeAgent();
        await bed.EnrollAsync(agent);
        var service = bed.Attestation(agent);
        // A genuine TPM signature, but over a nonce the service never sent (a replayed or precomputed quote).
        agent.QuoteAnswer = (_, selection) => agent.Genuine(RandomNumberGenerator.GetBytes(32), selection);

        var outcome = await service.AttestAsync("node1", CancellationToken.None);

        Assert.NotNull(outcome.Report);
        Assert.NotEqual(TrustLevel.Trusted, outcome.Report.Trust);
        Assert.Contains(FaultCodes.NonceMismatch, Codes(outcome.Report));
    }

    [Fact]
    public async Task AttestAsync_UnknownHost_NotFound()
    {
        await using var bed = await ServiceBed.OpenAsync();
        using var agent = new FakeAgent();
        var service = bed.Attestation(agent);

        var e = await Assert.ThrowsAsync<ServiceException>(() => service.AttestAsync("nobody", CancellationToken.None));

        Assert.Equal(ServiceErrorKind.NotFound, e.Kind);
        Assert.Equal(0, agent.Quotes);
    }
}
