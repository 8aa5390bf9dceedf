// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Mirror.Manifests;

namespace Tug.Mirror;

/// <summary>How serious a finding is.</summary>
public enum FindingSeverity
{
    Warning,
    Error,
}

/// <summary>One thing verification found about one file.</summary>
public sealed record MirrorFinding(FindingSeverity Severity, string Code, string File, string Message, string? Hint);

/// <summary>A file that was checked, and what it is.</summary>
public sealed record CheckedFile(string File, string Role, ulong Version, string Expires, bool Ok);

/// <summary>The outcome of a full mirror check.</summary>
public sealed record VerificationReport(string Address, DateTimeOffset At, ImmutableArray<CheckedFile> Files, ImmutableArray<MirrorFinding> Findings)
{
    public bool Ok => Findings.All(f => f.Severity != FindingSeverity.Error);

    public int Errors => Findings.Count(f => f.Severity == FindingSeverity.Error);

    public int Warnings => Findings.Count(f => f.Severity == FindingSeverity.Warning);
}

/// <summary>Options of a full check.</summary>
/// <param name="TrustedRoot">Trust anchor; null to trust the mirror's own root.json.</param>
/// <param name="Trusted">Last trusted manifests of this machine, for rollback checks; null when none.</param>
/// <param name="CheckTarballs">Whether to hash every non-yanked tarball.</param>
/// <param name="ExpiryWarning">Warn when a role expires within this span.</param>
public sealed record VerifyOptions(byte[]? TrustedRoot, TrustedState? Trusted, bool CheckTarballs, TimeSpan ExpiryWarning);

/// <summary>
/// The full client check in TiUP's order — root chain, timestamp, snapshot, index, components, tarballs — that
/// collects every failure instead of stopping at the first, so an operator sees all that is wrong at once.
/// </summary>
public sealed class MirrorVerifier(MirrorReader reader)
{
    /// <summary>Runs the check. Never throws for a broken mirror; every problem becomes a finding.</summary>
    public async Task<VerificationReport> VerifyAsync(VerifyOptions options, CancellationToken cancellationToken)
    {
        var files = ImmutableArray.CreateBuilder<CheckedFile>();
        var findings = ImmutableArray.CreateBuilder<MirrorFinding>();
        var now = reader.Now;

        void Fail(MirrorException e, string file) =>
            findings.Add(new MirrorFinding(FindingSeverity.Error, e.Code, e.File ?? file, e.Message, e.Hint));

        void Record<T>(SignedManifest<T> manifest, string file)
            where T : IRole
        {
            files.Add(new CheckedFile(file, manifest.Signed.Type, manifest.Signed.Version, manifest.Signed.Expires, true));
            if (ManifestNames.TryParseTime(manifest.Signed.Expires, out var expires) && expires >= now && expires - now < options.ExpiryWarning)
            {
                findings.Add(new MirrorFinding(FindingSeverity.Warning, MirrorErrors.Expired, file,
                    $"{file} expires in {(expires - now).TotalDays:0.#} days, at {manifest.Signed.Expires}.",
                    manifest.Signed.Type == ManifestNames.Component
                        ? $"Renew it before then: `tug mirror renew {((ComponentManifest)(object)manifest.Signed).Id} --days N`."
                        : $"Renew it before then: `tug mirror renew {manifest.Signed.Type} --days N`."));
            }

            if (!manifest.IsCurrentSchema)
            {
                findings.Add(new MirrorFinding(FindingSeverity.Warning, MirrorErrors.NotCanonical, file,
                    $"{file} is not byte for byte in TiUP's current schema (legacy fields or non-canonical encoding): current TiUP clients reject their re-serialized cache of it.",
                    "Re-sign it with a current tool (`tug mirror renew`)."));
            }
        }

        SignedManifest<RootManifest> root;
        try
        {
            var anchor = options.TrustedRoot is { } bytes
                ? reader.ParseTrustedRoot(bytes, "trusted root.json")
                : await reader.ReadInitialRootAsync(cancellationToken).ConfigureAwait(false);
            root = await reader.UpdateRootAsync(anchor, cancellationToken).ConfigureAwait(false);
            Record(root, root.Signed.Version == anchor.Signed.Version ? "root.json" : ManifestNames.Versioned(root.Signed.Version, ManifestNames.Root));
        }
        catch (MirrorException e)
        {
            Fail(e, "root.json");
            return new VerificationReport(reader.Source.Address, now, files.ToImmutable(), findings.ToImmutable());
        }

        SignedManifest<TimestampManifest>? timestamp = null;
        try
        {
            timestamp = await reader.ReadTimestampAsync(root.Signed, options.Trusted?.Timestamp, cancellationToken).ConfigureAwait(false);
            Record(timestamp, "timestamp.json");
        }
        catch (MirrorException e)
        {
            Fail(e, "timestamp.json");
        }

        SignedManifest<SnapshotManifest>? snapshot = null;
        try
        {
            // Without a trusted timestamp the snapshot is still checked on its own, with the length TiUP allows.
            var expected = timestamp?.Signed ?? await UnverifiedTimestampAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                snapshot = await reader.ReadSnapshotAsync(root.Signed, expected, options.Trusted?.Snapshot, cancellationToken).ConfigureAwait(false);
            }
            catch (MirrorException e) when (e.Code == MirrorErrors.MixAndMatch)
            {
                // The snapshot does not belong to the timestamp; still check it on its own so the rest can be diagnosed.
                Fail(e, "snapshot.json");
                snapshot = await reader.ReadSnapshotAsync(root.Signed, expected, options.Trusted?.Snapshot, cancellationToken, bindToTimestamp: false).ConfigureAwait(false);
            }

            Record(snapshot, "snapshot.json");
        }
        catch (MirrorException e)
        {
            Fail(e, "snapshot.json");
        }

        if (snapshot is null)
        {
            return new VerificationReport(reader.Source.Address, now, files.ToImmutable(), findings.ToImmutable());
        }

        SignedManifest<IndexManifest> index;
        try
        {
            index = await reader.ReadIndexAsync(root.Signed, snapshot.Signed, options.Trusted?.Index, cancellationToken).ConfigureAwait(false);
            Record(index, ManifestNames.Versioned(index.Signed.Version, ManifestNames.Index));
        }
        catch (MirrorException e)
        {
            Fail(e, "index.json");
            return new VerificationReport(reader.Source.Address, now, files.ToImmutable(), findings.ToImmutable());
        }

        foreach (var (id, item) in index.Signed.Components)
        {
            SignedManifest<ComponentManifest> component;
            try
            {
                component = await reader.ReadComponentAsync(index.Signed, snapshot.Signed, id, options.Trusted?.Components.GetValueOrDefault(id), cancellationToken).ConfigureAwait(false);
                Record(component, ManifestNames.Versioned(component.Signed.Version, id));
            }
            catch (MirrorException e)
            {
                Fail(e, $"{id}.json");
                continue;
            }

            if (!options.CheckTarballs || item.Yanked)
            {
                continue;
            }

            foreach (var (_, versions) in component.Signed.Platforms)
            {
                foreach (var (_, version) in versions)
                {
                    if (version.Yanked)
                    {
                        continue;
                    }

                    try
                    {
                        await reader.CopyTarballAsync(version, Stream.Null, cancellationToken).ConfigureAwait(false);
                        files.Add(new CheckedFile(version.Url.TrimStart('/'), "tarball", 0, string.Empty, true));
                    }
                    catch (MirrorException e)
                    {
                        Fail(e, version.Url.TrimStart('/'));
                    }
                }
            }
        }

        return new VerificationReport(reader.Source.Address, now, files.ToImmutable(), findings.ToImmutable());
    }

    private async Task<TimestampManifest> UnverifiedTimestampAsync(CancellationToken cancellationToken)
    {
        var bytes = await reader.Source.TryReadAsync("timestamp.json", MirrorReader.MaxTimestampLength, cancellationToken).ConfigureAwait(false)
            ?? throw new MirrorException(MirrorErrors.NotFound, "snapshot.json cannot be checked: timestamp.json is missing.", "snapshot.json");
        var parsed = Manifest.ParseTimestamp(bytes, "timestamp.json").Signed;
        return parsed.Snapshot is null
            ? throw new MirrorException(MirrorErrors.BadSchema, "snapshot.json cannot be checked: timestamp.json has no /snapshot.json entry.", "snapshot.json")
            : parsed;
    }
}
