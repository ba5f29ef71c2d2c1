using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace TrustPool.Server.Dashboard;

/// <summary>
/// The trust dashboard at <c>/</c>: static HTML, JS and CSS embedded in this assembly (no Node build). The files are
/// public; the page asks for a bearer token and calls the <c>/v1</c> API of the same origin with it, so what a
/// visitor sees is exactly what that token may read. Data from the API is only ever inserted as text (app.js).
/// </summary>
public static class DashboardEndpoints
{
    /// <summary>
    /// Scripts and styles from this origin only, no inline script or style, no plugins, no framing, no base-URI
    /// tricks; <c>connect-src 'self'</c> keeps the token on this origin even if a script were injected.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; " +
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private const string ResourcePrefix = "TrustPool.Server.Dashboard.";

    /// <summary>URL path -> (embedded resource, content type).</summary>
    private static readonly (string Path, string Resource, string ContentType)[] s_files =
    [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/dashboard/app.js", "app.js", "text/javascript; charset=utf-8"),
        ("/dashboard/app.css", "app.css", "text/css; charset=utf-8"),
        ("/dashboard/favicon.svg", "favicon.svg", "image/svg+xml"),
    ];

    private static readonly Lazy<FrozenDictionary<string, StaticFile>> s_content = new(Load);

    public static void Map(IEndpointRouteBuilder app)
    {
        foreach (var (path, _, _) in s_files)
        {
            app.MapGet(path, (HttpContext http) => Serve(http, s_content.Value[path])).ExcludeFromDescription();
        }
    }

    private static IResult Serve(HttpContext http, StaticFile file)
    {
        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        // Revalidate every time: a new service version must not run with a cached older app.js.
        headers.CacheControl = "no-cache";
        headers.ETag = file.ETag;
        if (http.Request.Headers.IfNoneMatch.Contains(file.ETag))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Bytes(file.Bytes, file.ContentType);
    }

    private static FrozenDictionary<string, StaticFile> Load()
    {
        var assembly = typeof(DashboardEndpoints).Assembly;
        var files = new Dictionary<string, StaticFile>(StringComparer.Ordinal);
        foreach (var (path, resource, contentType) in s_files)
        {
            using var stream = assembly.GetManifestResourceStream(ResourcePrefix + resource)
                ?? throw new InvalidOperationException($"dashboard file {resource} is not embedded in {assembly.GetName().Name}");
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var bytes = buffer.ToArray();
            files[path] = new StaticFile(bytes, contentType, $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))[..16]}\"");
        }

        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private sealed record StaticFile(byte[] Bytes, string ContentType, string ETag);
}
