// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Security.Cryptography;
using Tug.Mirror.Crypto;
using Tug.Mirror.Manifests;
using Tug.Mirror.Sources;

namespace Tug.Mirror.Publishing;

/// <summary>What <c>tug mirror publish</c> is asked to do.</summary>
public sealed record PublishRequest(
    string Component,
    string Version,
    string TarballPath,
    string Entry,
    string Platform,
    string? Description,
    bool Standalone,
    bool Hidden);

/// <summary>What a write to a mirror changed.</summary>
public sealed record MirrorChange(string Summary, ImmutableArray<string> FilesWritten, ImmutableArray<string> Notes);

/// <summary>
/// A mirror in a local directory that this machine can sign for: init, grant, publish, renew, rotate.
/// Every change is one transaction: new files are staged and flushed, then moved into place with
/// <c>snapshot.json</c> and <c>timestamp.json</c> last, under an exclusive lock, and refused if another writer got there first.
/// </summary>
public sealed class LocalMirror
{
    /// <summary>Default expiry per role, as TiUP's <c>ManifestsConfig</c>.</summary>
    public static readonly TimeSpan RootExpiry = TimeSpan.FromDays(365);

    public static readonly TimeSpan IndexExpiry = TimeSpan.FromDays(365);

    public static readonly TimeSpan ComponentExpiry = TimeSpan.FromDays(5 * 365);

    public static readonly TimeSpan SnapshotExpiry = TimeSpan.FromDays(30);

    public static readonly TimeSpan TimestampExpiry = TimeSpan.FromDays(30);

    /// <summary>The platforms TiUP's publish accepts.</summary>
    public static readonly ImmutableArray<string> Platforms = ["linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", ManifestNames.AnyPlatform];

    private readonly TimeProvider _time;
    private readonly byte[] _timestampAtOpen;

    private LocalMirror(
        string directory,
        TimeProvider time,
        SignedManifest<RootManifest> root,
        SignedManifest<TimestampManifest> timestamp,
        SignedManifest<SnapshotManifest> snapshot,
        SignedManifest<IndexManifest> index)
    {
        Directory = directory;
        _time = time;
        Root = root;
        Timestamp = timestamp;
        Snapshot = snapshot;
        Index = index;
        _timestampAtOpen = timestamp.RawFile;
    }

    public string Directory { get; }

    public string KeyDirectory => Path.Combine(Directory, "keys");

    public SignedManifest<RootManifest> Root { get; }

    public SignedManifest<TimestampManifest> Timestamp { get; }

    public SignedManifest<SnapshotManifest> Snapshot { get; }

    public SignedManifest<IndexManifest> Index { get; }

    private DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>Creates a new, empty mirror with fresh keys, as <c>tiup mirror init</c> does.</summary>
    /// <exception cref="MirrorException">The directory is not empty.</exception>
    public static async Task<(LocalMirror Mirror, ImmutableArray<string> KeyFiles)> InitAsync(string directory, string? keyDirectory, TimeProvider time, CancellationToken cancellationToken)
    {
        directory = Path.GetFullPath(directory);
        if (System.IO.Directory.Exists(directory) && System.IO.Directory.EnumerateFileSystemEntries(directory).Any())
        {
            throw new MirrorException(MirrorErrors.BadInput, $"{directory} is not empty; a new mirror needs an empty or missing directory.", directory,
                "Choose another directory, or empty this one if it holds nothing you need.");
        }

        var keyDir = Path.GetFullPath(keyDirectory ?? Path.Combine(directory, "keys"));
        var now = time.GetUtcNow();
        var (files, keyFiles) = NewMirrorFiles(keyDir, now, RootExpiry, IndexExpiry, SnapshotExpiry, TimestampExpiry, owner: null, components: []);
        System.IO.Directory.CreateDirectory(directory);
        foreach (var (name, bytes) in files)
        {
            await AtomicFile.WriteAsync(Path.Combine(directory, name), bytes, cancellationToken).ConfigureAwait(false);
        }

        return (await OpenAsync(directory, time, cancellationToken).ConfigureAwait(false), keyFiles);
    }

    /// <summary>
    /// Builds the files of a brand-new mirror: keys (written to <paramref name="keyDirectory"/>), root, index, the given
    /// component manifests (re-signed by <paramref name="owner"/>), snapshot and timestamp.
    /// </summary>
    internal static (ImmutableArray<(string Name, byte[] Bytes)> Files, ImmutableArray<string> KeyFiles) NewMirrorFiles(
        string keyDirectory,
        DateTimeOffset now,
        TimeSpan rootExpiry,
        TimeSpan indexExpiry,
        TimeSpan snapshotExpiry,
        TimeSpan timestampExpiry,
        (string Id, string Name, KeyInfo Key)? owner,
        ImmutableArray<ComponentManifest> components)
    {
        var keyFiles = ImmutableArray.CreateBuilder<string>();
        KeyInfo NewKey(string role)
        {
            var key = KeyInfo.Generate();
            var path = Path.Combine(keyDirectory, $"{key.Id()[..16]}-{role}.json");
            key.Save(path);
            keyFiles.Add(path);
            return key;
        }

        var rootKeys = new[] { NewKey("root"), NewKey("root"), NewKey("root") };
        var indexKey = NewKey("index");
        var snapshotKey = NewKey("snapshot");
        var timestampKey = NewKey("timestamp");
        RoleSpec Spec(string role, IEnumerable<KeyInfo> keys, ulong threshold) => new(
            keys.Select(k => k.Public()).ToImmutableSortedDictionary(k => k.Id(), k => k, StringComparer.Ordinal), threshold, ManifestNames.MetaKey(role));

        var root = new RootManifest(ManifestNames.FormatTime(now + rootExpiry), 1, new Dictionary<string, RoleSpec>
        {
            [ManifestNames.Root] = Spec(ManifestNames.Root, rootKeys, 3),
            [ManifestNames.Index] = Spec(ManifestNames.Index, [indexKey], 1),
            [ManifestNames.Snapshot] = Spec(ManifestNames.Snapshot, [snapshotKey], 1),
            [ManifestNames.Timestamp] = Spec(ManifestNames.Timestamp, [timestampKey], 1),
        }.ToImmutableSortedDictionary(StringComparer.Ordinal));

        var owners = ManifestNames.Empty<Owner>();
        var items = ManifestNames.Empty<ComponentItem>();
        var files = ImmutableArray.CreateBuilder<(string, byte[])>();
        var meta = ManifestNames.Empty<FileVersion>();
        if (owner is { } o)
        {
            var publicKey = o.Key.Public();
            owners = owners.Add(o.Id, new Owner(ImmutableSortedDictionary.Create<string, KeyInfo>(StringComparer.Ordinal).Add(publicKey.Id(), publicKey), o.Name, 1));
            foreach (var component in components)
            {
                var bytes = Manifest.Sign(component, [o.Key]);
                files.Add((ManifestNames.Versioned(component.Version, component.Id), bytes));
                items = items.Add(component.Id, new ComponentItem(false, o.Id, false, ManifestNames.MetaKey(component.Id), false));
                meta = meta.SetItem(ManifestNames.MetaKey(component.Id), new FileVersion((ulong)bytes.Length, component.Version));
            }
        }

        var index = new IndexManifest(ManifestNames.FormatTime(now + indexExpiry), 1, items, [], owners);
        var rootBytes = Manifest.Sign(root, rootKeys);
        var indexBytes = Manifest.Sign(index, [indexKey]);
        files.Add(("root.json", rootBytes));
        if (owner is not null)
        {
            // Clone writes the versioned name too, as TiUP's clone does.
            files.Add((ManifestNames.Versioned(1, ManifestNames.Root), rootBytes));
        }

        files.Add((ManifestNames.Versioned(1, ManifestNames.Index), indexBytes));
        meta = meta.SetItem(ManifestNames.MetaKey(ManifestNames.Root), new FileVersion((ulong)rootBytes.Length, 1))
            .SetItem(ManifestNames.MetaKey(ManifestNames.Index), new FileVersion((ulong)indexBytes.Length, 1));
        var snapshotBytes = Manifest.Sign(new SnapshotManifest(ManifestNames.FormatTime(now + snapshotExpiry), meta), [snapshotKey]);
        var timestamp = new TimestampManifest(ManifestNames.FormatTime(now + timestampExpiry), 1,
            ManifestNames.Empty<FileHash>().Add(TimestampManifest.SnapshotKey, new FileHash(
                ManifestNames.Empty<string>()
                    .Add("sha256", Convert.ToHexStringLower(SHA256.HashData(snapshotBytes)))
                    .Add("sha512", Convert.ToHexStringLower(SHA512.HashData(snapshotBytes))),
                (ulong)snapshotBytes.Length)));
        files.Add(("snapshot.json", snapshotBytes));
        files.Add(("timestamp.json", Manifest.Sign(timestamp, [timestampKey])));
        return (files.ToImmutable(), keyFiles.ToImmutable());
    }

    /// <summary>Opens a local mirror for writing. Signatures are checked; expiry is not, so that an expired mirror can be renewed.</summary>
    /// <exception cref="MirrorException">The directory is not a mirror or its manifests do not verify.</exception>
    public static async Task<LocalMirror> OpenAsync(string directory, TimeProvider time, CancellationToken cancellationToken)
    {
        directory = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(directory))
        {
            throw new MirrorException(MirrorErrors.NotFound, $"Mirror directory {directory} does not exist.", directory,
                "Create one with `tug mirror init DIR`, or point `tug mirror set` at an existing mirror.");
        }

        var reader = new MirrorReader(new LocalMirrorSource(directory), DateTimeOffset.MinValue);
        var root = await reader.UpdateRootAsync(await reader.ReadInitialRootAsync(cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        var timestamp = await reader.ReadTimestampAsync(root.Signed, null, cancellationToken).ConfigureAwait(false);
        var snapshot = await reader.ReadSnapshotAsync(root.Signed, timestamp.Signed, null, cancellationToken).ConfigureAwait(false);
        var index = await reader.ReadIndexAsync(root.Signed, snapshot.Signed, null, cancellationToken).ConfigureAwait(false);
        return new LocalMirror(directory, time, root, timestamp, snapshot, index);
    }

    /// <summary>Reads a component's current manifest (signature checked, expiry not); null when the mirror lacks it.</summary>
    /// <exception cref="MirrorException">The manifest does not verify.</exception>
    public async Task<SignedManifest<ComponentManifest>?> ReadComponentAsync(string id, CancellationToken cancellationToken)
    {
        if (!Index.Signed.Components.ContainsKey(id))
        {
            return null;
        }

        var reader = new MirrorReader(new LocalMirrorSource(Directory), DateTimeOffset.MinValue);
        return await reader.ReadComponentAsync(Index.Signed, Snapshot.Signed, id, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The mirror's role keys from its <c>keys/</c> directory.</summary>
    public KeyRing RoleKeys()
    {
        var ring = new KeyRing();
        ring.AddDirectory(KeyDirectory);
        return ring;
    }

    /// <summary>Adds a component owner to the index, as <c>tiup mirror grant</c> does.</summary>
    /// <exception cref="MirrorException">The owner or key already exists, or the index keys are missing.</exception>
    public async Task<MirrorChange> GrantAsync(string ownerId, string? name, KeyInfo key, CancellationToken cancellationToken)
    {
        var index = Index.Signed;
        var publicKey = key.Public();
        var keyId = publicKey.Id();
        if (index.Owners.ContainsKey(ownerId))
        {
            throw new MirrorException(MirrorErrors.BadInput, $"Owner '{ownerId}' already exists in this mirror.", null, "Choose another owner ID.");
        }

        if (index.Owners.FirstOrDefault(o => o.Value.Keys.ContainsKey(keyId)) is { Key: not null } holder)
        {
            throw new MirrorException(MirrorErrors.BadInput, $"Key {Trust.KeyIdPrefix(keyId)} already belongs to owner '{holder.Key}'.", null, "Generate a new key with `tug mirror genkey -n NAME`.");
        }

        var owner = new Owner(ImmutableSortedDictionary.Create<string, KeyInfo>(StringComparer.Ordinal).Add(keyId, publicKey), name ?? ownerId, 1);
        var newIndex = index with
        {
            Version = index.Version + 1,
            Expires = Extend(index.Expires, IndexExpiry),
            Owners = index.Owners.Add(ownerId, owner),
        };
        var tx = new Transaction();
        var metaUpdates = WriteIndex(tx, newIndex);
        return await FinishAsync(tx, metaUpdates, $"granted owner '{ownerId}' with key {Trust.KeyIdPrefix(keyId)}", [], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Publishes a tarball as a component version, as <c>tiup mirror publish</c> does; older versions are kept.</summary>
    /// <exception cref="MirrorException">Bad input, a missing entry, no authorized owner key, or a concurrent change.</exception>
    public async Task<MirrorChange> PublishAsync(PublishRequest request, KeyRing ownerKeys, CancellationToken cancellationToken)
    {
        ValidateComponentId(request.Component);
        var version = Versions.Normalize(request.Version);
        if (!Versions.IsValid(version))
        {
            throw new MirrorException(MirrorErrors.BadInput, $"Version '{request.Version}' is not a semantic version such as v1.9.0.", null, "Write the version as vMAJOR.MINOR.PATCH.");
        }

        if (!Platforms.Contains(request.Platform))
        {
            throw new MirrorException(MirrorErrors.BadInput, $"Platform '{request.Platform}' is not one TiUP knows; use one of {string.Join(", ", Platforms)}.", null, "Set --os and --arch.");
        }

        if (!File.Exists(request.TarballPath))
        {
            throw new MirrorException(MirrorErrors.NotFound, $"Tarball {request.TarballPath} does not exist.", request.TarballPath);
        }

        Tarball.RequireSafeMembers(request.TarballPath);
        Tarball.RequireExecutableEntry(request.TarballPath, request.Entry);

        var notes = ImmutableArray.CreateBuilder<string>();
        if (version != request.Version)
        {
            notes.Add($"version '{request.Version}' recorded as '{version}' (TiUP versions carry a 'v')");
        }

        var index = Index.Signed;
        var existing = await ReadComponentAsync(request.Component, cancellationToken).ConfigureAwait(false);
        string ownerId;
        ImmutableArray<KeyInfo> signers;
        if (existing is not null)
        {
            ownerId = index.Components[request.Component].Owner;
            signers = ownerKeys.ForOwner(index, ownerId, request.Component);
        }
        else
        {
            var candidates = index.Owners.Where(o => ownerKeys.For(o.Value.Keys.Keys).Length >= Math.Max(1, o.Value.Threshold)).Select(o => o.Key).ToList();
            if (index.Owners.Count == 0)
            {
                throw new MirrorException(MirrorErrors.KeyNotAuthorized, "This mirror has no component owner yet, so nobody may publish.", null,
                    "Grant one first: `tug mirror genkey` then `tug mirror grant OWNER` (it uses $TUG_HOME/keys/private.json).");
            }

            if (candidates.Count == 0)
            {
                throw new MirrorException(MirrorErrors.KeyNotAuthorized,
                    $"None of the given keys belongs to an owner of this mirror (owners: {string.Join(", ", index.Owners.Keys)}).", null,
                    "Pass an owner's private key with --key FILE, or grant your key with `tug mirror grant OWNER`.");
            }

            ownerId = candidates[0];
            signers = ownerKeys.ForOwner(index, ownerId, request.Component);
        }

        var (sha256, sha512, length) = await HashFileAsync(request.TarballPath, cancellationToken).ConfigureAwait(false);
        var url = "/" + ManifestNames.TarballName(request.Component, version, request.Platform);
        var item = new VersionItem(null, request.Entry, ManifestNames.Empty<string>().Add("sha256", sha256).Add("sha512", sha512), (ulong)length,
            ManifestNames.FormatTime(Now), url, false);

        ComponentManifest component;
        if (existing is null)
        {
            component = new ComponentManifest(ManifestNames.FormatTime(Now + ComponentExpiry), 1, request.Component, request.Description ?? string.Empty, string.Empty,
                ManifestNames.Empty<ImmutableSortedDictionary<string, VersionItem>>().Add(request.Platform, ManifestNames.Empty<VersionItem>().Add(version, item)));
        }
        else
        {
            var old = existing.Signed;
            var versions = old.Platforms.GetValueOrDefault(request.Platform) ?? ManifestNames.Empty<VersionItem>();
            if (versions.ContainsKey(version))
            {
                notes.Add($"{request.Component} {version} for {request.Platform} existed and was replaced");
            }

            component = old with
            {
                Version = old.Version + 1,
                Expires = Extend(old.Expires, ComponentExpiry),
                Description = request.Description ?? old.Description,
                Platforms = old.Platforms.SetItem(request.Platform, versions.SetItem(version, item)),
            };
        }

        if (version.Contains("nightly", StringComparison.Ordinal))
        {
            component = component with { Nightly = version };
        }

        var tx = new Transaction();
        tx.AddFile(url.TrimStart('/'), request.TarballPath);
        var metaUpdates = WriteComponent(tx, component, signers);
        if (existing is null)
        {
            var newIndex = index with
            {
                Version = index.Version + 1,
                Expires = Extend(index.Expires, IndexExpiry),
                Components = index.Components.Add(request.Component,
                    new ComponentItem(request.Hidden, ownerId, request.Standalone, ManifestNames.MetaKey(request.Component), false)),
            };
            metaUpdates = metaUpdates.AddRange(WriteIndex(tx, newIndex));
        }

        return await FinishAsync(tx, metaUpdates, $"published {request.Component} {version} for {request.Platform} (owner '{ownerId}', sha256 {sha256[..16]}…)", notes.ToImmutable(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Re-signs a role (<c>root</c>, <c>index</c>, <c>snapshot</c>, <c>timestamp</c>, a component ID, or <c>all</c>) with a new expiry.</summary>
    /// <exception cref="MirrorException">Unknown role, or keys for it are missing.</exception>
    public async Task<MirrorChange> RenewAsync(string role, int days, KeyRing ownerKeys, CancellationToken cancellationToken)
    {
        if (days <= 0)
        {
            throw new MirrorException(MirrorErrors.BadInput, $"--days must be positive (got {days}).");
        }

        var span = TimeSpan.FromDays(days);
        var all = role == "all";
        var known = ManifestNames.TopLevelRoles.Contains(role) || Index.Signed.Components.ContainsKey(role) || all;
        if (!known)
        {
            throw new MirrorException(MirrorErrors.BadInput,
                $"'{role}' is neither a role (root, index, snapshot, timestamp, all) nor a component of this mirror.", null, "See the components with `tug list`.");
        }

        var tx = new Transaction();
        var meta = ImmutableArray.CreateBuilder<(string, FileVersion)>();
        var renewed = new List<string>();
        var roleKeys = RoleKeys();
        if (all || role == ManifestNames.Root)
        {
            // A root may never expire earlier than the one it replaces (clients refuse such a chain), so it only moves forward.
            var root = Root.Signed with { Version = Root.Signed.Version + 1, Expires = Extend(Root.Signed.Expires, span) };
            var bytes = Manifest.Sign(root, roleKeys.ForRole(Root.Signed, ManifestNames.Root, KeyDirectory));
            tx.Add(ManifestNames.Versioned(root.Version, ManifestNames.Root), bytes);
            meta.Add((ManifestNames.MetaKey(ManifestNames.Root), new FileVersion((ulong)bytes.Length, root.Version)));
            renewed.Add($"root v{root.Version} until {root.Expires}");
        }

        if (all || role == ManifestNames.Index)
        {
            var index = Index.Signed with { Version = Index.Signed.Version + 1, Expires = Extend(Index.Signed.Expires, span, force: true) };
            meta.AddRange(WriteIndex(tx, index));
            renewed.Add($"index v{index.Version} until {index.Expires}");
        }

        foreach (var id in Index.Signed.Components.Keys.Where(id => all || id == role))
        {
            var current = (await ReadComponentAsync(id, cancellationToken).ConfigureAwait(false))!.Signed;
            var signers = ownerKeys.ForOwner(Index.Signed, Index.Signed.Components[id].Owner, id);
            var component = current with { Version = current.Version + 1, Expires = Extend(current.Expires, span, force: true) };
            meta.AddRange(WriteComponent(tx, component, signers));
            renewed.Add($"{id} v{component.Version} until {component.Expires}");
        }

        var snapshotSpan = all || role == ManifestNames.Snapshot ? span : (TimeSpan?)null;
        var timestampSpan = all || role == ManifestNames.Timestamp || role == ManifestNames.Snapshot ? span : (TimeSpan?)null;
        return await FinishAsync(tx, meta.ToImmutable(), $"renewed {(renewed.Count == 0 ? role : string.Join(", ", renewed))}", [], cancellationToken, snapshotSpan, timestampSpan).ConfigureAwait(false);
    }

    /// <summary>
    /// Replaces the root keys: a new root version names <paramref name="keyCount"/> fresh root keys and is signed by the
    /// old root keys (old threshold) and all new ones; old key files move to <c>keys/retired/</c>.
    /// </summary>
    /// <exception cref="MirrorException">Bad counts, or old root keys are missing.</exception>
    public async Task<MirrorChange> RotateAsync(int keyCount, int threshold, CancellationToken cancellationToken)
    {
        if (keyCount < 1 || threshold < 1 || threshold > keyCount)
        {
            throw new MirrorException(MirrorErrors.BadInput, $"A root needs 1 ≤ threshold ≤ keys (got {threshold} of {keyCount}).", null,
                "Keep the threshold below the number of keys so that losing one key does not lock the mirror.");
        }

        var ring = RoleKeys();
        var oldSigners = ring.ForRole(Root.Signed, ManifestNames.Root, KeyDirectory);
        var newKeys = Enumerable.Range(0, keyCount).Select(_ => KeyInfo.Generate()).ToList();
        var spec = new RoleSpec(newKeys.Select(k => k.Public()).ToImmutableSortedDictionary(k => k.Id(), k => k, StringComparer.Ordinal), (ulong)threshold,
            ManifestNames.MetaKey(ManifestNames.Root));
        var root = Root.Signed with
        {
            Version = Root.Signed.Version + 1,
            Expires = Extend(Root.Signed.Expires, RootExpiry),
            Roles = Root.Signed.Roles.SetItem(ManifestNames.Root, spec),
        };
        var bytes = Manifest.Sign(root, oldSigners.Concat(newKeys));
        var tx = new Transaction();
        tx.Add(ManifestNames.Versioned(root.Version, ManifestNames.Root), bytes);
        var written = new List<string>();
        foreach (var key in newKeys)
        {
            var path = Path.Combine(KeyDirectory, $"{key.Id()[..16]}-root.json");
            key.Save(path);
            written.Add(path);
        }

        var change = await FinishAsync(tx, [(ManifestNames.MetaKey(ManifestNames.Root), new FileVersion((ulong)bytes.Length, root.Version))],
            $"rotated root keys: root v{root.Version}, {threshold} of {keyCount} new keys", [.. written.Select(w => $"new root key {w}")], cancellationToken).ConfigureAwait(false);

        var retired = Path.Combine(KeyDirectory, KeyRing.RetiredFolder);
        PrivateFiles.CreateDirectory(retired);
        foreach (var file in System.IO.Directory.GetFiles(KeyDirectory, "*-root.json"))
        {
            var key = KeyInfo.Load(file);
            if (!spec.Keys.ContainsKey(key.Id()))
            {
                File.Move(file, Path.Combine(retired, Path.GetFileName(file)), overwrite: false);
            }
        }

        return change;
    }

    /// <summary>Adds versions (with their tarballs, copied from another mirror) to components of this mirror, in one transaction.</summary>
    internal async Task<MirrorChange> AddVersionsAsync(
        IReadOnlyList<(string Component, string Description, bool Hidden, bool Standalone, ImmutableArray<(string Platform, string Version, VersionItem Item, string TarballPath)> Versions)> additions,
        KeyRing ownerKeys,
        string summary,
        CancellationToken cancellationToken)
    {
        var tx = new Transaction();
        var meta = ImmutableArray.CreateBuilder<(string, FileVersion)>();
        var index = Index.Signed;
        var indexChanged = false;
        foreach (var addition in additions)
        {
            var existing = await ReadComponentAsync(addition.Component, cancellationToken).ConfigureAwait(false);
            string ownerId;
            if (existing is null)
            {
                ownerId = index.Owners.FirstOrDefault(o => ownerKeys.For(o.Value.Keys.Keys).Length >= Math.Max(1, o.Value.Threshold)).Key
                    ?? throw new MirrorException(MirrorErrors.KeyNotAuthorized, $"No key of an owner of this mirror was given to sign new component '{addition.Component}'.", null,
                        "Pass an owner's private key with --key FILE, or grant your key with `tug mirror grant OWNER`.");
                index = index with
                {
                    Components = index.Components.Add(addition.Component,
                        new ComponentItem(addition.Hidden, ownerId, addition.Standalone, ManifestNames.MetaKey(addition.Component), false)),
                };
                indexChanged = true;
            }
            else
            {
                ownerId = index.Components[addition.Component].Owner;
            }

            var component = existing?.Signed ?? new ComponentManifest(ManifestNames.FormatTime(Now + ComponentExpiry), 0, addition.Component, addition.Description, string.Empty,
                ManifestNames.Empty<ImmutableSortedDictionary<string, VersionItem>>());
            var platforms = component.Platforms;
            foreach (var (platform, version, item, tarball) in addition.Versions)
            {
                var url = "/" + ManifestNames.TarballName(addition.Component, version, platform);
                var newItem = item with { Url = url, Released = ManifestNames.FormatTime(Now), Dependencies = null, Yanked = false };
                platforms = platforms.SetItem(platform, (platforms.GetValueOrDefault(platform) ?? ManifestNames.Empty<VersionItem>()).SetItem(version, newItem));
                tx.AddFile(url.TrimStart('/'), tarball);
            }

            component = component with { Version = component.Version + 1, Expires = Extend(component.Expires, ComponentExpiry), Platforms = platforms };
            meta.AddRange(WriteComponent(tx, component, ownerKeys.ForOwner(index, ownerId, addition.Component)));
        }

        if (indexChanged)
        {
            meta.AddRange(WriteIndex(tx, index with { Version = index.Version + 1, Expires = Extend(index.Expires, IndexExpiry) }));
        }

        return await FinishAsync(tx, meta.ToImmutable(), summary, [], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Checks a component ID against the characters TiUP allows in file names and URLs.</summary>
    /// <exception cref="MirrorException">The ID is empty or has other characters.</exception>
    public static void ValidateComponentId(string id)
    {
        if (id.Length == 0 || id.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')) || ManifestNames.TopLevelRoles.Contains(id))
        {
            throw new MirrorException(MirrorErrors.BadInput,
                $"Component name '{id}' is not allowed: use letters, digits, '-', '_' and '.', and none of root, index, snapshot, timestamp.");
        }
    }

    internal static async Task<(string Sha256, string Sha512, long Length)> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var sha512 = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        var hashing = new HashingStream(Stream.Null, sha256, sha512);
        var stream = File.OpenRead(path);
        await using (stream.ConfigureAwait(false))
        {
            await stream.CopyToAsync(hashing, cancellationToken).ConfigureAwait(false);
        }

        return (Convert.ToHexStringLower(sha256.GetHashAndReset()), Convert.ToHexStringLower(sha512.GetHashAndReset()), hashing.Written);
    }

    private string Extend(string current, TimeSpan span, bool force = false)
    {
        var target = Now + span;
        if (!force && ManifestNames.TryParseTime(current, out var expires) && expires > target)
        {
            return current;
        }

        // Renewal sets exactly the expiry asked for; other writes only ever move it forward.
        return ManifestNames.FormatTime(target);
    }

    private ImmutableArray<(string, FileVersion)> WriteIndex(Transaction tx, IndexManifest index)
    {
        var bytes = Manifest.Sign(index, RoleKeys().ForRole(Root.Signed, ManifestNames.Index, KeyDirectory));
        tx.Add(ManifestNames.Versioned(index.Version, ManifestNames.Index), bytes);
        return [(ManifestNames.MetaKey(ManifestNames.Index), new FileVersion((ulong)bytes.Length, index.Version))];
    }

    private static ImmutableArray<(string, FileVersion)> WriteComponent(Transaction tx, ComponentManifest component, ImmutableArray<KeyInfo> signers)
    {
        var bytes = Manifest.Sign(component, signers);
        tx.Add(ManifestNames.Versioned(component.Version, component.Id), bytes);
        return [(ManifestNames.MetaKey(component.Id), new FileVersion((ulong)bytes.Length, component.Version))];
    }

    private async Task<MirrorChange> FinishAsync(
        Transaction tx,
        ImmutableArray<(string Key, FileVersion Version)> metaUpdates,
        string summary,
        ImmutableArray<string> notes,
        CancellationToken cancellationToken,
        TimeSpan? snapshotSpan = null,
        TimeSpan? timestampSpan = null)
    {
        var ring = RoleKeys();
        var meta = Snapshot.Signed.Meta;
        foreach (var (key, version) in metaUpdates)
        {
            meta = meta.SetItem(key, version);
        }

        var snapshot = new SnapshotManifest(snapshotSpan is { } s ? Extend(Snapshot.Signed.Expires, s, force: true) : Extend(Snapshot.Signed.Expires, SnapshotExpiry), meta);
        var snapshotBytes = Manifest.Sign(snapshot, ring.ForRole(Root.Signed, ManifestNames.Snapshot, KeyDirectory));
        var timestamp = new TimestampManifest(
            timestampSpan is { } t ? Extend(Timestamp.Signed.Expires, t, force: true) : Extend(Timestamp.Signed.Expires, TimestampExpiry),
            Timestamp.Signed.Version + 1,
            ManifestNames.Empty<FileHash>().Add(TimestampManifest.SnapshotKey, new FileHash(
                ManifestNames.Empty<string>().Add("sha256", Convert.ToHexStringLower(SHA256.HashData(snapshotBytes))), (ulong)snapshotBytes.Length)));
        tx.Add("snapshot.json", snapshotBytes);
        tx.Add("timestamp.json", Manifest.Sign(timestamp, ring.ForRole(Root.Signed, ManifestNames.Timestamp, KeyDirectory)));
        var written = await tx.CommitAsync(Directory, _timestampAtOpen, cancellationToken).ConfigureAwait(false);
        return new MirrorChange(summary, written, notes);
    }
}
