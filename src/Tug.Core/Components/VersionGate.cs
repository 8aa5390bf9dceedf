// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Globalization;

namespace Tug.Core.Components;

/// <summary>
/// TiUP's <c>tidbver</c> checks: <c>semver.Compare(version, min) &gt;= 0 || contains "nightly"</c>, where a version
/// that is not <c>vMAJOR.MINOR.PATCH[-pre]</c> sorts below every valid one (Go's <c>x/mod/semver</c>).
/// </summary>
internal static class VersionGate
{
    public static bool AtLeast(string version, string minimum) =>
        version.Contains("nightly", StringComparison.Ordinal) || Compare(version, minimum) >= 0;

    public static int Compare(string a, string b)
    {
        var pa = Parse(a);
        var pb = Parse(b);
        if (pa is null || pb is null)
        {
            return pa is null ? (pb is null ? 0 : -1) : 1;
        }

        var (ma, pra) = pa.Value;
        var (mb, prb) = pb.Value;
        var c = ma.CompareTo(mb);
        if (c != 0)
        {
            return c;
        }

        // A pre-release sorts before its release; two pre-releases compare as text (enough for TiUP's gates).
        return pra.Length == 0 || prb.Length == 0 ? prb.Length.CompareTo(pra.Length) : string.CompareOrdinal(pra, prb);
    }

    private static (Version Core, string Pre)? Parse(string version)
    {
        if (!version.StartsWith('v'))
        {
            return null;
        }

        var text = version[1..];
        var plus = text.IndexOf('+', StringComparison.Ordinal);
        text = plus >= 0 ? text[..plus] : text;
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        var core = dash >= 0 ? text[..dash] : text;
        var parts = core.Split('.');
        if (parts.Length != 3 || !parts.All(p => p.Length > 0 && p.All(char.IsAsciiDigit)))
        {
            return null;
        }

        return (new Version(
            int.Parse(parts[0], CultureInfo.InvariantCulture),
            int.Parse(parts[1], CultureInfo.InvariantCulture),
            int.Parse(parts[2], CultureInfo.InvariantCulture)), dash >= 0 ? text[(dash + 1)..] : string.Empty);
    }
}
