using TrustPool.Server.Attesting;
using TrustPool.Server.Tests.Fakes;

namespace TrustPool.Server.Tests.Attesting;

public sealed class NonceRegistryTests
{
    private static readonly TimeSpan s_lifetime = TimeSpan.FromSeconds(30);

    [Fact]
    public void Issue_ThirtyTwoFreshBytesEachTime()
    {
        var nonces = new NonceRegistry(new ManualClock(), s_lifetime);
        var a = nonces.Issue("node1");
        var b = nonces.Issue("node1");
        Assert.Equal(NonceRegistry.NonceSize, a.Length);
        Assert.NotEqual(a, b);
        Assert.Equal(2, nonces.InFlight);
    }

    [Fact]
    public void Consume_IssuedNonce_TrueExactlyOnce()
    {
        var nonces = new NonceRegistry(new ManualClock(), s_lifetime);
        var nonce = nonces.Issue("node1");
        Assert.True(nonces.Consume(nonce, "node1"));
        Assert.False(nonces.Consume(nonce, "node1"));
        Assert.Equal(0, nonces.InFlight);
    }

    [Fact]
    public void Consume_OtherHostsNonce_FalseAndBurnt()
    {
        var nonces = new NonceRegistry(new ManualClock(), s_lifetime);
        var nonce = nonces.Issue("node1");
        Assert.False(nonces.Consume(nonce, "node2"));
        // A nonce tried by the wrong host is gone: the right host cannot use it afterwards either.
        Assert.False(nonces.Consume(nonce, "node1"));
    }

    [Fact]
    public void Consume_NeverIssued_False()
    {
        var nonces = new NonceRegistry(new ManualClock(), s_lifetime);
        nonces.Issue("node1");
        Assert.False(nonces.Consume(new byte[NonceRegistry.NonceSize], "node1"));
    }

    [Fact]
    public void Consume_AtLifetime_TrueJustAfter_False()
    {
        var clock = new ManualClock();
        var nonces = new NonceRegistry(clock, s_lifetime);
        var onTime = nonces.Issue("node1");
        var late = nonces.Issue("node1");

        clock.Advance(s_lifetime);
        Assert.True(nonces.Consume(onTime, "node1"));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(nonces.Consume(late, "node1"));
    }

    [Fact]
    public void Purge_RemovesOnlyExpired()
    {
        var clock = new ManualClock();
        var nonces = new NonceRegistry(clock, s_lifetime);
        nonces.Issue("old");
        clock.Advance(TimeSpan.FromSeconds(20));
        var fresh = nonces.Issue("fresh");
        clock.Advance(TimeSpan.FromSeconds(11));

        nonces.Purge();

        Assert.Equal(1, nonces.InFlight);
        Assert.True(nonces.Consume(fresh, "fresh"));
    }

    [Fact]
    public void Constructor_DefaultLifetime_IsServerDefault()
    {
        var clock = new ManualClock();
        var nonces = new NonceRegistry(clock);
        var nonce = nonces.Issue("node1");
        clock.Advance(TimeSpan.FromSeconds(ServerDefaults.NonceLifetimeSeconds) + TimeSpan.FromMilliseconds(1));
        Assert.False(nonces.Consume(nonce, "node1"));
    }
}
