// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Globalization;

namespace Tug.Core.State;

/// <summary>
/// The version of a key as a store last saw it, opaque to callers: a content hash in the local directory, the
/// key's mod revision in etcd. <see cref="Absent"/> (the default) stands for "no such key", so a write that expects
/// it creates the key only if nobody else has.
/// </summary>
public readonly record struct StateRevision
{
    private readonly string? _value;

    /// <summary>A revision as its store spells it.</summary>
    /// <exception cref="ArgumentException"><paramref name="value"/> is empty.</exception>
    public StateRevision(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        _value = value;
    }

    /// <summary>The revision of a key that does not exist.</summary>
    public static StateRevision Absent => default;

    /// <summary>Whether this is <see cref="Absent"/>.</summary>
    public bool IsAbsent => _value is null;

    /// <summary>The store's spelling of the revision, or <c>absent</c>.</summary>
    public override string ToString() => _value ?? "absent";

    /// <summary>An etcd mod revision.</summary>
    public static StateRevision FromNumber(long revision) => new(revision.ToString(CultureInfo.InvariantCulture));
}

/// <summary>A key's value and the revision it was read at.</summary>
/// <param name="Key">The key, relative to the store (<c>clusters/prod/meta.yaml</c>).</param>
/// <param name="Value">The bytes stored.</param>
/// <param name="Revision">The revision to pass to the next write of this key.</param>
public sealed record StateEntry(string Key, ReadOnlyMemory<byte> Value, StateRevision Revision);

/// <summary>One write of a <see cref="IStateStore.CommitAsync"/> transaction, applied only if the key is still at <see cref="Expected"/>.</summary>
public abstract record StateWrite(string Key, StateRevision Expected);

/// <summary>Sets <see cref="StateWrite.Key"/> to <paramref name="Value"/>, creating it when <c>Expected</c> is <see cref="StateRevision.Absent"/>.</summary>
public sealed record StatePut(string Key, ReadOnlyMemory<byte> Value, StateRevision Expected) : StateWrite(Key, Expected);

/// <summary>Removes <see cref="StateWrite.Key"/>, which must be at <c>Expected</c> (never <see cref="StateRevision.Absent"/>).</summary>
public sealed record StateDelete(string Key, StateRevision Expected) : StateWrite(Key, Expected);

/// <summary>The limits both stores keep, so that what the local directory accepts also fits in etcd.</summary>
public static class StateLimits
{
    /// <summary>The largest value: etcd refuses requests over 1.5 MiB by default (<c>--max-request-bytes</c>).</summary>
    public const int MaxValueBytes = 1024 * 1024;

    /// <summary>The most writes in one transaction: etcd's default <c>--max-txn-ops</c>.</summary>
    public const int MaxTransactionWrites = 128;

    /// <summary>The longest key, in characters.</summary>
    public const int MaxKeyLength = 512;

    /// <summary>
    /// Refuses a transaction no store may apply, before anything is written: too many writes, a key the store refuses
    /// (<paramref name="validateKey"/>) or written twice, a value too large, a delete that names no revision.
    /// </summary>
    /// <exception cref="StateException"><see cref="StateException.TooLarge"/>, <see cref="StateException.BadKey"/>.</exception>
    public static void CheckTransaction(IReadOnlyList<StateWrite> writes, Action<string> validateKey)
    {
        ArgumentNullException.ThrowIfNull(writes);
        ArgumentNullException.ThrowIfNull(validateKey);
        if (writes.Count > MaxTransactionWrites)
        {
            throw new StateException(StateException.TooLarge, $"A state transaction of {writes.Count} writes is more than the {MaxTransactionWrites} etcd takes.",
                "Nothing was written. This is a bug in Tug: split the transaction.", exitCode: ExitCodes.Unexpected);
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var write in writes)
        {
            validateKey(write.Key);
            if (!seen.Add(write.Key))
            {
                throw StateException.NotAKey(write.Key, "it is written twice in one transaction");
            }

            if (write is StatePut { Value.Length: > MaxValueBytes } put)
            {
                throw StateException.ValueTooLarge(put.Key, put.Value.Length);
            }

            if (write is StateDelete { Expected.IsAbsent: true })
            {
                throw StateException.NotAKey(write.Key, "a delete must name the revision it read");
            }
        }
    }
}
