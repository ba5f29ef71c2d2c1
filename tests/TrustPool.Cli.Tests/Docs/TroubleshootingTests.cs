using System.Reflection;
using System.Text.RegularExpressions;
using TrustPool.Attestation;

namespace TrustPool.Cli.Tests.Docs;

/// <summary>Every fault code a report can carry has its stable name in a heading of docs/operators/TROUBLESHOOTING.md.</summary>
public sealed partial class TroubleshootingTests
{
    [Fact]
    public void Troubleshooting_EveryFaultCode_HasAHeading()
    {
        var text = File.ReadAllText(Path.Combine(DocCommands.OperatorDocs, "TROUBLESHOOTING.md"));
        var headed = Heading().Matches(text).SelectMany(m => m.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .ToHashSet(StringComparer.Ordinal);
        var codes = typeof(FaultCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string)).Select(f => (string)f.GetRawConstantValue()!).ToList();
        Assert.True(codes.Count > 30, $"only {codes.Count} fault codes found");
        var missing = codes.Where(c => !headed.Contains(c)).ToList();
        Assert.True(missing.Count == 0, "fault codes without a TROUBLESHOOTING.md heading: " + string.Join(", ", missing));
    }

    [GeneratedRegex(@"^###\s+(.+)$", RegexOptions.Multiline)]
    private static partial Regex Heading();
}
