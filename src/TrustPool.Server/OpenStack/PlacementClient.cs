using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrustPool.Server.OpenStack;

/// <summary>Placement answered something we cannot use (or is unreachable); the message says which call.</summary>
public sealed class PlacementException : Exception
{
    public PlacementException(string message, HttpStatusCode? status = null)
        : base(message) => Status = status;

    public PlacementException()
    {
    }

    public PlacementException(string message)
        : base(message)
    {
    }

    public PlacementException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public HttpStatusCode? Status { get; }
}

/// <summary>A resource provider's traits and the generation to send back when replacing them.</summary>
public sealed record ProviderTraits(string Uuid, IReadOnlyList<string> Traits, long Generation);

/// <summary>
/// The few OpenStack Placement calls TrustPool needs (microversion 1.6+ for traits; we send 1.39 when the service
/// offers it, else its highest version >= 1.17). Authentication is a token: a Keystone token or, with
/// <c>auth_strategy = noauth2</c>, the literal <c>admin</c>.
/// </summary>
public sealed class PlacementClient : IDisposable
{
    public const string PreferredVersion = "1.39";

    private readonly HttpClient _http;
    private readonly Func<CancellationToken, Task<string>> _token;
    private string? _version;

    public PlacementClient(Uri endpoint, Func<CancellationToken, Task<string>> token, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = new Uri(endpoint.ToString().TrimEnd('/') + "/"),
            Timeout = TimeSpan.FromSeconds(15),
        };
        _token = token;
    }

    public string? Version => _version;

    /// <summary>The microversion to speak: 1.39 if offered, else the highest >= 1.17.</summary>
    public async Task<string> NegotiateAsync(CancellationToken ct)
    {
        if (_version is not null)
        {
            return _version;
        }

        var root = await SendAsync(HttpMethod.Get, "", null, ct, versioned: false);
        var max = root?["versions"]?.AsArray().Select(v => v?["max_version"]?.GetValue<string>()).FirstOrDefault(v => v is not null)
            ?? throw new PlacementException("Placement's root document names no max_version");
        var parsed = System.Version.Parse(max);
        if (parsed >= System.Version.Parse(PreferredVersion))
        {
            _version = PreferredVersion;
        }
        else if (parsed >= new Version(1, 17))
        {
            _version = max;
        }
        else
        {
            throw new PlacementException($"Placement offers microversion {max}; TrustPool needs 1.17 or later");
        }

        return _version;
    }

    /// <summary>The provider named <paramref name="name"/> (hosts map to providers by hypervisor host name), or null.</summary>
    public async Task<string?> FindProviderAsync(string name, CancellationToken ct)
    {
        var doc = await SendAsync(HttpMethod.Get, "resource_providers?name=" + Uri.EscapeDataString(name), null, ct);
        var providers = doc?["resource_providers"]?.AsArray() ?? [];
        return providers.Count == 0 ? null : providers[0]!["uuid"]!.GetValue<string>();
    }

    public async Task<ProviderTraits> GetTraitsAsync(string uuid, CancellationToken ct)
    {
        var doc = await SendAsync(HttpMethod.Get, $"resource_providers/{uuid}/traits", null, ct)
            ?? throw new PlacementException($"GET resource_providers/{uuid}/traits returned nothing");
        return new ProviderTraits(uuid, [.. doc["traits"]!.AsArray().Select(t => t!.GetValue<string>())], doc["resource_provider_generation"]!.GetValue<long>());
    }

    /// <summary>Creates a custom trait (idempotent: 201 created, 204 existed).</summary>
    public async Task EnsureTraitAsync(string trait, CancellationToken ct) => await SendAsync(HttpMethod.Put, "traits/" + trait, null, ct);

    /// <summary>Replaces the provider's whole trait set; false on a generation conflict (409: someone changed it meanwhile).</summary>
    public async Task<bool> PutTraitsAsync(string uuid, IEnumerable<string> traits, long generation, CancellationToken ct)
    {
        var body = new JsonObject { ["traits"] = new JsonArray([.. traits.Select(t => (JsonNode)t)]), ["resource_provider_generation"] = generation };
        try
        {
            await SendAsync(HttpMethod.Put, $"resource_providers/{uuid}/traits", body, ct);
            return true;
        }
        catch (PlacementException e) when (e.Status == HttpStatusCode.Conflict)
        {
            return false;
        }
    }

    public async Task<JsonNode?> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken ct, bool versioned = true)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Add("X-Auth-Token", await _token(ct));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (versioned)
        {
            request.Headers.Add("OpenStack-API-Version", "placement " + await NegotiateAsync(ct));
        }

        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, ct);
        }
        catch (HttpRequestException e)
        {
            throw new PlacementException($"{method} {path}: Placement unreachable: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new PlacementException($"{method} {path}: Placement did not answer in time", e);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                throw new PlacementException($"{method} {path}: {(int)response.StatusCode} {Shorten(text)}", response.StatusCode);
            }

            try
            {
                return text.Length == 0 ? null : JsonNode.Parse(text);
            }
            catch (JsonException e)
            {
                throw new PlacementException($"{method} {path}: not JSON: {e.Message}", e);
            }
        }
    }

    private static string Shorten(string s) => s.Length <= 300 ? s : s[..300] + "..";

    public void Dispose() => _http.Dispose();
}
