// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Diagnostics;

namespace Tug.Core.Tests.Cluster;

/// <summary>A fresh directory under the system temp directory, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory(string name = "prod")
    {
        Root = Directory.CreateTempSubdirectory("tug-cluster-tests-").FullName;
        Path = System.IO.Path.Combine(Root, name);
        Directory.CreateDirectory(Path);
    }

    /// <summary>The directory to use: <c>&lt;root&gt;/&lt;name&gt;</c>, so that it can stand for a cluster named <c>name</c>.</summary>
    public string Path { get; }

    /// <summary>Its parent, e.g. the clusters directory.</summary>
    public string Root { get; }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

/// <summary>Child processes for tests that need a second process: util-linux <c>flock(1)</c> holding a file lock.</summary>
internal static class Processes
{
    public static bool HaveFlock => OperatingSystem.IsLinux() && File.Exists("/usr/bin/flock");

    /// <summary>
    /// Starts <c>flock -o -x FILE sleep SECONDS</c> and waits until it holds the lock. With <c>-o</c> the lock is held by
    /// the flock process itself, not inherited by <c>sleep</c>, so killing flock releases it.
    /// </summary>
    public static Process HoldWithFlock(string file, int seconds)
    {
        var process = Process.Start(new ProcessStartInfo("/usr/bin/flock", ["-o", "-x", file, "sleep", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        for (var i = 0; i < 500 && !IsLocked(file); i++)
        {
            if (process.HasExited)
            {
                Assert.Fail($"flock exited early ({process.ExitCode}): {process.StandardError.ReadToEnd()}");
            }

            Thread.Sleep(10);
        }

        Assert.True(IsLocked(file), "flock did not take the lock within 5 s");
        return process;
    }

    /// <summary>Whether some open file description holds a flock on <paramref name="file"/> (probed with a shared lock).</summary>
    public static bool IsLocked(string file)
    {
        try
        {
            using var probe = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return false;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>A process ID that was just in use and is no longer running.</summary>
    public static int DeadPid()
    {
        using var process = Process.Start(new ProcessStartInfo("/bin/true"))!;
        process.WaitForExit();
        return process.Id;
    }
}
