// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Cluster;
using Tug.Core.Execution;
using Tug.Core.Execution.Steps;
using Tug.Core.Planning;

namespace Tug.Core.Tests.Execution;

/// <summary>
/// <c>tug cluster rename</c>: the planner's refusals, and the rename step through the real executor, stopped at every
/// point (before the rename, after it, after the record, and as a SIGKILL leaves it): always exactly one of OLD and NEW,
/// the operation's journal and lock where the directory is, and a replay that finishes it.
/// </summary>
public sealed class RenameTests
{
    private const string Old = ExecutorFixture.Prod;
    private const string New = "prod2";

    private static Executor Executor(ExecutorFixture f, string? failpoints = null) =>
        new(f.Store, f.Audit, [new RenameStep()], TimeProvider.System, Failpoints.Parse(failpoints));

    /// <summary>The planner's plan with only its rename step (the refresh steps need real hosts).</summary>
    private static Plan RenameOnly(ExecutorFixture f)
    {
        var plan = new RenamePlanner(f.Store).Rename(Old, New);
        return plan with { Steps = [plan.Steps[0]] };
    }

    private static Task<OperationReport> RunAsync(ExecutorFixture f, Plan plan, string? failpoints = null) =>
        Executor(f, failpoints).RunAsync(plan, f.Options() with { CommandLine = ["cluster", "rename", Old, New] }, null, CancellationToken.None);

    private static async Task<OperationReport> ReplayAsync(ExecutorFixture f, string target)
    {
        var executor = Executor(f);
        var (cluster, record) = executor.FindReplayTarget(target, null);
        return await executor.ReplayAsync(cluster, record, f.Options(), null, CancellationToken.None);
    }

    private static void ExactlyOne(ExecutorFixture f, string name)
    {
        Assert.Equal([name], f.Store.ListDirectories());
        Assert.True(f.Store.Exists(name));
        f.Store.Load(name);
    }

    /// <summary>What a SIGKILL after the failed run would have left: no end record, and lock.json of a dead holder.</summary>
    private static void AsIfKilled(ExecutorFixture f, string name, string id)
    {
        var journal = OperationJournal.PathOf(f.Store.Directory(name), id);
        var lines = File.ReadAllLines(journal).Where(l => !l.Contains("\"type\":\"end\"", StringComparison.Ordinal)).ToArray();
        File.WriteAllLines(journal, lines);
        File.WriteAllText(Path.Combine(f.Store.Directory(name), ClusterLock.HolderFileName),
            $"{{\"operation_id\":\"{id}\",\"command\":\"tug cluster rename {Old} {New}\",\"pid\":999999,\"started_at\":\"2025-01-01T00:00:00.0000000Z\",\"user\":\"x\",\"machine\":\"m\"}}");
    }

    [Fact]
    public void Should_Plan_One_Local_Rename_Then_A_Refresh_Of_Each_Instance_Whose_Files_Carry_The_Name()
    {
        // Given: etcd on three hosts (its run script carries the cluster name as its token)
        using var f = new ExecutorFixture();

        // When
        var plan = new RenamePlanner(f.Store).Rename(Old, New);

        // Then
        Assert.Equal(("rename", New, Old), (plan.Operation, plan.Cluster, plan.RenamedFrom));
        Assert.Equal(new StepKey(StepKind.Rename, Old), plan.Steps[0].Key);
        Assert.Equal(StepLogin.Local, plan.Steps[0].Login);
        Assert.Equal(3, plan.Steps.Count(s => s.Key.Kind == StepKind.Refresh && s.Wave == 2));
        Assert.Equal(Tug.Core.Execution.Executor.MetaRevision(f.Store, Old), plan.BasedOn);
        var stored = PlanJson.Deserialize(PlanJson.Serialize(plan), "plan.json");
        Assert.Equal(Old, stored.RenamedFrom);
    }

    [Fact]
    public void Should_Refuse_A_Taken_Or_Unknown_Or_Bad_Name_And_A_Busy_Or_Interrupted_Cluster()
    {
        // Given
        using var f = new ExecutorFixture();
        var planner = new RenamePlanner(f.Store);
        Directory.CreateDirectory(f.Store.Directory("taken"));

        // Then
        Assert.Equal(ClusterException.Exists, Assert.Throws<ClusterException>(() => planner.Rename(Old, "taken")).Code);
        Assert.Equal(ClusterException.NotFound, Assert.Throws<ClusterException>(() => planner.Rename("nope", New)).Code);
        Assert.Equal(ClusterException.BadInput, Assert.Throws<ClusterException>(() => planner.Rename(Old, "../x")).Code);
        Assert.Equal(ClusterException.BadInput, Assert.Throws<ClusterException>(() => planner.Rename(Old, Old)).Code);
        using (ClusterLock.Acquire(f.ClusterDirectory, LockHolder.ForThisProcess("op", "tug cluster upgrade prod", TimeProvider.System)))
        {
            Assert.Equal(ClusterException.Locked, Assert.Throws<ClusterException>(() => planner.Rename(Old, New)).Code);
        }

        OperationJournal.Begin(f.ClusterDirectory, JournalHeader.ForThisProcess(OperationId.New(TimeProvider.System), Old, "upgrade", ["cluster", "upgrade"], TimeProvider.System), TimeProvider.System).Dispose();
        Assert.Equal(ClusterException.Interrupted, Assert.Throws<ClusterException>(() => planner.Rename(Old, New)).Code);
    }

    [Fact]
    public async Task Should_Move_The_Directory_With_The_Operation_Inside_And_Audit_Both_Names()
    {
        // Given
        using var f = new ExecutorFixture();
        var meta = File.ReadAllBytes(f.Store.MetaFile(Old));

        // When
        var report = await RunAsync(f, RenameOnly(f));

        // Then: only NEW, with the same meta.yaml, the rename's own journal (ended) and no lock holder left
        Assert.True(report.Ok, report.FailureList);
        ExactlyOne(f, New);
        Assert.Equal(meta, File.ReadAllBytes(f.Store.MetaFile(New)));
        var record = Assert.Single(OperationJournal.List(f.Store.Directory(New)));
        Assert.Equal((OperationStatus.Succeeded, New), (record.Status, record.Header.Cluster));
        Assert.Null(ClusterLock.Peek(f.Store.Directory(New)));
        var audited = f.Audit.Read().Where(e => e.Id == report.Id).ToList();
        Assert.Equal([Old, New], audited.Select(e => e.Cluster));
        Assert.All(audited, e => Assert.Equal($"tug cluster rename {Old} {New}", e.Command));
    }

    [Theory]
    [InlineData("before-action", false)]
    [InlineData("after-action", true)]
    [InlineData("after-record", true)]
    public async Task Should_Leave_Exactly_One_Name_And_A_Replay_That_Finishes_It(string site, bool renamed)
    {
        // Given: the run stops at that point
        using var f = new ExecutorFixture();
        await Assert.ThrowsAsync<InvalidOperationException>(() => RunAsync(f, RenameOnly(f), $"rename:{site}=error"));

        // Then: exactly one name, holding the operation's journal, no live lock
        var where = renamed ? New : Old;
        ExactlyOne(f, where);
        var record = Assert.Single(OperationJournal.List(f.Store.Directory(where)));
        Assert.Equal(where, record.Header.Cluster);
        Assert.Null(ClusterLock.Peek(f.Store.Directory(where)));

        // When: replayed under the name the cluster has now
        var report = await ReplayAsync(f, where);

        // Then: renamed, the step found done when it was, the operation ended, the audit chain intact
        Assert.True(report.Ok, report.FailureList);
        ExactlyOne(f, New);
        Assert.Equal(renamed, report.Outcomes[0].Message.Contains("not run again", StringComparison.Ordinal));
        Assert.Equal(OperationStatus.Succeeded, Assert.Single(OperationJournal.List(f.Store.Directory(New))).Status);
        Assert.True(f.Audit.Verify().Ok);
    }

    [Theory]
    [InlineData("before-action", false)]
    [InlineData("after-action", true)]
    public async Task Should_Refuse_Other_Commands_After_A_Kill_Naming_The_Current_Name_Until_Replayed(string site, bool renamed)
    {
        // Given: the state a SIGKILL at that point leaves (no end record, a dead holder's lock.json)
        using var f = new ExecutorFixture();
        var plan = RenameOnly(f);
        await Assert.ThrowsAsync<InvalidOperationException>(() => RunAsync(f, plan, $"rename:{site}=error"));
        var where = renamed ? New : Old;
        var id = Assert.Single(OperationJournal.List(f.Store.Directory(where))).Id;
        AsIfKilled(f, where, id);

        // When: another mutating command comes
        var other = f.Plan() with { Cluster = where, BasedOn = Tug.Core.Execution.Executor.MetaRevision(f.Store, where) };
        var refused = await Assert.ThrowsAsync<ClusterException>(() => Executor(f).RunAsync(other, f.Options(), null, CancellationToken.None));

        // Then: refused, naming the cluster by the name it has now and the replay to run
        Assert.Equal(ClusterException.Interrupted, refused.Code);
        Assert.Contains($"Cluster '{where}'", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"tug cluster replay {where}", refused.Hint, StringComparison.Ordinal);

        // And: the replay by that name, or by the operation's ID, finishes the rename
        var report = await ReplayAsync(f, renamed ? New : id);
        Assert.True(report.Ok, report.FailureList);
        ExactlyOne(f, New);
        Assert.Null(ClusterLock.Peek(f.Store.Directory(New)));
    }

    [Fact]
    public async Task Should_Never_Replace_A_Cluster_Created_Under_The_New_Name_Meanwhile()
    {
        // Given: NEW appears after the plan was made
        using var f = new ExecutorFixture();
        var plan = RenameOnly(f);
        f.Store.Save(New, f.Store.Load(Old) with { Version = "v9.9.9" });

        // When
        var report = await RunAsync(f, plan);

        // Then: the step fails, both clusters are as they were
        Assert.False(report.Ok);
        Assert.Contains("exists already", report.Outcomes[0].Message, StringComparison.Ordinal);
        Assert.Equal("v3.5.17", f.Store.Load(Old).Version);
        Assert.Equal("v9.9.9", f.Store.Load(New).Version);
    }
}
