// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

namespace Tug;

/// <summary>
/// Files and directories that only their owner may read: keys and state (meta.yaml, journals, plans, locks, the audit
/// log). Modes are set explicitly after creation (<c>fchmod</c>/<c>chmod</c>), so they do not depend on the umask:
/// under <c>umask 000</c> a plain create would leave a world-writable meta.yaml or key.
/// </summary>
public static class PrivateFiles
{
    /// <summary><c>0600</c>: owner read and write.</summary>
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary><c>0700</c>: owner read, write and search.</summary>
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// Creates a directory with mode 0700 (its missing parents as the umask has it, so a mirror holding a <c>keys/</c>
    /// directory stays readable); a directory that exists already keeps its mode (the operator may have chosen it).
    /// </summary>
    public static void CreateDirectory(string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        if (Directory.Exists(full))
        {
            return;
        }

        if (Path.GetDirectoryName(full) is { Length: > 0 } parent && !Directory.Exists(parent))
        {
            Directory.CreateDirectory(parent);
        }

        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(full);
            return;
        }

        Directory.CreateDirectory(full, DirectoryMode);
        File.SetUnixFileMode(full, DirectoryMode);
    }

    /// <summary>Opens a file for writing (creating it as needed) and sets its mode to 0600, whatever the umask.</summary>
    public static FileStream Open(string path, System.IO.FileMode mode, FileShare share = FileShare.None, int bufferSize = 4096, FileAccess access = FileAccess.Write)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = share, BufferSize = bufferSize };
        if (!OperatingSystem.IsWindows() && mode is System.IO.FileMode.Create or System.IO.FileMode.CreateNew or System.IO.FileMode.OpenOrCreate or System.IO.FileMode.Append)
        {
            options.UnixCreateMode = FileMode;
        }

        var stream = new FileStream(path, options);
        try
        {
            Restrict(stream);
        }
        catch
        {
            stream.Dispose();
            throw;
        }

        return stream;
    }

    /// <summary>Writes a whole file with mode 0600.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> content)
    {
        using var stream = Open(path, System.IO.FileMode.Create);
        stream.Write(content);
    }

    /// <summary>Sets an open file's mode to 0600.</summary>
    public static void Restrict(FileStream stream)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(stream.SafeFileHandle, FileMode);
        }
    }

    /// <summary>Sets a file's mode to 0600.</summary>
    public static void Restrict(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, FileMode);
        }
    }
}
