// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Diagnostics;
using System.Text;
using Tug.Core.State;

namespace Tug.Core.Tests.State;

/// <summary>
/// What every <see cref="IStateStore"/> promises, run as the same cases against the local directory
/// (<see cref="LocalStateStoreTests"/>) and a real etcd (<see cref="EtcdStateStoreTests"/>).
/// </summary>
public abstract class StateStoreContract
{
    protected static readonly DateTimeOffset Start = new(2025, 3, 4, 5, 6, 7, TimeSpan.Zero);

    protected static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>A client of the store under test; two calls give two writers of the same state.</summary>
    protected abstract IStateStore Open(TimeSpan? lockTtl = null);

    /// <summary>Stops renewing a held lock without releasing it, as a killed holder does.</summary>
    protected abstract Task AbandonAsync(IStateLock held);

    /// <summary>Whether a dead holder's lock outlives it until its lease expires (etcd) rather than going with its process (local).</summary>
    protected abstract bool DeadHolderKeepsLockUntilLeaseExpires { get; }

    /// <summary>A store that cannot be reached, and how long its calls may take to say so; disposing it cleans up.</summary>
    protected abstract Task<(IStateStore Store, TimeSpan Bound, IAsyncDisposable Cleanup)> OpenUnavailableAsync();

    protected static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    protected static string Text(StateEntry? entry) => entry is null ? "(absent)" : Encoding.UTF8.GetString(entry.Value.Span);

    protected static StateLockHolder Holder(string command, int pid = 4242) => new("op-" + pid, command, "tidb", "ctl-a", pid, Start);

    [Fact]
    public async Task Should_Refuse_A_Writer_With_A_Stale_Revision_And_Name_The_Key()
    {
        // Given
        await using var a = Open();
        await using var b = Open();
        await a.PutAsync("clusters/prod/meta.yaml", Utf8("v1"), StateRevision.Absent, Token);
        var readByA = (await a.GetAsync("clusters/prod/meta.yaml", Token))!.Revision;
        var readByB = (await b.GetAsync("clusters/prod/meta.yaml", Token))!.Revision;
        Assert.Equal(readByA, readByB);

        // When
        var written = await a.PutAsync("clusters/prod/meta.yaml", Utf8("v2 by a"), readByA, Token);
        var e = await Assert.ThrowsAsync<StateException>(() => b.PutAsync("clusters/prod/meta.yaml", Utf8("v2 by b"), readByB, Token));

        // Then
        Assert.Equal(StateException.Conflict, e.Code);
        Assert.Contains("'clusters/prod/meta.yaml'", e.Message, StringComparison.Ordinal);
        Assert.Contains("changed by another writer", e.Message, StringComparison.Ordinal);
        Assert.StartsWith("Nothing was written.", e.Hint, StringComparison.Ordinal);
        var now = await b.GetAsync("clusters/prod/meta.yaml", Token);
        Assert.Equal("v2 by a", Text(now));
        Assert.Equal(written, now!.Revision);
        Assert.NotEqual(readByA, written);
    }

    [Fact]
    public async Task Should_Create_A_Key_Only_If_It_Is_Absent()
    {
        // Given
        await using var a = Open();
        await using var b = Open();
        Assert.Null(await a.GetAsync("clusters/new/meta.yaml", Token));

        // When
        var created = await a.PutAsync("clusters/new/meta.yaml", Utf8("a's"), StateRevision.Absent, Token);
        var e = await Assert.ThrowsAsync<StateException>(() => b.PutAsync("clusters/new/meta.yaml", Utf8("b's"), StateRevision.Absent, Token));

        // Then
        Assert.Equal(StateException.Conflict, e.Code);
        Assert.Contains("State key 'clusters/new/meta.yaml'", e.Message, StringComparison.Ordinal);
        Assert.Contains("already exists", e.Message, StringComparison.Ordinal);
        Assert.Equal("a's", Text(await b.GetAsync("clusters/new/meta.yaml", Token)));
        Assert.False(created.IsAbsent);
    }

    [Fact]
    public async Task Should_Delete_Only_At_The_Revision_Read()
    {
        // Given
        await using var store = Open();
        var first = await store.PutAsync("clusters/prod/pins", Utf8("1"), StateRevision.Absent, Token);
        var second = await store.PutAsync("clusters/prod/pins", Utf8("2"), first, Token);

        // When
        var e = await Assert.ThrowsAsync<StateException>(() => store.DeleteAsync("clusters/prod/pins", first, Token));
        await store.DeleteAsync("clusters/prod/pins", second, Token);

        // Then
        Assert.Equal(StateException.Conflict, e.Code);
        Assert.Null(await store.GetAsync("clusters/prod/pins", Token));
        var gone = await Assert.ThrowsAsync<StateException>(() => store.DeleteAsync("clusters/prod/pins", second, Token));
        Assert.Contains("was removed by another writer", gone.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_List_The_Keys_Under_A_Prefix_In_Order()
    {
        // Given
        await using var store = Open();
        foreach (var key in new[] { "clusters/b/meta.yaml", "clusters/a/ssh/id_rsa", "clusters/a/meta.yaml", "clustersx/meta.yaml", "other/x" })
        {
            await store.PutAsync(key, Utf8(key), StateRevision.Absent, Token);
        }

        // When
        var underA = await store.ListAsync("clusters/a/", Token);
        var clusters = await store.ListAsync("clusters/", Token);
        var everything = await store.ListAsync("", Token);
        var none = await store.ListAsync("clusters/zzz/", Token);

        // Then
        Assert.Equal(["clusters/a/meta.yaml", "clusters/a/ssh/id_rsa"], underA.Select(e => e.Key));
        Assert.Equal(["clusters/a/meta.yaml", "clusters/a/ssh/id_rsa", "clusters/b/meta.yaml"], clusters.Select(e => e.Key));
        Assert.Equal(["clusters/a/meta.yaml", "clusters/a/ssh/id_rsa", "clusters/b/meta.yaml", "clustersx/meta.yaml", "other/x"], everything.Select(e => e.Key));
        Assert.Empty(none);
        foreach (var entry in clusters)
        {
            Assert.Equal(entry.Key, Text(entry));
            Assert.Equal((await store.GetAsync(entry.Key, Token))!.Revision, entry.Revision);
        }
    }

    [Fact]
    public async Task Should_Apply_A_Transaction_Whole_Or_Not_At_All()
    {
        // Given
        await using var store = Open();
        var step1 = await store.PutAsync("clusters/prod/journal/op1/step-1", Utf8("planned"), StateRevision.Absent, Token);
        await store.PutAsync("clusters/prod/journal/op1/step-1", Utf8("done"), step1, Token);

        // When
        var e = await Assert.ThrowsAsync<StateException>(() => store.CommitAsync(
            [new StatePut("clusters/prod/journal/op1/step-2", Utf8("planned"), StateRevision.Absent), new StatePut("clusters/prod/journal/op1/step-1", Utf8("stale"), step1)], Token));
        var revisions = await store.CommitAsync(
            [new StatePut("clusters/prod/journal/op1/step-2", Utf8("planned"), StateRevision.Absent), new StateDelete("clusters/prod/journal/op1/step-1", (await store.GetAsync("clusters/prod/journal/op1/step-1", Token))!.Revision)], Token);

        // Then
        Assert.Equal(StateException.Conflict, e.Code);
        Assert.Contains("'clusters/prod/journal/op1/step-1'", e.Message, StringComparison.Ordinal);
        Assert.Equal(2, revisions.Count);
        Assert.Equal((await store.GetAsync("clusters/prod/journal/op1/step-2", Token))!.Revision, revisions[0]);
        Assert.True(revisions[1].IsAbsent);
        Assert.Null(await store.GetAsync("clusters/prod/journal/op1/step-1", Token));
    }

    [Fact]
    public async Task Should_Refuse_Keys_That_Are_Not_State_Keys()
    {
        // Given
        await using var store = Open();

        // When / Then
        foreach (var key in new[] { "", "/abs", "a//b", "a/../b", "a/.hidden", "a b", "trailing/" })
        {
            var e = await Assert.ThrowsAsync<StateException>(() => store.PutAsync(key, Utf8("x"), StateRevision.Absent, Token));
            Assert.Equal(StateException.BadKey, e.Code);
        }

        var large = await Assert.ThrowsAsync<StateException>(() => store.PutAsync("big", new byte[StateLimits.MaxValueBytes + 1], StateRevision.Absent, Token));
        Assert.Equal(StateException.TooLarge, large.Code);
    }

    [Fact]
    public async Task Should_Refuse_A_Second_Lock_Holder_And_Name_The_First()
    {
        // Given
        await using var a = Open();
        await using var b = Open();
        var held = await a.AcquireLockAsync("clusters/prod", Holder("tug cluster upgrade prod v8.5.0", 4242), Token);

        // When
        var e = await Assert.ThrowsAsync<StateException>(() => b.AcquireLockAsync("clusters/prod", Holder("tug cluster restart prod", 5151), Token));
        var seen = await b.ReadLockAsync("clusters/prod", Token);
        var other = await b.AcquireLockAsync("clusters/staging", Holder("tug cluster restart staging", 5151), Token);

        // Then
        Assert.Equal(StateException.Locked, e.Code);
        Assert.Contains("'clusters/prod' is locked in", e.Message, StringComparison.Ordinal);
        Assert.Contains("`tug cluster upgrade prod v8.5.0` (user tidb, PID 4242 on ctl-a, started 2025-03-04T05:06:07Z", e.Message, StringComparison.Ordinal);
        Assert.NotNull(seen);
        Assert.True(seen.Live);
        Assert.Equal("tug cluster upgrade prod v8.5.0", seen.Holder!.Command);
        Assert.False(held.IsLost);
        held.EnsureHeld();

        // And when the first lets go, the second gets it.
        await held.DisposeAsync();
        await other.DisposeAsync();
        await using var second = await b.AcquireLockAsync("clusters/prod", Holder("tug cluster restart prod", 5151), Token);
        Assert.Equal("tug cluster restart prod", (await a.ReadLockAsync("clusters/prod", Token))!.Holder!.Command);
    }

    [Fact]
    public async Task Should_Free_A_Dead_Holders_Lock_Once_Its_Lease_Expires()
    {
        // Given
        var ttl = TimeSpan.FromSeconds(2);
        await using var a = Open(ttl);
        await using var b = Open(ttl);
        var held = await a.AcquireLockAsync("clusters/prod", Holder("tug cluster upgrade prod v8.5.0"), Token);
        await AbandonAsync(held);
        var died = Stopwatch.StartNew();

        // When
        if (DeadHolderKeepsLockUntilLeaseExpires)
        {
            var e = await Assert.ThrowsAsync<StateException>(() => b.AcquireLockAsync("clusters/prod", Holder("tug cluster replay prod", 5151), Token));
            Assert.Contains("tug cluster upgrade prod v8.5.0", e.Message, StringComparison.Ordinal);
            Assert.Contains("lease expires", e.Message, StringComparison.Ordinal);
        }

        IStateLock? taken = null;
        while (taken is null)
        {
            try
            {
                taken = await b.AcquireLockAsync("clusters/prod", Holder("tug cluster replay prod", 5151), Token);
            }
            catch (StateException e) when (e.Code == StateException.Locked && died.Elapsed < ttl + TimeSpan.FromSeconds(5))
            {
                await Task.Delay(200, Token);
            }
        }

        // Then
        await using (taken)
        {
            Assert.Equal("tug cluster replay prod", (await a.ReadLockAsync("clusters/prod", Token))!.Holder!.Command);
            Assert.True(died.Elapsed < ttl + TimeSpan.FromSeconds(5), $"took {died.Elapsed}");
        }
    }

    [Fact]
    public async Task Should_Break_A_Lock_By_Hand_And_Name_The_Holder_It_Broke()
    {
        // Given
        await using var a = Open();
        await using var b = Open();
        var held = await a.AcquireLockAsync("clusters/prod", Holder("tug cluster upgrade prod v8.5.0", 4242), Token);
        await AbandonAsync(held);

        // When
        var broken = await b.BreakLockAsync("clusters/prod", Token);
        var nothing = await b.BreakLockAsync("clusters/prod", Token);

        // Then
        Assert.NotNull(broken);
        Assert.Equal("tug cluster upgrade prod v8.5.0", broken.Command);
        Assert.Equal(4242, broken.Pid);
        Assert.Equal("ctl-a", broken.Machine);
        Assert.Null(nothing);
        Assert.Null(await b.ReadLockAsync("clusters/prod", Token));
        await using var next = await b.AcquireLockAsync("clusters/prod", Holder("tug cluster replay prod", 5151), Token);
        Assert.Null(next.Stale);
    }

    [Fact]
    public async Task Should_Fail_With_Unavailable_Within_A_Bounded_Time_When_The_Store_Cannot_Be_Reached()
    {
        // Given
        var (store, bound, cleanup) = await OpenUnavailableAsync();
        await using (cleanup)
        await using (store)
        {
            var clock = Stopwatch.StartNew();

            // When
            var e = await Assert.ThrowsAsync<StateException>(() => store.PutAsync("clusters/prod/meta.yaml", Utf8("x"), StateRevision.Absent, Token));

            // Then
            Assert.Equal(StateException.Unavailable, e.Code);
            Assert.Contains($"The state store {store.Address} did not answer", e.Message, StringComparison.Ordinal);
            Assert.Equal(ExitCodes.Failure, e.ExitCode);
            Assert.True(clock.Elapsed < bound + TimeSpan.FromSeconds(3), $"took {clock.Elapsed}, more than {bound} allows");
        }
    }
}
