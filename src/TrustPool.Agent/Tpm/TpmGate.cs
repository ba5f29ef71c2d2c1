namespace TrustPool.Agent.Tpm;

/// <summary>The TPM queue is full or the wait ran out: the client gets 503 + Retry-After.</summary>
public sealed class TpmBusyException : Exception
{
    public TpmBusyException()
    {
    }

    public TpmBusyException(string message)
        : base(message)
    {
    }

    public TpmBusyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// One TPM command sequence at a time (a TPM executes one command at a time and TrustPool's sessions must not
/// interleave: ActivateCredential's policy session lives inside one held turn). At most <c>maxQueued</c> callers wait,
/// each at most <c>maxWait</c>; the rest are refused at once. The turn is a SemaphoreSlim, never re-entered, and the
/// work inside it is synchronous TPM I/O, so a turn always ends.
/// </summary>
public sealed class TpmGate : IDisposable
{
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly int _maxQueued;
    private readonly TimeSpan _maxWait;
    private int _waiting;

    public TpmGate(int maxQueued, TimeSpan maxWait)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxQueued);
        _maxQueued = maxQueued;
        _maxWait = maxWait;
    }

    /// <summary>Callers currently waiting for a turn (not counting the one holding it).</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    public async Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (!_turn.Wait(0))
        {
            if (Interlocked.Increment(ref _waiting) > _maxQueued)
            {
                Interlocked.Decrement(ref _waiting);
                throw new TpmBusyException($"TPM queue full ({_maxQueued} requests waiting)");
            }

            bool entered;
            try
            {
                entered = await _turn.WaitAsync(_maxWait, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }

            if (!entered)
            {
                throw new TpmBusyException($"TPM busy for more than {_maxWait.TotalMilliseconds:0} ms");
            }
        }

        try
        {
            return work();
        }
        finally
        {
            _turn.Release();
        }
    }

    public void Dispose() => _turn.Dispose();
}
