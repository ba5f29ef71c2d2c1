using TrustPool.Attestation.Baselines;
using TrustPool.Server.Attesting;
using TrustPool.Server.Storage;
using TrustPool.Server.Tests.Fakes;

namespace TrustPool.Server.Tests.Attesting;

public sealed class PolicyCacheTests
{
    private static async Task AddBaselineAsync(ServiceBed bed, string name)
    {
        var baseline = new Baseline { Name = name, Kind = BaselineKind.Platform };
        await using var tx = await bed.Store.BeginAsync();
        await tx.AddBaselineVersionAsync(new BaselineRecord(name, 0, "platform", BaselineJson.Serialize(baseline), BaselineJson.Digest(baseline), bed.Time.GetUtcNow()));
        await tx.CommitAsync();
    }

    [Fact]
    public async Task GetAsync_WithinMaxAge_CachedEvenAfterStoreChange()
    {
        await using var bed = await ServiceBed.OpenAsync();
        var cache = new PolicyCache(bed.Store, bed.Time);
        var first = await cache.GetAsync(CancellationToken.None);

        await AddBaselineAsync(bed, "b1");
        bed.Time.Advance(PolicyCache.MaxAge - TimeSpan.FromSeconds(1));
        var second = await cache.GetAsync(CancellationToken.None);

        Assert.Same(first, second);
        Assert.Null(second.Baseline("b1"));
    }

    [Fact]
    public async Task Invalidate_NextGetRereadsStoreAndRaisesInvalidated()
    {
        await using var bed = await ServiceBed.OpenAsync();
        var cache = new PolicyCache(bed.Store, bed.Time);
        var raised = 0;
        cache.Invalidated += () => raised++;
        var first = await cache.GetAsync(CancellationToken.None);

        await AddBaselineAsync(bed, "b1");
        cache.Invalidate();
        var second = await cache.GetAsync(CancellationToken.None);

        Assert.Equal(1, raised);
        Assert.NotSame(first, second);
        Assert.Equal(1, second.Baseline("b1")?.Version);
    }

    [Fact]
    public async Task GetAsync_AfterMaxAge_RereadsWithoutInvalidate()
    {
        await using var bed = await ServiceBed.OpenAsync();
        var cache = new PolicyCache(bed.Store, bed.Time);
        await cache.GetAsync(CancellationToken.None);

        await AddBaselineAsync(bed, "b1");
        bed.Time.Advance(PolicyCache.MaxAge);
        var later = await cache.GetAsync(CancellationToken.None);

        Assert.NotNull(later.Baseline("b1"));
    }
}
