// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Tug.Mirror.Manifests;
using Tug.Mirror.Sources;

namespace Tug.Mirror;

/// <summary>The manifests this machine last verified for a mirror: the floor for rollback checks.</summary>
public sealed record TrustedState(
    TimestampManifest? Timestamp,
    SnapshotManifest? Snapshot,
    IndexManifest? Index,
    ImmutableDictionary<string, ComponentManifest> Components);

/// <summary>The control machine's state directory (<c>$TUG_HOME</c>, default <c>~/.tug</c>).</summary>
public sealed record TugHome(string Directory)
{
    public string ConfigFile => Path.Combine(Directory, "tug.toml");

    public string KeysDirectory => Path.Combine(Directory, "keys");

    public string DefaultKey => Path.Combine(KeysDirectory, "private.json");

    public string PackagesDirectory => Path.Combine(Directory, "packages");

    /// <summary>Per-mirror trust and manifest cache, keyed like TiUP's <c>bin/&lt;sha256(addr)[:16]&gt;.root.json</c>.</summary>
    public string MirrorStateDirectory(string address) =>
        Path.Combine(Directory, "mirrors", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(address)))[..16]);

    /// <summary>Resolves <c>$TUG_HOME</c>, defaulting to <c>~/.tug</c>.</summary>
    public static TugHome FromEnvironment(Func<string, string?> getVariable)
    {
        var home = getVariable("TUG_HOME");
        if (string.IsNullOrEmpty(home))
        {
            home = Path.Combine(getVariable("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".tug");
        }

        return new TugHome(Path.GetFullPath(home));
    }
}

/// <summary>A verified view of a mirror at one moment: root, timestamp, snapshot and index all checked.</summary>
public sealed record MirrorView(
    MirrorReader Reader,
    SignedManifest<RootManifest> Root,
    SignedManifest<TimestampManifest> Timestamp,
    SignedManifest<SnapshotManifest> Snapshot,
    SignedManifest<IndexManifest> Index,
    bool TrustedOnFirstUse);

/// <summary>
/// The control machine's mirror client: which mirror is in use, the trusted root and the last verified manifests
/// (rollback protection), and the package cache whose files are re-verified by sha256 on every use.
/// </summary>
public sealed class MirrorClient(TugHome home, HttpClient http, TimeProvider time, Func<string, string?> getVariable)
{
    /// <summary>The mirror address in use: <c>$TUG_MIRRORS</c>, else <c>tug.toml</c>.</summary>
    /// <exception cref="MirrorException">No mirror has been set.</exception>
    public string CurrentAddress()
    {
        var fromEnvironment = getVariable("TUG_MIRRORS");
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return MirrorSource.Normalize(fromEnvironment.Trim());
        }

        if (File.Exists(home.ConfigFile))
        {
            foreach (var line in File.ReadAllLines(home.ConfigFile))
            {
                var trimmed = line.Trim();
                if (trimmed.StartsWith("mirror", StringComparison.Ordinal) && trimmed.Contains('=', StringComparison.Ordinal))
                {
                    return trimmed[(trimmed.IndexOf('=', StringComparison.Ordinal) + 1)..].Trim().Trim('"');
                }
            }
        }

        throw new MirrorException(MirrorErrors.BadInput, "No mirror is set on this machine.", home.ConfigFile,
            "Choose one with `tug mirror set DIR|URL`, or set TUG_MIRRORS.");
    }

    /// <summary>Opens a source for an address.</summary>
    public IMirrorSource Open(string address) => MirrorSource.Open(address, http);

    /// <summary>
    /// Makes <paramref name="address"/> this machine's mirror: trusts its root (or <paramref name="rootFile"/>),
    /// forgets cached manifests of it, and records the address in <c>tug.toml</c>.
    /// </summary>
    /// <exception cref="MirrorException">The root cannot be read or does not verify.</exception>
    public async Task<SignedManifest<RootManifest>> SetAsync(string address, string? rootFile, CancellationToken cancellationToken)
    {
        var normalized = MirrorSource.Normalize(address);
        var reader = new MirrorReader(Open(normalized), time.GetUtcNow());
        SignedManifest<RootManifest> root;
        if (rootFile is not null)
        {
            if (!File.Exists(rootFile))
            {
                throw new MirrorException(MirrorErrors.NotFound, $"Root file {rootFile} does not exist.", rootFile);
            }

            root = reader.ParseTrustedRoot(await File.ReadAllBytesAsync(rootFile, cancellationToken).ConfigureAwait(false), rootFile);
        }
        else
        {
            root = await reader.ReadInitialRootAsync(cancellationToken).ConfigureAwait(false);
        }

        var state = home.MirrorStateDirectory(normalized);
        if (System.IO.Directory.Exists(state))
        {
            System.IO.Directory.Delete(state, recursive: true);
        }

        System.IO.Directory.CreateDirectory(Path.Combine(state, "manifests"));
        await AtomicFile.WriteAsync(Path.Combine(state, "root.json"), root.RawFile, cancellationToken).ConfigureAwait(false);
        await AtomicFile.WriteAsync(Path.Combine(state, "address"), Encoding.UTF8.GetBytes(normalized + "\n"), cancellationToken).ConfigureAwait(false);
        System.IO.Directory.CreateDirectory(home.Directory);
        await AtomicFile.WriteAsync(home.ConfigFile, Encoding.UTF8.GetBytes($"mirror = \"{normalized}\"\n"), cancellationToken).ConfigureAwait(false);
        return root;
    }

    /// <summary>The trusted root and last verified manifests for an address; null root when none is trusted yet.</summary>
    public (byte[]? Root, TrustedState State) LoadTrust(string address)
    {
        var state = home.MirrorStateDirectory(address);
        var rootPath = Path.Combine(state, "root.json");
        var root = File.Exists(rootPath) ? File.ReadAllBytes(rootPath) : null;
        var manifests = Path.Combine(state, "manifests");

        T? Load<T>(string name, Func<byte[], string, SignedManifest<T>> parse)
            where T : class, IRole
        {
            var path = Path.Combine(manifests, name);
            return File.Exists(path) ? parse(File.ReadAllBytes(path), path).Signed : null;
        }

        var components = ImmutableDictionary.CreateBuilder<string, ComponentManifest>(StringComparer.Ordinal);
        if (System.IO.Directory.Exists(manifests))
        {
            foreach (var path in System.IO.Directory.GetFiles(manifests, "component-*.json"))
            {
                var manifest = Manifest.ParseComponent(File.ReadAllBytes(path), path).Signed;
                components[manifest.Id] = manifest;
            }
        }

        return (root, new TrustedState(
            Load("timestamp.json", Manifest.ParseTimestamp),
            Load("snapshot.json", Manifest.ParseSnapshot),
            Load("index.json", Manifest.ParseIndex),
            components.ToImmutable()));
    }

    /// <summary>Fetches and verifies the current mirror's root chain, timestamp, snapshot and index; records them as trusted.</summary>
    /// <exception cref="MirrorException">Any check fails; nothing is recorded then.</exception>
    public async Task<MirrorView> RefreshAsync(CancellationToken cancellationToken)
    {
        var address = CurrentAddress();
        var reader = new MirrorReader(Open(address), time.GetUtcNow());
        var (rootBytes, trusted) = LoadTrust(address);
        var firstUse = rootBytes is null;
        var anchor = rootBytes is null
            ? await reader.ReadInitialRootAsync(cancellationToken).ConfigureAwait(false)
            : reader.ParseTrustedRoot(rootBytes, "trusted root.json");
        var root = await reader.UpdateRootAsync(anchor, cancellationToken).ConfigureAwait(false);
        var timestamp = await reader.ReadTimestampAsync(root.Signed, trusted.Timestamp, cancellationToken).ConfigureAwait(false);
        var snapshot = await reader.ReadSnapshotAsync(root.Signed, timestamp.Signed, trusted.Snapshot, cancellationToken).ConfigureAwait(false);
        var index = await reader.ReadIndexAsync(root.Signed, snapshot.Signed, trusted.Index, cancellationToken).ConfigureAwait(false);

        var state = home.MirrorStateDirectory(address);
        var manifests = Path.Combine(state, "manifests");
        System.IO.Directory.CreateDirectory(manifests);
        await AtomicFile.WriteAsync(Path.Combine(state, "root.json"), root.RawFile, cancellationToken).ConfigureAwait(false);
        await AtomicFile.WriteAsync(Path.Combine(manifests, "snapshot.json"), snapshot.RawFile, cancellationToken).ConfigureAwait(false);
        await AtomicFile.WriteAsync(Path.Combine(manifests, "index.json"), index.RawFile, cancellationToken).ConfigureAwait(false);
        await AtomicFile.WriteAsync(Path.Combine(manifests, "timestamp.json"), timestamp.RawFile, cancellationToken).ConfigureAwait(false);
        return new MirrorView(reader, root, timestamp, snapshot, index, firstUse);
    }

    /// <summary>Reads and verifies one component manifest and records it as trusted.</summary>
    /// <exception cref="MirrorException">Unknown component or any check fails.</exception>
    public async Task<SignedManifest<ComponentManifest>> ComponentAsync(MirrorView view, string id, CancellationToken cancellationToken)
    {
        var address = view.Reader.Source.Address;
        var (_, trusted) = LoadTrust(address);
        var component = await view.Reader.ReadComponentAsync(view.Index.Signed, view.Snapshot.Signed, id, trusted.Components.GetValueOrDefault(id), cancellationToken).ConfigureAwait(false);
        var path = Path.Combine(home.MirrorStateDirectory(address), "manifests", $"component-{id}.json");
        await AtomicFile.WriteAsync(path, component.RawFile, cancellationToken).ConfigureAwait(false);
        return component;
    }

    /// <summary>
    /// Returns the path of a verified package in the cache, downloading it when absent. A cached file is re-hashed on
    /// every use and replaced when it differs from the signed manifest.
    /// </summary>
    /// <exception cref="MirrorException">The version does not exist for the platform, or the download fails verification.</exception>
    public async Task<CachedPackage> DownloadAsync(MirrorView view, string id, string? version, string platform, IProgress<string>? notes, CancellationToken cancellationToken)
    {
        var component = await ComponentAsync(view, id, cancellationToken).ConfigureAwait(false);
        var resolved = version ?? Versions.Latest(component.Signed, platform)
            ?? throw new MirrorException(MirrorErrors.NotFound, $"Component '{id}' has no version for {platform}.", null, $"See `tug list {id}`.");
        resolved = Versions.Normalize(resolved);
        var item = component.Signed.Find(platform, resolved);
        if (item is null || item.Yanked)
        {
            var known = string.Join(", ", Versions.Available(component.Signed, platform));
            throw new MirrorException(MirrorErrors.NotFound,
                $"Component '{id}' has no {(item?.Yanked == true ? "usable (yanked) " : string.Empty)}version {resolved} for {platform}; available: {(known.Length == 0 ? "none" : known)}.",
                null, $"Publish it with `tug mirror publish {id} {resolved} TARBALL ENTRY --os {platform.Split('/')[0]} --arch {platform.Split('/')[1]}`.");
        }

        System.IO.Directory.CreateDirectory(home.PackagesDirectory);
        var path = Path.Combine(home.PackagesDirectory, ManifestNames.TarballName(id, resolved, platform));
        if (File.Exists(path))
        {
            try
            {
                await VerifyFileAsync(item, path, cancellationToken).ConfigureAwait(false);
                return new CachedPackage(id, resolved, platform, path, item);
            }
            catch (MirrorException e)
            {
                notes?.Report($"cached {Path.GetFileName(path)} does not match the signed manifest ({e.Message}); downloading it again");
                File.Delete(path);
            }
        }

        var partial = path + $".partial-{Environment.ProcessId}";
        try
        {
            var stream = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None);
            await using (stream.ConfigureAwait(false))
            {
                await view.Reader.CopyTarballAsync(item, stream, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(partial, path, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
        }

        return new CachedPackage(id, resolved, platform, path, item);
    }

    /// <summary>Checks a file on disk against a version item (length and hashes).</summary>
    /// <exception cref="MirrorException">The length or a hash differs.</exception>
    public static async Task VerifyFileAsync(VersionItem item, string path, CancellationToken cancellationToken)
    {
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var sha512 = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        var stream = File.OpenRead(path);
        await using (stream.ConfigureAwait(false))
        {
            var hashing = new HashingStream(Stream.Null, sha256, sha512);
            await stream.CopyToAsync(hashing, cancellationToken).ConfigureAwait(false);
            MirrorReader.CheckTarball(item, Path.GetFileName(path), hashing.Written, sha256, sha512);
        }
    }
}

/// <summary>A package in the local cache, verified against its signed manifest.</summary>
public sealed record CachedPackage(string Component, string Version, string Platform, string Path, VersionItem Item);
