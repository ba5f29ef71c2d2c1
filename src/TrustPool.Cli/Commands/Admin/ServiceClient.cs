using System.CommandLine;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrustPool.Cli.Commands.Admin;

/// <summary>The service refused a request (4xx/5xx): printed as its ProblemDetails, exit 1.</summary>
internal sealed class ServiceRefusedException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>
/// The admin verbs' HTTPS client: <c>--server URL --token TOKEN|@FILE --ca-file PEM</c> or <c>TRUSTPOOL_SERVER</c>,
/// <c>TRUSTPOOL_TOKEN</c>, <c>TRUSTPOOL_CA_FILE</c>. The service's certificate must chain to the CA file (the
/// service CA from its data directory); without one, the system trust store decides.
/// </summary>
internal sealed class ServiceClient : IDisposable
{
    private readonly HttpClient _http;

    private ServiceClient(HttpClient http) => _http = http;

    public static readonly Option<string> ServerOption = new("--server") { Description = "Service URL (or TRUSTPOOL_SERVER), e.g. https://127.0.0.1:8443" };
    public static readonly Option<string> TokenOption = new("--token") { Description = "Bearer token, or @FILE to read it (or TRUSTPOOL_TOKEN)" };
    public static readonly Option<string> CaFileOption = new("--ca-file") { Description = "PEM of the service CA to trust (or TRUSTPOOL_CA_FILE)" };
    public static readonly Option<bool> JsonOption = new("--json") { Description = "Print the service's JSON document" };

    /// <summary>Adds the connection options (recursive, so every admin verb under <paramref name="group"/> takes them).</summary>
    public static Command WithConnection(Command group)
    {
        foreach (var o in new Option[] { ServerOption, TokenOption, CaFileOption, JsonOption })
        {
            o.Recursive = true;
            group.Options.Add(o);
        }

        return group;
    }

    public static ServiceClient From(ParseResult p)
    {
        var server = p.GetValue(ServerOption) ?? Environment.GetEnvironmentVariable("TRUSTPOOL_SERVER")
            ?? throw new CliUsageException("no service: pass --server URL or set TRUSTPOOL_SERVER");
        var token = p.GetValue(TokenOption) ?? Environment.GetEnvironmentVariable("TRUSTPOOL_TOKEN")
            ?? throw new CliUsageException("no token: pass --token TOKEN|@FILE or set TRUSTPOOL_TOKEN");
        if (token.StartsWith('@'))
        {
            token = File.ReadAllText(token[1..]).Trim();
        }

        var caFile = p.GetValue(CaFileOption) ?? Environment.GetEnvironmentVariable("TRUSTPOOL_CA_FILE");
        if (!Uri.TryCreate(server.EndsWith('/') ? server : server + "/", UriKind.Absolute, out var baseUri) || baseUri.Scheme != Uri.UriSchemeHttps)
        {
            throw new CliUsageException($"--server '{server}' is not an https URL");
        }

        return Create(baseUri, token, caFile);
    }

    /// <summary>A client of the service at <paramref name="baseUri"/> (https, ending in '/') whose certificate must chain to <paramref name="caFile"/> when given.</summary>
    public static ServiceClient Create(Uri baseUri, string token, string? caFile)
    {
        var handler = new SocketsHttpHandler();
        if (caFile is not null)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(caFile);
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, cert, _, errors) =>
                {
                    if (cert is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                    {
                        return false;
                    }

                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(new X509Certificate2(cert));
                },
            };
        }

        var http = new HttpClient(handler) { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(120) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return new ServiceClient(http);
    }

    public Task<JsonNode> GetAsync(string path) => SendAsync(HttpMethod.Get, path, null);

    public Task<JsonNode> PostAsync(string path, JsonNode? body) => SendAsync(HttpMethod.Post, path, body);

    public Task<JsonNode> PutAsync(string path, JsonNode? body) => SendAsync(HttpMethod.Put, path, body);

    public Task<JsonNode> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path, null);

    /// <summary>GET of a non-JSON document (e.g. an HTML page); refusals throw as for JSON.</summary>
    public async Task<string> GetTextAsync(string path) => (await SendRawAsync(HttpMethod.Get, path, null)).Text;

    private async Task<JsonNode> SendAsync(HttpMethod method, string path, JsonNode? body)
    {
        var (_, node) = await SendRawAsync(method, path, body);
        return node ?? new JsonObject();
    }

    private async Task<(string Text, JsonNode? Node)> SendRawAsync(HttpMethod method, string path, JsonNode? body)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request);
        }
        catch (HttpRequestException e)
        {
            throw new ServiceRefusedException(0, $"cannot reach the service at {_http.BaseAddress}: {e.Message}");
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            JsonNode? node = null;
            if (response.Content.Headers.ContentType?.MediaType is { } media && media.Contains("json", StringComparison.OrdinalIgnoreCase))
            {
                try
                {
                    node = text.Length == 0 ? null : JsonNode.Parse(text);
                }
                catch (JsonException)
                {
                }
            }

            if (!response.IsSuccessStatusCode)
            {
                var detail = node?["detail"]?.GetValue<string>() ?? text;
                var type = node?["type"]?.GetValue<string>();
                throw new ServiceRefusedException((int)response.StatusCode, $"{(int)response.StatusCode} {type}: {detail}");
            }

            return (text, node);
        }
    }

    /// <summary>Runs an admin verb: service refusals print their problem and exit 1, usage errors exit 2.</summary>
    public static int Run(ParseResult p, Func<ServiceClient, bool, Task<int>> body) => CliSupport.Run(() =>
    {
        try
        {
            using var client = From(p);
            return body(client, p.GetValue(JsonOption)).GetAwaiter().GetResult();
        }
        catch (ServiceRefusedException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return Program.ExitRejected;
        }
    });

    public static void PrintJson(JsonNode node) => Console.WriteLine(node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

    public void Dispose() => _http.Dispose();
}
