// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Formats.Tar;

namespace Tug;

/// <summary>One member of a package that Tug refuses, and why.</summary>
/// <param name="Member">The member's name as the archive spells it.</param>
/// <param name="Reason">What is wrong with it, e.g. <c>is a character device</c>.</param>
public sealed record BadMember(string Member, string Reason)
{
    public override string ToString() => $"member '{Escaped(Member)}' {Reason}";

    /// <summary>The name with control characters written as escapes (<c>\n</c>, <c>\x1b</c>), as GNU tar lists them.</summary>
    private static string Escaped(string name) => string.Concat(name.Select(c => c switch
    {
        '\n' => "\\n",
        '\t' => "\\t",
        _ when char.IsControl(c) => $"\\x{(int)c:x2}",
        _ => c.ToString(),
    }));
}

/// <summary>
/// The rules every package member must follow, the same at publish, for a patch and (in <c>package-check</c> of the
/// host scripts) on the host before anything is unpacked: only regular files, directories, symbolic links and hard
/// links; a relative name with no <c>..</c> part, no backslash and no control character; no setuid or setgid bit;
/// no member beneath a symbolic link of the package; a symbolic link's target relative, with <c>..</c> parts only
/// at its start and never climbing above the package; a hard link's target relative, without <c>..</c>, and a
/// regular file named earlier in the package. Devices, FIFOs and every other type are refused.
/// </summary>
public static class PackageMembers
{
    private const UnixFileMode SetIds = UnixFileMode.SetUser | UnixFileMode.SetGroup;

    /// <summary>The first member of the (uncompressed) tar stream that breaks the rules, or null when all follow them.</summary>
    /// <exception cref="InvalidDataException">The stream is not a readable tar archive.</exception>
    public static BadMember? FindBad(Stream tar)
    {
        ArgumentNullException.ThrowIfNull(tar);
        using var reader = new TarReader(tar, leaveOpen: true);
        var files = new HashSet<string>(StringComparer.Ordinal);
        var links = new Dictionary<string, string>(StringComparer.Ordinal);
        var names = new List<(string Clean, string Raw)>();
        while (reader.GetNextEntry(copyData: false) is { } entry)
        {
            if (Check(entry, files) is { } bad)
            {
                return bad;
            }

            var clean = Normal(entry.Name);
            names.Add((clean, entry.Name));
            if (entry.EntryType is TarEntryType.SymbolicLink)
            {
                links.TryAdd(clean, entry.Name);
            }
            else if (IsFile(entry.EntryType))
            {
                files.Add(clean);
            }
        }

        // Nothing may be unpacked through a link of the package, wherever in the archive the link comes.
        foreach (var (clean, raw) in names)
        {
            var parts = clean.Split('/');
            for (var n = 1; n < parts.Length; n++)
            {
                if (links.TryGetValue(string.Join('/', parts[..n]), out var link))
                {
                    return new BadMember(raw, $"lies beneath the symbolic link '{link}' of the package");
                }
            }
        }

        return null;
    }

    private static BadMember? Check(TarEntry entry, HashSet<string> files)
    {
        var name = entry.Name;
        if (NameProblem(name) is { } problem)
        {
            return new BadMember(name, problem);
        }

        if (!IsFile(entry.EntryType) && entry.EntryType is not (TarEntryType.Directory or TarEntryType.SymbolicLink or TarEntryType.HardLink))
        {
            return new BadMember(name, $"is a {Describe(entry.EntryType)}; a package holds only regular files, directories and links");
        }

        if ((entry.Mode & SetIds) != 0)
        {
            return new BadMember(name, $"has the {((entry.Mode & SetIds) == SetIds ? "setuid and setgid bits" : (entry.Mode & UnixFileMode.SetUser) != 0 ? "setuid bit" : "setgid bit")} (mode {Convert.ToString((int)entry.Mode, 8)})");
        }

        var target = entry.LinkName ?? string.Empty;
        if (entry.EntryType is TarEntryType.SymbolicLink)
        {
            if (target.Length == 0 || target.StartsWith('/') || HasControl(target))
            {
                return new BadMember(name, $"is a symbolic link to '{target}', which is not a relative path inside the package");
            }

            var parts = target.Split('/');
            var up = parts.TakeWhile(p => p is ".." or "." or "").Count(p => p == "..");
            var depth = Normal(name).Split('/').Length - 1;
            if (parts.SkipWhile(p => p is ".." or "." or "").Contains("..") || up > depth)
            {
                return new BadMember(name, $"is a symbolic link to '{target}', which points outside the package");
            }
        }
        else if (entry.EntryType is TarEntryType.HardLink)
        {
            if (NameProblem(target) is not null || !files.Contains(Normal(target)))
            {
                return new BadMember(name, $"is a hard link to '{target}', which is not a regular file earlier in the package");
            }
        }

        return null;
    }

    private static string? NameProblem(string name)
    {
        if (name.Length == 0 || HasControl(name) || name.Contains('\\', StringComparison.Ordinal))
        {
            return "has an empty name, a backslash or a control character in its name";
        }

        if (name.StartsWith('/'))
        {
            return "has an absolute path";
        }

        return name.Split('/').Contains("..") ? "has a '..' part in its path" : null;
    }

    private static bool HasControl(string s) => s.Any(char.IsControl);

    private static bool IsFile(TarEntryType type) => type is TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile;

    /// <summary>The name without <c>.</c> and empty parts or a trailing slash: <c>./a//b/</c> is <c>a/b</c>.</summary>
    private static string Normal(string name) => string.Join('/', name.Split('/').Where(p => p is not ("" or ".")));

    private static string Describe(TarEntryType type) => type switch
    {
        TarEntryType.CharacterDevice => "character device",
        TarEntryType.BlockDevice => "block device",
        TarEntryType.Fifo => "FIFO",
        TarEntryType.SparseFile => "sparse file",
        _ => $"{type} entry",
    };
}
