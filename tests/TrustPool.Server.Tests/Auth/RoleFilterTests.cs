using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;
using TrustPool.Server.Api;
using TrustPool.Server.Auth;
using TrustPool.Server.Tests.Fakes;

namespace TrustPool.Server.Tests.Auth;

/// <summary>RoleFilter.CheckAsync on a bare HttpContext whose services hold a TokenService over a SQLite store.</summary>
public sealed class RoleFilterTests : IAsyncLifetime
{
    private ServiceBed _bed = null!;
    private TokenService _tokens = null!;
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        _bed = await ServiceBed.OpenAsync();
        _tokens = new TokenService(_bed.Store, _bed.Time);
        _services = new ServiceCollection().AddSingleton(_tokens).BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _bed.DisposeAsync();
    }

    private DefaultHttpContext Http() => new() { RequestServices = _services };

    private static (int Status, string? Type) Problem(IResult? result)
    {
        var p = Assert.IsType<ProblemHttpResult>(result);
        return (p.StatusCode, p.ProblemDetails.Type);
    }

    [Fact]
    public async Task CheckAsync_NoToken_401WithBearerChallenge()
    {
        var http = Http();
        var (status, type) = Problem(await RoleFilter.CheckAsync(http, null, Role.Reader));
        Assert.Equal(401, status);
        Assert.Equal(Problems.TypePrefix + "unauthorized", type);
        Assert.Equal("Bearer", http.Response.Headers.WWWAuthenticate.ToString());
        Assert.Null(RoleFilter.ActorOf(http));
    }

    [Fact]
    public async Task CheckAsync_WrongToken_401()
    {
        await _tokens.CreateAsync("ci", Role.Admin);
        var http = Http();
        var (status, _) = Problem(await RoleFilter.CheckAsync(http, TokenService.NewToken(), Role.Reader));
        Assert.Equal(401, status);
        Assert.Equal("Bearer", http.Response.Headers.WWWAuthenticate.ToString());
    }

    [Fact]
    public async Task CheckAsync_RevokedToken_401()
    {
        var (record, token) = await _tokens.CreateAsync("ci", Role.Admin);
        Assert.Null(await RoleFilter.CheckAsync(Http(), token, Role.Admin));
        await _tokens.RevokeAsync(record.Id);

        var (status, _) = Problem(await RoleFilter.CheckAsync(Http(), token, Role.Reader));
        Assert.Equal(401, status);
    }

    [Theory]
    [InlineData(Role.Reader, Role.Reader, true)]
    [InlineData(Role.Reader, Role.Operator, false)]
    [InlineData(Role.Reader, Role.Admin, false)]
    [InlineData(Role.Operator, Role.Reader, true)]
    [InlineData(Role.Operator, Role.Operator, true)]
    [InlineData(Role.Operator, Role.Admin, false)]
    [InlineData(Role.Admin, Role.Reader, true)]
    [InlineData(Role.Admin, Role.Operator, true)]
    [InlineData(Role.Admin, Role.Admin, true)]
    public async Task CheckAsync_RoleOrdering_HigherRoleIncludesLower(Role has, Role needs, bool allowed)
    {
        var (record, token) = await _tokens.CreateAsync("t", has);
        var http = Http();

        var result = await RoleFilter.CheckAsync(http, token, needs);

        if (allowed)
        {
            Assert.Null(result);
            Assert.Equal(new Actor(record.Id, "t", has), RoleFilter.ActorOf(http));
        }
        else
        {
            var (status, type) = Problem(result);
            Assert.Equal(403, status);
            Assert.Equal(Problems.TypePrefix + "forbidden", type);
            Assert.Null(RoleFilter.ActorOf(http));
            Assert.Equal(0, http.Response.Headers.WWWAuthenticate.Count);
        }
    }
}
