// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Microsoft.Extensions.Time.Testing;
using Tug.Core.Cluster;

namespace Tug.Core.Tests.Cluster;

/// <summary><c>audit cleanup</c>: old records leave from the front behind a checkpoint; the chain still verifies and still catches tampering.</summary>
public sealed class AuditCleanupTests
{
    private static readonly DateTimeOffset Start = new(2025, 3, 4, 5, 6, 7, TimeSpan.Zero);

    private static AuditEvent Begin(string id) => new(id, "prod", $"tug cluster restart prod # {id}", "alice", AuditEventKind.Start);

    private static AuditEvent Finish(string id) => new(id, "prod", $"tug cluster restart prod # {id}", "alice", AuditEventKind.End, JournalOutcome.Succeeded, 0, "ok");

    /// <summary>5 operations 100 days ago, then 2 today (2 records each): 14 records.</summary>
    private static (AuditLog Log, FakeTimeProvider Time) OldAndNew(TempDirectory dir)
    {
        var time = new FakeTimeProvider(Start);
        var log = new AuditLog(dir.Path, time);
        for (var i = 1; i <= 5; i++)
        {
            log.Append(Begin($"old{i}"));
            time.Advance(TimeSpan.FromSeconds(1));
            log.Append(Finish($"old{i}"));
        }

        time.Advance(TimeSpan.FromDays(100));
        for (var i = 1; i <= 2; i++)
        {
            log.Append(Begin($"new{i}"));
            time.Advance(TimeSpan.FromSeconds(1));
            log.Append(Finish($"new{i}"));
        }

        return (log, time);
    }

    private static DateTimeOffset Days(FakeTimeProvider time, int days) => time.GetUtcNow().AddDays(-days);

    private static string Problems(AuditVerification v) => string.Join("; ", v.Problems.Select(p => $"{p.Kind}: {p.Message}"));

    [Fact]
    public void Should_Remove_Old_Operations_Behind_A_Checkpoint_That_Verifies()
    {
        // Given
        using var dir = new TempDirectory("home");
        var (log, time) = OldAndNew(dir);
        var head = File.ReadAllText(log.HeadPath);
        var lastRemoved = log.Read()[9];

        // When
        var result = log.Cleanup(Days(time, 60), "cleanup1", "tug cluster audit cleanup --retain-days 60");

        // Then: the 10 old records are gone, the first line is a checkpoint naming the last removed one, HEAD is unchanged
        Assert.Equal((10, 5, 1L, 10L, 4, (string?)null), (result.Removed, result.Operations, result.FirstSeq, result.LastSeq, result.Kept, result.StoppedAt));
        var lines = File.ReadAllLines(log.FilePath);
        Assert.Equal(5, lines.Length);
        Assert.Contains("\"event\":\"checkpoint\"", lines[0], StringComparison.Ordinal);
        Assert.Contains($"\"seq\":10,", lines[0], StringComparison.Ordinal);
        Assert.Contains($"\"prev\":\"{lastRemoved.Hash}\"", lines[0], StringComparison.Ordinal);
        Assert.Equal(head, File.ReadAllText(log.HeadPath));
        Assert.Equal(["new1", "new1", "new2", "new2"], log.Read().Select(e => e.Id));
        var verification = log.Verify();
        Assert.True(verification.Ok, Problems(verification));
        Assert.Equal(4, verification.Records);
        Assert.Contains("seq 1-10", log.CheckpointSummary(), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(dir.Path, AuditLog.CleanupTemporaryName)));

        // And: appending afterwards chains on as before
        var next = log.Append(Begin("later"));
        Assert.Equal(15, next.Seq);
        Assert.True(log.Verify().Ok, Problems(log.Verify()));
    }

    [Fact]
    public void Should_Still_Catch_An_Edit_Of_A_Kept_Record()
    {
        // Given
        using var dir = new TempDirectory("home");
        var (log, time) = OldAndNew(dir);
        log.Cleanup(Days(time, 60), "cleanup1", "tug cluster audit cleanup");

        // When: the user of a kept record is changed
        var lines = File.ReadAllLines(log.FilePath);
        lines[2] = lines[2].Replace("\"user\":\"alice\"", "\"user\":\"mallory\"", StringComparison.Ordinal);
        File.WriteAllLines(log.FilePath, lines);

        // Then
        var verification = log.Verify();
        Assert.Contains(verification.Problems, p => p.Kind == AuditProblemKind.Edited && p.Line == 3);
    }

    [Fact]
    public void Should_Catch_An_Edited_Checkpoint()
    {
        // Given
        using var dir = new TempDirectory("home");
        var (log, time) = OldAndNew(dir);
        log.Cleanup(Days(time, 60), "cleanup1", "tug cluster audit cleanup");

        // When: the checkpoint's summary is changed to hide what was removed
        var lines = File.ReadAllLines(log.FilePath);
        lines[0] = lines[0].Replace("10 record(s)", "0 record(s)", StringComparison.Ordinal);
        File.WriteAllLines(log.FilePath, lines);

        // Then
        Assert.Contains(log.Verify().Problems, p => p.Kind == AuditProblemKind.Edited && p.Line == 1);
    }

    [Fact]
    public void Should_Catch_A_Checkpoint_That_Claims_Another_Last_Record()
    {
        // Given
        using var dir = new TempDirectory("home");
        var (log, time) = OldAndNew(dir);
        log.Cleanup(Days(time, 60), "cleanup1", "tug cluster audit cleanup");

        // When: the checkpoint's prev is changed (its hash then no longer matches, and the chain no longer joins)
        var lines = File.ReadAllLines(log.FilePath);
        lines[0] = System.Text.RegularExpressions.Regex.Replace(lines[0], "\"prev\":\"[0-9a-f]{64}\"", $"\"prev\":\"{new string('0', 64)}\"");
        File.WriteAllLines(log.FilePath, lines);

        // Then
        var problems = log.Verify().Problems;
        Assert.Contains(problems, p => p.Kind == AuditProblemKind.Edited && p.Line == 1);
        Assert.Contains(problems, p => p.Kind == AuditProblemKind.ChainBroken && p.Line == 2);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Should_Catch_A_Removed_Record_Put_Back(int at)
    {
        // Given: a removed record's line, kept aside
        using var dir = new TempDirectory("home");
        var (log, time) = OldAndNew(dir);
        var removedLine = File.ReadAllLines(log.FilePath)[at == 0 ? 0 : 9];
        log.Cleanup(Days(time, 60), "cleanup1", "tug cluster audit cleanup");

        // When: it is put back before the checkpoint, or right after it
        var lines = File.ReadAllLines(log.FilePath).ToList();
        lines.Insert(at, removedLine);
        File.WriteAllLines(log.FilePath, lines);

        // Then
        var problems = log.Verify().Problems;
        Assert.False(problems.IsEmpty);
        if (at == 0)
        {
            Assert.Contains(problems, p => p.Kind == AuditProblemKind.MisplacedCheckpoint && p.Line == 2);
        }
        else
        {
            Assert.Contains(problems, p => p.Kind is AuditProblemKind.ChainBroken or AuditProblemKind.SequenceGap && p.Line == 2);
        }
    }

    [Fact]
    public void Should_Keep_An_Interrupted_Operation_And_Everything_After_It()
    {
        // Given: old1 ended, old2 never ended (its process died), old3 ended; all 100 days ago
        using var dir = new TempDirectory("home");
        var time = new FakeTimeProvider(Start);
        var log = new AuditLog(dir.Path, time);
        log.Append(Begin("old1"));
        log.Append(Finish("old1"));
        log.Append(Begin("old2"));
        log.Append(Begin("old3"));
        log.Append(Finish("old3"));
        time.Advance(TimeSpan.FromDays(100));

        // When
        var result = log.Cleanup(Days(time, 60), "c", "tug cluster audit cleanup");

        // Then: only old1 goes
        Assert.Equal((2, 1), (result.Removed, result.Operations));
        Assert.Contains("old2", result.StoppedAt, StringComparison.Ordinal);
        Assert.Equal(["old2", "old3", "old3"], log.Read().Select(e => e.Id));
        Assert.True(log.Verify().Ok, Problems(log.Verify()));
    }

    [Fact]
    public void Should_Keep_An_Operation_Reopened_By_A_Replay()
    {
        // Given: old1 failed, and a replay of it started (not ended)
        using var dir = new TempDirectory("home");
        var time = new FakeTimeProvider(Start);
        var log = new AuditLog(dir.Path, time);
        log.Append(Begin("old1"));
        log.Append(Finish("old1"));
        log.Append(Begin("old1"));
        time.Advance(TimeSpan.FromDays(100));

        // When
        var result = log.Cleanup(Days(time, 60), "c", "tug cluster audit cleanup");

        // Then
        Assert.Equal(0, result.Removed);
        Assert.Equal(3, log.Read().Count);
    }

    [Fact]
    public void Should_Never_Split_An_Operation()
    {
        // Given: A and B interleave; A is old, B ended only yesterday
        using var dir = new TempDirectory("home");
        var time = new FakeTimeProvider(Start);
        var log = new AuditLog(dir.Path, time);
        log.Append(Begin("A"));
        log.Append(Begin("B"));
        log.Append(Finish("A"));
        time.Advance(TimeSpan.FromDays(99));
        log.Append(Finish("B"));
        time.Advance(TimeSpan.FromDays(1));

        // When
        var result = log.Cleanup(Days(time, 60), "c", "tug cluster audit cleanup");

        // Then: A's start cannot go without A's end, which comes after B's start: nothing goes
        Assert.Equal(0, result.Removed);
        Assert.Contains("B", result.StoppedAt, StringComparison.Ordinal);
        Assert.Equal(4, log.Read().Count);
    }

    [Fact]
    public void Should_Replace_An_Earlier_Checkpoint_And_Remove_Everything_When_Asked()
    {
        // Given: a first cleanup
        using var dir = new TempDirectory("home");
        var (log, time) = OldAndNew(dir);
        log.Cleanup(Days(time, 60), "c1", "tug cluster audit cleanup");
        time.Advance(TimeSpan.FromMinutes(1));
        var head = File.ReadAllText(log.HeadPath);

        // When: a second one with --retain-days 0
        var result = log.Cleanup(time.GetUtcNow(), "c2", "tug cluster audit cleanup --retain-days 0");

        // Then: only a checkpoint is left, naming the last record; it verifies, and appending goes on at seq 15
        Assert.Equal((4, 11L, 14L, 0), (result.Removed, result.FirstSeq, result.LastSeq, result.Kept));
        Assert.Single(File.ReadAllLines(log.FilePath));
        Assert.Equal(head, File.ReadAllText(log.HeadPath));
        Assert.True(log.Verify().Ok, Problems(log.Verify()));
        Assert.Empty(log.Read());
        Assert.Equal(15, log.Append(Begin("after")).Seq);
        Assert.True(log.Verify().Ok, Problems(log.Verify()));
    }

    [Fact]
    public void Should_Still_Find_A_Truncated_Tail_After_A_Cleanup()
    {
        // Given
        using var dir = new TempDirectory("home");
        var (log, time) = OldAndNew(dir);
        log.Cleanup(Days(time, 60), "c1", "tug cluster audit cleanup");

        // When: the last record is removed
        var lines = File.ReadAllLines(log.FilePath);
        File.WriteAllLines(log.FilePath, lines[..^1]);

        // Then
        Assert.Contains(log.Verify().Problems, p => p.Kind == AuditProblemKind.TailTruncated);
    }

    [Theory]
    [InlineData(AuditCleanupPoint.NewLogWritten, false)]
    [InlineData(AuditCleanupPoint.Renamed, true)]
    public void Should_Leave_A_Log_That_Verifies_When_It_Dies_Between_Steps(AuditCleanupPoint point, bool replaced)
    {
        // Given
        using var dir = new TempDirectory("home");
        var (log, time) = OldAndNew(dir);
        var before = File.ReadAllBytes(log.FilePath);

        // When: the cleanup stops dead at that point
        Assert.Throws<InvalidOperationException>(() => log.Cleanup(Days(time, 60), "c", "tug cluster audit cleanup", p =>
        {
            if (p == point)
            {
                throw new InvalidOperationException("crash");
            }
        }));

        // Then: the old log or the new one, either verifying; a later cleanup finishes the job
        Assert.Equal(!replaced, before.AsSpan().SequenceEqual(File.ReadAllBytes(log.FilePath)));
        Assert.Equal(replaced ? 4 : 14, log.Read().Count);
        Assert.True(log.Verify().Ok, Problems(log.Verify()));
        log.Append(Begin("after-crash"));
        Assert.True(log.Verify().Ok, Problems(log.Verify()));
        var again = log.Cleanup(Days(time, 60), "c2", "tug cluster audit cleanup");
        Assert.Equal(replaced ? 0 : 10, again.Removed);
        Assert.True(log.Verify().Ok, Problems(log.Verify()));
        Assert.False(File.Exists(Path.Combine(dir.Path, AuditLog.CleanupTemporaryName)) && again.Removed > 0);
    }

    [Fact]
    public void Should_Refuse_A_Log_That_Does_Not_Verify()
    {
        // Given: an edited record
        using var dir = new TempDirectory("home");
        var (log, time) = OldAndNew(dir);
        var lines = File.ReadAllLines(log.FilePath);
        lines[3] = lines[3].Replace("alice", "bob", StringComparison.Ordinal);
        File.WriteAllLines(log.FilePath, lines);
        var before = File.ReadAllBytes(log.FilePath);

        // When
        var e = Assert.Throws<ClusterException>(() => log.Cleanup(Days(time, 60), "c", "tug cluster audit cleanup"));

        // Then: nothing removed, so the damage stays visible
        Assert.Equal(ClusterException.AuditBroken, e.Code);
        Assert.Equal(before, File.ReadAllBytes(log.FilePath));
    }

    [Fact]
    public void Should_Leave_The_File_Alone_When_Nothing_Is_Old_Enough()
    {
        // Given
        using var dir = new TempDirectory("home");
        var (log, time) = OldAndNew(dir);
        var before = File.ReadAllBytes(log.FilePath);

        // When
        var planned = log.PlanCleanup(Days(time, 200));
        var result = log.Cleanup(Days(time, 200), "c", "tug cluster audit cleanup --retain-days 200");

        // Then
        Assert.Equal((0, 0), (planned.Removed, result.Removed));
        Assert.Equal(before, File.ReadAllBytes(log.FilePath));
    }
}
