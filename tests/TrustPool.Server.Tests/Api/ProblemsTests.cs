using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using TrustPool.Server.Api;
using TrustPool.Server.Storage;

namespace TrustPool.Server.Tests.Api;

public sealed class ProblemsTests
{
    [Theory]
    [InlineData(ServiceErrorKind.InvalidInput, 400)]
    [InlineData(ServiceErrorKind.TooLarge, 413)]
    [InlineData(ServiceErrorKind.NotFound, 404)]
    [InlineData(ServiceErrorKind.Conflict, 409)]
    [InlineData(ServiceErrorKind.Refused, 422)]
    [InlineData(ServiceErrorKind.AgentFailed, 502)]
    [InlineData(ServiceErrorKind.Unavailable, 503)]
    public void StatusOf_EachKind_ItsStatus(ServiceErrorKind kind, int status) => Assert.Equal(status, Problems.StatusOf(kind));

    [Fact]
    public void StatusOf_EveryKind_AClientOrUpstreamStatusNever500()
    {
        // A kind added without a status would answer 500 (a bug) for a refusal: every kind must be mapped.
        foreach (var kind in Enum.GetValues<ServiceErrorKind>())
        {
            Assert.InRange(Problems.StatusOf(kind), 400, 503);
            Assert.NotEqual(500, Problems.StatusOf(kind));
        }

        Assert.Equal(500, Problems.StatusOf((ServiceErrorKind)999));
    }

    [Fact]
    public void From_ServiceException_StatusTypeDetailField()
    {
        var p = Assert.IsType<ProblemHttpResult>(Problems.From(ServiceException.Refused("enrollment-ak-weak", "SHA-1 name", "akPublic")));
        Assert.Equal(422, p.StatusCode);
        Assert.Equal("urn:trustpool:service:enrollment-ak-weak", p.ProblemDetails.Type);
        Assert.Equal("SHA-1 name", p.ProblemDetails.Detail);
        Assert.Equal("Unprocessable", p.ProblemDetails.Title);
        Assert.Equal("akPublic", p.ProblemDetails.Extensions["field"]);
    }

    [Fact]
    public void FromException_StoreAndHttpExceptions_Mapped_OthersNull()
    {
        Assert.Equal(409, Status(Problems.FromException(new StoreConflictException("taken"))));
        Assert.Equal(404, Status(Problems.FromException(new StoreNotFoundException("gone"))));
        Assert.Equal(400, Status(Problems.FromException(new BadHttpRequestException("bad", 400))));
        Assert.Equal(404, Status(Problems.FromException(ServiceException.NotFound("host 'x'"))));
        Assert.Null(Problems.FromException(new InvalidOperationException("a bug")));
    }

    private static int Status(IResult? r) => Assert.IsType<ProblemHttpResult>(r).StatusCode;
}
