// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Globalization;
using System.Text.Json;
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

    /// <summary>The holder as JSON, in the members of today's <c>lock.json</c> (plus <c>expires_at</c> when known).</summary>
    public byte[] ToJson() => DurableFile.Json(w =>
    {
        w.WriteString("operation_id", OperationId);
        w.WriteString("command", Command);
        w.WriteNumber("pid", Pid);
        w.WriteString("started_at", DurableFile.FormatTime(StartedAt));
        w.WriteString("user", User);
        w.WriteString("machine", Machine);
        if (ExpiresAt is { } expires)
        {
            w.WriteString("expires_at", DurableFile.FormatTime(expires));
        }
    });

    /// <summary>A holder from <see cref="ToJson"/>'s JSON (or today's <c>lock.json</c>), or null when it cannot be read.</summary>
    public static StateLockHolder? FromJson(ReadOnlySpan<byte> json)
    {
        try
        {
            using var document = JsonDocument.Parse(json.ToArray());
            var root = document.RootElement;
            return new StateLockHolder(
                DurableFile.String(root, "operation_id"),
                DurableFile.String(root, "command"),
                DurableFile.OptionalString(root, "user") ?? "",
                DurableFile.OptionalString(root, "machine") ?? "",
                root.GetProperty("pid").GetInt32(),
                DurableFile.ParseTime(DurableFile.String(root, "started_at")),
                DurableFile.OptionalString(root, "expires_at") is { } expires ? DurableFile.ParseTime(expires) : null);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
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
