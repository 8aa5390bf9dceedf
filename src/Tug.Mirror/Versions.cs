// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Globalization;
using Tug.Mirror.Manifests;

namespace Tug.Mirror;

/// <summary>TiUP's version rules: <c>v</c>-prefixed SemVer, latest = highest stable non-yanked non-nightly.</summary>
public static class Versions
{
    /// <summary>Adds the <c>v</c> prefix TiUP expects (<c>1.9.0</c> becomes <c>v1.9.0</c>).</summary>
    public static string Normalize(string version) =>
        version.Length > 0 && char.IsAsciiDigit(version[0]) ? "v" + version : version;

    /// <summary>Whether a version is a SemVer with a <c>v</c> prefix, or TiUP's nightly.</summary>
    public static bool IsValid(string version) => version == "nightly" || TryParse(version, out _);

    /// <summary>Versions usable on a platform (not yanked), highest first.</summary>
    public static IReadOnlyList<string> Available(ComponentManifest component, string platform)
    {
        var versions = new SortedSet<string>(Comparer<string>.Create(Compare));
        foreach (var key in new[] { platform, ManifestNames.AnyPlatform })
        {
            if (component.Platforms.TryGetValue(key, out var items))
            {
                foreach (var (version, item) in items)
                {
                    if (!item.Yanked && item.Entry.Length > 0)
                    {
                        versions.Add(version);
                    }
                }
            }
        }

        return [.. versions.Reverse()];
    }

    /// <summary>The version TiUP would pick as latest for a platform; null when none.</summary>
    public static string? Latest(ComponentManifest component, string platform)
    {
        var candidates = Available(component, platform).Where(v => !v.Contains("nightly", StringComparison.Ordinal)).ToList();
        return candidates.FirstOrDefault(v => TryParse(v, out var p) && p.Prerelease.Length == 0) ?? candidates.FirstOrDefault();
    }

    /// <summary>Orders versions by SemVer precedence; unparsable versions sort first, by ordinal.</summary>
    public static int Compare(string? a, string? b)
    {
        var pa = TryParse(a ?? string.Empty, out var va);
        var pb = TryParse(b ?? string.Empty, out var vb);
        if (!pa || !pb)
        {
            return pa == pb ? string.CompareOrdinal(a, b) : pa ? 1 : -1;
        }

        var c = va.Major.CompareTo(vb.Major);
        c = c != 0 ? c : va.Minor.CompareTo(vb.Minor);
        c = c != 0 ? c : va.Patch.CompareTo(vb.Patch);
        if (c != 0)
        {
            return c;
        }

        if (va.Prerelease.Length == 0 || vb.Prerelease.Length == 0)
        {
            return va.Prerelease.Length == vb.Prerelease.Length ? 0 : va.Prerelease.Length == 0 ? 1 : -1;
        }

        var ia = va.Prerelease.Split('.');
        var ib = vb.Prerelease.Split('.');
        for (var i = 0; i < Math.Min(ia.Length, ib.Length); i++)
        {
            var na = long.TryParse(ia[i], NumberStyles.None, CultureInfo.InvariantCulture, out var xa);
            var nb = long.TryParse(ib[i], NumberStyles.None, CultureInfo.InvariantCulture, out var xb);
            c = na && nb ? xa.CompareTo(xb) : na ? -1 : nb ? 1 : string.CompareOrdinal(ia[i], ib[i]);
            if (c != 0)
            {
                return c;
            }
        }

        return ia.Length.CompareTo(ib.Length);
    }

    private readonly record struct SemVer(long Major, long Minor, long Patch, string Prerelease);

    private static bool TryParse(string version, out SemVer parsed)
    {
        parsed = default;
        if (!version.StartsWith('v'))
        {
            return false;
        }

        var core = version[1..];
        var plus = core.IndexOf('+', StringComparison.Ordinal);
        if (plus >= 0)
        {
            core = core[..plus];
        }

        var dash = core.IndexOf('-', StringComparison.Ordinal);
        var prerelease = dash >= 0 ? core[(dash + 1)..] : string.Empty;
        if (dash >= 0)
        {
            core = core[..dash];
        }

        var parts = core.Split('.');
        if (parts.Length != 3
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major)
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minor)
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var patch)
            || (dash >= 0 && prerelease.Length == 0))
        {
            return false;
        }

        parsed = new SemVer(major, minor, patch, prerelease);
        return true;
    }
}
