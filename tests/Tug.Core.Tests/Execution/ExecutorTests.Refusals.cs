// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Cluster;
using Tug.Core.Execution;
using Tug.Core.Planning;
using Tug.Testing;
using static Tug.Core.Tests.Execution.ExecutorFixture;

namespace Tug.Core.Tests.Execution;

public sealed partial class ExecutorTests
{
    public sealed class WhenItMustNotStart
    {
        /// <summary>Leaves an operation as a SIGKILL would: begun, one step planned, no end, no lock.</summary>
        private static OperationRecord Killed(ExecutorFixture f)
        {
            var time = TimeProvider.System;
            var id = OperationId.New(time);
            using (var journal = OperationJournal.Begin(f.ClusterDirectory, JournalHeader.ForThisProcess(id, Prod, "upgrade", ["cluster", "upgrade", Prod, "v3.5.18"], time), time))
            {
                journal.Planned("switch 10.0.0.1:2379");
            }

            var record = f.Journal(id);
            Assert.Equal(OperationStatus.Interrupted, record.Status);
            return record;
        }

        private static void AssertNothingRan(ExecutorFixture f)
        {
            Assert.Empty(f.Log.Calls);
            Assert.Empty(f.Connector.Connections);
            Assert.Empty(f.Audit.Read());
        }

        [Fact]
        public async Task Should_Refuse_To_Start_When_An_Earlier_Operation_Was_Interrupted()
        {
            // Given
            using var f = new ExecutorFixture();
            var killed = Killed(f);

            // When
            var e = await Assert.ThrowsAsync<ClusterException>(() => f.RunAsync(f.Plan(Step(StepKind.Stage, H1, 1)), cancellationToken: TestContext.Current.CancellationToken));

            // Then
            Assert.Equal(ClusterException.Interrupted, e.Code);
            Assert.Contains($"operation {killed.Id}", e.Message, StringComparison.Ordinal);
            Assert.Contains("its last step was 'switch 10.0.0.1:2379' (planned)", e.Message, StringComparison.Ordinal);
            AssertNothingRan(f);
            Assert.Equal(killed.Id, f.OnlyOperation().Id);
        }

        [Fact]
        public async Task Should_Close_The_Interrupted_Operation_As_Failed_And_Run_When_Forced()
        {
            // Given
            using var f = new ExecutorFixture();
            var killed = Killed(f);
            var progress = new RecordingProgress<ProgressEvent>();

            // When
            var report = await f.RunAsync(f.Plan(Step(StepKind.Stage, H1, 1)), progress, force: true, cancellationToken: TestContext.Current.CancellationToken);

            // Then
            Assert.True(report.Ok);
            var closed = f.Journal(killed.Id);
            Assert.Equal(OperationStatus.Failed, closed.Status);
            Assert.Equal($"abandoned: `tug cluster test prod` ran with --force as operation {report.Id}", closed.End!.Summary);
            Assert.Contains(progress.OfType<Warning>(), w => w.Message.StartsWith($"operation {killed.Id} (`upgrade`) was interrupted; --force starts anyway", StringComparison.Ordinal));
            Assert.Equal(OperationStatus.Succeeded, f.Journal(report.Id!).Status);
        }

        [Fact]
        public async Task Should_Refuse_A_Plan_Made_Before_The_Cluster_Changed()
        {
            // Given
            using var f = new ExecutorFixture();
            var plan = f.Plan(Step(StepKind.Stage, H1, 1));
            f.Store.Save(Prod, f.Store.Load(Prod) with { Version = "v3.5.18" });

            // When
            var e = await Assert.ThrowsAsync<ClusterException>(() => f.RunAsync(plan, cancellationToken: TestContext.Current.CancellationToken));

            // Then
            Assert.Equal(ClusterException.BadInput, e.Code);
            Assert.Equal("Cluster 'prod' changed after this test was planned.", e.Message);
            AssertNothingRan(f);
            Assert.Empty(OperationJournal.List(f.ClusterDirectory));
        }

        [Fact]
        public async Task Should_Leave_The_Interrupted_Operation_Open_When_A_Forced_Plan_Is_Refused_As_Stale()
        {
            // Given
            using var f = new ExecutorFixture();
            var plan = f.Plan(Step(StepKind.Stage, H1, 1));
            f.Store.Save(Prod, f.Store.Load(Prod) with { Version = "v3.5.18" });
            var killed = Killed(f);

            // When
            var e = await Assert.ThrowsAsync<ClusterException>(() => f.RunAsync(plan, force: true, cancellationToken: TestContext.Current.CancellationToken));

            // Then
            Assert.Equal(ClusterException.BadInput, e.Code);
            Assert.Equal(OperationStatus.Interrupted, f.Journal(killed.Id).Status);
            Assert.Equal(0, f.Journal(killed.Id).Replays);
            AssertNothingRan(f);
        }

        [Fact]
        public async Task Should_Refuse_A_Second_Executor_While_The_Lock_Is_Held()
        {
            // Given
            using var f = new ExecutorFixture();
            var plan = f.Plan(Step(StepKind.Stage, H1, 1));
            using var held = ClusterLock.Acquire(f.ClusterDirectory, LockHolder.ForThisProcess("20250101T000000Z-held", "tug cluster restart prod", TimeProvider.System));

            // When
            var e = await Assert.ThrowsAsync<ClusterException>(() => f.RunAsync(plan, cancellationToken: TestContext.Current.CancellationToken));

            // Then
            Assert.Equal(ClusterException.Locked, e.Code);
            Assert.StartsWith("Cluster 'prod' is being changed by `tug cluster restart prod`", e.Message, StringComparison.Ordinal);
            AssertNothingRan(f);
            Assert.Empty(OperationJournal.List(f.ClusterDirectory));
        }

        [Fact]
        public async Task Should_Refuse_A_Replay_While_The_Lock_Is_Held()
        {
            // Given
            using var f = new ExecutorFixture();
            await Assert.ThrowsAsync<InvalidOperationException>(() => f.RunAsync(f.Plan(Step(StepKind.Stage, H1, 1)), executor: f.Executor(Failpoints.Parse("stage:after-action=error")), cancellationToken: TestContext.Current.CancellationToken));
            var executor = f.Executor();
            var record = executor.FindReplayable(Prod, null);
            using var held = ClusterLock.Acquire(f.ClusterDirectory, LockHolder.ForThisProcess("20250101T000000Z-held", "tug cluster restart prod", TimeProvider.System));

            // When
            var e = await Assert.ThrowsAsync<ClusterException>(() => executor.ReplayAsync(Prod, record, f.Options(), null, TestContext.Current.CancellationToken));

            // Then
            Assert.Equal(ClusterException.Locked, e.Code);
            Assert.Equal(0, f.Journal(record.Id).Replays);
        }
    }

    public sealed class WhenTheOperatorCancels
    {
        private static readonly Step Stage = Step(StepKind.Stage, H1, 1);
        private static readonly Step Start = Step(StepKind.Start, H1, 2);
        private static readonly Step Stop = Step(StepKind.Stop, H1, 3);

        /// <summary>Runs stage, start, stop; the start's action cancels the operation from inside.</summary>
        private static async Task<string> CancelledAsync(ExecutorFixture f, RecordingProgress<ProgressEvent>? progress = null)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            f[StepKind.Start].BeforeAct = async (_, ct) =>
            {
                await cts.CancelAsync();
                ct.ThrowIfCancellationRequested();
            };
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => f.RunAsync(f.Plan(Stage, Start, Stop), progress, cancellationToken: cts.Token));
            f[StepKind.Start].BeforeAct = null;
            return f.OnlyOperation().Id;
        }

        [Fact]
        public async Task Should_End_The_Journal_As_Cancelled_And_Audit_It()
        {
            // Given
            using var f = new ExecutorFixture();
            var progress = new RecordingProgress<ProgressEvent>();

            // When
            var id = await CancelledAsync(f, progress);

            // Then
            var record = f.Journal(id);
            Assert.Equal((OperationStatus.Interrupted, JournalOutcome.Cancelled), (record.Status, record.End!.Outcome));
            Assert.Equal([StepState.Planned, StepState.Done], StatesOf(record, Stage));
            Assert.Equal([StepState.Planned], StatesOf(record, Start));
            Assert.Empty(StatesOf(record, Stop));
            Assert.Equal(0, f[StepKind.Stop].Count("act"));
            var end = f.Audit.Read()[^1];
            Assert.Equal((AuditEventKind.End, JournalOutcome.Cancelled, 130), (end.Event, end.Outcome, end.ExitCode));
            Assert.Equal(JournalOutcome.Cancelled, progress.OfType<OperationFinished>().Single().Outcome);
        }

        [Fact]
        public async Task Should_Refuse_The_Next_Operation_Until_It_Is_Replayed()
        {
            // Given
            using var f = new ExecutorFixture();
            var id = await CancelledAsync(f);

            // When
            var e = await Assert.ThrowsAsync<ClusterException>(() => f.RunAsync(f.Plan(Step(StepKind.Stage, H2, 1)), cancellationToken: TestContext.Current.CancellationToken));

            // Then
            Assert.Equal(ClusterException.Interrupted, e.Code);
            Assert.Contains($"(operation {id}, started", e.Message, StringComparison.Ordinal);
            Assert.Contains("that was cancelled; its last step was 'start 10.0.0.1' (planned)", e.Message, StringComparison.Ordinal);
        }

        [Fact]
        public async Task Should_Keep_The_Host_Keys_It_Already_Trusted()
        {
            // Given
            using var f = new ExecutorFixture();

            // When
            await CancelledAsync(f);

            // Then
            Assert.Equal(FakeRemoteConnector.FingerprintOf(H1), f.Store.Load(Prod).Tug.HostKeys.GetValueOrDefault("10.0.0.1:22"));
        }

        [Fact]
        public async Task Should_Refuse_A_Changed_Host_Key_When_Replayed()
        {
            // Given
            using var f = new ExecutorFixture();
            await CancelledAsync(f);
            f.Connector.PresentKey(H1, "SHA256:someone-in-the-middle");

            // When
            var report = await f.ReplayAsync(cancellationToken: TestContext.Current.CancellationToken);

            // Then
            Assert.False(report.Ok);
            Assert.All(report.Outcomes, o => Assert.NotEqual(OutcomeStatus.Ok, o.Status));
            Assert.Equal(1, f[StepKind.Start].Count("act"));
        }

        [Fact]
        public async Task Should_Resume_It_When_Replayed()
        {
            // Given
            using var f = new ExecutorFixture();
            var id = await CancelledAsync(f);

            // When
            var report = await f.ReplayAsync(cancellationToken: TestContext.Current.CancellationToken);

            // Then
            Assert.True(report.Ok);
            Assert.Equal(id, report.Id);
            Assert.Equal(1, f[StepKind.Stage].Count("act"));
            Assert.Equal(2, f[StepKind.Start].Count("act"));
            Assert.Equal(1, f[StepKind.Stop].Count("act"));
            Assert.Equal(OperationStatus.Succeeded, f.Journal(id).Status);
        }
    }
}
