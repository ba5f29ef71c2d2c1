using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace TrustPool.Tpm.Options;

/// <summary>
/// Reads configuration values (the agent's and the service's options) from strings, collecting every problem instead
/// of stopping at the first (STYLE.md: config validation reports every error at once, YP <c>IConfigValidator</c>).
/// Each error names the key, the value as given and the form expected, e.g. <c>SyslogTls: 'yes' is not true or false</c>;
/// a value that does not parse leaves the fallback in place. Knows nothing of where the strings come from
/// (<c>IConfiguration</c>, a file), so it stays below the projects that do.
/// </summary>
public sealed class OptionParser
{
    private readonly Func<string, string?> _values;
    private readonly ICollection<string> _errors;

    /// <param name="values">The value for a key, or null when the key is not set.</param>
    /// <param name="errors">Where problems are added (the caller reports them with its own validation errors).</param>
    public OptionParser(Func<string, string?> values, ICollection<string> errors)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(errors);
        _values = values;
        _errors = errors;
    }

    /// <summary>The value as given, or <paramref name="fallback"/> when the key is not set.</summary>
    [return: NotNullIfNotNull(nameof(fallback))]
    public string? GetString(string key, string? fallback) => _values(key) ?? fallback;

    /// <summary>
    /// <c>true</c> or <c>false</c> (any case) and nothing else: "yes", "1" or "on" must never silently mean false
    /// (plain TCP for a SIEM the operator asked to reach over TLS, say).
    /// </summary>
    public bool GetBool(string key, bool fallback) => Read(key, fallback, "true or false", bool.TryParse);

    /// <summary>A decimal integer (invariant culture, optional sign); the range is <see cref="CheckRange(ICollection{string}, string, long, long, long)"/>'s job.</summary>
    public int GetInt(string key, int fallback) =>
        Read(key, fallback, "an integer", (string v, out int i) => int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out i));

    /// <summary>A number with an optional fraction and exponent, invariant culture (<c>0.1</c>, never <c>0,1</c>).</summary>
    public double GetDouble(string key, double fallback) =>
        Read(key, fallback, "a number", (string v, out double d) => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out d));

    /// <summary>
    /// An unsigned 32-bit value, decimal or <c>0x</c> hex (TPM handles are written in hex). <paramref name="expected"/>
    /// says what the key holds, e.g. <c>a handle such as 0x81010002</c>.
    /// </summary>
    public uint GetUInt32(string key, uint fallback, string expected = "an unsigned integer (decimal or 0x hex)") =>
        Read(key, fallback, expected, (string v, out uint u) => v.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? uint.TryParse(v.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out u)
            : uint.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out u));

    /// <summary>
    /// A non-negative duration: a whole number with a unit, <c>250ms</c>, <c>30s</c>, <c>5m</c>, <c>1h</c>, <c>2d</c>, or a
    /// bare number of seconds.
    /// </summary>
    public TimeSpan GetDuration(string key, TimeSpan fallback) => Read(key, fallback, "a duration such as 30s, 5m, 1h or 250ms", TryParseDuration);

    /// <summary>Adds <c>KEY: VALUE is not MIN..MAX</c> when <paramref name="value"/> is outside the inclusive range.</summary>
    public static void CheckRange(ICollection<string> errors, string key, long value, long min, long max)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (value < min || value > max)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{key}: {value} is not {min}..{max}"));
        }
    }

    /// <summary>As the integer form; NaN is outside every range.</summary>
    public static void CheckRange(ICollection<string> errors, string key, double value, double min, double max)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (double.IsNaN(value) || value < min || value > max)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{key}: {value} is not {min}..{max}"));
        }
    }

    private static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        var s = text.Trim();
        var (unit, scale) = s.EndsWith("ms", StringComparison.OrdinalIgnoreCase) ? (2, TimeSpan.TicksPerMillisecond)
            : s.EndsWith('s') || s.EndsWith('S') ? (1, TimeSpan.TicksPerSecond)
            : s.EndsWith('m') || s.EndsWith('M') ? (1, TimeSpan.TicksPerMinute)
            : s.EndsWith('h') || s.EndsWith('H') ? (1, TimeSpan.TicksPerHour)
            : s.EndsWith('d') || s.EndsWith('D') ? (1, TimeSpan.TicksPerDay)
            : (0, TimeSpan.TicksPerSecond);
        if (!long.TryParse(s.AsSpan(0, s.Length - unit), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > TimeSpan.MaxValue.Ticks / scale)
        {
            return false;
        }

        duration = TimeSpan.FromTicks(n * scale);
        return true;
    }

    /// <summary>The parsed value; the fallback when the key is not set, or (with an error naming the key, the value and <paramref name="expected"/>) when it does not parse.</summary>
    private T Read<T>(string key, T fallback, string expected, TryParse<T> parse)
    {
        var v = _values(key);
        if (v is null)
        {
            return fallback;
        }

        if (parse(v, out var value))
        {
            return value;
        }

        _errors.Add($"{key}: '{v}' is not {expected}");
        return fallback;
    }

    private delegate bool TryParse<T>(string text, out T value);
}
