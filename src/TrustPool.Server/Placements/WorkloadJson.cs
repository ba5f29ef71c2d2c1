using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TrustPool.Scheduling;
using TrustPool.Server.Api;

namespace TrustPool.Server.Placements;

/// <summary>
/// A workload request on the wire:
/// <c>{"name","resources":{"vcpus","memoryMb","diskGb"},"trust":"required|preferred|any","pools":[..],"tags":["country=DE","!zone=dmz"],"affinityGroup","antiAffinityGroup"}</c>.
/// Every bad field is a 400 naming it.
/// </summary>
public static partial class WorkloadJson
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex NamePattern();

    public static WorkloadRequest Parse(JsonNode node)
    {
        if (node is not JsonObject o)
        {
            throw ServiceException.Invalid("body", "must be a JSON object");
        }

        var name = Str(o, "name") ?? throw ServiceException.Invalid("name", "is required");
        if (!NamePattern().IsMatch(name))
        {
            throw ServiceException.Invalid("name", "must be 1..128 characters of letters, digits, '.', '_' or '-'");
        }

        if (o["resources"] is not JsonObject res)
        {
            throw ServiceException.Invalid("resources", "is required: {vcpus, memoryMb, diskGb}");
        }

        var resources = new Resources((int)Long(res, "resources.vcpus", "vcpus", 1 << 20), Long(res, "resources.memoryMb", "memoryMb", int.MaxValue), Long(res, "resources.diskGb", "diskGb", int.MaxValue));
        var trust = (Str(o, "trust") ?? "required") switch
        {
            "required" => TrustRequirement.Required,
            "preferred" => TrustRequirement.Preferred,
            "any" => TrustRequirement.Any,
            var t => throw ServiceException.Invalid("trust", $"'{t}' is not required, preferred or any"),
        };
        var pools = List(o, "pools");
        var tags = new List<TagRequirement>();
        foreach (var t in List(o, "tags"))
        {
            try
            {
                tags.Add(TagRequirement.Parse(t));
            }
            catch (FormatException e)
            {
                throw ServiceException.Invalid("tags", e.Message);
            }
        }

        return new WorkloadRequest
        {
            Name = name,
            Resources = resources,
            Trust = trust,
            Pools = pools,
            Tags = tags,
            AffinityGroup = Str(o, "affinityGroup"),
            AntiAffinityGroup = Str(o, "antiAffinityGroup"),
        };
    }

    public static JsonObject ToJson(WorkloadRequest r) => new()
    {
        ["name"] = r.Name,
        ["resources"] = new JsonObject { ["vcpus"] = r.Resources.VCpus, ["memoryMb"] = r.Resources.MemoryMb, ["diskGb"] = r.Resources.DiskGb },
        ["trust"] = r.Trust.ToString().ToLowerInvariant(),
        ["pools"] = new JsonArray([.. r.Pools.Select(p => (JsonNode)p)]),
        ["tags"] = new JsonArray([.. r.Tags.Select(t => (JsonNode)((t.Forbidden ? "!" : "") + t.Key + "=" + t.Value))]),
        ["affinityGroup"] = r.AffinityGroup,
        ["antiAffinityGroup"] = r.AntiAffinityGroup,
    };

    private static string? Str(JsonObject o, string field)
    {
        var v = o[field];
        if (v is null)
        {
            return null;
        }

        if (v is not JsonValue jv || !jv.TryGetValue<string>(out var s))
        {
            throw ServiceException.Invalid(field, "must be a string");
        }

        return s.Length > 256 ? throw ServiceException.Invalid(field, "longer than 256 characters") : s;
    }

    private static long Long(JsonObject o, string field, string key, long max)
    {
        var v = o[key];
        if (v is JsonValue jv && jv.TryGetValue<long>(out var l) && l >= 0 && l <= max)
        {
            return l;
        }

        if (v is JsonValue jd && jd.TryGetValue<double>(out var d) && d >= 0 && d <= max && d == Math.Floor(d))
        {
            return (long)d;
        }

        throw ServiceException.Invalid(field, $"must be an integer 0..{max}");
    }

    private static List<string> List(JsonObject o, string field)
    {
        var v = o[field];
        if (v is null)
        {
            return [];
        }

        if (v is not JsonArray a || a.Count > 64)
        {
            throw ServiceException.Invalid(field, "must be a list of at most 64 strings");
        }

        var list = new List<string>();
        foreach (var item in a)
        {
            if (item is not JsonValue jv || !jv.TryGetValue<string>(out var s) || s.Length > 256)
            {
                throw ServiceException.Invalid(field, "must be a list of strings (at most 256 characters each)");
            }

            list.Add(s);
        }

        return list;
    }
}
