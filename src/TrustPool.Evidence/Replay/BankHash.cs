using System.Security.Cryptography;
using TrustPool.Tpm;

namespace TrustPool.Evidence.Replay;

/// <summary>The hashes a PCR bank can be replayed with: those of <see cref="TpmHash"/>, plus SM3_256.</summary>
public static class BankHash
{
    public static bool IsSupported(TpmAlgorithmId alg) => TpmHash.IsSupported(alg) || alg == TpmAlgorithmId.Sm3_256;

    public static byte[] Hash(TpmAlgorithmId alg, ReadOnlySpan<byte> data) =>
        alg == TpmAlgorithmId.Sm3_256 ? Sm3.Hash(data) : TpmHash.Hash(alg, data);

    /// <summary>PCR := H(PCR || digest) with one reused hash context (one crypto call per extend).</summary>
    internal sealed class Extender : IDisposable
    {
        private readonly IncrementalHash? _hash;
        private readonly byte[] _buffer = new byte[128];

        public Extender(TpmAlgorithmId alg)
        {
            _hash = alg == TpmAlgorithmId.Sm3_256 ? null : IncrementalHash.CreateHash(TpmHash.ToHashAlgorithmName(alg));
        }

        public void Extend(Span<byte> pcr, ReadOnlySpan<byte> digest)
        {
            pcr.CopyTo(_buffer);
            digest.CopyTo(_buffer.AsSpan(pcr.Length));
            var input = _buffer.AsSpan(0, pcr.Length + digest.Length);
            if (_hash is null)
            {
                Sm3.Hash(input, pcr);
                return;
            }

            _hash.AppendData(input);
            _hash.GetHashAndReset(pcr);
        }

        public void Dispose() => _hash?.Dispose();
    }
}
