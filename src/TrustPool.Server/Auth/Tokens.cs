using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using TrustPool.Server.Audit;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Auth;

/// <summary>API roles, each including the ones below it: admin ⊇ operator ⊇ reader.</summary>
public enum Role
{
    Reader = 1,
    Operator = 2,
    Admin = 3,
}

/// <summary>Role names on the wire and in the store.</summary>
public static class Roles
{
    public static string Name(Role role) => role switch
    {
        Role.Admin => "admin",
        Role.Operator => "operator",
        _ => "reader",
    };

    public static bool TryParse(string? text, out Role role)
    {
        role = text switch
        {
            "admin" => Role.Admin,
            "operator" => Role.Operator,
            "reader" => Role.Reader,
            _ => 0,
        };
        return role != 0;
    }
}

/// <summary>Who presented a valid token: its id, name and role (never the token). Recorded in audit records.</summary>
public sealed record Actor(string TokenId, string Name, Role Role);

/// <summary>
/// Bearer tokens: 32 random bytes (CSPRNG) as <c>tp_</c> + base64url. Only the SHA-256 of a token is stored; a
/// presented token is hashed and looked up by that digest, so no stored secret is ever compared byte by byte.
/// </summary>
public sealed class TokenService
{
    public const string Prefix = "tp_";
    private const int MaxTokenLength = 128;
    private static readonly TimeSpan s_cacheLifetime = TimeSpan.FromSeconds(10);

    private readonly ITrustStore _store;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, (Actor? Actor, DateTimeOffset Until)> _cache = new(StringComparer.Ordinal);

    public TokenService(ITrustStore store, TimeProvider time)
    {
        _store = store;
        _time = time;
    }

    public static string NewToken() => Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>A new token and the record that stores only its hash; the caller inserts it (with its audit record).</summary>
    private (TokenRecord Record, string Token) NewRecord(string name, Role role)
    {
        var token = NewToken();
        return (new TokenRecord(Guid.NewGuid().ToString("N"), name, Roles.Name(role), Hash(token), _time.GetUtcNow(), null), token);
    }

    /// <summary>Forgets every cached verdict: call after committing a revocation so it holds at once.</summary>
    public void ForgetCached() => _cache.Clear();

    /// <summary>
    /// Creates and stores a token, with its <c>token.created</c> audit record (<paramref name="actor"/> null when no
    /// request made it: the first start's admin token). The clear text is returned once and never stored.
    /// </summary>
    public async Task<(TokenRecord Record, string Token)> CreateAsync(string name, Role role, Actor? actor = null, CancellationToken ct = default)
    {
        var (record, token) = NewRecord(name, role);
        await using var tx = await _store.BeginAsync(ct);
        await tx.InsertTokenAsync(record);
        tx.Audit(AuditRecords.TokenCreated(record, actor, _time.GetUtcNow()));
        await tx.CommitAsync();
        return (record, token);
    }

    /// <summary>
    /// Revokes a valid token, with its <c>token.revoked</c> audit record; the verdict cache forgets it once the
    /// revocation is committed, so it holds at once. False when no valid token has this id.
    /// </summary>
    public async Task<bool> RevokeAsync(string id, Actor? actor = null, CancellationToken ct = default)
    {
        var token = (await _store.ListTokensAsync(ct)).FirstOrDefault(t => t.Id == id && t.RevokedAt is null);
        if (token is null)
        {
            return false;
        }

        await using var tx = await _store.BeginAsync(ct);
        if (!await tx.RevokeTokenAsync(id, _time.GetUtcNow()))
        {
            return false;
        }

        tx.Audit(AuditRecords.TokenRevoked(token, actor, _time.GetUtcNow()));
        tx.OnCommitted(ForgetCached);
        await tx.CommitAsync();
        return true;
    }

    /// <summary>The role of a presented token, or null when it is unknown, revoked or malformed.</summary>
    public async ValueTask<Role?> AuthenticateAsync(string? token, CancellationToken ct = default) => (await IdentifyAsync(token, ct))?.Role;

    /// <summary>Who presented <paramref name="token"/>, or null when it is unknown, revoked or malformed.</summary>
    public async ValueTask<Actor?> IdentifyAsync(string? token, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenLength || !token.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var hash = Hash(token);
        var key = Convert.ToHexString(hash);
        var now = _time.GetUtcNow();
        if (_cache.TryGetValue(key, out var hit) && hit.Until > now)
        {
            return hit.Actor;
        }

        var record = await _store.FindTokenByHashAsync(hash, ct);
        var actor = record is not null && record.RevokedAt is null && Roles.TryParse(record.Role, out var r) ? new Actor(record.Id, record.Name, r) : null;
        if (_cache.Count > 10_000)
        {
            _cache.Clear();
        }

        _cache[key] = (actor, now + s_cacheLifetime);
        return actor;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
