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
        var seconds = new Option<double>("--seconds") { Description = "measuring time", DefaultValueFactory = _ => 2.0 };
        var cmd = new Command("eventlog", "Parse and replay a UEFI event log repeatedly in-process; report events/s.") { file, json, seconds };
        cmd.SetAction(r => CliSupport.Run(() =>
        {
            var bytes = Cli.ReadFile(r.GetValue(file)!);
            var budget = TimeSpan.FromSeconds(Math.Clamp(r.GetValue(seconds), 0.1, 600));
            var events = TcgEventLog.Parse(bytes).Events.Count;
            for (var i = 0; i < 20; i++)
            {
                EventLogReplay.Replay(TcgEventLog.Parse(bytes)); // warm-up (tiered JIT)
            }

            var sw = Stopwatch.StartNew();
            long iterations = 0;
            while (sw.Elapsed < budget || iterations == 0)
            {
                EventLogReplay.Replay(TcgEventLog.Parse(bytes));
                iterations++;
            }

            sw.Stop();
            var perSecond = events * iterations / sw.Elapsed.TotalSeconds;
            var meanUs = sw.Elapsed.TotalMicroseconds / iterations;
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
                    w.WriteEndObject();
                });
            }
            else
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{events} events, {iterations} iterations, {meanUs:F1} us per parse+replay, {perSecond:N0} events/s"));
            }

            return Program.ExitOk;
        }));
        return cmd;
    }
}
