// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Security.Cryptography;

namespace Tug.Core.Cluster;

/// <summary>File hashing helpers.</summary>
public static class Hashes
{
    /// <summary>The sha256 of a local file, lower-case hex.</summary>
    public static string Sha256File(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
