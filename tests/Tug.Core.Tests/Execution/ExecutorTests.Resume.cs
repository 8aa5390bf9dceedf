// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Cluster;
using Tug.Core.Execution;
using Tug.Core.Planning;
using Tug.Testing;
using static Tug.Core.Tests.Execution.ExecutorFixture;

namespace Tug.Core.Tests.Execution;

public sealed partial class ExecutorTests
{
    /// <summary>A run dies at a failpoint (armed to throw, caught here), then an unarmed executor replays its stored plan.</summary>
    public sealed class WhenResumingAfterACrash
    {
        private static readonly Step Stage = Step(StepKind.Stage, H1, 1);
        private static readonly Step Switch = Step(StepKind.Switch, H1, 1, "10.0.0.1:2379", StepGate.Healthy);
        private static readonly Step StartH1 = Step(StepKind.Start, H1, 2);
        private static readonly Step StartH2 = Step(StepKind.Start, H2, 2);

        /// <summary>Runs <paramref name="plan"/> with <paramref name="failpoint"/> armed; returns the operation it left.</summary>
        private static async Task<OperationRecord> CrashAsync(ExecutorFixture f, Plan plan, string failpoint)
        {
            var e = await Assert.ThrowsAsync<InvalidOperationException>(() => f.RunAsync(plan, executor: f.Executor(Failpoints.Parse(failpoint)), cancellationToken: TestContext.Current.CancellationToken));
            Assert.StartsWith("failpoint ", e.Message, StringComparison.Ordinal);
            var crashed = f.OnlyOperation();
            Assert.Equal(OperationStatus.Failed, crashed.Status);
            return crashed;
        }

        [Fact]
        public async Task Should_Run_A_Planned_Step_Again_When_Its_Effect_Is_Absent()
        {
            // Given
            using var f = new ExecutorFixture();
            var crashed = await CrashAsync(f, f.Plan(Stage, StartH1, StartH2), "stage:before-action=error");
            Assert.Equal(0, f[StepKind.Stage].Count("act"));
            var progress = new RecordingProgress<ProgressEvent>();

            // When
            var report = await f.ReplayAsync(progress: progress, cancellationToken: TestContext.Current.CancellationToken);

            // Then
            Assert.True(report.Ok);
            Assert.Equal(crashed.Id, report.Id);
            Assert.Equal(1, f[StepKind.Stage].Count("probe", Stage));
            Assert.Equal(1, f[StepKind.Stage].Count("act", Stage));
            Assert.Equal(2, f[StepKind.Start].Count("act"));
            var record = f.Journal(crashed.Id);
            Assert.Equal((OperationStatus.Succeeded, 1), (record.Status, record.Replays));
            Assert.Equal([StepState.Planned, StepState.Planned, StepState.Done], StatesOf(record, Stage));
            Assert.False(progress.OfType<StepFinished>().Single(s => s.Step == Stage.Key.ToString()).AlreadyDone);
            Assert.True(progress.OfType<OperationStarted>().Single().Resumed);
        }

        [Fact]
        public async Task Should_Record_Done_Without_Acting_Again_When_A_Planned_Steps_Effect_Is_Found()
        {
            // Given
            using var f = new ExecutorFixture();
            var crashed = await CrashAsync(f, f.Plan(Stage, StartH1, StartH2), "stage:after-action=error");
            Assert.Equal([StepState.Planned], StatesOf(crashed, Stage));
            var progress = new RecordingProgress<ProgressEvent>();

            // When
            var report = await f.ReplayAsync(progress: progress, cancellationToken: TestContext.Current.CancellationToken);

            // Then
            Assert.True(report.Ok);
            Assert.Equal(1, f[StepKind.Stage].Count("act", Stage));
            Assert.Equal(1, f[StepKind.Stage].Count("probe", Stage));
            Assert.Equal("stage 10.0.0.1 present; found done on the host, not run again", report.Outcomes[0].Message);
            Assert.True(progress.OfType<StepFinished>().Single(s => s.Step == Stage.Key.ToString()).AlreadyDone);
            var record = f.Journal(crashed.Id);
            Assert.Equal([StepState.Planned, StepState.Done], StatesOf(record, Stage));
            Assert.Equal("found done on the host: stage 10.0.0.1 present", record.Steps.Last(r => r.Step == Stage.Key.ToString()).Detail);
            Assert.Equal(2, f[StepKind.Start].Count("act"));
        }

        [Fact]
        public async Task Should_Neither_Probe_Nor_Act_On_A_Done_Step_When_It_Is_Not_Reprobed()
        {
            // Given
            using var f = new ExecutorFixture();
            var crashed = await CrashAsync(f, f.Plan(Stage, StartH1, StartH2), "stage:after-record=error");
            Assert.Equal([StepState.Planned, StepState.Done], StatesOf(crashed, Stage));
            f.Hosts.Remove(H1, FakeStepHandler.EffectOf(Stage));
            var progress = new RecordingProgress<ProgressEvent>();

            // When
            var report = await f.ReplayAsync(progress: progress, cancellationToken: TestContext.Current.CancellationToken);

            // Then
            Assert.True(report.Ok);
            Assert.Equal(0, f[StepKind.Stage].Count("probe", Stage));
            Assert.Equal(1, f[StepKind.Stage].Count("act", Stage));
            Assert.Equal("done before the interruption; not run again", report.Outcomes[0].Message);
            Assert.True(progress.OfType<StepFinished>().Single(s => s.Step == Stage.Key.ToString()).AlreadyDone);
            Assert.Equal([StepState.Planned, StepState.Done], StatesOf(f.Journal(crashed.Id), Stage));
        }

        [Fact]
        public async Task Should_Reprobe_A_Done_Step_And_Keep_It_When_Its_Effect_Holds()
        {
            // Given
            using var f = new ExecutorFixture();
            var crashed = await CrashAsync(f, f.Plan(Switch, StartH1), "switch:after-record=error");
            var progress = new RecordingProgress<ProgressEvent>();

            // When
            var report = await f.ReplayAsync(progress: progress, cancellationToken: TestContext.Current.CancellationToken);

            // Then
            Assert.True(report.Ok);
            Assert.Equal(1, f[StepKind.Switch].Count("probe", Switch));
            Assert.Equal(1, f[StepKind.Switch].Count("act", Switch));
            Assert.True(progress.OfType<StepFinished>().Single(s => s.Step == Switch.Key.ToString()).AlreadyDone);
            Assert.Equal([StepState.Planned, StepState.Done], StatesOf(f.Journal(crashed.Id), Switch));
        }

        [Fact]
        public async Task Should_Run_A_Done_Step_Again_When_A_Reprobe_Finds_Its_Effect_Gone()
        {
            // Given
            using var f = new ExecutorFixture();
            var crashed = await CrashAsync(f, f.Plan(Switch, StartH1), "switch:after-record=error");
            f.Hosts.Remove(H1, FakeStepHandler.EffectOf(Switch));
            var progress = new RecordingProgress<ProgressEvent>();

            // When
            var report = await f.ReplayAsync(progress: progress, cancellationToken: TestContext.Current.CancellationToken);

            // Then
            Assert.True(report.Ok);
            Assert.Equal(1, f[StepKind.Switch].Count("probe", Switch));
            Assert.Equal(2, f[StepKind.Switch].Count("act", Switch));
            Assert.Equal(2, f[StepKind.Switch].Count("gate", Switch));
            Assert.True(f.Hosts.Has(H1, FakeStepHandler.EffectOf(Switch)));
            Assert.False(progress.OfType<StepFinished>().Single(s => s.Step == Switch.Key.ToString()).AlreadyDone);
            Assert.Equal([StepState.Planned, StepState.Done, StepState.Planned, StepState.Done], StatesOf(f.Journal(crashed.Id), Switch));
        }

        [Fact]
        public async Task Should_Fire_At_The_Nth_Hit_Only_And_Resume_From_There()
        {
            // Given
            using var f = new ExecutorFixture();
            var first = Step(StepKind.Stage, H1, 1, "10.0.0.1/a");
            var second = Step(StepKind.Stage, H1, 1, "10.0.0.1/b");
            var crashed = await CrashAsync(f, f.Plan(first, second), "stage:after-action=error@2");
            Assert.Equal([StepState.Planned, StepState.Done], StatesOf(crashed, first));
            Assert.Equal([StepState.Planned], StatesOf(crashed, second));

            // When
            var report = await f.ReplayAsync(cancellationToken: TestContext.Current.CancellationToken);

            // Then
            Assert.True(report.Ok);
            Assert.Equal(1, f[StepKind.Stage].Count("act", first));
            Assert.Equal(1, f[StepKind.Stage].Count("act", second));
            Assert.Equal(0, f[StepKind.Stage].Count("probe", first));
            Assert.Equal(1, f[StepKind.Stage].Count("probe", second));
        }

        [Fact]
        public async Task Should_Run_A_Failed_Step_Again_And_Trust_The_Done_Ones_When_A_Failed_Operation_Is_Replayed()
        {
            // Given
            using var f = new ExecutorFixture();
            var failing = Step(StepKind.Stage, H2, 1);
            f[StepKind.Stage].FailActionOf[failing.Key.ToString()] = true;
            var report = await f.RunAsync(f.Plan(Stage, failing, StartH1, StartH2), cancellationToken: TestContext.Current.CancellationToken);
            Assert.False(report.Ok);
            f[StepKind.Stage].FailActionOf.Clear();

            // When
            var replayed = await f.ReplayAsync(cancellationToken: TestContext.Current.CancellationToken);

            // Then
            Assert.True(replayed.Ok);
            Assert.Equal(report.Id, replayed.Id);
            Assert.Equal(2, f[StepKind.Stage].Count("act", failing));
            Assert.Equal(1, f[StepKind.Stage].Count("act", Stage));
            Assert.Equal(0, f[StepKind.Stage].Count("probe", Stage));
            Assert.Equal(2, f[StepKind.Start].Count("act"));
            Assert.Equal([StepState.Planned, StepState.Failed, StepState.Planned, StepState.Done], StatesOf(f.Journal(report.Id!), failing));
        }

        [Fact]
        public async Task Should_Find_Nothing_To_Replay_When_The_Replay_Succeeded()
        {
            // Given
            using var f = new ExecutorFixture();
            var crashed = await CrashAsync(f, f.Plan(Stage), "stage:after-action=error");
            await f.ReplayAsync(cancellationToken: TestContext.Current.CancellationToken);

            // When
            var none = Assert.Throws<ClusterException>(() => f.Executor().FindReplayable(Prod, null));
            var succeeded = Assert.Throws<ClusterException>(() => f.Executor().FindReplayable(Prod, crashed.Id));

            // Then
            Assert.Equal(ClusterException.BadInput, none.Code);
            Assert.StartsWith("Nothing to replay on cluster 'prod'", none.Message, StringComparison.Ordinal);
            Assert.Equal($"Operation {crashed.Id} (`test`) already succeeded; nothing to replay.", succeeded.Message);
        }
    }
}
