// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Security.Cryptography;
using Tug.Mirror.Manifests;
using Tug.Mirror.Sources;

namespace Tug.Mirror;

/// <summary>
/// Reads a mirror's manifests in TiUP's client order (root chain, timestamp, snapshot, index, components, tarballs),
/// checking each file against the one before it: signatures and thresholds, expiry, versions and lengths.
/// </summary>
public sealed class MirrorReader(IMirrorSource source, DateTimeOffset now)
{
    /// <summary>TiUP's client limit for root manifests.</summary>
    public const long MaxRootLength = 1024 * 1024;

    /// <summary>TiUP's client limit for timestamp.json.</summary>
    public const long MaxTimestampLength = 1024;

    public IMirrorSource Source => source;

    public DateTimeOffset Now => now;

    /// <summary>Reads the mirror's own <c>root.json</c> as the initial trust anchor (trust on first use).</summary>
    /// <exception cref="MirrorException">Missing, malformed, or not signed by its own root keys.</exception>
    public async Task<SignedManifest<RootManifest>> ReadInitialRootAsync(CancellationToken cancellationToken)
    {
        const string name = "root.json";
        var bytes = await source.TryReadAsync(name, MaxRootLength, cancellationToken).ConfigureAwait(false)
            ?? throw new MirrorException(MirrorErrors.NotFound, $"{source.Address} has no root.json: it is not a TiUP/Tug mirror.", name,
                "Check the address; create a mirror with `tug mirror init DIR` or copy one with `tug mirror clone`.");
        return ParseTrustedRoot(bytes, name);
    }

    /// <summary>Parses a root used as a trust anchor and checks it against its own keys.</summary>
    /// <exception cref="MirrorException">Malformed or not signed by its own root keys.</exception>
    public SignedManifest<RootManifest> ParseTrustedRoot(byte[] bytes, string name)
    {
        var root = Manifest.ParseRoot(bytes, name);
        Trust.CheckRoot(root.Signed, name);
        Trust.VerifySignatures(root, name, Trust.KeysOf(root.Signed, ManifestNames.Root), now);
        return root;
    }

    /// <summary>Follows <c>N+1.root.json</c> from a trusted root; each new root must be signed by the old and the new root keys.</summary>
    /// <exception cref="MirrorException">A new root fails verification, or the final root has expired.</exception>
    public async Task<SignedManifest<RootManifest>> UpdateRootAsync(SignedManifest<RootManifest> trusted, CancellationToken cancellationToken)
    {
        var current = trusted;
        while (true)
        {
            var next = current.Signed.Version + 1;
            var name = ManifestNames.Versioned(next, ManifestNames.Root);
            var bytes = await source.TryReadAsync(name, MaxRootLength, cancellationToken).ConfigureAwait(false);
            if (bytes is null)
            {
                break;
            }

            var candidate = Manifest.ParseRoot(bytes, name);
            Trust.CheckRoot(candidate.Signed, name);
            Trust.VerifySignatures(candidate, name, Trust.KeysOf(current.Signed, ManifestNames.Root) with { Role = "previous root" }, now);
            Trust.VerifySignatures(candidate, name, Trust.KeysOf(candidate.Signed, ManifestNames.Root), now);
            if (candidate.Signed.Version != next)
            {
                throw new MirrorException(MirrorErrors.RootChain, $"{name} declares version {candidate.Signed.Version}; the root chain needs version {next} there.", name,
                    "The mirror's root files were renamed or mixed up; restore them from the mirror's source.");
            }

            if (ManifestNames.TryParseTime(candidate.Signed.Expires, out var newExpires)
                && ManifestNames.TryParseTime(current.Signed.Expires, out var oldExpires) && newExpires < oldExpires)
            {
                throw new MirrorException(MirrorErrors.RootChain, $"{name} expires earlier than the root it replaces ({candidate.Signed.Expires} < {current.Signed.Expires}).", name,
                    "A new root must not shorten trust; its owner must publish a root with a later expiry.");
            }

            current = candidate;
        }

        CheckRootNotExpired(current.Signed, current.Signed.Version == 1 ? "root.json" : ManifestNames.Versioned(current.Signed.Version, ManifestNames.Root));
        return current;
    }

    /// <summary>Reads and verifies <c>timestamp.json</c>.</summary>
    /// <exception cref="MirrorException">Missing, too long, badly signed, expired, or older than <paramref name="trusted"/>.</exception>
    public async Task<SignedManifest<TimestampManifest>> ReadTimestampAsync(RootManifest root, TimestampManifest? trusted, CancellationToken cancellationToken)
    {
        const string name = "timestamp.json";
        var bytes = await ReadRequiredAsync(name, MaxTimestampLength, "TiUP's client limit", cancellationToken).ConfigureAwait(false);
        var timestamp = Manifest.ParseTimestamp(bytes, name);
        Trust.VerifySignatures(timestamp, name, Trust.KeysOf(root, ManifestNames.Timestamp), now);
        Trust.CheckNotExpired(timestamp.Signed, name, now);
        if (timestamp.Signed.Snapshot is not { } snap || snap.Hashes.GetValueOrDefault("sha256") is null || timestamp.Signed.Meta.Count != 1)
        {
            throw new MirrorException(MirrorErrors.BadSchema, $"{name} must hold exactly one entry, \"/snapshot.json\", with a sha256 hash.", name);
        }

        CheckNotRolledBack(name, timestamp.Signed.Version, trusted?.Version);
        return timestamp;
    }

    /// <summary>Reads <c>snapshot.json</c> and checks it against the timestamp's hash and length.</summary>
    /// <remarks>With <paramref name="bindToTimestamp"/> false only the length limit is taken from the timestamp (diagnostics after a mismatch).</remarks>
    /// <exception cref="MirrorException">Missing, too long, hash mismatch, badly signed, expired, or rolled back.</exception>
    public async Task<SignedManifest<SnapshotManifest>> ReadSnapshotAsync(RootManifest root, TimestampManifest timestamp, SnapshotManifest? trusted, CancellationToken cancellationToken, bool bindToTimestamp = true)
    {
        const string name = "snapshot.json";
        var expected = timestamp.Snapshot!;
        var bytes = await ReadRequiredAsync(name, (long)expected.Length, "declared in timestamp.json", cancellationToken).ConfigureAwait(false);
        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (bindToTimestamp && actual != expected.Hashes["sha256"])
        {
            throw new MirrorException(MirrorErrors.MixAndMatch,
                $"{name} has sha256 {actual[..16]}… but timestamp.json (version {timestamp.Version}) requires {expected.Hashes["sha256"][..Math.Min(16, expected.Hashes["sha256"].Length)]}…: the snapshot does not belong to this timestamp (mix-and-match, tampering, or a publish caught half-way).",
                name, "Fetch the mirror again; if you own it, run `tug mirror renew timestamp` after checking the snapshot.");
        }

        var snapshot = Manifest.ParseSnapshot(bytes, name);
        Trust.VerifySignatures(snapshot, name, Trust.KeysOf(root, ManifestNames.Snapshot), now);
        Trust.CheckNotExpired(snapshot.Signed, name, now);
        if (trusted is not null)
        {
            foreach (var (path, old) in trusted.Meta)
            {
                if (snapshot.Signed.Meta.TryGetValue(path, out var current) && current.Version < old.Version)
                {
                    throw new MirrorException(MirrorErrors.Rollback,
                        $"{name} lists {path} at version {current.Version}, lower than version {old.Version} already trusted by this machine: the mirror serves old metadata (rollback attack or a restored backup).",
                        name, RollbackHint);
                }
            }
        }

        if (snapshot.Signed.Meta.GetValueOrDefault(ManifestNames.MetaKey(ManifestNames.Root)) is { } rootMeta && rootMeta.Version > root.Version)
        {
            throw new MirrorException(MirrorErrors.RootChain,
                $"{name} names root version {rootMeta.Version} but the newest root found is version {root.Version}.", name,
                $"The mirror lacks {rootMeta.Version}.root.json; copy the complete mirror from its source.");
        }

        return snapshot;
    }

    /// <summary>Reads the index version the snapshot names and verifies it with the root's index keys.</summary>
    /// <exception cref="MirrorException">Missing, too long, badly signed, expired, mismatched or rolled back.</exception>
    public async Task<SignedManifest<IndexManifest>> ReadIndexAsync(RootManifest root, SnapshotManifest snapshot, IndexManifest? trusted, CancellationToken cancellationToken)
    {
        var meta = snapshot.Meta.GetValueOrDefault(ManifestNames.MetaKey(ManifestNames.Index))
            ?? throw new MirrorException(MirrorErrors.BadSchema, "snapshot.json has no entry for /index.json.", "snapshot.json");
        var name = ManifestNames.Versioned(meta.Version, ManifestNames.Index);
        var bytes = await ReadRequiredAsync(name, (long)meta.Length, "declared in snapshot.json", cancellationToken).ConfigureAwait(false);
        var index = Manifest.ParseIndex(bytes, name);
        Trust.VerifySignatures(index, name, Trust.KeysOf(root, ManifestNames.Index), now);
        Trust.CheckNotExpired(index.Signed, name, now);
        CheckSnapshotVersion(name, index.Signed.Version, meta.Version);
        CheckNotRolledBack(name, index.Signed.Version, trusted?.Version);
        foreach (var (id, item) in index.Signed.Components)
        {
            if (!index.Signed.Owners.ContainsKey(item.Owner))
            {
                throw new MirrorException(MirrorErrors.BadSchema, $"{name}: component '{id}' names owner '{item.Owner}', which the index does not declare.", name);
            }
        }

        return index;
    }

    /// <summary>Reads a component manifest at the version the snapshot names, verified with its owner's keys.</summary>
    /// <exception cref="MirrorException">Unknown component, missing, too long, badly signed, expired, mismatched or rolled back.</exception>
    public async Task<SignedManifest<ComponentManifest>> ReadComponentAsync(IndexManifest index, SnapshotManifest snapshot, string id, ComponentManifest? trusted, CancellationToken cancellationToken)
    {
        if (!index.Components.TryGetValue(id, out var item))
        {
            throw new MirrorException(MirrorErrors.NotFound, $"The mirror has no component '{id}'.", null,
                $"See what it offers with `tug list`; publish it with `tug mirror publish {id} VERSION TARBALL ENTRY`.");
        }

        var metaKey = item.Url;
        var meta = snapshot.Meta.GetValueOrDefault(metaKey)
            ?? throw new MirrorException(MirrorErrors.MixAndMatch, $"snapshot.json has no entry for {metaKey}, which the index lists for '{id}'.", "snapshot.json",
                "The snapshot and the index disagree; fetch the mirror again, or re-publish the component.");
        var name = ManifestNames.Versioned(meta.Version, id);
        var bytes = await ReadRequiredAsync(name, (long)meta.Length, "declared in snapshot.json", cancellationToken).ConfigureAwait(false);
        var component = Manifest.ParseComponent(bytes, name);
        Trust.VerifySignatures(component, name, Trust.KeysOfOwner(index, item.Owner, name), now);
        Trust.CheckNotExpired(component.Signed, name, now);
        if (component.Signed.Id != id)
        {
            throw new MirrorException(MirrorErrors.MixAndMatch, $"{name} is the manifest of '{component.Signed.Id}', not of '{id}'.", name,
                "The mirror's files were mixed up or replaced; fetch it again from its source.");
        }

        CheckSnapshotVersion(name, component.Signed.Version, meta.Version);
        CheckNotRolledBack(name, component.Signed.Version, trusted?.Version);
        return component;
    }

    /// <summary>Copies a tarball to <paramref name="destination"/>, checking its length and every hash the manifest gives.</summary>
    /// <exception cref="MirrorException">Missing, longer or shorter than declared, or a hash differs.</exception>
    public async Task CopyTarballAsync(VersionItem item, Stream destination, CancellationToken cancellationToken)
    {
        var name = item.Url.TrimStart('/');
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var sha512 = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        var hashing = new HashingStream(destination, sha256, sha512);
        await source.CopyToAsync(name, (long)item.Length, hashing, cancellationToken).ConfigureAwait(false);
        CheckTarball(item, name, hashing.Written, sha256, sha512);
    }

    /// <summary>Checks a tarball's length and hashes against its version item.</summary>
    /// <exception cref="MirrorException">The length or a hash differs.</exception>
    public static void CheckTarball(VersionItem item, string name, long written, IncrementalHash sha256, IncrementalHash sha512)
    {
        if ((ulong)written != item.Length)
        {
            throw new MirrorException(MirrorErrors.LengthMismatch,
                $"{name} is {written} bytes but its manifest declares {item.Length}: the tarball was replaced or cut short.", name,
                "Do not install it; restore the tarball from the mirror's source or publish it again.");
        }

        foreach (var (algorithm, hash) in new[] { ("sha256", sha256), ("sha512", sha512) })
        {
            if (item.Hashes.TryGetValue(algorithm, out var expected))
            {
                var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
                if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
                {
                    throw new MirrorException(MirrorErrors.HashMismatch,
                        $"{name} has {algorithm} {actual[..16]}… but its signed manifest declares {expected[..Math.Min(16, expected.Length)]}…: the tarball was tampered with or damaged.",
                        name, "Do not install it; restore the tarball from the mirror's source or publish it again.");
                }
            }
        }
    }

    private const string RollbackHint =
        "Do not use this mirror. If it was deliberately restored from a backup, trust it afresh with `tug mirror set ADDRESS`.";

    private async Task<byte[]> ReadRequiredAsync(string name, long maxLength, string limitSource, CancellationToken cancellationToken)
    {
        try
        {
            return await source.TryReadAsync(name, maxLength, cancellationToken).ConfigureAwait(false)
                ?? throw new MirrorException(MirrorErrors.NotFound, $"{name} is missing from mirror {source.Address}.", name,
                    "The mirror is incomplete; copy it again from its source.");
        }
        catch (MirrorException e) when (e.Code == MirrorErrors.TooLong)
        {
            throw new MirrorException(MirrorErrors.TooLong,
                $"{name} is longer than the {maxLength} bytes {limitSource}: refusing to read more (endless-data attack or a damaged mirror).", name, e.Hint, e);
        }
    }

    private void CheckRootNotExpired(RootManifest root, string name)
    {
        if (ManifestNames.TryParseTime(root.Expires, out var expires) && expires < now)
        {
            throw new MirrorException(MirrorErrors.Expired,
                $"{name} (root version {root.Version}) expired at {root.Expires} and no newer root was found: every role's keys are untrusted until a new root is published.",
                name, "If you hold the root keys, run `tug mirror renew root --days N`; to audit an old mirror, use `tug mirror verify --at TIME`.");
        }
    }

    private static void CheckSnapshotVersion(string name, ulong actual, ulong expected)
    {
        if (actual != expected)
        {
            throw new MirrorException(MirrorErrors.MixAndMatch,
                $"{name} holds version {actual}, but snapshot.json says version {expected}: the file does not belong to this snapshot (mix-and-match).",
                name, "Fetch the mirror again from its source; if you own it, publish again so the snapshot and the file agree.");
        }
    }

    private static void CheckNotRolledBack(string name, ulong version, ulong? trusted)
    {
        if (trusted is { } t && version < t)
        {
            throw new MirrorException(MirrorErrors.Rollback,
                $"{name} is version {version}, lower than version {t} already trusted by this machine: the mirror serves old metadata (rollback attack or a restored backup).",
                name, RollbackHint);
        }
    }
}

/// <summary>A write-through stream that hashes and counts what passes.</summary>
internal sealed class HashingStream(Stream inner, params IncrementalHash[] hashes) : Stream
{
    public long Written { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => Written;

    public override long Position { get => Written; set => throw new NotSupportedException(); }

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        foreach (var hash in hashes)
        {
            hash.AppendData(buffer);
        }

        Written += buffer.Length;
        inner.Write(buffer);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        foreach (var hash in hashes)
        {
            hash.AppendData(buffer.Span);
        }

        Written += buffer.Length;
        await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }
}
