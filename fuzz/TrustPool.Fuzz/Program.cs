using SharpFuzz;
using TrustPool.Fuzz;

// Usage: TrustPool.Fuzz --seeds DIR       (writes generated seeds, DIR/TARGET/*)
//        TrustPool.Fuzz TARGET            (under afl-fuzz: reads each input from afl's shared memory)
//        TrustPool.Fuzz TARGET FILE...    (replays files once each; exit 1 on the first unexpected exception)
if (args is ["--seeds", var seedDir])
{
    Seeds.Write(seedDir);
    return 0;
}

if (args.Length == 0 || !FuzzTargets.TryGet(args[0], out var target))
{
    Console.Error.WriteLine("usage: TrustPool.Fuzz TARGET [FILE...]; targets: " + string.Join(", ", FuzzTargets.Names));
    return 2;
}

if (args.Length > 1)
{
    foreach (var file in args.Skip(1))
    {
        target(File.ReadAllBytes(file));
    }

    return 0;
}

Fuzzer.OutOfProcess.Run(stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    target(buffer.ToArray());
});
return 0;
