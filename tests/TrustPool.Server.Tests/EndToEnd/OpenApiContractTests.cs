using System.Text.Json.Nodes;

namespace TrustPool.Server.Tests.EndToEnd;

/// <summary>
/// Issue 14, item 3: the live <c>/openapi/v1.json</c> is the contract a client generator can use. Every <c>/v1</c>
/// operation names itself (operationId), declares a schema for what its success status returns and, where it
/// takes a body, for that body, and declares its errors as ProblemDetails (<c>application/problem+json</c>).
/// </summary>
[Trait("Category", "Integration")]
public sealed class OpenApiContractTests
{
    /// <summary>The /v1 writes that take no request body (the path and the verb say everything).</summary>
    private static readonly HashSet<string> s_bodyless = new(StringComparer.Ordinal) { "AttestHost", "PlanEvacuations" };

    private static readonly string[] s_verbs = ["get", "put", "post", "delete", "patch"];

    [Fact]
    public async Task OpenApi_EveryV1Operation_HasRequestResponseAndProblemSchemas()
    {
        await using var h = await ServiceHarness.StartAsync("sqlite");
        using var anonymous = h.NewClient(null);
        var doc = JsonNode.Parse(await anonymous.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)))!;

        var operations = 0;
        var faults = new List<string>();
        foreach (var (path, item) in doc["paths"]!.AsObject())
        {
            if (!path.StartsWith("/v1/", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var verb in s_verbs)
            {
                if (item![verb] is not JsonObject op)
                {
                    continue;
                }

                operations++;
                var id = op["operationId"]?.GetValue<string>();
                var where = $"{verb.ToUpperInvariant()} {path} ({id ?? "no operationId"})";
                faults.AddRange(Check(doc, op, verb, id).Select(f => $"{where}: {f}"));
            }
        }

        // The service has about 45 /v1 operations; a document that lost them must not pass as "no faults".
        Assert.True(operations >= 40, $"only {operations} /v1 operations in the document");
        Assert.True(faults.Count == 0, $"{faults.Count} contract gaps in /openapi/v1.json:\n" + string.Join('\n', faults));
    }

    private static IEnumerable<string> Check(JsonNode doc, JsonObject op, string verb, string? id)
    {
        if (string.IsNullOrEmpty(id))
        {
            yield return "no operationId";
        }

        var responses = op["responses"] as JsonObject ?? [];
        var success = responses.Where(r => r.Key.Length == 3 && r.Key[0] == '2').ToList();
        if (success.Count == 0)
        {
            yield return "no 2xx response";
        }

        foreach (var (status, response) in success)
        {
            // 204 and 202 without content say "nothing comes back"; everything else must say what does.
            if (status is "204" or "202" && response?["content"] is null)
            {
                continue;
            }

            if (!HasSchema(doc, response?["content"]))
            {
                yield return $"response {status} has no schema";
            }
        }

        var takesBody = verb is "post" or "put" or "patch" && !s_bodyless.Contains(id ?? "");
        if (takesBody && !HasSchema(doc, op["requestBody"]?["content"]))
        {
            yield return "request body has no schema";
        }
        else if (!takesBody && op["requestBody"] is not null && !HasSchema(doc, op["requestBody"]!["content"]))
        {
            yield return "declares a request body without a schema";
        }

        var problems = responses.Where(r => r.Key[0] is '4' or '5' || r.Key == "default")
            .Where(r => Meaningful(doc, r.Value?["content"]?["application/problem+json"]?["schema"], depth: 0))
            .ToList();
        if (problems.Count == 0)
        {
            yield return "declares no application/problem+json error response";
        }
    }

    /// <summary>Whether some media type of <paramref name="content"/> has a schema that says something (a $ref that resolves, a type, properties, a composition).</summary>
    private static bool HasSchema(JsonNode doc, JsonNode? content)
    {
        if (content is not JsonObject media)
        {
            return false;
        }

        return media.Any(m => Meaningful(doc, m.Value?["schema"], depth: 0));
    }

    private static bool Meaningful(JsonNode doc, JsonNode? schema, int depth)
    {
        if (schema is not JsonObject s || depth > 16)
        {
            return false;
        }

        if (s["$ref"]?.GetValue<string>() is { } reference)
        {
            // Only local references (#/components/schemas/X) are produced by ASP.NET Core.
            var node = doc;
            foreach (var part in reference.TrimStart('#').Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                node = node?[part.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)];
            }

            return Meaningful(doc, node, depth + 1);
        }

        return s.ContainsKey("type") || s.ContainsKey("properties") || s.ContainsKey("items")
            || s.ContainsKey("oneOf") || s.ContainsKey("anyOf") || s.ContainsKey("allOf") || s.ContainsKey("additionalProperties");
    }
}
