// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

namespace Tug.Core.Topology;

/// <summary>Go's <c>path.Join</c>/<c>path.Clean</c> and TiUP's <c>Abs</c>, which decide every remote directory.</summary>
internal static class GoPath
{
    /// <summary><c>path.Join</c>: joins the non-empty parts with '/' and cleans the result; empty when all parts are.</summary>
    public static string Join(params string[] parts)
    {
        var joined = string.Join('/', parts.Where(p => p.Length > 0));
        return joined.Length == 0 ? string.Empty : Clean(joined);
    }

    /// <summary><c>path.Clean</c>: the shortest equivalent path (no "//", ".", "x/..", or trailing slash).</summary>
    public static string Clean(string path)
    {
        if (path.Length == 0)
        {
            return ".";
        }

        var rooted = path[0] == '/';
        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part.Length == 0 || part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (parts.Count > 0 && parts[^1] != "..")
                {
                    parts.RemoveAt(parts.Count - 1);
                }
                else if (!rooted)
                {
                    parts.Add(part);
                }

                continue;
            }

            parts.Add(part);
        }

        var body = string.Join('/', parts);
        return rooted ? "/" + body : body.Length == 0 ? "." : body;
    }

    /// <summary>TiUP's <c>Abs(user, path)</c>: a relative path lives under <c>/home/&lt;user&gt;</c>.</summary>
    public static string Abs(string user, string path)
    {
        user = user.Trim();
        path = path.Trim();
        return path.StartsWith('/') ? Clean(path) : Join("/home", user, path);
    }
}
