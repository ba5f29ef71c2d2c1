using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace TrustPool.Server.Attesting;

/// <summary>
/// Nonces in flight: 32 bytes from the CSPRNG per attestation request, bound to one host, usable once, dead after
/// <see cref="ServerDefaults.NonceLifetimeSeconds"/>. Kept in memory: an attestation is issued, fetched and
/// verified by the same service instance, and a restart rightly invalidates every outstanding nonce.
/// </summary>
public sealed class NonceRegistry
{
    public const int NonceSize = 32;

    private readonly ConcurrentDictionary<string, (string Host, DateTimeOffset Expires)> _inFlight = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly TimeSpan _lifetime;
    private long _issued;

    public NonceRegistry(TimeProvider time, TimeSpan? lifetime = null)
    {
        _time = time;
        _lifetime = lifetime ?? TimeSpan.FromSeconds(ServerDefaults.NonceLifetimeSeconds);
    }

    public int InFlight => _inFlight.Count;

    public byte[] Issue(string host)
    {
        var nonce = RandomNumberGenerator.GetBytes(NonceSize);
        _inFlight[Convert.ToHexString(nonce)] = (host, _time.GetUtcNow() + _lifetime);
        if ((Interlocked.Increment(ref _issued) & 0xFFF) == 0)
        {
            Purge();
        }

        return nonce;
    }

    /// <summary>True exactly once for a nonce issued to <paramref name="host"/> that has not expired.</summary>
    public bool Consume(byte[] nonce, string host)
    {
        if (!_inFlight.TryRemove(Convert.ToHexString(nonce), out var entry))
        {
            return false;
        }

        return string.Equals(entry.Host, host, StringComparison.Ordinal) && _time.GetUtcNow() <= entry.Expires;
    }

    public void Purge()
    {
        var now = _time.GetUtcNow();
        foreach (var (k, v) in _inFlight)
        {
            if (v.Expires < now)
            {
                _inFlight.TryRemove(k, out _);
            }
        }
    }
}
