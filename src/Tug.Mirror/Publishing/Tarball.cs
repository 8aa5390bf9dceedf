// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Formats.Tar;
using System.IO.Compression;

namespace Tug.Mirror.Publishing;

/// <summary>Checks what a package tarball holds, without unpacking it.</summary>
public static class Tarball
{
    /// <summary>
    /// Refuses a package with any member <see cref="PackageMembers"/> forbids (a device, a FIFO, a setuid file, a
    /// <c>..</c> or absolute path, a link out of the package...), naming the first one.
    /// </summary>
    /// <exception cref="MirrorException">The tarball is unreadable or holds a forbidden member.</exception>
    public static void RequireSafeMembers(string tarballPath, string action = "nothing was published")
    {
        BadMember? bad;
        try
        {
            using var file = File.OpenRead(tarballPath);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            bad = PackageMembers.FindBad(gzip);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw new MirrorException(MirrorErrors.BadTarball, $"{tarballPath} is not a readable .tar.gz ({e.Message}).", tarballPath,
                "Publish a gzip-compressed tar archive, as upstream projects release them.", e);
        }

        if (bad is not null)
        {
            throw new MirrorException(MirrorErrors.BadTarball, $"{Path.GetFileName(tarballPath)}: {bad}; {action}.", tarballPath,
                "A package may hold only regular files, directories and links that stay inside it, without setuid or setgid bits; repack it without that member.");
        }
    }

    /// <summary>
    /// Requires <paramref name="entry"/> to be a regular file with owner read and execute bits (mode &amp; 0500 = 0500)
    /// in a gzip-compressed tar, as TiUP requires of a patch package. Any layout is accepted; the entry says where.
    /// </summary>
    /// <exception cref="MirrorException">The tarball is unreadable, or the entry is missing, not a file, or not executable.</exception>
    public static void RequireExecutableEntry(string tarballPath, string entry)
    {
        var wanted = Clean(entry);
        if (wanted.Length == 0 || wanted.StartsWith('/') || wanted.Split('/').Contains(".."))
        {
            throw new MirrorException(MirrorErrors.BadInput, $"Entry '{entry}' must be a relative path inside the tarball, such as 'node_exporter-1.9.0.linux-amd64/node_exporter'.", tarballPath);
        }

        var executables = new List<string>();
        try
        {
            using var file = File.OpenRead(tarballPath);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var reader = new TarReader(gzip);
            while (reader.GetNextEntry(copyData: false) is { } item)
            {
                var name = Clean(item.Name);
                var isFile = item.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile;
                var executable = ((int)item.Mode & 0x140) == 0x140;
                if (name == wanted)
                {
                    if (!isFile)
                    {
                        throw new MirrorException(MirrorErrors.BadTarball,
                            $"'{entry}' in {Path.GetFileName(tarballPath)} is a {Describe(item.EntryType)}, not a regular file; the entry must be the executable itself.",
                            tarballPath, "Give the path of the real executable file inside the tarball.");
                    }

                    if (!executable)
                    {
                        throw new MirrorException(MirrorErrors.BadTarball,
                            $"'{entry}' in {Path.GetFileName(tarballPath)} is not executable (mode {Convert.ToString((int)item.Mode, 8)}); it needs at least r-x for its owner (0500).",
                            tarballPath, "Repack the tarball with `chmod 755` on the executable, or name another entry.");
                    }

                    return;
                }

                if (isFile && executable)
                {
                    executables.Add(name);
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw new MirrorException(MirrorErrors.BadTarball, $"{tarballPath} is not a readable .tar.gz ({e.Message}).", tarballPath,
                "Publish a gzip-compressed tar archive, as upstream projects release them.", e);
        }

        var baseName = wanted.Split('/')[^1];
        var similar = executables.Where(e => e.Split('/')[^1] == baseName).ToList();
        var candidates = similar.Count > 0 ? similar : executables;
        var hint = candidates.Count == 0
            ? "The tarball holds no executable file at all."
            : $"Did you mean {string.Join(" or ", candidates.Take(5).Select(c => $"'{c}'"))}? The entry is the path of the executable inside the tarball, top-level directory included.";
        throw new MirrorException(MirrorErrors.BadTarball,
            $"Entry '{entry}' is not in {Path.GetFileName(tarballPath)}; nothing was published.", tarballPath, hint);
    }

    private static string Clean(string name)
    {
        var n = name.Replace('\\', '/');
        while (n.StartsWith("./", StringComparison.Ordinal))
        {
            n = n[2..];
        }

        return n.TrimEnd('/');
    }

    private static string Describe(TarEntryType type) => type switch
    {
        TarEntryType.Directory => "directory",
        TarEntryType.SymbolicLink => "symbolic link",
        TarEntryType.HardLink => "hard link",
        _ => type.ToString(),
    };
}
