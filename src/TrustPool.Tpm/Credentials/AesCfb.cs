using System.Security.Cryptography;

namespace TrustPool.Tpm.Credentials;

/// <summary>
/// AES in full-block CFB mode (CFB128) with a final partial block, as the TPM uses it for encIdentity
/// (Part 1, 24.4; Part 4 CryptSymmetricEncrypt). .NET's CFB with PaddingMode.None wants whole blocks, so the
/// keystream is built from single-block ECB encryptions of the previous ciphertext block.
/// </summary>
internal static class AesCfb
{
    private const int BlockSize = 16;

    public static byte[] Encrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext) => Transform(key, plaintext, encrypt: true);

    public static byte[] Decrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> ciphertext) => Transform(key, ciphertext, encrypt: false);

    private static byte[] Transform(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, bool encrypt)
    {
        using var aes = Aes.Create();
        aes.Key = key.ToArray();
        var output = new byte[input.Length];
        Span<byte> feedback = stackalloc byte[BlockSize]; // IV = 0 (Part 1, 24.4: the key is used once)
        feedback.Clear();
        Span<byte> keystream = stackalloc byte[BlockSize];
        for (var offset = 0; offset < input.Length; offset += BlockSize)
        {
            aes.EncryptEcb(feedback, keystream, PaddingMode.None);
            var n = Math.Min(BlockSize, input.Length - offset);
            for (var i = 0; i < n; i++)
            {
                output[offset + i] = (byte)(input[offset + i] ^ keystream[i]);
            }

            if (n == BlockSize)
            {
                var cipherBlock = encrypt ? output.AsSpan(offset, BlockSize) : input.Slice(offset, BlockSize);
                cipherBlock.CopyTo(feedback);
            }
        }

        return output;
    }
}
