// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text;
using Microsoft.Extensions.Time.Testing;
using Tug.Core.Cluster;

namespace Tug.Core.Tests.Cluster;

/// <summary>The per-step journal: durable before each step, readable after a crash, resumable, classified.</summary>
public sealed class OperationJournalTests
{
    private static readonly DateTimeOffset Start = new(2025, 3, 4, 5, 6, 7, TimeSpan.Zero);

    private static JournalHeader Header(string id, FakeTimeProvider time, string operation = "upgrade") =>
        new(id, "prod", operation, ["prod", "v8.5.0", "--password", "***"], time.GetUtcNow(), 4242, "tidb");

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Runs a whole operation ending with <paramref name="outcome"/> (or none: the process "died").</summary>
    private static void Run(string clusterDirectory, string id, FakeTimeProvider time, JournalOutcome? outcome, string operation = "upgrade")
    {
        using var journal = OperationJournal.Begin(clusterDirectory, Header(id, time, operation), time);
        journal.Planned("stage h1");
        journal.Done("stage h1");
        if (outcome is { } o)
        {
            journal.End(o, o.ToString());
        }

        time.Advance(TimeSpan.FromMinutes(1));
    }

    public sealed class WhenWritingAndReading
    {
        [Fact]
        public void Should_Read_Back_Every_Record()
        {
            // Given
            using var dir = new TempDirectory();
            var time = new FakeTimeProvider(Start);

            // When
            using (var journal = OperationJournal.Begin(dir.Path, Header("op1", time), time))
            {
                journal.Planned("stage h1");
                time.Advance(TimeSpan.FromSeconds(1));
                journal.Done("stage h1", "2 files");
                journal.Planned("switch node_exporter 10.0.0.1:9100");
                journal.Failed("switch node_exporter 10.0.0.1:9100", "health check: connection refused");
                journal.End(JournalOutcome.Failed, "1 of 3 instances failed");
            }

            var record = OperationJournal.Read(dir.Path, "op1");

            // Then
            Assert.NotNull(record);
            Assert.Equal(Header("op1", new FakeTimeProvider(Start)) with { Args = record.Header.Args }, record.Header);
            Assert.Equal(["prod", "v8.5.0", "--password", "***"], record.Header.Args);
            Assert.Equal(
                [
                    new StepRecord(1, Start, "stage h1", StepState.Planned, null),
                    new StepRecord(2, Start.AddSeconds(1), "stage h1", StepState.Done, "2 files"),
                    new StepRecord(3, Start.AddSeconds(1), "switch node_exporter 10.0.0.1:9100", StepState.Planned, null),
                    new StepRecord(4, Start.AddSeconds(1), "switch node_exporter 10.0.0.1:9100", StepState.Failed, "health check: connection refused"),
                ],
                record.Steps);
            Assert.Equal(new JournalEnd(Start.AddSeconds(1), JournalOutcome.Failed, "1 of 3 instances failed"), record.End);
            Assert.Equal((OperationStatus.Failed, 0), (record.Status, record.Replays));
            Assert.Equal(4, record.LastStep?.Seq);
            Assert.Equal([KeyValuePair.Create("stage h1", StepState.Done), KeyValuePair.Create("switch node_exporter 10.0.0.1:9100", StepState.Failed)], record.StepStates());
        }

        [Fact]
        public void Should_Write_The_Documented_Lines()
        {
            // Given
            using var dir = new TempDirectory();
            var time = new FakeTimeProvider(Start);

            // When
            using (var journal = OperationJournal.Begin(dir.Path, Header("op1", time), time))
            {
                journal.Planned("stage \"h1\"");
                journal.End(JournalOutcome.Succeeded, "done");
            }

            // Then
            Assert.Equal(
                """
                {"type":"begin","id":"op1","cluster":"prod","operation":"upgrade","args":["prod","v8.5.0","--password","***"],"started":"2025-03-04T05:06:07.0000000Z","pid":4242,"user":"tidb"}
                {"type":"step","seq":1,"at":"2025-03-04T05:06:07.0000000Z","step":"stage \"h1\"","state":"planned"}
                {"type":"end","at":"2025-03-04T05:06:07.0000000Z","outcome":"succeeded","summary":"done"}

                """,
                File.ReadAllText(OperationJournal.PathOf(dir.Path, "op1")));
        }

        [Fact]
        public void Should_Have_The_Planned_Record_In_The_File_Before_The_Step_Runs()
        {
            // Given
            using var dir = new TempDirectory();
            var time = new FakeTimeProvider(Start);
            using var journal = OperationJournal.Begin(dir.Path, Header("op1", time), time);

            // When
            journal.Planned("stage h1");
            var seenByAnotherReader = ReadShared(journal.FilePath);
            journal.Done("stage h1");

            // Then: not buffered in this process (the write happened, and was followed by fsync before Planned returned)
            Assert.EndsWith("\"step\":\"stage h1\",\"state\":\"planned\"}\n", seenByAnotherReader, StringComparison.Ordinal);
            Assert.DoesNotContain("done", seenByAnotherReader, StringComparison.Ordinal);
        }

        [Fact]
        public void Should_Ignore_A_Torn_Last_Line_And_Start_The_Next_Record_On_A_Fresh_Line()
        {
            // Given: the process died in the middle of writing a record
            using var dir = new TempDirectory();
            var time = new FakeTimeProvider(Start);
            using (var journal = OperationJournal.Begin(dir.Path, Header("op1", time), time))
            {
                journal.Planned("stage h1");
            }

            var path = OperationJournal.PathOf(dir.Path, "op1");
            File.AppendAllText(path, "{\"type\":\"step\",\"seq\":2,\"at\":\"2025-03-04T05:0");

            // When
            var torn = OperationJournal.Read(dir.Path, "op1");
            using (var resumed = OperationJournal.Resume(dir.Path, "op1", time))
            {
                resumed.Done("stage h1");
            }

            var after = OperationJournal.Read(dir.Path, "op1");

            // Then
            Assert.Equal(["stage h1"], torn?.Steps.Select(s => s.Step));
            Assert.Equal(OperationStatus.Interrupted, torn?.Status);
            Assert.Equal([(1L, StepState.Planned), (2L, StepState.Done)], after?.Steps.Select(s => (s.Seq, s.State)));
            Assert.Equal(1, after?.Replays);
            var lines = File.ReadAllLines(path);
            Assert.Equal(5, lines.Length);
            Assert.StartsWith("{\"type\":\"step\",\"seq\":2,\"at\":\"2025-03-04T05:0", lines[2], StringComparison.Ordinal);
            Assert.StartsWith("{\"type\":\"replay\"", lines[3], StringComparison.Ordinal);
        }

        [Fact]
        public void Should_Ignore_Unknown_Fields_And_Records()
        {
            // Given: a journal written by a newer Tug
            using var dir = new TempDirectory();
            var path = OperationJournal.PathOf(dir.Path, "op9");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, """
                {"type":"begin","id":"op9","cluster":"prod","operation":"scale-out","args":[],"started":"2025-03-04T05:06:07Z","pid":1,"user":"tidb","host":"ctl"}
                {"type":"checkpoint","at":"2025-03-04T05:06:08Z"}
                {"type":"step","seq":1,"at":"2025-03-04T05:06:08Z","step":"deploy h1","state":"done","took_ms":12}
                {"type":"end","at":"2025-03-04T05:06:09Z","outcome":"succeeded","summary":"ok","exit_code":0}

                """);

            // When
            var record = OperationJournal.Read(dir.Path, "op9");

            // Then
            Assert.Equal(("scale-out", OperationStatus.Succeeded, 1), (record?.Header.Operation, record?.Status, record?.Steps.Length));
        }

        [Theory]
        [InlineData("../prod")]
        [InlineData("")]
        [InlineData("missing")]
        public void Should_Return_Null_For_An_Unknown_Or_Unsafe_Id(string id)
        {
            using var dir = new TempDirectory();
            Assert.Null(OperationJournal.Read(dir.Path, id));
            Assert.Equal(ClusterException.NotFound, Assert.Throws<ClusterException>(() => OperationJournal.Resume(dir.Path, id, TimeProvider.System)).Code);
        }

        [Fact]
        public void Should_Keep_Every_Line_Whole_When_Threads_Append_At_Once()
        {
            // Given
            using var dir = new TempDirectory();
            var time = new FakeTimeProvider(Start);
            using var journal = OperationJournal.Begin(dir.Path, Header("op1", time), time);

            // When
            Parallel.For(0, 8, host =>
            {
                for (var i = 0; i < 20; i++)
                {
                    journal.Planned($"switch h{host} {i}");
                    journal.Done($"switch h{host} {i}");
                }
            });

            // Then
            var record = OperationJournal.Read(dir.Path, "op1");
            Assert.Equal(Enumerable.Range(1, 320).Select(i => (long)i), record?.Steps.Select(s => s.Seq));
            Assert.All(record!.StepStates(), s => Assert.Equal(StepState.Done, s.Value));
        }
    }

    public sealed class TheResumeMethod
    {
        [Fact]
        public void Should_Know_Which_Steps_Are_Done_From_Earlier_Runs()
        {
            // Given: a run that died while switching h2
            using var dir = new TempDirectory();
            var time = new FakeTimeProvider(Start);
            using (var journal = OperationJournal.Begin(dir.Path, Header("op1", time), time))
            {
                journal.Planned("switch h1");
                journal.Done("switch h1");
                journal.Planned("switch h2");
                journal.Planned("switch h3");
                journal.Failed("switch h3", "timeout");
            }

            // When
            time.Advance(TimeSpan.FromMinutes(5));
            using var resumed = OperationJournal.Resume(dir.Path, "op1", time);

            // Then
            Assert.True(resumed.IsDone("switch h1"));
            Assert.False(resumed.IsDone("switch h2"));
            Assert.False(resumed.IsDone("switch h3"));
            Assert.False(resumed.IsDone("switch h4"));
            Assert.Equal(StepState.Failed, resumed.StateOf("switch h3"));
            Assert.Equal(Header("op1", new FakeTimeProvider(Start)).Operation, resumed.Header.Operation);

            // And the next records continue the sequence and count as this run's
            resumed.Planned("switch h2");
            resumed.Done("switch h2");
            Assert.True(resumed.IsDone("switch h2"));
            resumed.End(JournalOutcome.Succeeded, "3 hosts switched");
            var record = OperationJournal.Read(dir.Path, "op1");
            Assert.Equal((7L, 1, OperationStatus.Succeeded), (record?.LastStep?.Seq, record?.Replays, record?.Status));
            Assert.Equal(Start.AddMinutes(5), record?.End?.At);
        }

        [Fact]
        public void Should_Clear_The_End_Of_The_Earlier_Run()
        {
            // Given: a failed run, then a replay that dies
            using var dir = new TempDirectory();
            var time = new FakeTimeProvider(Start);
            Run(dir.Path, "op1", time, JournalOutcome.Failed);

            // When
            OperationJournal.Resume(dir.Path, "op1", time).Dispose();

            // Then
            var record = OperationJournal.Read(dir.Path, "op1");
            Assert.Equal((null, OperationStatus.Interrupted), (record?.End, record?.Status));
        }
    }

    public sealed class TheStatus
    {
        [Theory]
        [InlineData(JournalOutcome.Succeeded, OperationStatus.Succeeded)]
        [InlineData(JournalOutcome.Failed, OperationStatus.Failed)]
        [InlineData(JournalOutcome.Cancelled, OperationStatus.Interrupted)]
        public void Should_Follow_The_End_Record(JournalOutcome outcome, OperationStatus expected)
        {
            using var dir = new TempDirectory();
            Run(dir.Path, "op1", new FakeTimeProvider(Start), outcome);
            Assert.Equal(expected, OperationJournal.Read(dir.Path, "op1")?.Status);
        }

        [Fact]
        public void Should_Be_Interrupted_Without_An_End_And_Without_A_Live_Lock()
        {
            // Given
            using var dir = new TempDirectory();
            Run(dir.Path, "op1", new FakeTimeProvider(Start), outcome: null);

            // When
            var record = OperationJournal.Read(dir.Path, "op1");

            // Then
            Assert.Equal(OperationStatus.Interrupted, record?.Status);
            Assert.Equal("op1", OperationJournal.Interrupted(dir.Path)?.Id);
            var e = Assert.Throws<ClusterException>(() => OperationJournal.ThrowIfInterrupted(dir.Path));
            Assert.Equal(ClusterException.Interrupted, e.Code);
            Assert.Equal("Cluster 'prod' has an interrupted `upgrade` (operation op1, started 2025-03-04T05:06:07Z) that did not finish; its last step was 'stage h1' (done).", e.Message);
            Assert.Equal("Finish it with `tug cluster replay prod`, or pass --force to start anyway.", e.Hint);
        }

        [Fact]
        public void Should_Be_Running_While_The_Cluster_Lock_Is_Held_For_It()
        {
            // Given
            using var dir = new TempDirectory();
            var time = new FakeTimeProvider(Start);
            using var @lock = ClusterLock.Acquire(dir.Path, LockHolder.ForThisProcess("op1", "tug cluster upgrade prod v8.5.0", time));
            using var journal = OperationJournal.Begin(dir.Path, Header("op1", time), time);
            journal.Planned("stage h1");

            // When
            var running = OperationJournal.Read(dir.Path, "op1");
            var interrupted = OperationJournal.Interrupted(dir.Path);

            // Then
            Assert.Equal(OperationStatus.Running, running?.Status);
            Assert.Null(interrupted);
        }

        [Fact]
        public void Should_Be_Interrupted_When_The_Lock_Is_Held_For_Another_Operation()
        {
            // Given: op1 died; op2 (forced) holds the lock now
            using var dir = new TempDirectory();
            var time = new FakeTimeProvider(Start);
            Run(dir.Path, "op1", time, outcome: null);
            using var @lock = ClusterLock.Acquire(dir.Path, LockHolder.ForThisProcess("op2", "tug cluster restart prod", time));
            using var journal = OperationJournal.Begin(dir.Path, Header("op2", time, "restart"), time);

            // When
            var operations = OperationJournal.List(dir.Path);

            // Then
            Assert.Equal([("op1", OperationStatus.Interrupted), ("op2", OperationStatus.Running)], operations.Select(o => (o.Id, o.Status)));
        }

        [Fact]
        public void Should_List_Operations_By_Start_Time()
        {
            // Given: IDs that sort the other way round from their start times
            using var dir = new TempDirectory();
            var time = new FakeTimeProvider(Start);
            Run(dir.Path, "zz", time, JournalOutcome.Succeeded);
            Run(dir.Path, "aa", time, JournalOutcome.Failed);
            Directory.CreateDirectory(Path.Combine(dir.Path, OperationJournal.OperationsDirectoryName, "empty"));

            // When
            var operations = OperationJournal.List(dir.Path);

            // Then
            Assert.Equal(["zz", "aa"], operations.Select(o => o.Id));
        }
    }

    public sealed class TheReplayableAndInterruptedMethods
    {
        [Fact]
        public void Should_Find_Nothing_In_A_Fresh_Cluster()
        {
            using var dir = new TempDirectory();
            Assert.Null(OperationJournal.Replayable(dir.Path));
            Assert.Null(OperationJournal.Interrupted(dir.Path));
            OperationJournal.ThrowIfInterrupted(dir.Path);
        }

        [Fact]
        public void Should_Pick_The_Latest_Failed_Or_Interrupted_Operation()
        {
            // Given
            using var dir = new TempDirectory();
            var time = new FakeTimeProvider(Start);
            Run(dir.Path, "op1", time, JournalOutcome.Succeeded);
            Run(dir.Path, "op2", time, outcome: null);
            Run(dir.Path, "op3", time, JournalOutcome.Failed);

            // When
            var replayable = OperationJournal.Replayable(dir.Path);
            var interrupted = OperationJournal.Interrupted(dir.Path);

            // Then
            Assert.Equal("op3", replayable?.Id);
            Assert.Equal("op2", interrupted?.Id);
        }

        [Fact]
        public void Should_Treat_A_Cancelled_Operation_As_Interrupted()
        {
            using var dir = new TempDirectory();
            var time = new FakeTimeProvider(Start);
            Run(dir.Path, "op1", time, JournalOutcome.Failed);
            Run(dir.Path, "op2", time, JournalOutcome.Cancelled);
            Assert.Equal("op2", OperationJournal.Replayable(dir.Path)?.Id);
            Assert.Equal("op2", OperationJournal.Interrupted(dir.Path)?.Id);
            Assert.Contains("that was cancelled", Assert.Throws<ClusterException>(() => OperationJournal.ThrowIfInterrupted(dir.Path)).Message, StringComparison.Ordinal);
        }

        [Fact]
        public void Should_Find_Nothing_Once_A_Later_Operation_Succeeded()
        {
            // Given: a failed and an interrupted operation, then a forced one that succeeded
            using var dir = new TempDirectory();
            var time = new FakeTimeProvider(Start);
            Run(dir.Path, "op1", time, JournalOutcome.Failed);
            Run(dir.Path, "op2", time, outcome: null);
            Run(dir.Path, "op3", time, JournalOutcome.Succeeded);

            // Then
            Assert.Null(OperationJournal.Replayable(dir.Path));
            Assert.Null(OperationJournal.Interrupted(dir.Path));
        }

        [Fact]
        public void Should_Find_Nothing_Once_The_Interrupted_Operation_Was_Replayed_To_Success()
        {
            // Given
            using var dir = new TempDirectory();
            var time = new FakeTimeProvider(Start);
            Run(dir.Path, "op1", time, outcome: null);
            Assert.Equal("op1", OperationJournal.Replayable(dir.Path)?.Id);

            // When
            using (var replay = OperationJournal.Resume(dir.Path, "op1", time))
            {
                replay.End(JournalOutcome.Succeeded, "resumed");
            }

            // Then
            Assert.Null(OperationJournal.Replayable(dir.Path));
            Assert.Null(OperationJournal.Interrupted(dir.Path));
        }
    }
}
