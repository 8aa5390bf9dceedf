// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Security.Cryptography;
using Tug.Mirror.Crypto;
using Tug.Mirror.Json;

namespace Tug.Mirror.Manifests;

/// <summary>The keys allowed to sign one role, how many must sign, and until when the keys are trusted.</summary>
public sealed record RoleKeys(string Role, ImmutableSortedDictionary<string, KeyInfo> Keys, ulong Threshold, DateTimeOffset? KeysExpire);

/// <summary>Signature, threshold and expiry checks in TiUP's order (key_store.go), with messages that say what to do.</summary>
public static class Trust
{
    /// <summary>Checks the signatures of a manifest against the keys of a role.</summary>
    /// <exception cref="MirrorException">A duplicate, a bad signature, or fewer valid signatures than the threshold.</exception>
    public static void VerifySignatures<T>(SignedManifest<T> manifest, string file, RoleKeys role, DateTimeOffset now)
        where T : IRole
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var valid = 0UL;
        var unknown = new List<string>();
        foreach (var signature in manifest.Signatures)
        {
            if (!seen.Add(signature.KeyId))
            {
                throw new MirrorException(MirrorErrors.DuplicateSignature,
                    $"{file} carries two signatures by key {KeyIdPrefix(signature.KeyId)}; a key may sign a manifest once.", file,
                    "The file was edited by hand or by a faulty tool; re-sign it with `tug mirror renew`.");
            }

            if (!role.Keys.TryGetValue(signature.KeyId, out var key))
            {
                unknown.Add(signature.KeyId);
                continue;
            }

            if (!key.Verify(manifest.RawSigned, signature.Sig))
            {
                throw new MirrorException(MirrorErrors.BadSignature,
                    $"{file}: the signature by {role.Role} key {KeyIdPrefix(signature.KeyId)} does not match the file's content: the manifest was changed after it was signed (tampered or damaged).",
                    file, "Do not use this mirror until the file is restored from its source; if you own the mirror, re-sign it with `tug mirror renew`.");
            }

            valid++;
        }

        if (role.KeysExpire is { } keysExpire && keysExpire < now)
        {
            throw new MirrorException(MirrorErrors.Expired,
                $"{file}: the {role.Role} keys expired at {ManifestNames.FormatTime(keysExpire)} together with the manifest that declares them.", file,
                "Renew the declaring manifest (`tug mirror renew root` or `tug mirror renew index`) with its owner's keys.");
        }

        if (valid < role.Threshold)
        {
            var unknownText = unknown.Count == 0 ? string.Empty
                : $"; signed by key(s) not trusted for '{role.Role}': {string.Join(", ", unknown.Select(KeyIdPrefix))}";
            throw new MirrorException(MirrorErrors.Threshold,
                $"{file} has {valid} valid signature(s) by '{role.Role}' keys but needs {role.Threshold}{unknownText}.", file,
                unknown.Count > 0
                    ? "The file was signed by a key this mirror's root does not name for that role: it is not from the mirror's owner, or the keys were rotated without a new root. Do not use it."
                    : "Have enough holders of the role's keys sign it (`tug mirror renew` with the keys), or lower the threshold in a new root.");
        }
    }

    /// <summary>Checks that a non-root manifest has not expired.</summary>
    /// <exception cref="MirrorException">The manifest has expired or its expiry cannot be read.</exception>
    public static void CheckNotExpired(IRole role, string file, DateTimeOffset now)
    {
        if (!ManifestNames.TryParseTime(role.Expires, out var expires))
        {
            throw new MirrorException(MirrorErrors.BadSchema, $"{file}: expires \"{role.Expires}\" is not an RFC 3339 time.", file);
        }

        if (expires < now)
        {
            throw new MirrorException(MirrorErrors.Expired,
                $"{file} expired at {ManifestNames.FormatTime(expires)} (checked as of {ManifestNames.FormatTime(now)}): a client must not trust stale metadata (freeze attack or a mirror nobody renewed).",
                file,
                role.Type == ManifestNames.Component
                    ? $"If you own the mirror, run `tug mirror renew {((ComponentManifest)role).Id} --days N`; to audit an old mirror, use `tug mirror verify --at TIME`."
                    : $"If you own the mirror, run `tug mirror renew {role.Type} --days N` (it works after expiry); to audit an old mirror, use `tug mirror verify --at TIME`.");
        }
    }

    /// <summary>Validates the structure of a root: the four roles, thresholds, key IDs and key types.</summary>
    /// <exception cref="MirrorException">The root is malformed.</exception>
    public static void CheckRoot(RootManifest root, string file)
    {
        foreach (var role in ManifestNames.TopLevelRoles)
        {
            if (!root.Roles.TryGetValue(role, out var spec))
            {
                throw new MirrorException(MirrorErrors.BadSchema, $"{file} declares no '{role}' role; a root must declare root, index, snapshot and timestamp.", file);
            }

            if (spec.Threshold == 0 || (ulong)spec.Keys.Count < spec.Threshold)
            {
                throw new MirrorException(MirrorErrors.BadSchema,
                    $"{file}: role '{role}' has threshold {spec.Threshold} and {spec.Keys.Count} key(s); the threshold must be at least 1 and at most the number of keys.", file);
            }

            foreach (var (id, key) in spec.Keys)
            {
                var actual = Convert.ToHexStringLower(SHA256.HashData(CanonicalJson.Serialize(key.ToJson())));
                if (actual != id || key.IsPrivate)
                {
                    throw new MirrorException(MirrorErrors.BadKey,
                        $"{file}: key listed as {KeyIdPrefix(id)} for role '{role}' has ID {KeyIdPrefix(actual)}; a root must name each public key by its own ID.", file);
                }
            }
        }
    }

    /// <summary>The keys of a top-level role, as declared by a root.</summary>
    public static RoleKeys KeysOf(RootManifest root, string role)
    {
        var spec = root.Roles[role];
        DateTimeOffset? expires = role == ManifestNames.Root || !ManifestNames.TryParseTime(root.Expires, out var e) ? null : e;
        return new RoleKeys(role, spec.Keys, spec.Threshold, expires);
    }

    /// <summary>The keys of a component owner, as declared by an index.</summary>
    /// <exception cref="MirrorException">The owner is unknown or has no usable threshold.</exception>
    public static RoleKeys KeysOfOwner(IndexManifest index, string ownerId, string file)
    {
        if (!index.Owners.TryGetValue(ownerId, out var owner))
        {
            throw new MirrorException(MirrorErrors.BadSchema, $"{file}: the index names owner '{ownerId}' but does not declare it.", file);
        }

        if (owner.Threshold < 1)
        {
            throw new MirrorException(MirrorErrors.BadSchema,
                $"{file}: owner '{ownerId}' has threshold {owner.Threshold}; TiUP refuses an owner threshold below 1 (a legacy index).", file,
                "Re-create the owner with `tug mirror grant`.");
        }

        DateTimeOffset? expires = ManifestNames.TryParseTime(index.Expires, out var e) ? e : null;
        return new RoleKeys($"owner {ownerId}", owner.Keys, (ulong)owner.Threshold, expires);
    }

    /// <summary>Abbreviates a key ID for messages.</summary>
    public static string KeyIdPrefix(string keyId) => keyId.Length > 16 ? keyId[..16] : keyId;
}
