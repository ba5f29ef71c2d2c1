using System.Security.Cryptography;
using System.Text;
using TrustPool.Server.Auth;
using TrustPool.Server.Tests.Fakes;

namespace TrustPool.Server.Tests.Auth;

public sealed class TokenServiceTests
{
    [Fact]
    public void NewToken_PrefixAnd32RandomBytesBase64Url()
    {
        var a = TokenService.NewToken();
        var b = TokenService.NewToken();
        Assert.StartsWith(TokenService.Prefix, a, StringComparison.Ordinal);
        Assert.Equal(TokenService.Prefix.Length + 43, a.Length);
        Assert.DoesNotContain('=', a);
        Assert.DoesNotContain('+', a);
        Assert.DoesNotContain('/', a);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Hash_IsSha256OfUtf8()
    {
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes("tp_abc")), TokenService.Hash("tp_abc"));
        Assert.NotEqual(TokenService.Hash("tp_abc"), TokenService.Hash("tp_abd"));
    }

    [Fact]
    public async Task CreateAsync_StoresOnlyTheHash()
    {
        await using var bed = await ServiceBed.OpenAsync();
        var tokens = new TokenService(bed.Store, bed.Time);

        var (record, token) = await tokens.CreateAsync("ci", Role.Operator);

        var stored = Assert.Single(await bed.Store.ListTokensAsync());
        Assert.Equal(record.Id, stored.Id);
        Assert.Equal("operator", stored.Role);
        Assert.Equal(TokenService.Hash(token), stored.Hash);
        Assert.DoesNotContain(token, Encoding.UTF8.GetString(stored.Hash), StringComparison.Ordinal);
    }

    [Fact]
    public async Task IdentifyAsync_ValidToken_ActorWithRole()
    {
        await using var bed = await ServiceBed.OpenAsync();
        var tokens = new TokenService(bed.Store, bed.Time);
        var (record, token) = await tokens.CreateAsync("ci", Role.Admin);

        var actor = await tokens.IdentifyAsync(token);

        Assert.Equal(new Actor(record.Id, "ci", Role.Admin), actor);
        Assert.Equal(Role.Admin, await tokens.AuthenticateAsync(token));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not-a-token")]
    [InlineData("tp_")]
    public async Task IdentifyAsync_MissingOrMalformed_Null(string? token)
    {
        await using var bed = await ServiceBed.OpenAsync();
        var tokens = new TokenService(bed.Store, bed.Time);
        await tokens.CreateAsync("ci", Role.Admin);

        Assert.Null(await tokens.IdentifyAsync(token));
    }

    [Fact]
    public async Task IdentifyAsync_WrongTokenOrValidTokenMissingPrefixOrTooLong_Null()
    {
        await using var bed = await ServiceBed.OpenAsync();
        var tokens = new TokenService(bed.Store, bed.Time);
        var (_, token) = await tokens.CreateAsync("ci", Role.Admin);

        Assert.Null(await tokens.IdentifyAsync(TokenService.NewToken()));
        Assert.Null(await tokens.IdentifyAsync(token[..^1] + (token[^1] == 'A' ? 'B' : 'A')));
        Assert.Null(await tokens.IdentifyAsync(token[TokenService.Prefix.Length..]));
        Assert.Null(await tokens.IdentifyAsync(token + new string('A', 128)));
        Assert.NotNull(await tokens.IdentifyAsync(token));
    }

    [Fact]
    public async Task RevokeAsync_TokenRefusedAtOnceEvenIfCached()
    {
        await using var bed = await ServiceBed.OpenAsync();
        var tokens = new TokenService(bed.Store, bed.Time);
        var (record, token) = await tokens.CreateAsync("ci", Role.Admin);
        Assert.NotNull(await tokens.IdentifyAsync(token));

        Assert.True(await tokens.RevokeAsync(record.Id));

        Assert.Null(await tokens.IdentifyAsync(token));
        Assert.False(await tokens.RevokeAsync("no-such-id"));
    }

    [Fact]
    public async Task IdentifyAsync_RevokedByAnotherInstance_RefusedOnceCacheLifetimePassed()
    {
        await using var bed = await ServiceBed.OpenAsync();
        var tokens = new TokenService(bed.Store, bed.Time);
        var (record, token) = await tokens.CreateAsync("ci", Role.Reader);
        Assert.NotNull(await tokens.IdentifyAsync(token));

        // Another instance sharing the database revokes it: this one's cache does not hear of it.
        var other = new TokenService(bed.Store, bed.Time);
        await other.RevokeAsync(record.Id);
        Assert.NotNull(await tokens.IdentifyAsync(token));

        bed.Time.Advance(TimeSpan.FromSeconds(11));
        Assert.Null(await tokens.IdentifyAsync(token));
    }

    [Fact]
    public void Roles_OrderedAdminOverOperatorOverReader_NamesRoundTrip()
    {
        Assert.True(Role.Admin > Role.Operator);
        Assert.True(Role.Operator > Role.Reader);
        foreach (var role in Enum.GetValues<Role>())
        {
            Assert.True(Roles.TryParse(Roles.Name(role), out var parsed));
            Assert.Equal(role, parsed);
        }

        Assert.False(Roles.TryParse("Admin", out _));
        Assert.False(Roles.TryParse(null, out _));
    }
}
