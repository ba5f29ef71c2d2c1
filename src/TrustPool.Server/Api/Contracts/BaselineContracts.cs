using System.Text.Json;
using System.Text.Json.Serialization;
using TrustPool.Attestation.Baselines;

namespace TrustPool.Server.Api.Contracts;

/// <summary>
/// <c>POST /v1/baselines/import</c>: attest <see cref="FromHost"/> now and derive one baseline per kind from its verified
/// evidence (named <see cref="Name"/> for one kind, <c>NAME-KIND</c> for several).
/// </summary>
/// <param name="FromHost">The enrolled reference host (at most 253 characters).</param>
/// <param name="Name">The baseline name, or the prefix of the names when several kinds are asked (at most 64 characters).</param>
/// <param name="Kinds">One to five of <c>platform</c>, <c>os</c>, <c>host-unique</c>, <c>software</c>, <c>asset-tag</c> (a single string is accepted too); duplicates are ignored.</param>
/// <param name="Template">Which PCRs a platform/os baseline covers: <c>uefi</c> (default) or <c>txt</c>.</param>
public sealed record ImportBaselineRequest(string FromHost, string Name, IReadOnlyList<string> Kinds, string? Template = null)
{
    /// <summary>Reads the request with the API's bounded accessors; the errors name the field at fault.</summary>
    public static ImportBaselineRequest Parse(JsonBody body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var fromHost = body.RequiredString("fromHost", 253);
        var name = body.RequiredString("name", 64);
        var kindNames = body.OptionalStringList("kinds", 5, 16) ?? throw ServiceException.Invalid("kinds", "is required: platform, os, host-unique, software, asset-tag");
        var kinds = new List<string>();
        foreach (var k in kindNames)
        {
            if (!BaselineKinds.TryParse(k, out _))
            {
                throw ServiceException.Invalid("kinds", $"'{k}' is not platform, os, host-unique, software or asset-tag");
            }

            if (!kinds.Contains(k))
            {
                kinds.Add(k);
            }
        }

        if (kinds.Count == 0)
        {
            throw ServiceException.Invalid("kinds", "name at least one kind");
        }

        var template = body.OptionalString("template", 16) ?? "uefi";
        if (BaselineTemplate.Find(template) is null)
        {
            throw ServiceException.Invalid("template", $"'{template}' is not uefi or txt");
        }

        return new ImportBaselineRequest(fromHost, name, kinds, template);
    }
}

/// <summary>The answer to an import: the reference host and the baseline versions made from it, in the order of the kinds asked.</summary>
/// <param name="FromHost">The reference host's name.</param>
/// <param name="Baselines">One summary per kind.</param>
public sealed record ImportBaselineResponse(string FromHost, IReadOnlyList<BaselineSummary> Baselines);

/// <summary>One baseline version, as listed and as returned by a change.</summary>
/// <param name="Name">The baseline name.</param>
/// <param name="Kind"><c>platform</c>, <c>os</c>, <c>host-unique</c>, <c>software</c> or <c>asset-tag</c>.</param>
/// <param name="Version">The version (1 for a new baseline, each change adds one).</param>
/// <param name="Digest">sha256 (lower-case hex) of the canonical document: identifies the content.</param>
/// <param name="Pcrs">How many expected PCR values the baseline holds.</param>
/// <param name="FromHost">The reference host the values were taken from, or null.</param>
/// <param name="CreatedAt">When this version was stored.</param>
public sealed record BaselineSummary(string Name, string Kind, int Version, string Digest, int Pcrs, string? FromHost, DateTimeOffset CreatedAt);

/// <summary><c>GET /v1/baselines</c>: the latest version of every baseline.</summary>
/// <param name="Baselines">By name.</param>
public sealed record BaselineList(IReadOnlyList<BaselineSummary> Baselines);

/// <summary><c>GET /v1/baselines/{name}/versions</c>.</summary>
/// <param name="Name">The baseline name.</param>
/// <param name="Versions">Oldest first.</param>
public sealed record BaselineVersionList(string Name, IReadOnlyList<BaselineVersionView> Versions);

/// <summary>One stored version of a baseline.</summary>
/// <param name="Version">The version number.</param>
/// <param name="Digest">sha256 (lower-case hex) of that version's canonical document.</param>
/// <param name="CreatedAt">When it was stored.</param>
public sealed record BaselineVersionView(int Version, string Digest, DateTimeOffset CreatedAt);

/// <summary>One expected PCR value.</summary>
/// <param name="Bank">The hash bank as tpm2-tools names it (<c>sha256</c>).</param>
/// <param name="Index">The PCR index (0-23).</param>
/// <param name="Value">The expected value, lower-case hex.</param>
public sealed record ExpectedPcrDocument(string Bank, int Index, string Value);

/// <summary>
/// A baseline document (TrustPool.Attestation's BaselineJson format): the body of <c>POST /v1/baselines</c> and
/// <c>PUT /v1/baselines/{name}</c>, and what <c>GET /v1/baselines/{name}</c> exports (importable as is). The service
/// checks a document with BaselineJson.Parse, whose errors name the field at fault.
/// </summary>
public sealed record BaselineDocument
{
    /// <summary>[A-Za-z0-9._-]{1,64}.</summary>
    public required string Name { get; init; }

    /// <summary><c>platform</c>, <c>os</c>, <c>host-unique</c>, <c>software</c> or <c>asset-tag</c>; a new version cannot change it.</summary>
    public required string Kind { get; init; }

    /// <summary>The stored version (on export); ignored on import, where the store numbers versions.</summary>
    public int Version { get; init; } = 1;

    /// <summary>Free text.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Description { get; init; }

    /// <summary>The reference host the values were taken from, when made from evidence.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? FromHost { get; init; }

    /// <summary>When the values were taken (ISO 8601).</summary>
    public DateTimeOffset Created { get; init; }

    /// <summary>The expected PCR values, sorted by bank and index.</summary>
    public IReadOnlyList<ExpectedPcrDocument> Pcrs { get; init; } = [];

    /// <summary>The reference host's verified UEFI event log (base64); only used to name the first diverging event.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public byte[]? ReferenceUefiLog { get; init; }

    /// <summary>Informational: secureBoot, bootLoader, kernel, cmdline, firmware.</summary>
    public IReadOnlyDictionary<string, string> Facts { get; init; } = new Dictionary<string, string>();

    /// <summary>Software kind: IMA file path to the allowed lower-case hex file digests.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, IReadOnlyList<string>>? ImaAllowlist { get; init; }

    /// <summary>Asset-tag kind: the tags.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>
    /// The document of <paramref name="b"/> stored as <paramref name="version"/>, in BaselineJson's canonical order
    /// (PCRs by bank and index, maps by key) so an export reads exactly as the stored document.
    /// </summary>
    public static BaselineDocument From(Baseline b, int version)
    {
        ArgumentNullException.ThrowIfNull(b);
        return new BaselineDocument
        {
            Name = b.Name,
            Kind = BaselineKinds.ToJson(b.Kind),
            Version = version,
            Description = b.Description,
            FromHost = b.FromHost,
            Created = b.Created,
            Pcrs = [.. b.Pcrs.OrderBy(p => p.Bank, StringComparer.Ordinal).ThenBy(p => p.Index).Select(p => new ExpectedPcrDocument(p.Bank, p.Index, p.Value))],
            ReferenceUefiLog = b.ReferenceUefiLog,
            Facts = Sorted(b.Facts),
            ImaAllowlist = b.ImaAllowlist is null ? null : b.ImaAllowlist.OrderBy(kv => kv.Key, StringComparer.Ordinal)
                .ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)[.. kv.Value.Order(StringComparer.Ordinal)], StringComparer.Ordinal),
            Tags = b.Tags is null ? null : Sorted(b.Tags),
        };
    }

    // A Dictionary filled in order and never removed from enumerates in insertion order, which is what is serialized.
    private static Dictionary<string, string> Sorted(IReadOnlyDictionary<string, string> map) =>
        map.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
}

/// <summary>Source-generated JSON for the baseline contracts (registered in <see cref="ApiJson"/>).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ImportBaselineRequest))]
[JsonSerializable(typeof(ImportBaselineResponse))]
[JsonSerializable(typeof(BaselineSummary))]
[JsonSerializable(typeof(BaselineList))]
[JsonSerializable(typeof(BaselineVersionList))]
[JsonSerializable(typeof(BaselineDocument))]
internal sealed partial class BaselineJsonContext : JsonSerializerContext;
