// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Diagnostics;
using Tug.Core.Cluster;
using Tug.Core.State;
using Tug.Core.Tests.Cluster;

namespace Tug.Core.Tests.State;

/// <summary>The state store contract on the local directory, and what only the local directory does: today's layout and <see cref="ClusterLock"/>.</summary>
public sealed class LocalStateStoreTests : StateStoreContract, IDisposable
{
    private readonly TempDirectory _home = new("home");

    protected override IStateStore Open(TimeSpan? lockTtl = null) => new LocalStateStore(_home.Path);

    protected override Task AbandonAsync(IStateLock held)
    {
        ((LocalStateStore.LocalStateLock)held).Abandon();
        return Task.CompletedTask;
    }

    protected override bool DeadHolderKeepsLockUntilLeaseExpires => false;

    protected override Task<(IStateStore Store, TimeSpan Bound, IAsyncDisposable Cleanup)> OpenUnavailableAsync()
    {
        Assert.True(Processes.HaveFlock, "this test needs util-linux flock(1)");
        var holder = Processes.HoldWithFlock(Path.Combine(_home.Path, LocalStateStore.WriteLockFileName), 60);
        var bound = TimeSpan.FromSeconds(1);
        return Task.FromResult<(IStateStore, TimeSpan, IAsyncDisposable)>((new LocalStateStore(_home.Path, bound), bound, new Killer(holder)));
    }

    public void Dispose() => _home.Dispose();

    [Fact]
    public async Task Should_Keep_Todays_Layout_Under_Tug_Home()
    {
        // Given
        await using var store = Open();

        // When
        await store.PutAsync("clusters/prod/meta.yaml", Utf8("user: tidb\n"), StateRevision.Absent, Token);

        // Then
        var file = Path.Combine(_home.Path, "clusters", "prod", "meta.yaml");
        Assert.Equal("user: tidb\n", File.ReadAllText(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(file)!, ".*"));
    }

    [Fact]
    public async Task Should_See_A_Change_Made_Behind_Its_Back_By_A_Direct_File_Writer()
    {
        // Given
        await using var store = Open();
        var read = await store.PutAsync("clusters/prod/meta.yaml", Utf8("one"), StateRevision.Absent, Token);
        File.WriteAllText(Path.Combine(_home.Path, "clusters", "prod", "meta.yaml"), "written by today's ClusterStore");

        // When
        var e = await Assert.ThrowsAsync<StateException>(() => store.PutAsync("clusters/prod/meta.yaml", Utf8("two"), read, Token));

        // Then
        Assert.Equal(StateException.Conflict, e.Code);
        Assert.Equal("written by today's ClusterStore", Text(await store.GetAsync("clusters/prod/meta.yaml", Token)));
    }

    [Fact]
    public async Task Should_Exclude_And_Be_Excluded_By_Todays_ClusterLock()
    {
        // Given
        await using var store = Open();
        var directory = Path.Combine(_home.Path, "clusters", "prod");

        // When
        var fromStore = await store.AcquireLockAsync("clusters/prod", Holder("tug cluster upgrade prod v8.5.0"), Token);
        var refused = Assert.Throws<ClusterException>(() => ClusterLock.Acquire(directory, new LockHolder("op", "tug cluster restart prod", 1, Start, "u", "m")));
        await fromStore.DisposeAsync();
        var old = ClusterLock.Acquire(directory, new LockHolder("op", "tug cluster restart prod", 77, Start, "u", "m"));
        var e = await Assert.ThrowsAsync<StateException>(() => store.AcquireLockAsync("clusters/prod", Holder("tug cluster upgrade prod v8.5.0"), Token));
        old.Dispose();

        // Then
        Assert.Equal(ClusterException.Locked, refused.Code);
        Assert.Contains("`tug cluster upgrade prod v8.5.0` (PID 4242 on ctl-a", refused.Message, StringComparison.Ordinal);
        Assert.Equal(StateException.Locked, e.Code);
        Assert.Contains("`tug cluster restart prod` (user u, PID 77 on m", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Not_List_Or_Take_Its_Lock_Files_As_Keys()
    {
        // Given
        await using var store = Open();
        await store.PutAsync("clusters/prod/meta.yaml", Utf8("m"), StateRevision.Absent, Token);
        await using var held = await store.AcquireLockAsync("clusters/prod", Holder("tug cluster upgrade prod v8.5.0"), Token);

        // When
        var keys = (await store.ListAsync("clusters/", Token)).Select(e => e.Key);
        var e = await Assert.ThrowsAsync<StateException>(() => store.GetAsync("clusters/prod/lock.json", Token));

        // Then
        Assert.Equal(["clusters/prod/meta.yaml"], keys);
        Assert.Equal(StateException.BadKey, e.Code);
    }

    [Fact]
    public async Task Should_Refuse_To_Break_A_Live_Local_Holder_And_Say_Which_Process_To_Stop()
    {
        // Given
        await using var store = Open();
        await using var held = await store.AcquireLockAsync("clusters/prod", Holder("tug cluster upgrade prod v8.5.0", 4242), Token);

        // When
        var e = await Assert.ThrowsAsync<StateException>(() => store.BreakLockAsync("clusters/prod", Token));

        // Then
        Assert.Equal(StateException.Locked, e.Code);
        Assert.Contains("which is alive", e.Message, StringComparison.Ordinal);
        Assert.Equal("Stop that process (PID 4242 on ctl-a); the lock goes with it. Nothing was changed.", e.Hint);
        held.EnsureHeld();
    }

    private sealed class Killer(Process process) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            process.Kill();
            process.WaitForExit();
            process.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
