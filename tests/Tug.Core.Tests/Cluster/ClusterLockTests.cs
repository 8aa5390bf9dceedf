// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Tug.Core.Cluster;

namespace Tug.Core.Tests.Cluster;

/// <summary>One mutating command per cluster: an OS lock that dies with its process, and a holder that names it.</summary>
public sealed class ClusterLockTests
{
    private static readonly DateTimeOffset Start = new(2025, 3, 4, 5, 6, 7, TimeSpan.Zero);

    private static LockHolder Holder(string id = "op1", string command = "tug cluster upgrade prod v8.5.0", int pid = 4242) =>
        new(id, command, pid, Start, "tidb", "ctl-1");

    private static void WriteHolderFile(string clusterDirectory, LockHolder holder) =>
        File.WriteAllText(Path.Combine(clusterDirectory, ClusterLock.HolderFileName), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["operation_id"] = holder.OperationId,
            ["command"] = holder.Command,
            ["pid"] = holder.Pid,
            ["started_at"] = holder.StartedAt.UtcDateTime.ToString("O"),
            ["user"] = holder.User,
            ["machine"] = holder.Machine,
            ["written_by_a_newer_tug"] = true,
        }));

    public sealed class TheAcquireMethod
    {
        [Fact]
        public void Should_Refuse_A_Second_Holder_And_Name_The_First()
        {
            // Given
            using var dir = new TempDirectory("prod");
            using var first = ClusterLock.Acquire(dir.Path, Holder());

            // When
            var e = Assert.Throws<ClusterException>(() => ClusterLock.Acquire(dir.Path, Holder("op2", "tug cluster restart prod")));

            // Then
            Assert.Equal(ClusterException.Locked, e.Code);
            Assert.Equal("Cluster 'prod' is being changed by `tug cluster upgrade prod v8.5.0` (PID 4242 on ctl-1, started 2025-03-04T05:06:07Z).", e.Message);
            Assert.Equal("Wait for it to finish, or stop that process. Nothing was changed.", e.Hint);
            Assert.Null(first.Stale);
        }

        [Fact]
        public void Should_Write_The_Holder_And_Remove_It_On_Dispose()
        {
            // Given
            using var dir = new TempDirectory();
            var holderFile = Path.Combine(dir.Path, ClusterLock.HolderFileName);

            // When
            var @lock = ClusterLock.Acquire(dir.Path, Holder());
            var whileHeld = ClusterLock.Peek(dir.Path);
            @lock.Dispose();

            // Then
            Assert.Equal(new LockState(Holder(), Live: true), whileHeld);
            Assert.False(File.Exists(holderFile));
            Assert.True(File.Exists(Path.Combine(dir.Path, ClusterLock.LockFileName)), "the lock file itself stays: deleting a locked file breaks mutual exclusion");
            Assert.Null(ClusterLock.Peek(dir.Path));
            Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp-*", SearchOption.AllDirectories));
        }

        [Fact]
        public void Should_Be_Acquirable_Again_After_Dispose()
        {
            // Given
            using var dir = new TempDirectory();
            ClusterLock.Acquire(dir.Path, Holder("op1")).Dispose();

            // When
            using var second = ClusterLock.Acquire(dir.Path, Holder("op2"));

            // Then
            Assert.Equal("op2", second.Holder.OperationId);
            Assert.Null(second.Stale);
            Assert.Equal("op2", ClusterLock.Peek(dir.Path)?.Holder?.OperationId);
        }

        [Fact]
        public void Should_Create_The_Cluster_Directory()
        {
            // Given
            using var dir = new TempDirectory();
            var fresh = Path.Combine(dir.Root, "new-cluster");

            // When
            using var @lock = ClusterLock.Acquire(fresh, LockHolder.ForThisProcess("op1", "tug cluster deploy new-cluster", new FakeTimeProvider(Start)));

            // Then
            Assert.Equal((Environment.ProcessId, Start), (ClusterLock.Peek(fresh)?.Holder?.Pid, ClusterLock.Peek(fresh)?.Holder?.StartedAt));
        }
    }

    public sealed class WhenTheHolderDiedWithoutReleasing
    {
        [Fact]
        public void Should_Acquire_And_Report_The_Stale_Holder()
        {
            // Given: lock.json of a process that is gone, and nobody holding the OS lock
            using var dir = new TempDirectory();
            var dead = Holder(pid: Processes.DeadPid());
            WriteHolderFile(dir.Path, dead);
            var peeked = ClusterLock.Peek(dir.Path);

            // When
            using var @lock = ClusterLock.Acquire(dir.Path, Holder("op2", "tug cluster restart prod", Environment.ProcessId));

            // Then
            Assert.Equal(new LockState(dead, Live: false), peeked);
            Assert.Equal(dead, @lock.Stale);
            Assert.Equal(new LockState(Holder("op2", "tug cluster restart prod", Environment.ProcessId), Live: true), ClusterLock.Peek(dir.Path));
        }

        [Fact]
        public void Should_Refuse_While_Another_Process_Holds_The_Lock_And_Acquire_After_It_Is_Killed()
        {
            Assert.SkipUnless(Processes.HaveFlock, "needs Linux and util-linux flock(1)");

            // Given: another process holds an flock on <cluster>/lock (what .NET's FileShare.None takes) and wrote lock.json
            using var dir = new TempDirectory();
            var other = Holder(pid: 999_999);
            WriteHolderFile(dir.Path, other);
            using var holder = Processes.HoldWithFlock(Path.Combine(dir.Path, ClusterLock.LockFileName), 60);

            // When
            var refused = Assert.Throws<ClusterException>(() => ClusterLock.Acquire(dir.Path, Holder("op2")));
            var peekedLive = ClusterLock.Peek(dir.Path);
            holder.Kill(entireProcessTree: true);
            holder.WaitForExit();
            using var acquired = ClusterLock.Acquire(dir.Path, Holder("op2"));

            // Then
            Assert.Equal(ClusterException.Locked, refused.Code);
            Assert.Contains("`tug cluster upgrade prod v8.5.0` (PID 999999 on ctl-1", refused.Message, StringComparison.Ordinal);
            Assert.Equal(new LockState(other, Live: true), peekedLive);
            Assert.Equal(other, acquired.Stale);
        }

        [Fact]
        public void Should_Keep_Flock_Out_While_Held()
        {
            Assert.SkipUnless(Processes.HaveFlock, "needs Linux and util-linux flock(1)");

            // Given
            using var dir = new TempDirectory();
            using var @lock = ClusterLock.Acquire(dir.Path, Holder());

            // When
            using var probe = System.Diagnostics.Process.Start("/usr/bin/flock", ["-n", "-x", Path.Combine(dir.Path, ClusterLock.LockFileName), "true"]);
            probe.WaitForExit();

            // Then: flock -n exits 1 when the lock is taken
            Assert.Equal(1, probe.ExitCode);
        }
    }

    public sealed class ThePeekMethod
    {
        [Fact]
        public void Should_Return_Null_For_A_Cluster_Never_Locked()
        {
            using var dir = new TempDirectory();
            Assert.Null(ClusterLock.Peek(dir.Path));
            Assert.Null(ClusterLock.Peek(Path.Combine(dir.Root, "missing")));
        }

        [Fact]
        public void Should_Not_Disturb_The_Holder()
        {
            // Given
            using var dir = new TempDirectory();
            using var @lock = ClusterLock.Acquire(dir.Path, Holder());

            // When
            for (var i = 0; i < 20; i++)
            {
                Assert.True(ClusterLock.Peek(dir.Path)?.Live);
            }

            // Then
            Assert.Throws<ClusterException>(() => ClusterLock.Acquire(dir.Path, Holder("op2")));
            Assert.True(File.Exists(Path.Combine(dir.Path, ClusterLock.HolderFileName)));
        }
    }
}
