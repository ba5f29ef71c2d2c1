using TrustPool.Tpm.Structures;
using TrustPool.Tpm.Transport;
using TrustPool.Tpm.Wire;

namespace TrustPool.Tpm.Client;

/// <summary>
/// <see cref="ITpm"/> over a real TPM (device or swtpm): marshals TPM 2.0 Part 3 commands, sends them through one
/// <see cref="ITpmTransport"/> and parses the responses with bounds on every length. Responses are data from the
/// TPM, not trusted input: malformed ones raise <see cref="TpmFormatException"/>, refusals <see cref="TpmException"/>.
/// Not thread-safe (a TPM runs one command at a time).
/// </summary>
public sealed partial class TpmClient : ITpm
{
    /// <summary>How often a command answered with TPM_RC_RETRY / TPM_RC_YIELDED / TPM_RC_TESTING is sent again.</summary>
    private const int MaxRetries = 8;

    private readonly ITpmTransport _transport;
    private readonly bool _ownsTransport;
    private bool _disposed;

    /// <param name="transport">The door to the TPM.</param>
    /// <param name="isSimulator">Whether the TPM is a simulator; by default true for swtpm's TCP transport.</param>
    /// <param name="ownsTransport">Dispose the transport with the client.</param>
    public TpmClient(ITpmTransport transport, bool? isSimulator = null, bool ownsTransport = true)
    {
        ArgumentNullException.ThrowIfNull(transport);
        _transport = transport;
        _ownsTransport = ownsTransport;
        IsSimulator = isSimulator ?? transport is SwtpmTcpTransport;
    }

    /// <summary>Opens <c>device:PATH</c> or <c>swtpm:HOST:PORT</c>.</summary>
    public static TpmClient Open(string backend) => new(TpmBackend.Open(backend));

    public bool IsSimulator { get; }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            if (_ownsTransport)
            {
                _transport.Dispose();
            }
        }
    }

    /// <summary>One entry of a command's authorization area (TPMS_AUTH_COMMAND, Part 2, 10.13.2).</summary>
    private readonly record struct SessionAuth(uint Handle, byte[] Nonce, byte Attributes, byte[] Hmac)
    {
        /// <summary>TPM_RS_PW with an empty password (Part 1, 19.8.4). continueSession is ignored for it.</summary>
        public static readonly SessionAuth Password = new(TpmHandle.PasswordSession.Value, [], 0x01, []);

        public void Write(TpmWriter w)
        {
            w.WriteUInt32(Handle).WriteSized(Nonce).WriteByte(Attributes).WriteSized(Hmac);
        }
    }

    /// <summary>A successful response split into its handle area and parameter area.</summary>
    private sealed class TpmResponse(byte[] bytes, uint[] handles, int parameterOffset, int parameterLength)
    {
        public uint[] Handles { get; } = handles;

        public TpmReader Parameters() => new(bytes.AsSpan(parameterOffset, parameterLength), parameterOffset);
    }

    /// <summary>Starts a command: tag, size placeholder, code, handles and the authorization area (Part 1, 18.2).</summary>
    private static TpmWriter Begin(TpmCommandCode code, ReadOnlySpan<uint> handles, ReadOnlySpan<SessionAuth> sessions)
    {
        var w = new TpmWriter(256);
        w.WriteUInt16((ushort)(sessions.IsEmpty ? TpmStructureTag.NoSessions : TpmStructureTag.Sessions));
        w.WriteUInt32(0);
        w.WriteUInt32((uint)code);
        foreach (var h in handles)
        {
            w.WriteUInt32(h);
        }

        if (!sessions.IsEmpty)
        {
            var sizeAt = w.Length;
            w.WriteUInt32(0);
            foreach (var s in sessions)
            {
                s.Write(w);
            }

            w.PatchUInt32(sizeAt, (uint)(w.Length - sizeAt - 4));
        }

        return w;
    }

    /// <summary>Sends a command built by <see cref="Begin"/> plus its parameters and splits the response.</summary>
    private TpmResponse Send(TpmWriter command, TpmCommandCode code, int sessionCount, int responseHandleCount)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        command.PatchUInt32(2, (uint)command.Length);
        for (var attempt = 0; ; attempt++)
        {
            var bytes = _transport.Execute(command.WrittenSpan);
            var rc = ReadHeader(bytes, out var tag);
            if (rc.IsSuccess)
            {
                return Split(bytes, tag, code, sessionCount, responseHandleCount);
            }

            if (rc.IsRetryable && attempt < MaxRetries)
            {
                Thread.Sleep(10 * (attempt + 1));
                continue;
            }

            throw new TpmException(code, rc);
        }
    }

    private static TpmResponseCode ReadHeader(byte[] bytes, out ushort tag)
    {
        var r = new TpmReader(bytes);
        tag = r.ReadUInt16("response.tag");
        var size = r.ReadUInt32("response.responseSize");
        if (size != bytes.Length)
        {
            throw new TpmFormatException("response.responseSize", 2, $"says {size} bytes but the response has {bytes.Length}");
        }

        return new TpmResponseCode(r.ReadUInt32("response.responseCode"));
    }

    private static TpmResponse Split(byte[] bytes, ushort tag, TpmCommandCode code, int sessionCount, int responseHandleCount)
    {
        var expected = sessionCount > 0 ? TpmStructureTag.Sessions : TpmStructureTag.NoSessions;
        if (tag != (ushort)expected)
        {
            throw new TpmFormatException("response.tag", 0, $"0x{tag:x4} for TPM2_{code}, expected 0x{(ushort)expected:x4}");
        }

        var r = new TpmReader(bytes);
        r.ReadBytes(TpmResponseFrame.HeaderSize, "response.header");
        var handles = new uint[responseHandleCount];
        for (var i = 0; i < handles.Length; i++)
        {
            handles[i] = r.ReadUInt32("response.handle");
        }

        if (sessionCount == 0)
        {
            return new TpmResponse(bytes, handles, r.Offset, r.Remaining);
        }

        // Part 1, 18.8: with sessions, parameterSize precedes the parameters and the auth area follows them.
        var sizeAt = r.Offset;
        var parameterSize = r.ReadUInt32("response.parameterSize");
        if (parameterSize > (uint)r.Remaining)
        {
            throw new TpmFormatException("response.parameterSize", sizeAt, $"{parameterSize} exceeds the {r.Remaining} bytes remaining");
        }

        var offset = r.Offset;
        r.ReadBytes((int)parameterSize, "response.parameters");
        for (var i = 0; i < sessionCount; i++)
        {
            r.ReadSizedBytes("TPMS_AUTH_RESPONSE.nonce", TpmLimits.MaxDigestSize);
            r.ReadByte("TPMS_AUTH_RESPONSE.sessionAttributes");
            r.ReadSizedBytes("TPMS_AUTH_RESPONSE.hmac", TpmLimits.MaxDigestSize);
        }

        r.ThrowIfNotEmpty("response");
        return new TpmResponse(bytes, handles, offset, (int)parameterSize);
    }

    /// <summary>TPM2_Startup(TPM_SU_CLEAR) (Part 3, 9.3). TPM_RC_INITIALIZE means it already ran: fine.</summary>
    public void Startup()
    {
        var w = Begin(TpmCommandCode.Startup, [], []);
        w.WriteUInt16(0x0000); // TPM_SU_CLEAR
        try
        {
            Send(w, TpmCommandCode.Startup, 0, 0).Parameters().ThrowIfNotEmpty("TPM2_Startup response");
        }
        catch (TpmException e) when (e.ResponseCode == TpmResponseCode.Initialize)
        {
        }
    }

    /// <summary>TPM2_FlushContext (Part 3, 28.4): the handle is a parameter, not in the handle area.</summary>
    public void FlushContext(TpmHandle handle)
    {
        var w = Begin(TpmCommandCode.FlushContext, [], []);
        w.WriteUInt32(handle.Value);
        Send(w, TpmCommandCode.FlushContext, 0, 0).Parameters().ThrowIfNotEmpty("TPM2_FlushContext response");
    }

    /// <summary>FlushContext that ignores a TPM refusal: cleanup after a failure must not hide the failure.</summary>
    private void TryFlush(uint handle)
    {
        try
        {
            FlushContext(new TpmHandle(handle));
        }
        catch (TpmException)
        {
        }
        catch (TpmFormatException)
        {
        }
    }
}
