using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using TrustPool.Evidence.Replay;
using TrustPool.Evidence.Uefi;

namespace TrustPool.Cli.Commands;

/// <summary><c>trustpool bench eventlog FILE</c>: in-process parse + replay throughput (issue 3 performance target).</summary>
internal static class BenchEventLogCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "binary_bios_measurements file" };
        var json = new Option<bool>("--json") { Description = "print one JSON document" };
        var seconds = new Option<string>("--seconds") { Description = "measuring time in seconds", DefaultValueFactory = _ => "2" };
        var cmd = new Command("eventlog", "Parse and replay a UEFI event log repeatedly in-process; report events/s.") { file, json, seconds };
        cmd.SetAction(r => CliSupport.Run(() =>
        {
            var bytes = Cli.ReadFile(r.GetValue(file)!);
            if (!double.TryParse(r.GetValue(seconds), NumberStyles.Float, CultureInfo.InvariantCulture, out var secs))
            {
                throw new CliUsageException($"--seconds: '{r.GetValue(seconds)}' is not a number");
            }

            var budget = TimeSpan.FromSeconds(Math.Clamp(secs, 0.1, 600));
            var events = TcgEventLog.Parse(bytes).Events.Count;
            // Streaming parse + replay (what `eventlog replay` runs), then the full object model
            // (parse into TcgEvent objects, then replay) that `show` and verification use.
            var (iterations, meanUs) = Measure(() => EventLogReplay.Replay(bytes), budget / 2);
            var (fullIterations, fullMeanUs) = Measure(() => EventLogReplay.Replay(TcgEventLog.Parse(bytes)), budget / 2);
            var perSecond = events / (meanUs / 1e6);
            var fullPerSecond = events / (fullMeanUs / 1e6);
            if (r.GetValue(json))
            {
                CliSupport.WriteJson(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("file", r.GetValue(file));
                    w.WriteNumber("events", events);
                    w.WriteNumber("iterations", iterations);
                    w.WriteNumber("meanMicroseconds", Math.Round(meanUs, 2));
                    w.WriteNumber("eventsPerSecond", Math.Round(perSecond));
                    w.WriteNumber("objectModelIterations", fullIterations);
                    w.WriteNumber("objectModelMeanMicroseconds", Math.Round(fullMeanUs, 2));
                    w.WriteNumber("objectModelEventsPerSecond", Math.Round(fullPerSecond));
                    w.WriteNumber("processorCount", Environment.ProcessorCount);
                    w.WriteEndObject();
                });
            }
            else
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{events} events; streaming parse+replay: {iterations} iterations, {meanUs:F1} us each, {perSecond:N0} events/s"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"object model parse+replay: {fullIterations} iterations, {fullMeanUs:F1} us each, {fullPerSecond:N0} events/s"));
            }

            return Program.ExitOk;
        }));
        return cmd;
    }

    private static (long Iterations, double MeanMicroseconds) Measure(Action action, TimeSpan budget)
    {
        for (var i = 0; i < 5; i++)
        {
            action(); // warm-up (tiered JIT)
        }

        var sw = Stopwatch.StartNew();
        long iterations = 0;
        while (sw.Elapsed < budget || iterations == 0)
        {
            action();
            iterations++;
        }

        sw.Stop();
        return (iterations, sw.Elapsed.TotalMicroseconds / iterations);
    }
}
