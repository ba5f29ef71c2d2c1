using TrustPool.Tpm.Transport;

namespace TrustPool.Tpm.Tests.Client;

/// <summary>An ITpmTransport answering from a function, recording every command.</summary>
internal sealed class FakeTransport(Func<byte[], byte[]> respond) : ITpmTransport
{
    public List<byte[]> Commands { get; } = [];

    public byte[] Execute(ReadOnlySpan<byte> command)
    {
        var c = command.ToArray();
        Commands.Add(c);
        return respond(c);
    }

    public void Dispose()
    {
    }

    /// <summary>A response: tag, size (or <paramref name="sizeOverride"/>), code, body.</summary>
    public static byte[] Response(uint code, byte[]? body = null, ushort tag = 0x8001, uint? sizeOverride = null)
    {
        body ??= [];
        var w = new global::TrustPool.Tpm.Wire.TpmWriter();
        w.WriteUInt16(tag).WriteUInt32(sizeOverride ?? (uint)(10 + body.Length)).WriteUInt32(code).WriteBytes(body);
        return w.ToArray();
    }
}
