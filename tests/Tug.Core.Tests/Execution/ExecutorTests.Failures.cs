// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Cluster;
using Tug.Core.Execution;
using Tug.Core.Planning;
using static Tug.Core.Tests.Execution.ExecutorFixture;

namespace Tug.Core.Tests.Execution;

public sealed partial class ExecutorTests
{
    public sealed class WhenAStepFails
    {
        [Fact]
        public async Task Should_Skip_Later_Waves_And_Record_The_Failure_When_The_Plan_Stops_At_Failures()
        {
            // Given
            using var f = new ExecutorFixture();
            var failing = Step(StepKind.Stage, H2, 1);
            var later = Step(StepKind.Start, H1, 2);
            var plan = f.Plan(Step(StepKind.Stage, H1, 1), failing, later, Step(StepKind.Start, H2, 3));
            f[StepKind.Stage].FailActionOf[failing.Key.ToString()] = true;

            // When
            var report = await f.RunAsync(plan, cancellationToken: TestContext.Current.CancellationToken);

            // Then
            Assert.False(report.Ok);
            Assert.Equal([OutcomeStatus.Ok, OutcomeStatus.Failed, OutcomeStatus.Skipped, OutcomeStatus.Skipped], report.Outcomes.Select(o => o.Status));
            Assert.Equal("not touched: the operation stopped at an earlier failure", report.Outcomes[2].Message);
            Assert.Equal(0, f[StepKind.Start].Count("act"));
            var record = f.Journal(report.Id!);
            Assert.Equal(OperationStatus.Failed, record.Status);
            Assert.Equal([StepState.Planned, StepState.Failed], StatesOf(record, failing));
            Assert.Empty(StatesOf(record, later));
            Assert.StartsWith("failed on 1 of 4: 10.0.0.2 (Failed)", record.End!.Summary, StringComparison.Ordinal);
            Assert.Equal(1, f.Audit.Read()[^1].ExitCode);
        }

        [Fact]
        public async Task Should_Run_Later_Waves_When_The_Plan_Continues_On_Failure()
        {
            // Given
            using var f = new ExecutorFixture();
            var failing = Step(StepKind.Stop, H2, 1);
            var plan = f.Plan(Step(StepKind.Stop, H1, 1), failing, Step(StepKind.Stop, H3, 2)) with { ContinueOnFailure = true };
            f[StepKind.Stop].FailActionOf[failing.Key.ToString()] = true;

            // When
            var report = await f.RunAsync(plan, cancellationToken: TestContext.Current.CancellationToken);

            // Then
            Assert.False(report.Ok);
            Assert.Equal([OutcomeStatus.Ok, OutcomeStatus.Failed, OutcomeStatus.Ok], report.Outcomes.Select(o => o.Status));
            Assert.Equal(3, f[StepKind.Stop].Count("act"));
        }

        [Fact]
        public async Task Should_Skip_The_Rest_Of_Its_Host_In_The_Wave_And_Let_Other_Hosts_Finish_It()
        {
            // Given
            using var f = new ExecutorFixture();
            var failing = Step(StepKind.Stage, H1, 1);
            var sameHost = Step(StepKind.Stop, H1, 1);
            var otherHost = Step(StepKind.Stop, H2, 1);
            var plan = f.Plan(failing, sameHost, Step(StepKind.Stage, H2, 1), otherHost);
            f[StepKind.Stage].FailActionOf[failing.Key.ToString()] = true;

            // When
            var report = await f.RunAsync(plan, cancellationToken: TestContext.Current.CancellationToken);

            // Then
            Assert.Equal([OutcomeStatus.Failed, OutcomeStatus.Skipped, OutcomeStatus.Ok, OutcomeStatus.Ok], report.Outcomes.Select(o => o.Status));
            Assert.Equal("not touched: an earlier step on this host failed", report.Outcomes[1].Message);
            Assert.Equal(0, f[StepKind.Stop].Count("act", sameHost));
            Assert.Equal(1, f[StepKind.Stop].Count("act", otherHost));
            Assert.Empty(StatesOf(f.Journal(report.Id!), sameHost));
        }

        [Fact]
        public async Task Should_Roll_Back_And_Report_The_Rollbacks_Outcome_When_The_Gate_Fails()
        {
            // Given
            using var f = new ExecutorFixture();
            var step = Step(StepKind.Switch, H1, 1, "10.0.0.1:2379", StepGate.Healthy);
            var plan = f.Plan(step);
            f[StepKind.Switch].FailGateOf[step.Key.ToString()] = true;
            f[StepKind.Switch].Rollback = (s, failed) => StepResult.Fail($"{failed.Message}; rolled back to v3.5.16");

            // When
            var report = await f.RunAsync(plan, cancellationToken: TestContext.Current.CancellationToken);

            // Then
            var outcome = Assert.Single(report.Outcomes);
            Assert.Equal(OutcomeStatus.Failed, outcome.Status);
            Assert.Equal("switch 10.0.0.1:2379 gate failed; rolled back to v3.5.16", outcome.Message);
            Assert.Equal(1, f[StepKind.Switch].Count("rollback", step));
            var last = f.Journal(report.Id!).Steps[^1];
            Assert.Equal((StepState.Failed, outcome.Message), (last.State, last.Detail));
        }

        [Fact]
        public async Task Should_Roll_Back_When_The_Action_Fails_Without_Gating_It()
        {
            // Given
            using var f = new ExecutorFixture();
            var step = Step(StepKind.Switch, H1, 1, "10.0.0.1:2379", StepGate.Healthy);
            f[StepKind.Switch].FailActionOf[step.Key.ToString()] = true;

            // When
            await f.RunAsync(f.Plan(step), cancellationToken: TestContext.Current.CancellationToken);

            // Then
            Assert.Equal(0, f[StepKind.Switch].Count("gate", step));
            Assert.Equal(1, f[StepKind.Switch].Count("rollback", step));
        }

        [Fact]
        public async Task Should_Not_Roll_Back_When_The_Gate_Passes()
        {
            // Given
            using var f = new ExecutorFixture();
            var step = Step(StepKind.Switch, H1, 1, "10.0.0.1:2379", StepGate.Healthy);

            // When
            var report = await f.RunAsync(f.Plan(step), cancellationToken: TestContext.Current.CancellationToken);

            // Then
            Assert.True(report.Ok);
            Assert.Equal(1, f[StepKind.Switch].Count("gate", step));
            Assert.Equal(0, f[StepKind.Switch].Count("rollback", step));
        }

        [Fact]
        public async Task Should_Fail_The_Step_As_Unreachable_When_Its_Host_Is_Cut()
        {
            // Given
            using var f = new ExecutorFixture();
            var cut = Step(StepKind.Stage, H2, 1);
            var plan = f.Plan(Step(StepKind.Stage, H1, 1), cut) with { ContinueOnFailure = true };
            f.Connector.Host(H2).Cut();

            // When
            var report = await f.RunAsync(plan, cancellationToken: TestContext.Current.CancellationToken);

            // Then
            Assert.Equal([OutcomeStatus.Ok, OutcomeStatus.Unreachable], report.Outcomes.Select(o => o.Status));
            Assert.StartsWith("E3001: The connection to 10.0.0.2 was lost.", report.Outcomes[1].Message, StringComparison.Ordinal);
            Assert.Equal([StepState.Planned, StepState.Failed], StatesOf(f.Journal(report.Id!), cut));
            Assert.False(f.Hosts.Has(H2, FakeStepHandler.EffectOf(cut)));
        }

        [Fact]
        public async Task Should_Fail_The_Step_When_The_Handler_Throws_An_Expected_Error()
        {
            // Given
            using var f = new ExecutorFixture();
            var step = Step(StepKind.Stage, H1, 1);
            f[StepKind.Stage].BeforeAct = (_, _) => throw new ClusterException(ClusterException.PackageMissing, "etcd v3.5.17 is not in the mirror.");

            // When
            var report = await f.RunAsync(f.Plan(step), cancellationToken: TestContext.Current.CancellationToken);

            // Then
            var outcome = Assert.Single(report.Outcomes);
            Assert.Equal((OutcomeStatus.Failed, "etcd v3.5.17 is not in the mirror."), (outcome.Status, outcome.Message));
            Assert.Equal([StepState.Planned, StepState.Failed], StatesOf(f.Journal(report.Id!), step));
        }
    }
}
