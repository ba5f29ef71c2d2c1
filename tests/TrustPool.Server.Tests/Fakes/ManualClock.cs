namespace TrustPool.Server.Tests.Fakes;

/// <summary>A wall clock that only moves when told (nonce lifetime, token cache, policy age, report validity).</summary>
internal sealed class ManualClock : TimeProvider
{
    private DateTimeOffset _now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
