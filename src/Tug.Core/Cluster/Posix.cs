// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Runtime.InteropServices;

namespace Tug.Core.Cluster;

/// <summary>
/// The few POSIX calls .NET does not expose that the cluster's state needs to survive a crash: rename without
/// replacing (<c>renameat2(RENAME_NOREPLACE)</c>), swapping two directories atomically (<c>RENAME_EXCHANGE</c>) and
/// flushing a directory's entries to disk (<c>fsync</c> on the directory).
/// </summary>
internal static class Posix
{
    private const int AtFdCwd = -100;
    private const uint NoReplace = 1;
    private const uint Exchange = 2;
    private const int ODirectory = 0x10000;
    private const int EExist = 17;
    private const int ENotEmpty = 39;
    private const int EInval = 22;
    private const int ENoSys = 38;

    /// <summary>Renames <paramref name="from"/> to <paramref name="to"/>, which must not exist (files or directories); atomic: a crash leaves one of the two names.</summary>
    /// <exception cref="IOException"><paramref name="to"/> exists, or the rename failed.</exception>
    public static void RenameNoReplace(string from, string to)
    {
        if (!OperatingSystem.IsLinux() || !TryRenameAt2(from, to, NoReplace, out var errno) && errno is EInval or ENoSys)
        {
            // No renameat2 here (another OS, or a file system without the flag): check, then rename (a small race).
            if (Directory.Exists(to) || File.Exists(to))
            {
                throw new IOException($"{to} exists already.");
            }

            if (Directory.Exists(from))
            {
                Directory.Move(from, to);
            }
            else
            {
                File.Move(from, to);
            }

            return;
        }

        if (errno != 0)
        {
            throw new IOException(errno is EExist or ENotEmpty ? $"{to} exists already." : $"renaming {from} to {to} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno);
        }
    }

    /// <summary>Swaps two existing directories atomically (Linux <c>RENAME_EXCHANGE</c>); false when this system or file system cannot (nothing was changed then).</summary>
    /// <exception cref="IOException">The swap failed for another reason.</exception>
    public static bool TryExchange(string a, string b)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        if (TryRenameAt2(a, b, Exchange, out var errno))
        {
            return true;
        }

        return errno is EInval or ENoSys ? false : throw new IOException($"swapping {a} and {b} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno);
    }

    /// <summary>Flushes a directory's entries (names created, renamed or removed in it) to disk; a no-op off Linux and macOS.</summary>
    public static void SyncDirectory(string directory)
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()))
        {
            return;
        }

        var fd = Open(directory, OperatingSystem.IsLinux() ? ODirectory : 0);
        if (fd < 0)
        {
            return;
        }

        try
        {
            _ = Fsync(fd);
        }
        finally
        {
            _ = Close(fd);
        }
    }

    private static bool TryRenameAt2(string from, string to, uint flags, out int errno)
    {
        try
        {
            if (RenameAt2(AtFdCwd, from, AtFdCwd, to, flags) == 0)
            {
                errno = 0;
                return true;
            }

            errno = Marshal.GetLastPInvokeError();
            return false;
        }
        catch (EntryPointNotFoundException)
        {
            errno = ENoSys;
            return false;
        }
    }

    // DllImport rather than LibraryImport: the source-generated stubs need unsafe code, which this project does not allow.
    [DllImport("libc", EntryPoint = "renameat2", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int RenameAt2(int oldDirectory, [MarshalAs(UnmanagedType.LPUTF8Str)] string oldPath, int newDirectory, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath, uint flags);

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Close(int fd);
}
