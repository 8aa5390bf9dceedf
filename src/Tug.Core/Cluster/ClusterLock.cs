// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Globalization;
using System.Text.Json;

namespace Tug.Core.Cluster;

/// <summary>Who holds a cluster's lock: the operation, the command line (redacted), and the process that runs it.</summary>
/// <param name="OperationId">The operation the lock was taken for (see <see cref="Cluster.OperationId"/>).</param>
/// <param name="Command">The command as the user typed it, secrets redacted, e.g. <c>tug cluster upgrade prod v8.5.0</c>.</param>
/// <param name="Pid">The process ID of the holder.</param>
/// <param name="StartedAt">When the holder took the lock.</param>
/// <param name="User">The OS user running the holder.</param>
/// <param name="Machine">The host name of the control machine running the holder.</param>
public sealed record LockHolder(string OperationId, string Command, int Pid, DateTimeOffset StartedAt, string User, string Machine)
{
    /// <summary>A holder describing this process, starting now.</summary>
    public static LockHolder ForThisProcess(string operationId, string command, TimeProvider time) =>
        new(operationId, command, Environment.ProcessId, time.GetUtcNow(), Environment.UserName, Environment.MachineName);

    /// <summary>"`tug cluster upgrade …` (PID 123 on ctl, started 2025-01-02T03:04:05Z)", for messages.</summary>
    public string Describe() =>
        $"`{Command}` (PID {Pid.ToString(CultureInfo.InvariantCulture)} on {Machine}, started {StartedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)})";
}

/// <summary>What <see cref="ClusterLock.Peek"/> saw.</summary>
/// <param name="Holder">
/// The holder recorded in <c>lock.json</c>; null only when the lock is live but its holder has not written
/// <c>lock.json</c> yet (the moment right after it took the lock) or wrote one that cannot be read.
/// </param>
/// <param name="Live">
/// True when a process holds the lock now; false when <c>lock.json</c> was left by a holder that is gone (stale).
/// </param>
public sealed record LockState(LockHolder? Holder, bool Live);

/// <summary>
/// Allows one mutating command per cluster: an exclusive OS file lock on <c>&lt;cluster&gt;/lock</c>, released by the
/// kernel when the process ends however it ends, and the holder's identity in <c>&lt;cluster&gt;/lock.json</c>.
/// </summary>
/// <remarks>
/// <para>
/// On Linux and macOS .NET implements <see cref="FileShare.None"/> with <c>flock(fd, LOCK_EX | LOCK_NB)</c> (and
/// every other share mode with <c>LOCK_SH</c>). flock locks belong to the open file description, so they conflict
/// between processes, between two opens in one process, and with <c>flock(1)</c>; the kernel drops them when the
/// last descriptor closes, including on SIGKILL. .NET opens files with <c>O_CLOEXEC</c>, so SSH or other child
/// processes do not inherit the lock and keep it alive after Tug dies.
/// </para>
/// <para>
/// <c>lock.json</c> is written after the lock is taken and deleted before it is released. So whoever holds (or
/// briefly probes) the lock and still finds <c>lock.json</c> knows that its writer died without cleaning up:
/// that holder is reported as <see cref="Stale"/> and replaced.
/// </para>
/// <para>
/// The <c>lock</c> file itself is never deleted: deleting a locked file would let a second process lock a new
/// file of the same name while the first still holds the old one.
/// </para>
/// </remarks>
public sealed class ClusterLock : IDisposable
{
    /// <summary>The file that carries the OS lock.</summary>
    public const string LockFileName = "lock";

    /// <summary>The file that names the holder.</summary>
    public const string HolderFileName = "lock.json";

    // A Peek by another process holds the lock for microseconds; retry that long before calling the cluster busy.
    private const int Attempts = 10;
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(20);

    private readonly FileStream _lock;
    private bool _disposed;

    private ClusterLock(string clusterDirectory, FileStream @lock, LockHolder holder, LockHolder? stale)
    {
        ClusterDirectory = clusterDirectory;
        _lock = @lock;
        Holder = holder;
        Stale = stale;
    }

    /// <summary>The cluster directory this lock guards (it changes when a rename moves the directory, lock file and all).</summary>
    public string ClusterDirectory { get; private set; }

    /// <summary>This process, as written to <c>lock.json</c>.</summary>
    public LockHolder Holder { get; }

    /// <summary>
    /// The holder left in <c>lock.json</c> by a process that died without releasing the lock (SIGKILL, power loss),
    /// or null. The caller reports it: "a stale lock from `…` (PID n, started t) was left by a process that is gone".
    /// </summary>
    public LockHolder? Stale { get; }

    /// <summary>Takes the cluster's lock for <paramref name="holder"/>, creating the cluster directory if needed.</summary>
    /// <exception cref="ClusterException">
    /// <see cref="ClusterException.Locked"/>: another live process (or another lock in this process) holds it; or
    /// file locking is switched off for .NET in this process, so the lock could not protect anything.
    /// </exception>
    /// <exception cref="IOException">The cluster directory or its files cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">The cluster directory or its files cannot be written.</exception>
    public static ClusterLock Acquire(string clusterDirectory, LockHolder holder)
    {
        EnsureLockingEnabled();
        PrivateFiles.CreateDirectory(clusterDirectory);
        var lockPath = Path.Combine(clusterDirectory, LockFileName);
        FileStream? handle = null;
        for (var attempt = 1; handle is null; attempt++)
        {
            try
            {
                handle = PrivateFiles.Open(lockPath, FileMode.OpenOrCreate, FileShare.None, bufferSize: 1, access: FileAccess.ReadWrite);
            }
            catch (IOException e) when (IsLockConflict(e))
            {
                if (attempt == Attempts)
                {
                    throw LockedError(clusterDirectory, ReadHolder(clusterDirectory), e);
                }

                Thread.Sleep(RetryDelay);
            }
        }

        try
        {
            // We hold the lock; a lock.json still present was left by a holder that died before deleting it.
            var stale = ReadHolder(clusterDirectory);
            DurableFile.WriteAtomically(Path.Combine(clusterDirectory, HolderFileName), Serialize(holder));
            return new ClusterLock(clusterDirectory, handle, holder, stale);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Who holds the cluster's lock, and whether that process is alive; null when nobody holds it and no stale
    /// holder was left. Probing takes a shared lock for an instant, so it never disturbs a live holder.
    /// </summary>
    /// <exception cref="IOException">The lock file exists but cannot be opened.</exception>
    public static LockState? Peek(string clusterDirectory)
    {
        var lockPath = Path.Combine(clusterDirectory, LockFileName);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using (new FileStream(lockPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1))
                {
                    // Nobody holds the lock while we hold it shared: lock.json, if any, is stale.
                    return ReadHolder(clusterDirectory) is { } stale ? new LockState(stale, Live: false) : null;
                }
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                return ReadHolder(clusterDirectory) is { } stale ? new LockState(stale, Live: false) : null;
            }
            catch (IOException e) when (IsLockConflict(e))
            {
                // Live. Its holder writes lock.json right after taking the lock, and deletes it just before releasing.
                if (ReadHolder(clusterDirectory) is { } live)
                {
                    return new LockState(live, Live: true);
                }

                if (attempt == Attempts)
                {
                    return new LockState(null, Live: true);
                }

                Thread.Sleep(RetryDelay);
            }
        }
    }

    /// <summary>
    /// Records that the cluster's directory was renamed to <paramref name="directory"/> while this lock is held: the
    /// lock file moved with it (the OS lock belongs to the open file, not to its name), and so did <c>lock.json</c>,
    /// which <see cref="Dispose"/> deletes there.
    /// </summary>
    public void Moved(string directory) => ClusterDirectory = directory;

    /// <summary>Releases the OS lock but leaves <c>lock.json</c>, as a process killed while holding the lock does (for tests).</summary>
    internal void Abandon()
    {
        _disposed = true;
        _lock.Dispose();
    }

    /// <summary>Deletes <c>lock.json</c>, then releases the OS lock (in that order; see the remarks on the class).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            File.Delete(Path.Combine(ClusterDirectory, HolderFileName));
        }
        finally
        {
            _lock.Dispose();
        }
    }

    /// <summary>The error for a cluster held by someone else, naming the holder.</summary>
    public static ClusterException LockedError(string clusterDirectory, LockHolder? holder, Exception? inner = null)
    {
        var name = ClusterName(clusterDirectory);
        var who = holder is null ? "another Tug process (it is just starting)" : holder.Describe();
        return new ClusterException(ClusterException.Locked, $"Cluster '{name}' is being changed by {who}.",
            "Wait for it to finish, or stop that process. Nothing was changed.", inner);
    }

    /// <summary>The last path segment of a cluster directory: the cluster's name.</summary>
    internal static string ClusterName(string clusterDirectory) =>
        Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(clusterDirectory)));

    /// <summary>
    /// Whether an <see cref="IOException"/> from opening a file means "another open holds a conflicting lock":
    /// EWOULDBLOCK from flock on Linux (11) and macOS (35), or a sharing violation on Windows.
    /// </summary>
    internal static bool IsLockConflict(IOException e) =>
        e is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException)
        && e.HResult is 11 or 35 or unchecked((int)0x80070020) or unchecked((int)0x80070021);

    private static void EnsureLockingEnabled()
    {
        // .NET skips flock entirely under this switch (it exists for file systems without locks); the lock would be a no-op.
        var disabled = AppContext.TryGetSwitch("System.IO.DisableFileLocking", out var on)
            ? on
            : Environment.GetEnvironmentVariable("DOTNET_SYSTEM_IO_DISABLEFILELOCKING") is { } value
              && (value == "1" || value.Equals("true", StringComparison.OrdinalIgnoreCase));
        if (disabled)
        {
            throw new ClusterException(ClusterException.Locked,
                "File locking is switched off for .NET in this process (DOTNET_SYSTEM_IO_DISABLEFILELOCKING), so Tug cannot keep two commands from changing a cluster at once.",
                "Unset DOTNET_SYSTEM_IO_DISABLEFILELOCKING (and System.IO.DisableFileLocking in runtimeconfig.json). Nothing was changed.");
        }
    }

    private static LockHolder? ReadHolder(string clusterDirectory)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(clusterDirectory, HolderFileName)));
            var root = document.RootElement;
            return new LockHolder(
                root.GetProperty("operation_id").GetString() ?? "",
                root.GetProperty("command").GetString() ?? "",
                root.GetProperty("pid").GetInt32(),
                DurableFile.ParseTime(root.GetProperty("started_at").GetString()),
                root.TryGetProperty("user", out var user) ? user.GetString() ?? "" : "",
                root.TryGetProperty("machine", out var machine) ? machine.GetString() ?? "" : "");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            // Written atomically, so unreadable means edited by hand; report an unknown holder rather than fail.
            return null;
        }
    }

    private static byte[] Serialize(LockHolder holder) => DurableFile.Json(w =>
    {
        w.WriteString("operation_id", holder.OperationId);
        w.WriteString("command", holder.Command);
        w.WriteNumber("pid", holder.Pid);
        w.WriteString("started_at", DurableFile.FormatTime(holder.StartedAt));
        w.WriteString("user", holder.User);
        w.WriteString("machine", holder.Machine);
    });
}
