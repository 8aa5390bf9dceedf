// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Tug.Mirror.Crypto;
using Tug.Mirror.Manifests;
using Tug.Mirror.Sources;

namespace Tug.Mirror.Publishing;

/// <summary>A component (and optionally one version) to copy.</summary>
public sealed record ComponentSelection(string Component, string? Version)
{
    /// <summary>Parses <c>COMPONENT[:VERSION]</c>.</summary>
    public static ComponentSelection Parse(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? new ComponentSelection(text, null) : new ComponentSelection(text[..colon], Versions.Normalize(text[(colon + 1)..]));
    }
}

/// <summary>Offline copies: clone a verified mirror into a new one with fresh keys, and merge mirrors into a local one.</summary>
public static class MirrorCopier
{
    /// <summary>TiUP's clone expiry: 50 years, so an air-gapped copy does not lapse.</summary>
    public static readonly TimeSpan CloneExpiry = TimeSpan.FromDays(50 * 365);

    /// <summary>The platform of this machine in TiUP's <c>os/arch</c> form.</summary>
    public static string HostPlatform() =>
        $"{(OperatingSystem.IsMacOS() ? "darwin" : "linux")}/{(RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "arm64" : "amd64")}";

    /// <summary>
    /// Copies the selected components of a verified mirror into a new mirror at <paramref name="destination"/>, with fresh
    /// root/index/snapshot/timestamp keys and a new owner key (<c>keys/&lt;id&gt;-pingcap.json</c>), expiring in 50 years.
    /// Built in a sibling directory and renamed into place, so a failed clone leaves nothing behind.
    /// </summary>
    /// <exception cref="MirrorException">A selected component or version is missing, or a download fails verification.</exception>
    public static async Task<MirrorChange> CloneAsync(
        MirrorClient client,
        MirrorView view,
        string destination,
        IReadOnlyList<ComponentSelection> selection,
        IReadOnlyList<string> platforms,
        TimeProvider time,
        IProgress<string>? progress,
        CancellationToken cancellationToken)
    {
        destination = Path.GetFullPath(destination);
        if (view.Reader.Source.LocalDirectory is { } source && Path.GetFullPath(source).TrimEnd('/') == destination.TrimEnd('/'))
        {
            throw new MirrorException(MirrorErrors.BadInput, "A mirror cannot be cloned onto itself.", destination, "Choose a new, empty destination.");
        }

        if (Directory.Exists(destination) && Directory.EnumerateFileSystemEntries(destination).Any())
        {
            throw new MirrorException(MirrorErrors.BadInput, $"{destination} is not empty; clone needs an empty or missing directory.", destination);
        }

        var index = view.Index.Signed;
        var wanted = selection.Count > 0
            ? selection
            : [.. index.Components.Where(c => !c.Value.Yanked).Select(c => new ComponentSelection(c.Key, null))];
        foreach (var s in wanted)
        {
            if (!index.Components.TryGetValue(s.Component, out var item) || item.Yanked)
            {
                throw new MirrorException(MirrorErrors.NotFound, $"The mirror has no component '{s.Component}'; nothing was cloned.", null, "See `tug list`.");
            }
        }

        var staging = destination.TrimEnd('/') + $".partial-{Environment.ProcessId}";
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }

        Directory.CreateDirectory(staging);
        try
        {
            var now = time.GetUtcNow();
            var expires = ManifestNames.FormatTime(now + CloneExpiry);
            var manifests = ImmutableArray.CreateBuilder<ComponentManifest>();
            var tarballs = 0;
            foreach (var group in wanted.GroupBy(s => s.Component, StringComparer.Ordinal))
            {
                var versions = group.Select(s => s.Version).ToList();
                var allVersions = versions.Any(v => v is null);
                var upstream = (await client.ComponentAsync(view, group.Key, cancellationToken).ConfigureAwait(false)).Signed;
                var kept = ManifestNames.Empty<ImmutableSortedDictionary<string, VersionItem>>();
                foreach (var platform in platforms.Append(ManifestNames.AnyPlatform).Distinct())
                {
                    if (!upstream.Platforms.TryGetValue(platform, out var items))
                    {
                        continue;
                    }

                    var builder = ManifestNames.Empty<VersionItem>().ToBuilder();
                    foreach (var (version, item) in items)
                    {
                        var selected = !item.Yanked && (allVersions || versions.Contains(version));
                        builder[version] = item with { Yanked = !selected };
                        if (selected)
                        {
                            progress?.Report($"copying {group.Key} {version} {platform}");
                            var path = Path.Combine(staging, item.Url.TrimStart('/'));
                            var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
                            await using (stream.ConfigureAwait(false))
                            {
                                await view.Reader.CopyTarballAsync(item, stream, cancellationToken).ConfigureAwait(false);
                            }

                            Tarball.RequireSafeMembers(path, "nothing was cloned");

                            tarballs++;
                        }
                    }

                    kept = kept.Add(platform, builder.ToImmutable());
                }

                foreach (var version in versions.OfType<string>())
                {
                    if (!kept.Values.Any(p => p.TryGetValue(version, out var i) && !i.Yanked))
                    {
                        throw new MirrorException(MirrorErrors.NotFound,
                            $"{group.Key} {version} does not exist for {string.Join(", ", platforms)} in the source mirror; nothing was cloned.", null,
                            $"See the versions with `tug list {group.Key}`.");
                    }
                }

                if (kept.IsEmpty)
                {
                    throw new MirrorException(MirrorErrors.NotFound,
                        $"{group.Key} has no build for {string.Join(", ", platforms)}; nothing was cloned.", null, "Choose other platforms with --os/--arch.");
                }

                manifests.Add(upstream with { Expires = expires, Platforms = kept });
            }

            var ownerKey = KeyInfo.Generate();
            var keyDir = Path.Combine(staging, "keys");
            ownerKey.Save(Path.Combine(keyDir, $"{ownerKey.Id()[..16]}-pingcap.json"));
            var (files, _) = LocalMirror.NewMirrorFiles(keyDir, now, CloneExpiry, CloneExpiry, CloneExpiry, CloneExpiry,
                ("pingcap", "PingCAP", ownerKey), manifests.ToImmutable());
            foreach (var (name, bytes) in files)
            {
                await File.WriteAllBytesAsync(Path.Combine(staging, name), bytes, cancellationToken).ConfigureAwait(false);
            }

            if (Directory.Exists(destination))
            {
                Directory.Delete(destination);
            }

            Directory.Move(staging, destination);
            return new MirrorChange(
                $"cloned {manifests.Count} component(s), {tarballs} tarball(s) into {destination}; every role expires {expires}",
                [.. files.Select(f => f.Name)],
                [$"owner key for publishing into the clone: {Path.Combine(destination, "keys", $"{ownerKey.Id()[..16]}-pingcap.json")}"]);
        }
        catch
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }

            throw;
        }
    }

    /// <summary>
    /// Merges into <paramref name="target"/> every non-yanked, non-nightly version that the source mirrors hold and the
    /// target lacks. Each source is verified against its own root (signatures and tarball hashes; expiry is not checked,
    /// since offline packages are merged long after they were made).
    /// </summary>
    /// <exception cref="MirrorException">A source fails verification or no owner key can sign.</exception>
    public static async Task<MirrorChange> MergeAsync(
        LocalMirror target,
        IReadOnlyList<string> sources,
        KeyRing ownerKeys,
        IProgress<string>? progress,
        CancellationToken cancellationToken)
    {
        var temporary = Path.Combine(target.Directory, $".tug-merge-{Environment.ProcessId}");
        Directory.CreateDirectory(temporary);
        try
        {
            var additions = new Dictionary<string, (string Description, bool Hidden, bool Standalone, List<(string, string, VersionItem, string)> Versions)>(StringComparer.Ordinal);
            foreach (var sourceDirectory in sources)
            {
                var source = new LocalMirrorSource(MirrorSource.Normalize(sourceDirectory));
                var reader = new MirrorReader(source, DateTimeOffset.MinValue);
                var root = await reader.UpdateRootAsync(await reader.ReadInitialRootAsync(cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
                var timestamp = await reader.ReadTimestampAsync(root.Signed, null, cancellationToken).ConfigureAwait(false);
                var snapshot = await reader.ReadSnapshotAsync(root.Signed, timestamp.Signed, null, cancellationToken).ConfigureAwait(false);
                var index = await reader.ReadIndexAsync(root.Signed, snapshot.Signed, null, cancellationToken).ConfigureAwait(false);
                foreach (var (id, item) in index.Signed.Components)
                {
                    if (item.Yanked || target.Index.Signed.Components.GetValueOrDefault(id)?.Yanked == true)
                    {
                        continue;
                    }

                    var component = (await reader.ReadComponentAsync(index.Signed, snapshot.Signed, id, null, cancellationToken).ConfigureAwait(false)).Signed;
                    var existing = (await target.ReadComponentAsync(id, cancellationToken).ConfigureAwait(false))?.Signed;
                    foreach (var (platform, versions) in component.Platforms)
                    {
                        foreach (var (version, versionItem) in versions)
                        {
                            var present = existing?.Platforms.GetValueOrDefault(platform)?.ContainsKey(version) == true
                                || (additions.TryGetValue(id, out var pending) && pending.Versions.Any(v => v.Item1 == platform && v.Item2 == version));
                            if (versionItem.Yanked || version.Contains("nightly", StringComparison.Ordinal) || present)
                            {
                                continue;
                            }

                            progress?.Report($"merging {id} {version} {platform} from {source.Address}");
                            var path = Path.Combine(temporary, $"{additions.Count}-{ManifestNames.TarballName(id, version, platform)}");
                            var stream = new FileStream(path, FileMode.Create, FileAccess.Write);
                            await using (stream.ConfigureAwait(false))
                            {
                                await reader.CopyTarballAsync(versionItem, stream, cancellationToken).ConfigureAwait(false);
                            }

                            Tarball.RequireSafeMembers(path, "nothing was merged");

                            if (!additions.TryGetValue(id, out var entry))
                            {
                                entry = (component.Description, item.Hidden, item.Standalone, []);
                                additions[id] = entry;
                            }

                            entry.Versions.Add((platform, version, versionItem, path));
                        }
                    }
                }
            }

            if (additions.Count == 0)
            {
                return new MirrorChange("nothing to merge: the target already has every version the sources offer", [], []);
            }

            var list = additions.Select(a => (a.Key, a.Value.Description, a.Value.Hidden, a.Value.Standalone, a.Value.Versions.ToImmutableArray())).ToList();
            var count = list.Sum(l => l.Item5.Length);
            return await target.AddVersionsAsync(list, ownerKeys, $"merged {count} version(s) of {list.Count} component(s)", cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Directory.Delete(temporary, recursive: true);
        }
    }
}
