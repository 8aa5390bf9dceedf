// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

namespace Tug.Core.State;

/// <summary>
/// Where Tug keeps what it knows about clusters: a keyed byte store whose every write names the revision it
/// expects (compare-and-swap), and named locks held with a lease. Two implementations: the local directory
/// (<see cref="LocalStateStore"/>, <c>$TUG_HOME</c> as laid out today) and etcd v3 (<c>Tug.Etcd</c>).
/// </summary>
/// <remarks>
/// <para>
/// Keys are relative paths: segments of <c>[A-Za-z0-9_][A-Za-z0-9._+@=-]*</c> joined by <c>/</c>
/// (<see cref="StateKey"/>). A segment never starts with a dot: such names are the stores' own (temporary files, locks).
/// </para>
/// <para>
/// No write is unconditional: a writer reads a key, then writes it naming the revision it read (or
/// <see cref="StateRevision.Absent"/> to create it), and a writer that lost a race is refused with
/// <see cref="StateException.Conflict"/> instead of silently overwriting the other one.
/// </para>
/// <para>
/// Every method either completes within the store's operation timeout or throws
/// <see cref="StateException.Unavailable"/>; a write that timed out may or may not have been applied, so the caller
/// reads the key again before writing it again.
/// </para>
/// </remarks>
public interface IStateStore : IAsyncDisposable
{
    /// <summary>The store's address for messages: the directory, or <c>etcd://HOST:PORT/PREFIX</c>.</summary>
    string Address { get; }

    /// <summary>A key's value and revision, or null when the key does not exist.</summary>
    /// <exception cref="StateException"><see cref="StateException.BadKey"/> (thrown synchronously), <see cref="StateException.Unavailable"/>.</exception>
    Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Sets a key if it is still at <paramref name="expected"/> (creates it if that is <see cref="StateRevision.Absent"/>
    /// and nobody created it meanwhile), and returns its new revision.
    /// </summary>
    /// <exception cref="StateException">
    /// <see cref="StateException.Conflict"/>: the key is at another revision (nothing was written);
    /// <see cref="StateException.BadKey"/>, <see cref="StateException.TooLarge"/>, <see cref="StateException.Unavailable"/>.
    /// </exception>
    Task<StateRevision> PutAsync(string key, ReadOnlyMemory<byte> value, StateRevision expected, CancellationToken cancellationToken);

    /// <summary>Removes a key if it is still at <paramref name="expected"/>.</summary>
    /// <exception cref="StateException">
    /// <see cref="StateException.Conflict"/>: the key is at another revision or gone (nothing was removed);
    /// <see cref="StateException.BadKey"/>, <see cref="StateException.Unavailable"/>.
    /// </exception>
    Task DeleteAsync(string key, StateRevision expected, CancellationToken cancellationToken);

    /// <summary>Every key starting with <paramref name="prefix"/> (a string prefix: <c>clusters/</c>, <c>clusters/prod/journal/</c>), sorted ordinally.</summary>
    /// <exception cref="StateException"><see cref="StateException.BadKey"/>, <see cref="StateException.Unavailable"/>.</exception>
    Task<IReadOnlyList<StateEntry>> ListAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>
    /// Applies every write if each key is still at its expected revision, or none of them; returns the new revision
    /// of each write, in order (<see cref="StateRevision.Absent"/> for a delete).
    /// </summary>
    /// <remarks>
    /// In etcd this is one transaction. In the local directory it is atomic against other Tug processes (they wait
    /// for the store's write lock) but not against a crash: a process killed mid-commit may leave some keys written.
    /// </remarks>
    /// <exception cref="StateException">
    /// <see cref="StateException.Conflict"/> naming the first key found at another revision (nothing was written);
    /// <see cref="StateException.BadKey"/>, <see cref="StateException.TooLarge"/>, <see cref="StateException.Unavailable"/>.
    /// </exception>
    Task<IReadOnlyList<StateRevision>> CommitAsync(IReadOnlyList<StateWrite> writes, CancellationToken cancellationToken);

    /// <summary>
    /// Takes the lock <paramref name="name"/> (<c>clusters/prod</c>) for <paramref name="holder"/>, or refuses naming
    /// whoever holds it. The lock is kept until the returned handle is disposed or the process dies; in etcd a holder
    /// that dies loses it when its lease expires.
    /// </summary>
    /// <exception cref="StateException">
    /// <see cref="StateException.Locked"/> naming the holder; <see cref="StateException.BadKey"/>, <see cref="StateException.Unavailable"/>.
    /// </exception>
    Task<IStateLock> AcquireLockAsync(string name, StateLockHolder holder, CancellationToken cancellationToken);

    /// <summary>Who holds the lock <paramref name="name"/>, or null when nobody does and no stale holder was left.</summary>
    /// <exception cref="StateException"><see cref="StateException.BadKey"/>, <see cref="StateException.Unavailable"/>.</exception>
    Task<StateLockState?> ReadLockAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Breaks the lock <paramref name="name"/> by hand and returns the holder it broke (null when there was no lock).
    /// In etcd this works on a live holder too (its next <see cref="IStateLock.EnsureHeld"/> fails); in the local
    /// directory only a holder that is gone can be broken: a live process keeps its OS lock until it exits.
    /// </summary>
    /// <exception cref="StateException">
    /// <see cref="StateException.Locked"/>: the local holder is alive; <see cref="StateException.BadKey"/>, <see cref="StateException.Unavailable"/>.
    /// </exception>
    Task<StateLockHolder?> BreakLockAsync(string name, CancellationToken cancellationToken);
}
