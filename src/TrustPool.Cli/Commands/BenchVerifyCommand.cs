using System.CommandLine;

namespace TrustPool.Cli.Commands;

/// <summary><c>trustpool bench verify</c>: quote verifications/s vs bare signature verifications/s, per AK type, in one run.</summary>
internal static class BenchVerifyCommand
{
    public static Command Create()
    {
        var seconds = new Option<double>("--seconds") { Description = "Measuring time per AK type", DefaultValueFactory = _ => 4 };
        var json = new Option<bool>("--json") { Description = "Print one JSON document" };
        var cmd = new Command("verify", "Quote verification throughput (24 sha256 PCRs) against the bare signature rate of the same key.") { seconds, json };
        cmd.SetAction(p => CliSupport.Run(() =>
        {
            var s = p.GetValue(seconds);
            if (s is <= 0 or > 3600)
            {
                throw new CliUsageException("--seconds must be in (0, 3600]");
            }

            var results = new List<VerifyBenchmarkResult>();
            foreach (var rsa in new[] { false, true })
            {
                using var c = VerifyBenchmark.CreateCase(rsa);
                results.Add(VerifyBenchmark.Measure(c, TimeSpan.FromSeconds(s)));
            }

            if (p.GetValue(json))
            {
                CliSupport.WriteJson(w =>
                {
                    w.WriteStartObject();
                    w.WriteNumber("processorCount", Environment.ProcessorCount);
                    w.WriteStartArray("results");
                    foreach (var r in results)
                    {
                        w.WriteStartObject();
                        w.WriteString("ak", r.Name);
                        w.WriteNumber("quoteVerificationsPerSecond", Math.Round(r.QuotesPerSecond));
                        w.WriteNumber("bareVerificationsPerSecond", Math.Round(r.BarePerSecond));
                        w.WriteNumber("ratio", Math.Round(r.Ratio, 3));
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                });
            }
            else
            {
                foreach (var r in results)
                {
                    Console.WriteLine($"{r.Name,-26} quote verify {r.QuotesPerSecond,10:N0}/s   bare signature {r.BarePerSecond,10:N0}/s   ratio {r.Ratio:P1}");
                }
            }

            return Program.ExitOk;
        }));
        return cmd;
    }
}
