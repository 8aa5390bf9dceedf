// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

namespace Tug.Core.State;

/// <summary>An expected failure of the state store: a lost race, a held lock, an unreachable store, a bad address.</summary>
public sealed class StateException : TugException
{
    private readonly int _exitCode;

    public StateException(string code, string message, string? hint = null, Exception? inner = null, string? where = null, int exitCode = ExitCodes.BadInput)
        : base(code, message, hint, where, inner)
    {
        _exitCode = exitCode;
    }

    public StateException()
        : this("E5000", "state store error")
    {
    }

    public StateException(string message)
        : this("E5000", message)
    {
    }

    public StateException(string message, Exception innerException)
        : this("E5000", message, inner: innerException)
    {
    }

    /// <inheritdoc/>
    public override int ExitCode => _exitCode;

    /// <summary>A write refused because the key is not at the revision the writer read: another writer got there first.</summary>
    public const string Conflict = "E5001";

    /// <summary>The store did not answer within its timeout, or refused the connection.</summary>
    public const string Unavailable = "E5002";

    /// <summary>A lock held by someone else.</summary>
    public const string Locked = "E5003";

    /// <summary>A lock this process held and can no longer be sure of (its lease expired or was broken).</summary>
    public const string LockLost = "E5004";

    /// <summary>A <c>TUG_STATE</c> / <c>--state</c> value or a TLS/auth setting that cannot be used.</summary>
    public const string BadUrl = "E5005";

    /// <summary>A key or lock name that is not a state key (a bug in the caller, or a hand-edited name).</summary>
    public const string BadKey = "E5006";

    /// <summary>A value or transaction larger than the store takes.</summary>
    public const string TooLarge = "E5007";

    /// <summary>A stored value (a lock's holder) that cannot be read.</summary>
    public const string Broken = "E5008";

    /// <summary>The refusal of a write whose key moved on since it was read.</summary>
    public static StateException RevisionConflict(string address, string key, StateRevision expected, StateRevision found) =>
        new(Conflict,
            expected.IsAbsent
                ? $"State key '{key}' in {address} already exists (at revision {found}): another writer created it first."
                : found.IsAbsent
                    ? $"State key '{key}' in {address} was removed by another writer since it was read at revision {expected}."
                    : $"State key '{key}' in {address} was changed by another writer since it was read (read at revision {expected}, now at {found}).",
            "Nothing was written. Another Tug (on this or another control machine) changed the same state: check `tug cluster list` and run the command again.",
            exitCode: ExitCodes.Failure);

    /// <summary>The failure of a store that did not answer in time or refused the connection.</summary>
    public static StateException NotAnswering(string address, string what, TimeSpan timeout, Exception? inner, string? hint = null) =>
        new(Unavailable,
            $"The state store {address} did not answer {what} within {timeout.TotalSeconds:0.#} s{(inner is null ? "" : $" ({inner.Message.TrimEnd('.')})")}.",
            hint ?? "Check that etcd is running and has quorum (`etcdctl --endpoints=... endpoint health`). The command stopped before its next step; a write under way may or may not have been applied, and Tug reads the state again before writing. Run it again (or `tug cluster replay`) once the store answers.",
            inner, exitCode: ExitCodes.Failure);

    /// <summary>The refusal of a lock held by someone else, naming the holder.</summary>
    public static StateException HeldBy(string address, string name, StateLockHolder? holder) =>
        new(Locked,
            $"'{name}' is locked in {address} by {(holder is null ? "another Tug process (it is just starting)" : holder.Describe())}.",
            "Wait for it to finish, or stop that process (a holder that dies loses the lock when its lease expires). Nothing was changed.");

    /// <summary>The failure of a command whose lock lapsed under it.</summary>
    public static StateException Lost(string address, string name, string why) =>
        new(LockLost,
            $"This command no longer holds the lock '{name}' in {address}: {why}.",
            "It stopped before its next step. Check who holds the lock now (`tug cluster display`), then continue with `tug cluster replay` once it is free.",
            exitCode: ExitCodes.Failure);

    /// <summary>The refusal of a name that is not a state key.</summary>
    public static StateException NotAKey(string key, string problem) =>
        new(BadKey, $"'{key}' is not a state key: {problem}.",
            "Keys are segments of letters, digits and '_', '.', '+', '@', '=', '-' joined by '/', none starting with '.'.");

    /// <summary>The refusal of a value too large for etcd.</summary>
    public static StateException ValueTooLarge(string key, int bytes) =>
        new(TooLarge, $"State key '{key}' would hold {bytes} bytes; the state store takes at most {StateLimits.MaxValueBytes} bytes a key.",
            "Nothing was written. This is a bug in Tug: large state (journals, the audit chain) must be split over several keys.", exitCode: ExitCodes.Unexpected);
}
