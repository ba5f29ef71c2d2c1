using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using TrustPool.Audit.Siem;
using TrustPool.Server.Siem;
using TrustPool.Testing;

namespace TrustPool.Server.Tests.Siem;

/// <summary>Issue 7, SIEM export: RFC 5424 / CEF lines to a real rsyslog, in order, surviving a receiver outage and a restart.</summary>
public sealed partial class SiemExportTests
{
    [GeneratedRegex("seq=\"(\\d+)\"")]
    private static partial Regex SeqPattern();

    private static List<long> Sequences(IEnumerable<string> lines) =>
        [.. lines.Select(l => SeqPattern().Match(l)).Where(m => m.Success).Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))];

    private static async Task WaitForAsync(Func<bool> condition, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for " + what);
            await Task.Delay(100);
        }
    }

    private static IReadOnlyList<KeyValuePair<string, string>> Fields(int i) => [new("host", $"host-{i}"), new("trust", "trusted"), new("note", "a \"quoted\" ] \\ value")];

    [Fact]
    public void DiskQueue_TornTailAndRestart_KeepsUnacknowledgedInOrder()
    {
        var dir = TestTemp.CreateDirectory("tp-queue-").FullName;
        using (var q = new DiskQueue(dir))
        {
            for (var i = 1; i <= 5; i++)
            {
                Assert.Equal(i, q.Append(seq => $"line {seq}"));
            }

            q.Ack(2);
        }

        File.AppendAllText(Path.Combine(dir, "queue.data"), "\0\0\0\x40partial");
        using var reopened = new DiskQueue(dir);
        Assert.Equal(["line 3", "line 4", "line 5"], reopened.Peek(10).Select(l => l.Line));
        Assert.Equal(6, reopened.Append(seq => $"line {seq}"));
    }

    [Fact]
    public void DiskQueue_AckAndCompaction_FilesAre0600AndNoTempLeft()
    {
        var dir = TestTemp.CreateDirectory("tp-queue-").FullName;
        File.WriteAllText(Path.Combine(dir, "queue.ack.tmp"), "stale fixed temp from an older version");
        var big = new string('x', 1 << 20);
        using (var q = new DiskQueue(dir))
        {
            for (var i = 0; i < 18; i++)
            {
                q.Append(seq => $"{seq} {big}");
            }

            q.Append(seq => $"line {seq}");
            q.Ack(18); // the first pending record now starts past 16 MiB: compaction
            Assert.True(new FileInfo(Path.Combine(dir, "queue.data")).Length < 1024);
            Assert.Equal(20, q.Append(seq => $"line {seq}"));
            Assert.Equal(["line 19", "line 20"], q.Peek(10).Select(l => l.Line));
        }

        Assert.Equal(["queue.ack", "queue.ack.tmp", "queue.data"], Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir, "queue.ack")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir, "queue.data")));
        }

        using var reopened = new DiskQueue(dir);
        Assert.Equal(["line 19", "line 20"], reopened.Peek(10).Select(l => l.Line));
    }

    [Fact]
    public void DiskQueue_Full_RefusesAndCounts()
    {
        using var q = new DiskQueue(TestTemp.CreateDirectory("tp-queue-").FullName, maxBytes: 100);
        Assert.NotNull(q.Append(_ => new string('x', 50)));
        Assert.Null(q.Append(_ => new string('y', 50)));
        Assert.Equal(1, q.Dropped);
    }

    [SkippableFact]
    [Trait("Category", "Integration")]
    public async Task Rsyslog_StoppedMidRunAndRestarted_EveryEventArrivesInOrder()
    {
        using var rsyslog = RsyslogInstance.Start();
        var queueDir = TestTemp.CreateDirectory("tp-siem-").FullName;
        var target = SyslogTarget.Parse($"tcp://127.0.0.1:{rsyslog.Port}", false, "rfc5424", null);
        await using (var siem = new SiemExporter(target, queueDir, TimeProvider.System, NullLogger.Instance))
        {
            for (var i = 1; i <= 30; i++)
            {
                siem.Publish("test.event", SiemSeverity.Notice, $"event {i}", Fields(i));
            }

            await WaitForAsync(() => Sequences(rsyslog.Lines()).Distinct().Count() == 30, "the first 30 events");
            rsyslog.Stop();
            for (var i = 31; i <= 60; i++)
            {
                siem.Publish("test.event", SiemSeverity.Notice, $"event {i}", Fields(i));
            }

            await Task.Delay(1500);
            rsyslog.Run();
            await WaitForAsync(() => Sequences(rsyslog.Lines()).Distinct().Count() == 60, "all 60 events after the outage");
        }

        // At least once, in order: every sequence arrives, first occurrences ascending, duplicates only re-sends.
        var seqs = Sequences(rsyslog.Lines());
        var first = seqs.Distinct().ToList();
        Assert.Equal(Enumerable.Range(1, 60).Select(i => (long)i), first);
        Assert.All(rsyslog.Lines(), l => Assert.StartsWith("<109>1 ", l, StringComparison.Ordinal));
    }

    [SkippableFact]
    [Trait("Category", "Integration")]
    public async Task ServiceRestart_QueuedWhileReceiverDown_DeliveredAfterwardWithContinuingSequence()
    {
        using var rsyslog = RsyslogInstance.Start();
        rsyslog.Stop();
        var queueDir = TestTemp.CreateDirectory("tp-siem-").FullName;
        var target = SyslogTarget.Parse($"tcp://127.0.0.1:{rsyslog.Port}", false, "cef", null);
        await using (var siem = new SiemExporter(target, queueDir, TimeProvider.System, NullLogger.Instance))
        {
            for (var i = 1; i <= 10; i++)
            {
                siem.Publish("test.event", SiemSeverity.Warning, $"queued {i}", Fields(i));
            }
        }

        rsyslog.Run();
        await using (var siem = new SiemExporter(target, queueDir, TimeProvider.System, NullLogger.Instance))
        {
            Assert.Equal(11, siem.Publish("test.event", SiemSeverity.Warning, "after restart", Fields(11)));
            await WaitForAsync(() => rsyslog.Lines().Count >= 11, "11 CEF lines");
        }

        var lines = rsyslog.Lines();
        Assert.All(lines, l => Assert.StartsWith("CEF:0|TrustPool|TrustPool|1.0|test.event|", l, StringComparison.Ordinal));
        Assert.Equal(Enumerable.Range(1, 11).Select(i => $"cn1={i} "), lines.Select(l => Regex.Match(l, "cn1=\\d+ ").Value).Distinct());
    }
}
