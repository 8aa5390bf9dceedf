// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;

namespace Tug.Testing;

/// <summary>Paths to the shared TiUP fixtures and the repository.</summary>
public static class Repo
{
    /// <summary>The repository root (the directory holding Tug.slnx).</summary>
    public static string Root { get; } = FindRoot();

    /// <summary><c>shared/fixtures/tiup</c>, beside the repository.</summary>
    public static string TiupFixtures
    {
        get
        {
            var path = Path.GetFullPath(Path.Combine(Root, "..", "shared", "fixtures", "tiup"));
            Assert.True(Directory.Exists(path), $"TiUP fixtures not found at {path}: the shared/ folder must sit beside the repository.");
            return path;
        }
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Tug.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Tug.slnx not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>Builds small package tarballs for tests.</summary>
public static class Packages
{
    /// <summary>Writes a .tar.gz holding <paramref name="entry"/> as an executable shell script (and a README).</summary>
    public static string Write(string path, string entry, string script, UnixFileMode? mode = null)
    {
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        var top = entry.Contains('/', StringComparison.Ordinal) ? entry[..entry.IndexOf('/', StringComparison.Ordinal)] : null;
        if (top is not null)
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, top + "/") { Mode = (UnixFileMode)0b111_101_101 });
        }

        var data = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(script));
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, entry) { Mode = mode ?? (UnixFileMode)0b111_101_101, DataStream = data });
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, (top is null ? string.Empty : top + "/") + "README.md")
        {
            Mode = (UnixFileMode)0b110_100_100,
            DataStream = new MemoryStream("readme"u8.ToArray()),
        });
        return path;
    }
}

/// <summary>Runs an external program and captures its output.</summary>
public static class Processes
{
    /// <summary>Runs <paramref name="file"/> with arguments split on spaces (no quoting; use the list overload for that).</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(string file, string arguments, string? workingDirectory = null, IDictionary<string, string>? environment = null) =>
        RunAsync(file, arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries), workingDirectory, environment);

    /// <summary>Runs <paramref name="file"/> with each argument passed as is.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string file, IReadOnlyList<string> arguments, string? workingDirectory = null, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[k] = v;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, await stdout + await stderr);
    }
}
