// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Security.Cryptography;
using Tug.Core.Cluster;

namespace Tug.Core.State;

/// <summary>
/// The state store in a local directory (<c>$TUG_HOME</c>): key <c>clusters/prod/meta.yaml</c> is the file
/// <c>$TUG_HOME/clusters/prod/meta.yaml</c>, so the layout is today's and files written by code that does not use the
/// store yet are read (and their changes detected) as they are.
/// </summary>
/// <remarks>
/// <para>
/// A key's revision is the SHA-256 of its content, so any change by anyone (this store, today's direct file writers,
/// an editor) moves it; a write back to the very same bytes is the only change it cannot see, and that one changes
/// nothing. Writes compare and replace under an exclusive OS lock on <c>.state-write.lock</c> (so two Tug processes
/// never interleave a compare and a write), and replace through a temporary file and a rename (so a crash leaves the
/// old content or the new, never half).
/// </para>
/// <para>
/// A lock is today's <see cref="ClusterLock"/> on the lock's directory (<c>clusters/prod/lock</c> and
/// <c>lock.json</c>), so it excludes and is excluded by commands that still take <see cref="ClusterLock"/> directly.
/// The names <c>lock</c> and <c>lock.json</c> are therefore not data keys here.
/// </para>
/// </remarks>
public sealed class LocalStateStore(string root, TimeSpan? writeLockWait = null) : IStateStore
{
    /// <summary>The OS lock serializing the compare and the write of every writer of this directory.</summary>
    public const string WriteLockFileName = ".state-write.lock";

    private readonly TimeSpan _writeLockWait = writeLockWait ?? TimeSpan.FromSeconds(10);

    /// <summary>The directory: <c>$TUG_HOME</c>.</summary>
    public string Root { get; } = Path.GetFullPath(root);

    /// <inheritdoc/>
    public string Address => $"the local directory {Root}";

    /// <inheritdoc/>
    public Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken)
    {
        ValidateDataKey(key);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Read(key));
    }

    /// <inheritdoc/>
    public async Task<StateRevision> PutAsync(string key, ReadOnlyMemory<byte> value, StateRevision expected, CancellationToken cancellationToken)
    {
        var revisions = await CommitAsync([new StatePut(key, value, expected)], cancellationToken).ConfigureAwait(false);
        return revisions[0];
    }

    /// <inheritdoc/>
    public Task DeleteAsync(string key, StateRevision expected, CancellationToken cancellationToken) =>
        CommitAsync([new StateDelete(key, expected)], cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<StateEntry>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        StateKey.ValidatePrefix(prefix);
        var directory = prefix.LastIndexOf('/') is var slash and >= 0 ? Path.Combine(Root, prefix[..slash]) : Root;
        if (!Directory.Exists(directory))
        {
            return Task.FromResult<IReadOnlyList<StateEntry>>([]);
        }

        var entries = new List<StateEntry>();
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var key = Path.GetRelativePath(Root, file).Replace(Path.DirectorySeparatorChar, '/');
            if (key.StartsWith(prefix, StringComparison.Ordinal) && StateKey.IsValid(key) && !IsReserved(key) && Read(key) is { } entry)
            {
                entries.Add(entry);
            }
        }

        entries.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return Task.FromResult<IReadOnlyList<StateEntry>>(entries);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<StateRevision>> CommitAsync(IReadOnlyList<StateWrite> writes, CancellationToken cancellationToken)
    {
        StateLimits.CheckTransaction(writes, ValidateDataKey);
        using var writeLock = await TakeWriteLockAsync(cancellationToken).ConfigureAwait(false);
        foreach (var write in writes)
        {
            var found = Read(write.Key)?.Revision ?? StateRevision.Absent;
            if (found != write.Expected)
            {
                throw StateException.RevisionConflict(Address, write.Key, write.Expected, found);
            }
        }

        var revisions = new List<StateRevision>(writes.Count);
        foreach (var write in writes)
        {
            var path = PathOf(write.Key);
            try
            {
                if (write is StatePut put)
                {
                    PrivateFiles.CreateDirectory(Path.GetDirectoryName(path)!);
                    DurableFile.WriteAtomically(path, put.Value.Span);
                    revisions.Add(RevisionOf(put.Value.Span));
                }
                else
                {
                    File.Delete(path);
                    revisions.Add(StateRevision.Absent);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw Unreadable(write.Key, e);
            }
        }

        return revisions;
    }

    /// <inheritdoc/>
    public Task<IStateLock> AcquireLockAsync(string name, StateLockHolder holder, CancellationToken cancellationToken)
    {
        StateKey.Validate(name);
        cancellationToken.ThrowIfCancellationRequested();
        var directory = PathOf(name);
        try
        {
            var held = ClusterLock.Acquire(directory, holder.ToClusterLockHolder());
            return Task.FromResult<IStateLock>(new LocalStateLock(name, held, holder));
        }
        catch (ClusterException e) when (e.Code == ClusterException.Locked && e.InnerException is IOException)
        {
            var current = ClusterLock.Peek(directory)?.Holder;
            throw StateException.HeldBy(Address, name, current is null ? null : StateLockHolder.FromClusterLockHolder(current));
        }
    }

    /// <inheritdoc/>
    public Task<StateLockState?> ReadLockAsync(string name, CancellationToken cancellationToken)
    {
        StateKey.Validate(name);
        cancellationToken.ThrowIfCancellationRequested();
        var state = ClusterLock.Peek(PathOf(name));
        return Task.FromResult(state is null ? null : new StateLockState(state.Holder is null ? null : StateLockHolder.FromClusterLockHolder(state.Holder), state.Live));
    }

    /// <inheritdoc/>
    public Task<StateLockHolder?> BreakLockAsync(string name, CancellationToken cancellationToken)
    {
        StateKey.Validate(name);
        cancellationToken.ThrowIfCancellationRequested();
        var directory = PathOf(name);
        if (!Directory.Exists(directory))
        {
            return Task.FromResult<StateLockHolder?>(null);
        }

        // Taking the lock is the only safe way to tell a dead holder from a live one; releasing it removes the dead one's record.
        ClusterLock held;
        try
        {
            held = ClusterLock.Acquire(directory, StateLockHolder.ForThisProcess("break-lock", $"break the lock {name}", TimeProvider.System).ToClusterLockHolder());
        }
        catch (ClusterException e) when (e.Code == ClusterException.Locked && e.InnerException is IOException)
        {
            var live = ClusterLock.Peek(directory)?.Holder is { } h ? StateLockHolder.FromClusterLockHolder(h) : null;
            throw new StateException(StateException.Locked,
                $"'{name}' in {Address} is held by {live?.Describe() ?? "another Tug process"}, which is alive: a local lock is an OS lock that lasts exactly as long as its process.",
                $"Stop that process{(live is null ? "" : $" (PID {live.Pid} on {live.Machine})")}; the lock goes with it. Nothing was changed.", e);
        }

        using (held)
        {
            return Task.FromResult(held.Stale is null ? null : StateLockHolder.FromClusterLockHolder(held.Stale));
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>The revision of a value: <c>sha256:</c> and the first 128 bits of its hash, in hex.</summary>
    internal static StateRevision RevisionOf(ReadOnlySpan<byte> value) => new("sha256:" + Convert.ToHexStringLower(SHA256.HashData(value).AsSpan(0, 16)));

    private StateEntry? Read(string key)
    {
        try
        {
            var bytes = File.ReadAllBytes(PathOf(key));
            return new StateEntry(key, bytes, RevisionOf(bytes));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (UnauthorizedAccessException) when (Directory.Exists(PathOf(key)))
        {
            // A directory (clusters/prod) is no key: its files are.
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unreadable(key, e);
        }
    }

    private StateException Unreadable(string key, Exception e) =>
        new(StateException.Unavailable, $"The state file {PathOf(key)} (key '{key}') cannot be used: {e.Message}",
            $"Check the permissions and free space of {Root} (it must be this user's, mode 0700), then read the state again: in a transaction, the keys before this one may have been written.", e, exitCode: ExitCodes.Failure);

    private string PathOf(string key) => Path.Combine(Root, key.Replace('/', Path.DirectorySeparatorChar));

    private static bool IsReserved(string key)
    {
        var name = key[(key.LastIndexOf('/') + 1)..];
        return name is ClusterLock.LockFileName or ClusterLock.HolderFileName || name.Contains(".tmp-", StringComparison.Ordinal);
    }

    private static void ValidateDataKey(string key)
    {
        StateKey.Validate(key);
        if (IsReserved(key))
        {
            throw StateException.NotAKey(key, "the local directory keeps its locks (and temporary files) under that name");
        }
    }

    private async Task<FileStream> TakeWriteLockAsync(CancellationToken cancellationToken)
    {
        PrivateFiles.CreateDirectory(Root);
        var path = Path.Combine(Root, WriteLockFileName);
        var waited = TimeSpan.Zero;
        var delay = TimeSpan.FromMilliseconds(5);
        while (true)
        {
            try
            {
                return PrivateFiles.Open(path, FileMode.OpenOrCreate, FileShare.None, bufferSize: 1, access: FileAccess.ReadWrite);
            }
            catch (IOException e) when (ClusterLock.IsLockConflict(e))
            {
                if (waited >= _writeLockWait)
                {
                    throw StateException.NotAnswering(Address, "its write lock (another Tug process holds it)", _writeLockWait, e,
                        $"Another Tug process holds {Path.Combine(Root, WriteLockFileName)} (see `fuser -v` on it); nothing was written. Run the command again once it is done.");
                }

                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                waited += delay;
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 100));
            }
        }
    }

    internal sealed class LocalStateLock(string name, ClusterLock held, StateLockHolder holder) : IStateLock
    {
        public string Name => name;

        public StateLockHolder Holder => holder;

        public StateLockHolder? Stale { get; } = held.Stale is null ? null : StateLockHolder.FromClusterLockHolder(held.Stale);

        // An OS lock cannot lapse while its process lives.
        public bool IsLost => false;

        public void EnsureHeld()
        {
        }

        /// <summary>Lets go of the OS lock without removing the holder record, as a killed process does (for tests).</summary>
        internal void Abandon() => held.Abandon();

        public ValueTask DisposeAsync()
        {
            held.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
