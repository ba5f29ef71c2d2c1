namespace TrustPool.Scheduling;

/// <summary>
/// An asset tag a workload requires (<c>country=DE</c>: the host's tag <c>country</c> must equal <c>DE</c>) or forbids
/// (<c>!zone=dmz</c>: the host must not carry <c>zone=dmz</c>). Keys and values compare ordinally and case-sensitively,
/// and may hold any character: the key ends at the first <c>=</c>, everything after it is the value (which may be empty
/// or contain further <c>=</c>).
/// </summary>
public sealed record TagRequirement(string Key, string Value, bool Forbidden)
{
    /// <summary>Parses <c>key=value</c> or <c>!key=value</c>.</summary>
    /// <exception cref="FormatException">Naming the input, when there is no <c>=</c> or the key is empty.</exception>
    public static TagRequirement Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var forbidden = text.StartsWith('!');
        var body = forbidden ? text[1..] : text;
        var eq = body.IndexOf('=', StringComparison.Ordinal);
        if (eq < 0)
        {
            throw new FormatException($"tag requirement '{text}': expected key=value or !key=value");
        }

        if (eq == 0)
        {
            throw new FormatException($"tag requirement '{text}': the key is empty");
        }

        return new TagRequirement(body[..eq], body[(eq + 1)..], forbidden);
    }

    /// <summary>The text <see cref="Parse"/> reads back.</summary>
    public override string ToString() => (Forbidden ? "!" : "") + Key + "=" + Value;
}
