// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Globalization;
using Tug.Core.Cluster;

namespace Tug.Core.State;

/// <summary>Who holds a lock of the state store, and until when it is kept without being renewed.</summary>
/// <param name="OperationId">The operation the lock was taken for.</param>
/// <param name="Command">The command as typed, secrets redacted.</param>
/// <param name="User">The OS user running the holder.</param>
/// <param name="Machine">The control machine running the holder.</param>
/// <param name="Pid">The holder's process ID on <paramref name="Machine"/>.</param>
/// <param name="StartedAt">When the holder took the lock.</param>
/// <param name="ExpiresAt">
/// When the lock lapses unless its holder renews it (etcd: the lease's expiry); null when it lasts as long as the
/// holder's process does (the local directory's OS lock).
/// </param>
public sealed record StateLockHolder(string OperationId, string Command, string User, string Machine, int Pid, DateTimeOffset StartedAt, DateTimeOffset? ExpiresAt = null)
{
    /// <summary>A holder describing this process, starting now.</summary>
    public static StateLockHolder ForThisProcess(string operationId, string command, TimeProvider time) =>
        new(operationId, command, Environment.UserName, Environment.MachineName, Environment.ProcessId, time.GetUtcNow());

    /// <summary>"`tug cluster upgrade …` (PID 123 on ctl, started 2025-01-02T03:04:05Z)", for messages; the expiry is added when known.</summary>
    public string Describe()
    {
        var started = StartedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var expires = ExpiresAt is { } at ? $", lease expires {at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}" : "";
        return $"`{Command}` (user {User}, PID {Pid.ToString(CultureInfo.InvariantCulture)} on {Machine}, started {started}{expires})";
    }

    internal LockHolder ToClusterLockHolder() => new(OperationId, Command, Pid, StartedAt, User, Machine);

    internal static StateLockHolder FromClusterLockHolder(LockHolder holder) =>
        new(holder.OperationId, holder.Command, holder.User, holder.Machine, holder.Pid, holder.StartedAt);
}

/// <summary>What <see cref="IStateStore.ReadLockAsync"/> saw.</summary>
/// <param name="Holder">The recorded holder; null when the lock is held but its holder is not written yet (or unreadable).</param>
/// <param name="Live">
/// True when the holder holds it now; false for a holder record left by a process that is gone (only the local
/// directory can tell that; in etcd a dead holder's record goes with its lease).
/// </param>
public sealed record StateLockState(StateLockHolder? Holder, bool Live);

/// <summary>A lock held by this process: kept (renewed in the background where the store needs it) until disposed.</summary>
public interface IStateLock : IAsyncDisposable
{
    /// <summary>The lock's name (<c>clusters/prod</c>).</summary>
    string Name { get; }

    /// <summary>This process as recorded in the store.</summary>
    StateLockHolder Holder { get; }

    /// <summary>
    /// A holder record left by a process that died holding the lock and was replaced by this one, or null; the caller
    /// reports it (the local directory only: in etcd the record expires with the dead holder's lease).
    /// </summary>
    StateLockHolder? Stale { get; }

    /// <summary>
    /// True once the lock may have been lost: its lease could not be renewed before it expired, or someone broke it.
    /// A command checks <see cref="EnsureHeld"/> before each step and stops when it is lost.
    /// </summary>
    bool IsLost { get; }

    /// <summary>Returns while the lock is held.</summary>
    /// <exception cref="StateException"><see cref="StateException.LockLost"/>: see <see cref="IsLost"/>.</exception>
    void EnsureHeld();
}
