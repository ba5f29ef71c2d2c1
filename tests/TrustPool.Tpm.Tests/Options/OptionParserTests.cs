using TrustPool.Tpm.Options;

namespace TrustPool.Tpm.Tests.Options;

public sealed class OptionParserTests
{
    private readonly List<string> _errors = [];

    private OptionParser Parser(string key, string? value) =>
        new(k => k == key ? value : null, _errors);

    [Fact]
    public void Get_KeyNotSet_FallbackWithoutError()
    {
        var p = Parser("Other", "x");
        Assert.True(p.GetBool("Flag", true));
        Assert.Equal(7, p.GetInt("Count", 7));
        Assert.Equal(0.5, p.GetDouble("Fraction", 0.5));
        Assert.Equal(TimeSpan.FromMinutes(1), p.GetDuration("Period", TimeSpan.FromMinutes(1)));
        Assert.Equal(42u, p.GetUInt32("Handle", 42));
        Assert.Equal("default", p.GetString("Name", "default"));
        Assert.Null(p.GetString("Name", null));
        Assert.Empty(_errors);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("True", true)]
    [InlineData("FALSE", false)]
    [InlineData("false", false)]
    public void GetBool_TrueOrFalse_Read(string value, bool expected)
    {
        Assert.Equal(expected, Parser("Tls", value).GetBool("Tls", !expected));
        Assert.Empty(_errors);
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("no")]
    [InlineData("1")]
    [InlineData("0")]
    [InlineData("on")]
    [InlineData("")]
    public void GetBool_AnythingElse_ErrorAndFallback(string value)
    {
        // Both fallbacks: a bad value must never turn into either answer.
        Assert.True(Parser("Tls", value).GetBool("Tls", true));
        Assert.False(Parser("Tls", value).GetBool("Tls", false));
        Assert.Equal([$"Tls: '{value}' is not true or false", $"Tls: '{value}' is not true or false"], _errors);
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("-5", -5)]
    [InlineData("+12", 12)]
    [InlineData("2147483647", int.MaxValue)]
    public void GetInt_DecimalInteger_Read(string value, int expected)
    {
        Assert.Equal(expected, Parser("N", value).GetInt("N", 99));
        Assert.Empty(_errors);
    }

    [Theory]
    [InlineData("ten")]
    [InlineData("1.5")]
    [InlineData("0x10")]
    [InlineData("2147483648")]
    [InlineData("1,000")]
    public void GetInt_NotAnInteger_ErrorNamesKeyAndValue(string value)
    {
        Assert.Equal(99, Parser("Retries", value).GetInt("Retries", 99));
        Assert.Equal([$"Retries: '{value}' is not an integer"], _errors);
    }

    [Theory]
    [InlineData("0.25", 0.25)]
    [InlineData("1", 1.0)]
    [InlineData("1e-3", 0.001)]
    [InlineData("-2.5", -2.5)]
    public void GetDouble_InvariantNumber_Read(string value, double expected)
    {
        Assert.Equal(expected, Parser("Jitter", value).GetDouble("Jitter", 9));
        Assert.Empty(_errors);
    }

    [Theory]
    [InlineData("0,25")]
    [InlineData("a lot")]
    [InlineData("")]
    public void GetDouble_NotANumber_Error(string value)
    {
        Assert.Equal(9, Parser("Jitter", value).GetDouble("Jitter", 9));
        Assert.Equal([$"Jitter: '{value}' is not a number"], _errors);
    }

    [Theory]
    [InlineData("0x81010002", 0x81010002u)]
    [InlineData("0X8101000a", 0x8101000Au)]
    [InlineData("2164326402", 0x81010002u)]
    public void GetUInt32_HexOrDecimal_Read(string value, uint expected)
    {
        Assert.Equal(expected, Parser("AkHandle", value).GetUInt32("AkHandle", 0));
        Assert.Empty(_errors);
    }

    [Theory]
    [InlineData("0xZZ")]
    [InlineData("-1")]
    [InlineData("0x100000000")]
    public void GetUInt32_Invalid_ErrorSaysExpectedForm(string value)
    {
        Assert.Equal(5u, Parser("AkHandle", value).GetUInt32("AkHandle", 5, "a handle such as 0x81010002"));
        Assert.Equal([$"AkHandle: '{value}' is not a handle such as 0x81010002"], _errors);
    }

    [Theory]
    [InlineData("250ms", 250 * TimeSpan.TicksPerMillisecond)]
    [InlineData("30s", 30 * TimeSpan.TicksPerSecond)]
    [InlineData("30", 30 * TimeSpan.TicksPerSecond)]
    [InlineData("5m", 5 * TimeSpan.TicksPerMinute)]
    [InlineData("1h", TimeSpan.TicksPerHour)]
    [InlineData("2d", 2 * TimeSpan.TicksPerDay)]
    [InlineData("0s", 0)]
    [InlineData("10MS", 10 * TimeSpan.TicksPerMillisecond)]
    public void GetDuration_NumberWithUnit_Read(string value, long ticks)
    {
        Assert.Equal(TimeSpan.FromTicks(ticks), Parser("Period", value).GetDuration("Period", TimeSpan.MaxValue));
        Assert.Empty(_errors);
    }

    [Theory]
    [InlineData("5 minutes")]
    [InlineData("1.5h")]
    [InlineData("-1s")]
    [InlineData("s")]
    [InlineData("ms")]
    [InlineData("00:05:00")]
    [InlineData("99999999999999d")]
    public void GetDuration_Invalid_ErrorSaysExpectedForm(string value)
    {
        Assert.Equal(TimeSpan.FromSeconds(1), Parser("Period", value).GetDuration("Period", TimeSpan.FromSeconds(1)));
        Assert.Equal([$"Period: '{value}' is not a duration such as 30s, 5m, 1h or 250ms"], _errors);
    }

    [Fact]
    public void Get_SeveralBadValues_EveryErrorCollected()
    {
        var values = new Dictionary<string, string> { ["A"] = "x", ["B"] = "y", ["C"] = "z", ["D"] = "7" };
        var p = new OptionParser(k => values.GetValueOrDefault(k), _errors);
        _ = p.GetBool("A", false);
        _ = p.GetInt("B", 0);
        _ = p.GetDouble("C", 0);
        Assert.Equal(7, p.GetInt("D", 0));
        Assert.Equal(["A: 'x' is not true or false", "B: 'y' is not an integer", "C: 'z' is not a number"], _errors);
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(10, true)]
    [InlineData(5, true)]
    [InlineData(-1, false)]
    [InlineData(11, false)]
    public void CheckRange_Integer_InclusiveBounds(long value, bool inRange)
    {
        OptionParser.CheckRange(_errors, "Retries", value, 0, 10);
        Assert.Equal(inRange ? [] : new[] { $"Retries: {value} is not 0..10" }, _errors);
    }

    [Theory]
    [InlineData(0.0, true)]
    [InlineData(1.0, true)]
    [InlineData(0.5, true)]
    [InlineData(1.5, false)]
    [InlineData(-0.1, false)]
    [InlineData(double.NaN, false)]
    public void CheckRange_Double_InclusiveBoundsNaNOutside(double value, bool inRange)
    {
        OptionParser.CheckRange(_errors, "Jitter", value, 0, 1);
        Assert.Equal(inRange ? 0 : 1, _errors.Count);
        if (!inRange)
        {
            Assert.StartsWith("Jitter: ", _errors[0], StringComparison.Ordinal);
            Assert.EndsWith(" is not 0..1", _errors[0], StringComparison.Ordinal);
        }
    }
}
