// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Numerics;
using System.Security.Cryptography;

namespace Tug.Mirror.Crypto;

/// <summary>
/// RSASSA-PSS with SHA-256 and MGF1-SHA-256, verifying any salt length as Go's <c>rsa.VerifyPSS(..., nil)</c> does.
/// </summary>
/// <remarks>
/// TiUP signs with the maximum salt length (222 bytes for 2048-bit keys); .NET's <see cref="RSASignaturePadding.Pss"/>
/// only verifies a salt as long as the hash, so verification is implemented here from RFC 8017 §9.1.2.
/// Signing uses the platform's PSS (salt 32), which TiUP's verifier accepts because it auto-detects the salt.
/// Only the public-key operation is done by hand; no private-key arithmetic leaves the platform's implementation.
/// </remarks>
public static class RsaPss
{
    private const int HashLength = 32;

    /// <summary>Signs <paramref name="payload"/> with RSASSA-PSS-SHA256.</summary>
    public static byte[] Sign(RSA key, ReadOnlySpan<byte> payload) =>
        key.SignData(payload.ToArray(), HashAlgorithmName.SHA256, RSASignaturePadding.Pss);

    /// <summary>Verifies an RSASSA-PSS-SHA256 signature with any salt length.</summary>
    public static bool Verify(RSAParameters publicKey, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> signature)
    {
        if (publicKey.Modulus is null || publicKey.Exponent is null)
        {
            return false;
        }

        var n = new BigInteger(publicKey.Modulus, isUnsigned: true, isBigEndian: true);
        var e = new BigInteger(publicKey.Exponent, isUnsigned: true, isBigEndian: true);
        var modBits = (int)n.GetBitLength();
        var k = (modBits + 7) / 8;
        if (signature.Length != k)
        {
            return false;
        }

        var s = new BigInteger(signature, isUnsigned: true, isBigEndian: true);
        if (s >= n)
        {
            return false;
        }

        var m = BigInteger.ModPow(s, e, n);
        var emBits = modBits - 1;
        var emLen = (emBits + 7) / 8;
        var mBytes = m.ToByteArray(isUnsigned: true, isBigEndian: true);
        if (mBytes.Length > emLen)
        {
            return false;
        }

        var em = new byte[emLen];
        mBytes.CopyTo(em, emLen - mBytes.Length);
        return VerifyEncoded(SHA256.HashData(payload), em, emBits);
    }

    private static bool VerifyEncoded(ReadOnlySpan<byte> mHash, byte[] em, int emBits)
    {
        var emLen = em.Length;
        if (emLen < HashLength + 2 || em[^1] != 0xBC)
        {
            return false;
        }

        var dbLength = emLen - HashLength - 1;
        var maskedDb = em.AsSpan(0, dbLength);
        var h = em.AsSpan(dbLength, HashLength);
        var unusedBits = (8 * emLen) - emBits;
        var topMask = (byte)(0xFF >> unusedBits);
        if ((maskedDb[0] & ~topMask) != 0)
        {
            return false;
        }

        var db = Mgf1(h, dbLength);
        for (var i = 0; i < dbLength; i++)
        {
            db[i] ^= maskedDb[i];
        }

        db[0] &= topMask;

        // Salt auto-detection: DB = PS (zeros) || 0x01 || salt.
        var separator = 0;
        while (separator < dbLength && db[separator] == 0)
        {
            separator++;
        }

        if (separator == dbLength || db[separator] != 0x01)
        {
            return false;
        }

        var salt = db.AsSpan(separator + 1);
        var mPrime = new byte[8 + HashLength + salt.Length];
        mHash.CopyTo(mPrime.AsSpan(8));
        salt.CopyTo(mPrime.AsSpan(8 + HashLength));
        var hPrime = SHA256.HashData(mPrime);
        return CryptographicOperations.FixedTimeEquals(h, hPrime);
    }

    private static byte[] Mgf1(ReadOnlySpan<byte> seed, int length)
    {
        var output = new byte[length];
        var input = new byte[seed.Length + 4];
        seed.CopyTo(input);
        var offset = 0;
        for (uint counter = 0; offset < length; counter++)
        {
            input[^4] = (byte)(counter >> 24);
            input[^3] = (byte)(counter >> 16);
            input[^2] = (byte)(counter >> 8);
            input[^1] = (byte)counter;
            var digest = SHA256.HashData(input);
            var take = Math.Min(digest.Length, length - offset);
            digest.AsSpan(0, take).CopyTo(output.AsSpan(offset));
            offset += take;
        }

        return output;
    }
}
