using System.Security.Cryptography;
using System.Text.Json;
using TrustPool.Server.Api.Contracts;
using TrustPool.Server.Audit;
using TrustPool.Server.Hosting;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Auth;

/// <summary>
/// Who may act and where trust events go: API tokens and webhook subscriptions. Each change is an audit record in the
/// transaction that makes it, with who made it; never a token, its hash or a webhook secret (those are returned to
/// the caller once and go nowhere else, no log line either).
/// </summary>
public sealed class AdminService(ServerContext s)
{
    /// <summary>Creates a token; the clear text is in the result only, its hash in the store.</summary>
    public async Task<(TokenRecord Record, string Token)> CreateTokenAsync(CreateTokenRequest request, Actor? actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!Roles.TryParse(request.Role, out var role))
        {
            throw ServiceException.Invalid("role", $"'{request.Role}' is not admin, operator or reader");
        }

        return await s.Tokens.CreateAsync(request.Name ?? request.Role, role, actor, ct);
    }

    public Task<IReadOnlyList<TokenRecord>> ListTokensAsync(CancellationToken ct) => s.Store.ListTokensAsync(ct);

    /// <summary>Revokes a valid token; the verdict cache forgets it once the revocation is committed, so it holds at once.</summary>
    public async Task RevokeTokenAsync(string id, Actor? actor, CancellationToken ct)
    {
        if (!await s.Tokens.RevokeAsync(id, actor, ct))
        {
            throw ServiceException.NotFound($"token '{id}'");
        }
    }

    /// <summary>Creates a subscription with a new HMAC secret (in the result only, and the store).</summary>
    public async Task<WebhookRecord> CreateWebhookAsync(CreateWebhookRequest request, Actor? actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        IReadOnlyList<string> events = request.Events ?? ["trust.changed"];
        var record = new WebhookRecord(Guid.NewGuid().ToString("N"), request.Url, RandomNumberGenerator.GetBytes(32),
            JsonSerializer.Serialize(events, AdminJsonContext.Default.IReadOnlyListString), s.Now);
        await using var tx = await s.Store.BeginAsync(ct);
        await tx.InsertWebhookAsync(record);
        tx.Audit(AuditRecords.WebhookCreated(record, actor, s.Now));
        await tx.CommitAsync();
        return record;
    }

    public Task<IReadOnlyList<WebhookRecord>> ListWebhooksAsync(CancellationToken ct) => s.Store.ListWebhooksAsync(ct);

    public async Task DeleteWebhookAsync(string id, Actor? actor, CancellationToken ct)
    {
        var hook = (await s.Store.ListWebhooksAsync(ct)).FirstOrDefault(h => h.Id == id) ?? throw ServiceException.NotFound($"webhook '{id}'");
        await using var tx = await s.Store.BeginAsync(ct);
        if (!await tx.DeleteWebhookAsync(id))
        {
            throw ServiceException.NotFound($"webhook '{id}'");
        }

        tx.Audit(AuditRecords.WebhookDeleted(hook, actor, s.Now));
        await tx.CommitAsync();
    }
}
