using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace TrustPool.Server.OpenStack;

/// <summary>Keystone v3 password credentials (the usual <c>OS_*</c> settings).</summary>
public sealed record KeystoneCredentials(Uri AuthUrl, string Username, string Password, string ProjectName, string UserDomainName = "Default", string ProjectDomainName = "Default");

/// <summary>
/// A project-scoped Keystone v3 token (<c>POST /v3/auth/tokens</c>, password method), cached until a minute before it
/// expires. The password is sent only to Keystone and never logged.
/// </summary>
public sealed class KeystoneToken : IDisposable
{
    private readonly KeystoneCredentials _credentials;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(15) };
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TimeProvider _time;
    private (string Token, DateTimeOffset Expires)? _current;

    public KeystoneToken(KeystoneCredentials credentials, TimeProvider time)
    {
        _credentials = credentials;
        _time = time;
    }

    public async Task<string> GetAsync(CancellationToken ct)
    {
        if (_current is { } c && c.Expires - TimeSpan.FromMinutes(1) > _time.GetUtcNow())
        {
            return c.Token;
        }

        await _gate.WaitAsync(ct);
        try
        {
            var body = new JsonObject
            {
                ["auth"] = new JsonObject
                {
                    ["identity"] = new JsonObject
                    {
                        ["methods"] = new JsonArray("password"),
                        ["password"] = new JsonObject
                        {
                            ["user"] = new JsonObject
                            {
                                ["name"] = _credentials.Username, ["domain"] = new JsonObject { ["name"] = _credentials.UserDomainName }, ["password"] = _credentials.Password,
                            },
                        },
                    },
                    ["scope"] = new JsonObject
                    {
                        ["project"] = new JsonObject { ["name"] = _credentials.ProjectName, ["domain"] = new JsonObject { ["name"] = _credentials.ProjectDomainName } },
                    },
                },
            };
            var url = new Uri(_credentials.AuthUrl.ToString().TrimEnd('/') + (_credentials.AuthUrl.AbsolutePath.TrimEnd('/').EndsWith("/v3", StringComparison.Ordinal) ? "" : "/v3") + "/auth/tokens");
            using var response = await _http.PostAsJsonAsync(url, body, ct);
            if (!response.IsSuccessStatusCode || !response.Headers.TryGetValues("X-Subject-Token", out var tokens))
            {
                throw new PlacementException($"Keystone {url}: {(int)response.StatusCode}: no token for user '{_credentials.Username}'", response.StatusCode);
            }

            var doc = JsonNode.Parse(await response.Content.ReadAsStringAsync(ct));
            var expires = DateTimeOffset.TryParse(doc?["token"]?["expires_at"]?.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal, out var e) ? e : _time.GetUtcNow().AddMinutes(30);
            _current = (tokens.First(), expires);
            return _current.Value.Token;
        }
        catch (HttpRequestException e)
        {
            throw new PlacementException($"Keystone unreachable: {e.Message}", e);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _gate.Dispose();
    }
}
