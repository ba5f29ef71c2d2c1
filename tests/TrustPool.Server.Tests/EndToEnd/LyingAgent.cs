using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using TrustPool.Agent;
using TrustPool.Evidence.Uefi;
using TrustPool.Server.Pki;
using TrustPool.Tpm;
using TrustPool.Tpm.Client;
using TrustPool.Tpm.Structures;

namespace TrustPool.Server.Tests.EndToEnd;

/// <summary>One IMA measurement as the kernel logs it: PCR, template name and template data (fields as hashed).</summary>
public sealed record ImaRecord(uint Pcr, string Template, byte[] Data)
{
    /// <summary>The SHA-1 template hash the kernel logs (over the data only: the name is not covered).</summary>
    public byte[] TemplateHash { get; init; } = SHA1.HashData(Data);

    /// <summary>d-ng ("sha256:\0" + digest), n-ng (path + NUL) and, for ima-sig / ima-buf, the third field.</summary>
    public static ImaRecord Ng(string template, string path, byte[] fileDigest, byte[]? third = null)
    {
        byte[] digestField = [.. "sha256:\0"u8, .. fileDigest];
        var fields = new List<byte[]> { digestField, Encoding.UTF8.GetBytes(path + "\0") };
        if (third is not null)
        {
            fields.Add(third);
        }

        return new ImaRecord(10, template, Fields(fields));
    }

    public static byte[] Fields(IEnumerable<byte[]> fields)
    {
        var ms = new MemoryStream();
        Span<byte> len = stackalloc byte[4];
        foreach (var f in fields)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)f.Length);
            ms.Write(len);
            ms.Write(f);
        }

        return ms.ToArray();
    }

    /// <summary>binary_runtime_measurements: pcr, template hash, name length, name, data length, data (little-endian).</summary>
    public static byte[] WriteBinary(IEnumerable<ImaRecord> records)
    {
        var ms = new MemoryStream();
        Span<byte> u32 = stackalloc byte[4];
        foreach (var r in records)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(u32, r.Pcr);
            ms.Write(u32);
            ms.Write(r.TemplateHash);
            var name = Encoding.ASCII.GetBytes(r.Template);
            BinaryPrimitives.WriteUInt32LittleEndian(u32, (uint)name.Length);
            ms.Write(u32);
            ms.Write(name);
            BinaryPrimitives.WriteUInt32LittleEndian(u32, (uint)r.Data.Length);
            ms.Write(u32);
            ms.Write(r.Data);
        }

        return ms.ToArray();
    }
}

/// <summary>
/// The lying-agent harness (issue 13): a host with a real agent on a software TPM (EK certificate from the test vendor
/// CA, boot measured into its PCRs, an IMA list measured into PCR 10 of both banks exactly as the kernel does), and a
/// <see cref="TamperingProxy"/> in front of it that is enrolled as the host: every answer the service gets passes
/// through <see cref="Rewrite"/>, which may change any field. What the attacker cannot do is make the TPM sign
/// something else: the quote is the TPM's.
/// </summary>
public sealed class LyingHost : IAsyncDisposable
{
    private LyingHost(string name, TestHost real, TamperingProxy proxy, IReadOnlyList<ImaRecord> ima)
    {
        Name = name;
        Real = real;
        Proxy = proxy;
        Ima = ima;
    }

    /// <summary>The name the host is enrolled under (the proxy's URL).</summary>
    public string Name { get; }

    public TestHost Real { get; }

    public TamperingProxy Proxy { get; }

    /// <summary>The IMA list the host really measured, in order (boot_aggregate first).</summary>
    public IReadOnlyList<ImaRecord> Ima { get; }

    /// <summary>(quote answer) → answer sent to the service; null passes the agent's answer through.</summary>
    public Func<JsonNode, JsonNode>? Rewrite { get; set; }

    /// <summary>
    /// Boots a software TPM with <paramref name="boot"/>, measures <paramref name="files"/> (path, content, template)
    /// after a boot_aggregate, serves both logs from a real agent, and puts a proxy in front of it.
    /// </summary>
    public static async Task<LyingHost> StartAsync(ServiceHarness h, string name, SimulatedBoot boot, IEnumerable<(string Path, string Content, string Template)> files)
    {
        // The harness's host gives the TPM with its EK certificate and measured boot; the agent serving the IMA list
        // for the same TPM is registered beside it (the first registration is never enrolled).
        var tpmHost = h.AddSoftwareHost(name + "-tpm", boot);
        var records = new List<ImaRecord> { BootAggregate(tpmHost.Tpm) };
        foreach (var (path, content, template) in files)
        {
            var digest = SHA256.HashData(Encoding.UTF8.GetBytes(content));
            records.Add(template switch
            {
                "ima-ng" => ImaRecord.Ng("ima-ng", path, digest),
                "ima-sig" => ImaRecord.Ng("ima-sig", path, digest, []),
                "ima-buf" => ImaRecord.Ng("ima-buf", path, SHA256.HashData(Encoding.UTF8.GetBytes(content)), Encoding.UTF8.GetBytes(content)),
                _ => throw new ArgumentException(template, nameof(files)),
            });
        }

        foreach (var r in records)
        {
            // Kernel 5.8+ (ima_pcr_extend): SHA-1 bank the template hash, other banks the data hashed with their algorithm.
            tpmHost.Tpm.ExtendPcr((int)r.Pcr, [new TpmtHa(TpmAlgorithmId.Sha1, r.TemplateHash), new TpmtHa(TpmAlgorithmId.Sha256, SHA256.HashData(r.Data))]);
        }

        var imaFile = Path.Combine(h.Dir.FullName, name + ".binary_runtime_measurements");
        await File.WriteAllBytesAsync(imaFile, ImaRecord.WriteBinary(records));
        var pathBase = $"/agents/{name}-real/";
        h.Agents.AddAgent(pathBase, tpmHost.Tpm, name, new AgentOptions
        {
            UefiLog = tpmHost.LogFile,
            ImaLog = imaFile,
            DataDirectory = Path.Combine(h.Dir.FullName, "agents"),
        });
        var real = new TestHost { Name = name + "-real", AgentUrl = new Uri(h.Agents.Addresses[0], pathBase), Tpm = tpmHost.Tpm, LogFile = tpmHost.LogFile, Fingerprint = h.Agents.TlsFingerprint };

        using var ca = ServiceCa.LoadOrCreate(h.Options.DataDirectory, out _);
        var proxy = await TamperingProxy.StartAsync(Path.Combine(h.Dir.FullName, "proxy-" + name), ca.LoadOrIssueClientCertificate(h.Options.DataDirectory));
        proxy.Upstream = real.AgentUrl;
        var host = new LyingHost(name, real, proxy, records);
        proxy.Rewrite = (path, _, answer) => path == "v1/quote" && host.Rewrite is { } f ? f(answer) : answer;
        return host;
    }

    public async Task EnrollAsync(ServiceHarness h) =>
        await h.OkAsync(HttpMethod.Post, "/v1/hosts", new JsonObject
        {
            ["name"] = Name, ["agentUrl"] = Proxy.Url.ToString(), ["agentCertFingerprint"] = Proxy.Fingerprint,
        });

    /// <summary>boot_aggregate (kernel 5.8+, TPM 2.0): SHA-256 over PCR 0-9 of the SHA-256 bank, as an ima-ng entry.</summary>
    private static ImaRecord BootAggregate(ITpm tpm)
    {
        var pcrs = tpm.ReadPcrs(PcrSelection.Parse("sha256:0,1,2,3,4,5,6,7,8,9"));
        var all = new List<byte>();
        for (var i = 0; i <= 9; i++)
        {
            all.AddRange(pcrs.Get(TpmAlgorithmId.Sha256, i));
        }

        return ImaRecord.Ng("ima-ng", "boot_aggregate", SHA256.HashData([.. all]));
    }

    public async ValueTask DisposeAsync() => await Proxy.DisposeAsync();
}

/// <summary>
/// Every single-field change an attacker who is root on a host can make to its agent's quote answer (ARCHITECTURE.md
/// "Agent API", POST /v1/quote), named so a failing case says what was changed. The quote is the TPM's: it can be
/// replaced, truncated or bit-flipped, never re-signed. Byte positions come from a fixed seed.
/// </summary>
public static class QuoteAnswerMutations
{
    public const int Seed = 13;

    /// <summary>A named mutation of the live answer; <c>golden</c> is an honest, trusted host's recorded answer.</summary>
    public sealed record Mutation(string Name, Func<JsonNode, JsonNode, JsonNode> Apply)
    {
        public override string ToString() => Name;
    }

    private static readonly string[] s_templates = ["ima", "ima-ng", "ima-sig", "ima-buf", "ima-modsig", "ima-xyz"];

    /// <summary>All mutations of <paramref name="victim"/>'s answer, given the IMA list it really measured.</summary>
    public static IReadOnlyList<Mutation> All(JsonNode sample, IReadOnlyList<ImaRecord> ima, IReadOnlyList<ImaRecord> goldenIma, byte[] goldenUefi)
    {
        var rng = new Random(Seed);
        var list = new List<Mutation>();
        void Add(string name, Func<JsonNode, JsonNode, JsonNode> f) => list.Add(new Mutation(name, f));

        // Top-level fields.
        foreach (var field in new[] { "quote", "signature", "pcrs", "uefiLog", "imaLog", "imaNextOffset" })
        {
            Add($"{field} := golden host's", (a, g) => Set(a, field, g[field]?.DeepClone()));
            Add($"{field} removed", (a, _) => Set(a, field, null));
        }

        Add("quote+signature+pcrs := golden host's", (a, g) =>
        {
            foreach (var f in new[] { "quote", "signature", "pcrs" })
            {
                a[f] = g[f]!.DeepClone();
            }

            return a;
        });
        Add("unknown field trust=trusted added", (a, _) => Set(a, "trust", "trusted"));
        Add("imaNextOffset := -1", (a, _) => Set(a, "imaNextOffset", -1));
        Add("imaNextOffset := 2^30", (a, _) => Set(a, "imaNextOffset", 1 << 30));
        Add("imaNextOffset := \"x\"", (a, _) => Set(a, "imaNextOffset", "x"));

        foreach (var field in new[] { "quote", "signature" })
        {
            var length = Convert.FromBase64String(sample[field]!.GetValue<string>()).Length;
            for (var k = 0; k < 6; k++)
            {
                var at = rng.Next(length);
                var bit = (byte)(1 << rng.Next(8));
                Add($"{field}[{at}] ^= 0x{bit:x2}", (a, _) => Bytes(a, field, b => b[at] ^= bit));
            }

            Add($"{field} truncated by 1", (a, _) => BytesResized(a, field, b => b[..^1]));
            Add($"{field} extended by 1", (a, _) => BytesResized(a, field, b => [.. b, 0]));
        }

        // Every returned PCR value.
        foreach (var (bank, values) in sample["pcrs"]!.AsObject())
        {
            foreach (var (index, _) in values!.AsObject())
            {
                Add($"pcrs.{bank}.{index} := golden host's", (a, g) => { a["pcrs"]![bank]![index] = g["pcrs"]![bank]![index]!.DeepClone(); return a; });
                Add($"pcrs.{bank}.{index} := zeros", (a, _) =>
                {
                    a["pcrs"]![bank]![index] = new string('0', a["pcrs"]![bank]![index]!.GetValue<string>().Length);
                    return a;
                });
                Add($"pcrs.{bank}.{index} removed", (a, _) => { a["pcrs"]![bank]!.AsObject().Remove(index); return a; });
            }

            Add($"pcrs.{bank}.23 added", (a, _) => { a["pcrs"]![bank]!["23"] = new string('0', 64); return a; });
            Add($"pcrs.{bank} removed", (a, _) => { a["pcrs"]!.AsObject().Remove(bank); return a; });
        }

        // Every UEFI event field.
        var uefi = TcgEventLog.Parse(Convert.FromBase64String(sample["uefiLog"]!.GetValue<string>()));
        var golden = TcgEventLog.Parse(goldenUefi);
        Add("uefiLog truncated to half", (a, _) => BytesResized(a, "uefiLog", b => b[..(b.Length / 2)]));
        for (var i = 1; i < uefi.Events.Count; i++)
        {
            var n = i;
            var ge = n < golden.Events.Count ? golden.Events[n] : null;
            Add($"uefi[{n}] removed", (a, _) => Uefi(a, events => events.RemoveAt(n)));
            Add($"uefi[{n}] duplicated", (a, _) => Uefi(a, events => events.Insert(n, events[n])));
            Add($"uefi[{n}].type := EV_NO_ACTION", (a, _) => Uefi(a, events => events[n] = With(events[n], type: TcgEventType.NoAction)));
            Add($"uefi[{n}].pcr := 15", (a, _) => Uefi(a, events => events[n] = With(events[n], pcr: 15)));
            Add($"uefi[{n}].pcr := 0xFFFFFFFF", (a, _) => Uefi(a, events => events[n] = With(events[n], pcr: 0xFFFFFFFF)));
            if (ge is not null)
            {
                Add($"uefi[{n}].data := golden's", (a, _) => Uefi(a, events => events[n] = With(events[n], data: ge.Data)));
                Add($"uefi[{n}].type := golden's", (a, _) => Uefi(a, events => events[n] = With(events[n], type: ge.EventType)));
                foreach (var d in ge.Digests)
                {
                    var alg = d.Algorithm;
                    Add($"uefi[{n}].digest[{TpmHash.Name(alg)}] := golden's", (a, _) => Uefi(a, events => events[n] = With(events[n],
                        digests: [.. events[n].Digests.Select(x => x.Algorithm == alg ? d : x)])));
                }

                Add($"uefi[{n}] := golden's event", (a, _) => Uefi(a, events => events[n] = ge));
            }
        }

        // Every IMA entry field, the template name included.
        for (var i = 0; i < ima.Count; i++)
        {
            var n = i;
            Add($"ima[{n}] removed", (a, _) => Ima(a, ima, l => l.RemoveAt(n)));
            Add($"ima[{n}] duplicated", (a, _) => Ima(a, ima, l => l.Insert(n, l[n])));
            Add($"ima[{n}].pcr := 11", (a, _) => Ima(a, ima, l => l[n] = l[n] with { Pcr = 11 }));
            Add($"ima[{n}] made a violation (zero template hash)", (a, _) => Ima(a, ima, l => l[n] = l[n] with { TemplateHash = new byte[20] }));
            foreach (var t in s_templates.Where(t => t != ima[n].Template))
            {
                Add($"ima[{n}].template := {t}", (a, _) => Ima(a, ima, l => l[n] = l[n] with { Template = t }));
            }

            foreach (var (what, fieldIndex) in new[] { ("digest", 0), ("path", 1) })
            {
                // Another entry's field from the golden host's list (an allowed file), template hash left as logged,
                // and recomputed over the new data (both cannot replay to the quoted PCR 10).
                var donor = goldenIma[n > 0 && n < goldenIma.Count ? n : 1];
                Add($"ima[{n}].{what} := golden's", (a, _) => Ima(a, ima, l => l[n] = l[n] with { Data = ReplaceField(l[n].Data, fieldIndex, donor.Data) }));
                Add($"ima[{n}].{what} := golden's, template hash recomputed", (a, _) => Ima(a, ima, l =>
                {
                    var data = ReplaceField(l[n].Data, fieldIndex, donor.Data);
                    l[n] = l[n] with { Data = data, TemplateHash = SHA1.HashData(data) };
                }));
            }

            Add($"ima[{n}].path := boot_aggregate", (a, _) => Ima(a, ima, l => l[n] = l[n] with
            {
                Data = ReplaceFieldWith(l[n].Data, 1, "boot_aggregate\0"u8.ToArray()),
            }));
        }

        return list;
    }

    private static JsonNode Set(JsonNode a, string field, JsonNode? value)
    {
        if (value is null)
        {
            a.AsObject().Remove(field);
        }
        else
        {
            a[field] = value;
        }

        return a;
    }

    private static JsonNode Bytes(JsonNode a, string field, Action<byte[]> edit)
    {
        var b = Convert.FromBase64String(a[field]!.GetValue<string>());
        edit(b);
        a[field] = Convert.ToBase64String(b);
        return a;
    }

    private static JsonNode BytesResized(JsonNode a, string field, Func<byte[], byte[]> edit)
    {
        a[field] = Convert.ToBase64String(edit(Convert.FromBase64String(a[field]!.GetValue<string>())));
        return a;
    }

    private static TcgEvent With(TcgEvent e, uint? pcr = null, TcgEventType? type = null, IReadOnlyList<TcgDigest>? digests = null, byte[]? data = null) =>
        new(e.Number, e.Offset, pcr ?? e.PcrIndex, type ?? e.EventType, digests ?? e.Digests, data ?? e.Data);

    /// <summary>Re-serializes a crypto-agile log after <paramref name="edit"/>: the Spec ID event as it was, then TCG_PCR_EVENT2s.</summary>
    private static JsonNode Uefi(JsonNode a, Action<List<TcgEvent>> edit)
    {
        var bytes = Convert.FromBase64String(a["uefiLog"]!.GetValue<string>());
        var log = TcgEventLog.Parse(bytes);
        var events = log.Events.Skip(1).ToList();
        edit(events);
        var ms = new MemoryStream();
        ms.Write(bytes, 0, (int)log.Events[1].Offset);
        Span<byte> u32 = stackalloc byte[4];
        Span<byte> u16 = stackalloc byte[2];
        foreach (var e in events)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(u32, e.PcrIndex);
            ms.Write(u32);
            BinaryPrimitives.WriteUInt32LittleEndian(u32, (uint)e.EventType);
            ms.Write(u32);
            BinaryPrimitives.WriteUInt32LittleEndian(u32, (uint)e.Digests.Count);
            ms.Write(u32);
            foreach (var d in e.Digests)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(u16, (ushort)d.Algorithm);
                ms.Write(u16);
                ms.Write(d.Value);
            }

            BinaryPrimitives.WriteUInt32LittleEndian(u32, (uint)e.Data.Length);
            ms.Write(u32);
            ms.Write(e.Data);
        }

        a["uefiLog"] = Convert.ToBase64String(ms.ToArray());
        return a;
    }

    private static JsonNode Ima(JsonNode a, IReadOnlyList<ImaRecord> measured, Action<List<ImaRecord>> edit)
    {
        var list = measured.ToList();
        edit(list);
        a["imaLog"] = Convert.ToBase64String(ImaRecord.WriteBinary(list));
        return a;
    }

    private static List<byte[]> SplitFields(byte[] data)
    {
        var fields = new List<byte[]>();
        var at = 0;
        while (at < data.Length)
        {
            var len = (int)BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at));
            fields.Add(data.AsSpan(at + 4, len).ToArray());
            at += 4 + len;
        }

        return fields;
    }

    private static byte[] ReplaceField(byte[] data, int index, byte[] donorData) => ReplaceFieldWith(data, index, SplitFields(donorData)[index]);

    private static byte[] ReplaceFieldWith(byte[] data, int index, byte[] value)
    {
        var fields = SplitFields(data);
        fields[index] = value;
        return ImaRecord.Fields(fields);
    }
}
