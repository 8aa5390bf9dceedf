// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Formats.Tar;
using System.IO.Compression;

namespace Tug.Testing;

/// <summary>
/// Packages a hostile publisher could sign: a good package (<c>pkg-v1/pkg</c>, executable, and a README) plus one
/// member Tug must refuse, at publish and on the host. Written with System.Formats.Tar, so device nodes need no root.
/// </summary>
public static class BadPackages
{
    /// <summary>The entry of every package here.</summary>
    public const string Entry = "pkg-v1/pkg";

    private const UnixFileMode Executable = (UnixFileMode)0b111_101_101;

    /// <summary>Case name → (the text a refusal must name, the bad member(s) to add after the good ones).</summary>
    public static IReadOnlyDictionary<string, (string Member, TarEntry[] Entries)> Cases { get; } = new Dictionary<string, (string, TarEntry[])>(StringComparer.Ordinal)
    {
        ["char-device"] = ("pkg-v1/disk", [new PaxTarEntry(TarEntryType.CharacterDevice, "pkg-v1/disk") { DeviceMajor = 1, DeviceMinor = 3, Mode = (UnixFileMode)0b110_110_110 }]),
        ["block-device"] = ("pkg-v1/sda", [new PaxTarEntry(TarEntryType.BlockDevice, "pkg-v1/sda") { DeviceMajor = 8, DeviceMinor = 0, Mode = (UnixFileMode)0b110_110_110 }]),
        ["fifo"] = ("pkg-v1/pipe", [new PaxTarEntry(TarEntryType.Fifo, "pkg-v1/pipe") { Mode = (UnixFileMode)0b110_100_100 }]),
        ["dot-dot"] = ("pkg-v1/../../tmp/tug-escaped", [File("pkg-v1/../../tmp/tug-escaped")]),
        ["absolute"] = ("/tmp/tug-absolute", [File("/tmp/tug-absolute")]),
        ["setuid"] = ("pkg-v1/suid", [File("pkg-v1/suid", (UnixFileMode)0b100_111_101_101)]),
        ["setgid"] = ("pkg-v1/sgid", [File("pkg-v1/sgid", (UnixFileMode)0b010_111_101_101)]),
        ["symlink-absolute"] = ("pkg-v1/shadow", [Link(TarEntryType.SymbolicLink, "pkg-v1/shadow", "/etc/shadow")]),
        ["symlink-out"] = ("pkg-v1/etc", [Link(TarEntryType.SymbolicLink, "pkg-v1/etc", "../../etc")]),
        ["symlink-dot-dot-inside"] = ("pkg-v1/sub/up", [Link(TarEntryType.SymbolicLink, "pkg-v1/sub/up", "x/../../..")]),
        ["hardlink-absolute"] = ("pkg-v1/hard", [Link(TarEntryType.HardLink, "pkg-v1/hard", "/etc/shadow")]),
        ["hardlink-out"] = ("pkg-v1/hard", [Link(TarEntryType.HardLink, "pkg-v1/hard", "../outside")]),
        ["hardlink-missing"] = ("pkg-v1/hard", [Link(TarEntryType.HardLink, "pkg-v1/hard", "pkg-v1/nothing")]),
        ["beneath-symlink"] = ("pkg-v1/d/x", [Link(TarEntryType.SymbolicLink, "pkg-v1/d", "sub"), File("pkg-v1/d/x")]),
        ["control-character"] = ("pkg-v1/a", [File("pkg-v1/a\u001bb")]),
    };

    /// <summary>Writes the good package plus the members of <paramref name="name"/> (null: the good package alone) to <paramref name="path"/>.</summary>
    public static string Write(string path, string? name, string script = "#!/bin/sh\necho 'pkg, version 1'\n") =>
        WriteWith(path, name is null ? [] : Cases[name].Entries, script);

    /// <summary>
    /// A good package whose members use everything the rules allow: the top directory as <c>./</c>, a link inside it
    /// climbing once (<c>lib/self -> ../pkg</c>), a hard link to an earlier file, and a name with a space.
    /// </summary>
    public static string WriteGoodWithLinks(string path) => WriteWith(path,
    [
        new PaxTarEntry(TarEntryType.Directory, "pkg-v1/lib/") { Mode = Executable },
        Link(TarEntryType.SymbolicLink, "pkg-v1/lib/self", "../pkg"),
        Link(TarEntryType.SymbolicLink, "pkg-v1/same", "./pkg"),
        Link(TarEntryType.HardLink, "pkg-v1/pkg-again", "pkg-v1/pkg"),
        File("pkg-v1/a name with spaces.txt"),
    ], "#!/bin/sh\necho 'pkg, version 1'\n", dotTop: true);

    private static string WriteWith(string path, TarEntry[] extra, string script, bool dotTop = false)
    {
        using var file = System.IO.File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        if (dotTop)
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "./") { Mode = Executable });
        }

        tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "pkg-v1/") { Mode = Executable });
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, Entry) { Mode = Executable, DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(script)) });
        tar.WriteEntry(File("pkg-v1/README.md"));
        foreach (var entry in extra)
        {
            if (entry is PaxTarEntry { EntryType: TarEntryType.RegularFile } regular)
            {
                // A fresh data stream each time: the cases are shared between tests.
                var copy = new PaxTarEntry(TarEntryType.RegularFile, regular.Name) { Mode = regular.Mode, DataStream = new MemoryStream("data\n"u8.ToArray()) };
                tar.WriteEntry(copy);
            }
            else
            {
                tar.WriteEntry(entry);
            }
        }

        return path;
    }

    private static PaxTarEntry File(string name, UnixFileMode mode = (UnixFileMode)0b110_100_100) => new(TarEntryType.RegularFile, name) { Mode = mode };

    private static PaxTarEntry Link(TarEntryType type, string name, string target) => new(type, name) { LinkName = target, Mode = (UnixFileMode)0b111_111_111 };
}
