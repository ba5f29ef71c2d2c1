using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using TrustPool.Attestation.Baselines;
using TrustPool.Server.Attesting;
using TrustPool.Server.Audit;
using TrustPool.Server.Auth;
using TrustPool.Server.Hosting;
using TrustPool.Server.Storage;
using TrustPool.Tpm;
using TrustPool.Tpm.Structures;

namespace TrustPool.Server.Api;

/// <summary><c>/v1/baselines</c>: import from a known-good host, create/edit as JSON (each change a new version), list, export, delete.</summary>
public static class BaselineEndpoints
{
    /// <summary>PCR 10 is where IMA extends (Linux default); a software baseline needs it quoted.</summary>
    private const int ImaPcr = 10;

    /// <summary>PCR 23: where asset-tag provisioning (Intel ISecL) extends the tag certificate's digest.</summary>
    private const int AssetTagPcr = 23;

    public static void Map(IEndpointRouteBuilder v1)
    {
        v1.MapPost("/baselines/import", ImportFromHostAsync).RequireRole(Role.Operator).WithName("ImportBaseline");
        v1.MapPost("/baselines", CreateAsync).RequireRole(Role.Operator).WithName("CreateBaseline");
        v1.MapGet("/baselines", ListAsync).RequireRole(Role.Reader).WithName("ListBaselines");
        v1.MapGet("/baselines/{name}", GetAsync).RequireRole(Role.Reader).WithName("GetBaseline");
        v1.MapGet("/baselines/{name}/versions", VersionsAsync).RequireRole(Role.Reader).WithName("BaselineVersions");
        v1.MapPut("/baselines/{name}", UpdateAsync).RequireRole(Role.Operator).WithName("UpdateBaseline");
        v1.MapDelete("/baselines/{name}", DeleteAsync).RequireRole(Role.Operator).WithName("DeleteBaseline");
    }

    public static string KindName(BaselineKind kind) => kind switch
    {
        BaselineKind.Platform => "platform",
        BaselineKind.Os => "os",
        BaselineKind.HostUnique => "host-unique",
        BaselineKind.Software => "software",
        _ => "asset-tag",
    };

    public static bool TryParseKind(string s, out BaselineKind kind)
    {
        foreach (var k in Enum.GetValues<BaselineKind>())
        {
            if (KindName(k) == s)
            {
                kind = k;
                return true;
            }
        }

        kind = default;
        return false;
    }

    /// <summary>
    /// <c>{fromHost, kinds, name, template?}</c>: attests <c>fromHost</c> now with a fresh nonce and, only if its evidence
    /// verifies, derives one baseline per kind (named <c>name</c> for one kind, <c>name-KIND</c> for several), all in one transaction.
    /// </summary>
    private static async Task<IResult> ImportFromHostAsync(HttpContext http, ServerContext s)
    {
        using var body = await JsonBody.ReadAsync(http.Request);
        var fromHost = body.RequiredString("fromHost", 253);
        var name = body.RequiredString("name", 64);
        var kindNames = body.OptionalStringList("kinds", 5, 16) ?? throw ServiceException.Invalid("kinds", "is required: platform, os, host-unique, software, asset-tag");
        var kinds = new List<BaselineKind>();
        foreach (var k in kindNames)
        {
            if (!TryParseKind(k, out var kind))
            {
                throw ServiceException.Invalid("kinds", $"'{k}' is not platform, os, host-unique, software or asset-tag");
            }

            if (!kinds.Contains(kind))
            {
                kinds.Add(kind);
            }
        }

        if (kinds.Count == 0)
        {
            throw ServiceException.Invalid("kinds", "name at least one kind");
        }

        var templateName = body.OptionalString("template", 16) ?? "uefi";
        var template = BaselineTemplate.Find(templateName) ?? throw ServiceException.Invalid("template", $"'{templateName}' is not uefi or txt");
        var indices = template.Pcrs.Values.SelectMany(x => x).ToHashSet();
        if (kinds.Contains(BaselineKind.Software))
        {
            indices.Add(ImaPcr);
        }

        if (kinds.Contains(BaselineKind.AssetTag))
        {
            indices.Add(AssetTagPcr);
        }

        var selection = PcrSelection.Single(TpmAlgorithmId.Sha256, indices.Order());
        var (host, evidence) = await s.Attestations.CollectVerifiedEvidenceAsync(fromHost, selection, http.RequestAborted);
        var context = AttestationService.Context(host);
        var created = new JsonArray();
        var records = new List<TrustPool.Audit.Records.AuditRecord>();
        await using (var tx = await s.Store.BeginAsync(http.RequestAborted))
        {
            foreach (var kind in kinds)
            {
                var baselineName = kinds.Count == 1 ? name : $"{name}-{KindName(kind)}";
                Baseline baseline;
                try
                {
                    baseline = BaselineBuilder.FromEvidence(baselineName, kind, evidence, host.Name, context.Tags, template, s.Now);
                }
                catch (InvalidOperationException e)
                {
                    throw ServiceException.Refused(ServiceErrors.BaselineNotDerivable, $"{KindName(kind)}: {e.Message}", "kinds");
                }

                var (version, digest) = await StoreVersionAsync(tx, baseline, s);
                records.Add(AuditRecords.BaselineChanged(version == 1 ? "created" : "changed", baselineName, version, KindName(kind), digest, RoleFilter.ActorOf(http), s.Now));
                created.Add(Summary(baselineName, KindName(kind), version, digest, baseline.Pcrs.Count, host.Name, s.Now));
            }

            tx.Audit([.. records]);
            await tx.CommitAsync();
        }

        s.Policy.Invalidate();
        return Results.Created("/v1/baselines", new JsonObject { ["fromHost"] = host.Name, ["baselines"] = created });
    }

    private static async Task<IResult> CreateAsync(HttpContext http, ServerContext s)
    {
        using var body = await JsonBody.ReadAsync(http.Request, 16 << 20);
        var baseline = Parse(body.Root.GetRawText());
        return await SaveAsync(http, s, baseline, 201);
    }

    private static async Task<IResult> UpdateAsync(HttpContext http, ServerContext s, string name)
    {
        _ = await s.Store.GetBaselineAsync(name, null, http.RequestAborted) ?? throw ServiceException.NotFound($"baseline '{name}'");
        using var body = await JsonBody.ReadAsync(http.Request, 16 << 20);
        var baseline = Parse(body.Root.GetRawText());
        if (baseline.Name != name)
        {
            throw ServiceException.Invalid("name", $"the document is '{baseline.Name}', the URL '{name}'");
        }

        return await SaveAsync(http, s, baseline, 200);
    }

    private static async Task<IResult> SaveAsync(HttpContext http, ServerContext s, Baseline baseline, int status)
    {
        int version;
        string digest;
        await using (var tx = await s.Store.BeginAsync(http.RequestAborted))
        {
            (version, digest) = await StoreVersionAsync(tx, baseline, s);
            tx.Audit(AuditRecords.BaselineChanged(version == 1 ? "created" : "changed", baseline.Name, version,
                KindName(baseline.Kind), digest, RoleFilter.ActorOf(http), s.Now));
            await tx.CommitAsync();
        }

        s.Policy.Invalidate();
        var summary = Summary(baseline.Name, KindName(baseline.Kind), version, digest, baseline.Pcrs.Count, baseline.FromHost, s.Now);
        return status == 201 ? Results.Created($"/v1/baselines/{baseline.Name}", summary) : Results.Ok(summary);
    }

    private static async Task<(int Version, string Digest)> StoreVersionAsync(IStoreTransaction tx, Baseline baseline, ServerContext s)
    {
        var existing = await s.Store.GetBaselineAsync(baseline.Name, null);
        if (existing is not null && existing.Kind != KindName(baseline.Kind))
        {
            throw ServiceException.Conflict($"baseline '{baseline.Name}' is a {existing.Kind} baseline; a new version cannot change its kind");
        }

        var json = BaselineJson.Serialize(baseline);
        var digest = BaselineJson.Digest(baseline);
        var version = await tx.AddBaselineVersionAsync(new BaselineRecord(baseline.Name, 0, KindName(baseline.Kind), json, digest, s.Now));
        return (version, digest);
    }

    private static Baseline Parse(string json)
    {
        try
        {
            return BaselineJson.Parse(json);
        }
        catch (BaselineFormatException e)
        {
            throw ServiceException.Invalid(e.Field, e.Message);
        }
    }

    private static async Task<IResult> ListAsync(HttpContext http, ServerContext s)
    {
        var all = await s.Store.ListBaselinesAsync(http.RequestAborted);
        return Results.Json(new JsonObject
        {
            ["baselines"] = new JsonArray([.. all.Select(r =>
            {
                var b = BaselineJson.Parse(r.DocumentJson);
                return (JsonNode)Summary(r.Name, r.Kind, r.Version, r.Digest, b.Pcrs.Count, b.FromHost, r.CreatedAt);
            })]),
        });
    }

    /// <summary>The baseline document (export), latest or <c>?version=N</c>; importable as is with POST /v1/baselines.</summary>
    private static async Task<IResult> GetAsync(HttpContext http, ServerContext s, string name, int? version)
    {
        var r = await s.Store.GetBaselineAsync(name, version, http.RequestAborted)
            ?? throw ServiceException.NotFound(version is null ? $"baseline '{name}'" : $"baseline '{name}' version {version}");
        var doc = JsonNode.Parse(r.DocumentJson)!.AsObject();
        doc["version"] = r.Version;
        http.Response.Headers["X-TrustPool-Digest"] = r.Digest;
        return Results.Json(doc);
    }

    private static async Task<IResult> VersionsAsync(HttpContext http, ServerContext s, string name)
    {
        var versions = await s.Store.ListBaselineVersionsAsync(name, http.RequestAborted);
        if (versions.Count == 0)
        {
            throw ServiceException.NotFound($"baseline '{name}'");
        }

        return Results.Json(new JsonObject
        {
            ["name"] = name,
            ["versions"] = new JsonArray([.. versions.Select(v => (JsonNode)new JsonObject { ["version"] = v.Version, ["digest"] = v.Digest, ["createdAt"] = v.CreatedAt })]),
        });
    }

    private static async Task<IResult> DeleteAsync(HttpContext http, ServerContext s, string name)
    {
        var policy = await s.Policy.GetAsync(http.RequestAborted);
        var users = policy.Pools.Where(p => p.Require.Platform.Concat(p.Require.Os).Concat(p.Require.Software).Concat(p.Require.HostUnique).Contains(name)).Select(p => p.Name).ToList();
        if (users.Count > 0)
        {
            throw ServiceException.Conflict($"baseline '{name}' is required by pool(s) {string.Join(", ", users)}");
        }

        await using var tx = await s.Store.BeginAsync(http.RequestAborted);
        if (!await tx.DeleteBaselineAsync(name))
        {
            throw ServiceException.NotFound($"baseline '{name}'");
        }

        tx.Audit(AuditRecords.BaselineChanged("deleted", name, null, null, null, RoleFilter.ActorOf(http), s.Now));
        await tx.CommitAsync();
        s.Policy.Invalidate();
        return Results.NoContent();
    }

    private static JsonObject Summary(string name, string kind, int version, string digest, int pcrs, string? fromHost, DateTimeOffset created) => new()
    {
        ["name"] = name,
        ["kind"] = kind,
        ["version"] = version,
        ["digest"] = digest,
        ["pcrs"] = pcrs,
        ["fromHost"] = fromHost,
        ["createdAt"] = created,
    };
}
