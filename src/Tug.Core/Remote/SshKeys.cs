// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Tug.Core.Remote;

/// <summary>The cluster's own SSH key pair, as TiUP keeps it: RSA 4096, PKCS#1 PEM private key (0600) and an OpenSSH public key.</summary>
public static class SshKeys
{
    /// <summary>Creates <c>id_rsa</c> and <c>id_rsa.pub</c> in <paramref name="directory"/> unless both exist; returns the public key line.</summary>
    public static string EnsureKeyPair(string directory, string comment)
    {
        var privatePath = Path.Combine(directory, "id_rsa");
        var publicPath = privatePath + ".pub";
        if (File.Exists(privatePath) && File.Exists(publicPath))
        {
            return File.ReadAllText(publicPath).Trim();
        }

        PrivateFiles.CreateDirectory(directory);
        using var rsa = RSA.Create(4096);
        using (var stream = PrivateFiles.Open(privatePath + ".tmp", FileMode.Create))
        {
            stream.Write(Encoding.ASCII.GetBytes(rsa.ExportRSAPrivateKeyPem() + "\n"));
            stream.Flush(flushToDisk: true);
        }

        File.Move(privatePath + ".tmp", privatePath, overwrite: true);
        var line = PublicKeyLine(rsa, comment);
        PrivateFiles.WriteAllBytes(publicPath, Encoding.ASCII.GetBytes(line + "\n"));
        return line;
    }

    /// <summary>The OpenSSH <c>ssh-rsa AAAA… comment</c> line of an RSA key.</summary>
    public static string PublicKeyLine(RSA rsa, string comment)
    {
        var parameters = rsa.ExportParameters(false);
        using var blob = new MemoryStream();
        WriteString(blob, Encoding.ASCII.GetBytes("ssh-rsa"));
        WriteString(blob, MpInt(parameters.Exponent!));
        WriteString(blob, MpInt(parameters.Modulus!));
        return $"ssh-rsa {Convert.ToBase64String(blob.ToArray())} {comment}";
    }

    private static byte[] MpInt(byte[] unsignedBigEndian)
    {
        var trimmed = unsignedBigEndian.AsSpan().TrimStart((byte)0);
        return trimmed.Length > 0 && (trimmed[0] & 0x80) != 0 ? [0, .. trimmed] : trimmed.ToArray();
    }

    private static void WriteString(Stream stream, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        stream.Write(length);
        stream.Write(data);
    }
}
