// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace Tug.Core.Cluster;

/// <summary>
/// What an instance's running executable was when it was last verified by hash (running executable = deployed file =
/// signed package): its identity as the probe reads it, the sha256 it had, what it printed for its version, and when.
/// </summary>
/// <param name="Identity">The probe's identity string (boot, process start, device:inode:size:mtime:ctime of the executable and of the deployed file).</param>
/// <param name="Sha256">The sha256 the running executable and the deployed file both had.</param>
/// <param name="VersionOutput">What the executable printed for its version arguments.</param>
/// <param name="VerifiedAt">When it was hashed and found verified.</param>
public sealed record VerifiedIdentity(string Identity, string Sha256, string VersionOutput, DateTimeOffset VerifiedAt);

/// <summary>
/// The file <c>verified.tsv</c> beside meta.yaml: one line per instance last verified by hash,
/// <c>ID TAB IDENTITY TAB SHA256 TAB VERSION_B64 TAB VERIFIED_AT</c>. It only saves work: display trusts an entry only
/// while the host reports the same identity and meta.yaml records the same sha256; a missing or unreadable file is an
/// empty one (everything is hashed again).
/// </summary>
public static class VerifiedIdentities
{
    /// <summary>The file's name inside the cluster's directory.</summary>
    public const string FileName = "verified.tsv";

    /// <summary>The text of the file for <paramref name="entries"/>, sorted by instance ID.</summary>
    public static string Format(IReadOnlyDictionary<string, VerifiedIdentity> entries) =>
        string.Concat(entries.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e =>
            $"{e.Key}\t{e.Value.Identity}\t{e.Value.Sha256}\t{Convert.ToBase64String(Encoding.UTF8.GetBytes(e.Value.VersionOutput))}\t{e.Value.VerifiedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)}\n"));

    /// <summary>Reads the file's text; a line that does not have the five fields, or whose fields do not parse, is left out.</summary>
    public static ImmutableDictionary<string, VerifiedIdentity> Parse(string text)
    {
        var result = ImmutableDictionary.CreateBuilder<string, VerifiedIdentity>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split('\t');
            if (f.Length != 5 || f[0].Length == 0 || f[1].Length == 0 || f[2].Length != 64
                || !DateTimeOffset.TryParse(f[4], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
            {
                continue;
            }

            string version;
            try
            {
                version = Encoding.UTF8.GetString(Convert.FromBase64String(f[3]));
            }
            catch (FormatException)
            {
                continue;
            }

            result[f[0]] = new VerifiedIdentity(f[1], f[2], version, at);
        }

        return result.ToImmutable();
    }

    /// <summary>
    /// The entries after a probe: each instance hashed now and verified gets a fresh entry (its identity, sha256,
    /// version, <paramref name="now"/>); one found not verified loses its entry; one answered from its entry keeps it.
    /// </summary>
    public static ImmutableDictionary<string, VerifiedIdentity> Update(ImmutableDictionary<string, VerifiedIdentity> entries, IEnumerable<InstanceStatus> statuses, DateTimeOffset now)
    {
        var result = entries.ToBuilder();
        foreach (var s in statuses)
        {
            if (s.Status is "Unreachable" or "Error")
            {
                continue;
            }

            if (!s.Verified || s.Identity is null || s.Sha256 is null)
            {
                result.Remove(s.Id);
            }
            else if (s.VerifiedBy == InstanceStatus.ByHash)
            {
                result[s.Id] = new VerifiedIdentity(s.Identity, s.Sha256, s.VersionOutput ?? string.Empty, now);
            }
        }

        return result.ToImmutable();
    }
}
