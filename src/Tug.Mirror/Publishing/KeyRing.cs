// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Mirror.Crypto;
using Tug.Mirror.Manifests;

namespace Tug.Mirror.Publishing;

/// <summary>Private keys available for signing, indexed by key ID.</summary>
public sealed class KeyRing
{
    private readonly Dictionary<string, KeyInfo> _keys = new(StringComparer.Ordinal);

    /// <summary>Retired keys (after a rotation) live here and are not loaded.</summary>
    public const string RetiredFolder = "retired";

    public IReadOnlyDictionary<string, KeyInfo> Keys => _keys;

    /// <summary>Adds a private key.</summary>
    public void Add(KeyInfo key)
    {
        if (key.IsPrivate)
        {
            _keys[key.Id()] = key;
        }
    }

    /// <summary>Loads every <c>*.json</c> key file under a directory (recursively, skipping <c>retired/</c>).</summary>
    /// <exception cref="MirrorException">A file there is not a key.</exception>
    public void AddDirectory(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(directory, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(directory, file);
            if (relative.StartsWith(RetiredFolder + "/", StringComparison.Ordinal))
            {
                continue;
            }

            Add(KeyInfo.Load(file));
        }
    }

    /// <summary>The private keys for the given public key IDs.</summary>
    public ImmutableArray<KeyInfo> For(IEnumerable<string> keyIds) =>
        [.. keyIds.Where(_keys.ContainsKey).Select(id => _keys[id])];

    /// <summary>Keys for a top-level role, at least its threshold of them.</summary>
    /// <exception cref="MirrorException">Fewer keys than the threshold are available.</exception>
    public ImmutableArray<KeyInfo> ForRole(RootManifest root, string role, string keyDirectory)
    {
        var spec = root.Roles[role];
        var keys = For(spec.Keys.Keys);
        if ((ulong)keys.Length < spec.Threshold)
        {
            throw new MirrorException(MirrorErrors.KeyNotAuthorized,
                $"Signing '{role}' needs {spec.Threshold} of its {spec.Keys.Count} key(s) ({string.Join(", ", spec.Keys.Keys.Select(Trust.KeyIdPrefix))}); {keys.Length} found in {keyDirectory}.",
                keyDirectory, $"Copy the mirror's '{role}' key files into {keyDirectory} (the keys/ folder `tug mirror init` or `clone` wrote).");
        }

        return keys;
    }

    /// <summary>Keys for a component owner, at least its threshold of them.</summary>
    /// <exception cref="MirrorException">Fewer keys than the threshold are available.</exception>
    public ImmutableArray<KeyInfo> ForOwner(IndexManifest index, string ownerId, string component)
    {
        var owner = index.Owners[ownerId];
        var keys = For(owner.Keys.Keys);
        if (keys.Length < Math.Max(1, owner.Threshold))
        {
            throw new MirrorException(MirrorErrors.KeyNotAuthorized,
                $"Component '{component}' belongs to owner '{ownerId}' ({owner.Name}), whose key(s) {string.Join(", ", owner.Keys.Keys.Select(Trust.KeyIdPrefix))} were not given.",
                null, "Pass the owner's private key with --key FILE (for an offline package: its keys/<id>-pingcap.json).");
        }

        return keys;
    }
}
