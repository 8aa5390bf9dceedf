// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Tug.Core.Cluster;
using Tug.Mirror;

namespace Tug.Cli;

/// <summary>Packages for deploys come from the verified mirror and its cache, with the entry's hash read from the tarball.</summary>
public sealed class MirrorPackageSource(MirrorClient client) : IPackageSource
{
    private MirrorView? _view;

    public async Task<ResolvedPackage> GetAsync(string component, string? version, string platform, CancellationToken cancellationToken)
    {
        _view ??= await client.RefreshAsync(cancellationToken);
        CachedPackage package;
        try
        {
            package = await client.DownloadAsync(_view, component, version, platform, null, cancellationToken);
        }
        catch (MirrorException e) when (e.Code == MirrorErrors.NotFound)
        {
            throw new ClusterException(ClusterException.PackageMissing, e.Message, e.Hint, e);
        }

        return new ResolvedPackage(component, package.Version, platform, package.Path, package.Item.Entry, package.Item.Sha256 ?? string.Empty, EntryHash(package.Path, package.Item.Entry))
        {
            MirrorPath = package.Item.Url.TrimStart('/'),
        };
    }

    private static string EntryHash(string tarball, string entry)
    {
        using var file = File.OpenRead(tarball);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        while (reader.GetNextEntry() is { } item)
        {
            var name = item.Name.StartsWith("./", StringComparison.Ordinal) ? item.Name[2..] : item.Name;
            if (name == entry && item.DataStream is { } data)
            {
                return Convert.ToHexStringLower(SHA256.HashData(data));
            }
        }

        throw new ClusterException(ClusterException.PackageMissing, $"{Path.GetFileName(tarball)} has no entry '{entry}'.", "Publish the package again with the right ENTRY.");
    }
}
