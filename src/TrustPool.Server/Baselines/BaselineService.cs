using TrustPool.Attestation.Baselines;
using TrustPool.Server.Api.Contracts;
using TrustPool.Server.Attesting;
using TrustPool.Server.Audit;
using TrustPool.Server.Auth;
using TrustPool.Server.Hosting;
using TrustPool.Server.Storage;
using TrustPool.Tpm;
using TrustPool.Tpm.Structures;

namespace TrustPool.Server.Baselines;

/// <summary>
/// Baselines: import from a reference host's verified evidence, create, new versions, delete, and the reads of the API.
/// Every change is one store transaction carrying its <c>baseline.changed</c> record(s); the policy cache is invalidated
/// (which asks for reattestation of trusted hosts) only once it committed.
/// </summary>
public sealed class BaselineService(ServerContext s)
{
    /// <summary>PCR 10 is where IMA extends (Linux default); a software baseline needs it quoted.</summary>
    private const int ImaPcr = 10;

    /// <summary>PCR 23: where asset-tag provisioning (Intel ISecL) extends the tag certificate's digest.</summary>
    private const int AssetTagPcr = 23;

    /// <summary>
    /// Attests <see cref="ImportBaselineRequest.FromHost"/> now with a fresh nonce and, only if its evidence verifies,
    /// derives one baseline per kind, all in one transaction.
    /// </summary>
    public async Task<ImportBaselineResponse> ImportAsync(ImportBaselineRequest request, Actor? actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var kinds = request.Kinds.Select(k => BaselineKinds.TryParse(k, out var kind) ? kind : throw ServiceException.Invalid("kinds", $"'{k}' is not platform, os, host-unique, software or asset-tag")).Distinct().ToList();
        var templateName = request.Template ?? "uefi";
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
        var (host, evidence) = await s.Attestations.CollectVerifiedEvidenceAsync(request.FromHost, selection, ct);
        var context = AttestationService.Context(host);
        var created = new List<BaselineSummary>();
        var records = new List<TrustPool.Audit.Records.AuditRecord>();
        await using var tx = await s.Store.BeginAsync(ct);
        foreach (var kind in kinds)
        {
            var kindName = BaselineKinds.ToJson(kind);
            var baselineName = kinds.Count == 1 ? request.Name : $"{request.Name}-{kindName}";
            Baseline baseline;
            try
            {
                baseline = BaselineBuilder.FromEvidence(baselineName, kind, evidence, host.Name, context.Tags, template, s.Now);
            }
            catch (InvalidOperationException e)
            {
                throw ServiceException.Refused(ServiceErrors.BaselineNotDerivable, $"{kindName}: {e.Message}", "kinds");
            }

            var (version, digest) = await StoreVersionAsync(tx, baseline);
            records.Add(AuditRecords.BaselineChanged(version == 1 ? "created" : "changed", baselineName, version, kindName, digest, actor, s.Now));
            created.Add(new BaselineSummary(baselineName, kindName, version, digest, baseline.Pcrs.Count, host.Name, s.Now));
        }

        tx.Audit(records);
        tx.OnCommitted(s.Policy.Invalidate);
        await tx.CommitAsync();
        return new ImportBaselineResponse(host.Name, created);
    }

    /// <summary>Stores <paramref name="baseline"/> as version 1 of a new name or the next version of its name (same kind only).</summary>
    public Task<BaselineSummary> CreateAsync(Baseline baseline, Actor? actor, CancellationToken ct) => SaveAsync(baseline, actor, ct);

    /// <summary>
    /// A new version of the existing baseline <paramref name="name"/>. The document is read (by
    /// <paramref name="readDocument"/>) only once the baseline is known to exist, so a missing one is "not found" whatever
    /// the body says; the document must carry the same name.
    /// </summary>
    public async Task<BaselineSummary> UpdateAsync(string name, Func<Task<Baseline>> readDocument, Actor? actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(readDocument);
        _ = await s.Store.GetBaselineAsync(name, null, ct) ?? throw ServiceException.NotFound($"baseline '{name}'");
        var baseline = await readDocument();
        if (baseline.Name != name)
        {
            throw ServiceException.Invalid("name", $"the document is '{baseline.Name}', the URL '{name}'");
        }

        return await SaveAsync(baseline, actor, ct);
    }

    /// <summary>Deletes every version; refused while a pool requires the baseline.</summary>
    public async Task DeleteAsync(string name, Actor? actor, CancellationToken ct)
    {
        var policy = await s.Policy.GetAsync(ct);
        var users = policy.Pools.Where(p => p.Require.Platform.Concat(p.Require.Os).Concat(p.Require.Software).Concat(p.Require.HostUnique).Contains(name)).Select(p => p.Name).ToList();
        if (users.Count > 0)
        {
            throw ServiceException.Conflict($"baseline '{name}' is required by pool(s) {string.Join(", ", users)}");
        }

        await using var tx = await s.Store.BeginAsync(ct);
        if (!await tx.DeleteBaselineAsync(name))
        {
            throw ServiceException.NotFound($"baseline '{name}'");
        }

        tx.Audit(AuditRecords.BaselineChanged("deleted", name, null, null, null, actor, s.Now));
        tx.OnCommitted(s.Policy.Invalidate);
        await tx.CommitAsync();
    }

    /// <summary>The latest version of every baseline.</summary>
    public async Task<BaselineList> ListAsync(CancellationToken ct)
    {
        var all = await s.Store.ListBaselinesAsync(ct);
        return new BaselineList([.. all.Select(r =>
        {
            var b = BaselineJson.Parse(r.DocumentJson);
            return new BaselineSummary(r.Name, r.Kind, r.Version, r.Digest, b.Pcrs.Count, b.FromHost, r.CreatedAt);
        })]);
    }

    /// <summary>The document of the latest version or of <paramref name="version"/>, with its digest.</summary>
    public async Task<(BaselineDocument Document, string Digest)> GetAsync(string name, int? version, CancellationToken ct)
    {
        var r = await s.Store.GetBaselineAsync(name, version, ct)
            ?? throw ServiceException.NotFound(version is null ? $"baseline '{name}'" : $"baseline '{name}' version {version}");
        return (BaselineDocument.From(BaselineJson.Parse(r.DocumentJson), r.Version), r.Digest);
    }

    /// <summary>Every stored version, oldest first.</summary>
    public async Task<BaselineVersionList> VersionsAsync(string name, CancellationToken ct)
    {
        var versions = await s.Store.ListBaselineVersionsAsync(name, ct);
        if (versions.Count == 0)
        {
            throw ServiceException.NotFound($"baseline '{name}'");
        }

        return new BaselineVersionList(name, [.. versions.Select(v => new BaselineVersionView(v.Version, v.Digest, v.CreatedAt))]);
    }

    private async Task<BaselineSummary> SaveAsync(Baseline baseline, Actor? actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        var kind = BaselineKinds.ToJson(baseline.Kind);
        await using var tx = await s.Store.BeginAsync(ct);
        var (version, digest) = await StoreVersionAsync(tx, baseline);
        tx.Audit(AuditRecords.BaselineChanged(version == 1 ? "created" : "changed", baseline.Name, version, kind, digest, actor, s.Now));
        tx.OnCommitted(s.Policy.Invalidate);
        await tx.CommitAsync();
        return new BaselineSummary(baseline.Name, kind, version, digest, baseline.Pcrs.Count, baseline.FromHost, s.Now);
    }

    private async Task<(int Version, string Digest)> StoreVersionAsync(IStoreTransaction tx, Baseline baseline)
    {
        var kind = BaselineKinds.ToJson(baseline.Kind);
        var existing = await s.Store.GetBaselineAsync(baseline.Name, null);
        if (existing is not null && existing.Kind != kind)
        {
            throw ServiceException.Conflict($"baseline '{baseline.Name}' is a {existing.Kind} baseline; a new version cannot change its kind");
        }

        var json = BaselineJson.Serialize(baseline);
        var digest = BaselineJson.Digest(baseline);
        var version = await tx.AddBaselineVersionAsync(new BaselineRecord(baseline.Name, 0, kind, json, digest, s.Now));
        return (version, digest);
    }
}
