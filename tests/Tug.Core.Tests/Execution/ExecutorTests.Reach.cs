// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Cluster;
using Tug.Core.Planning;
using Tug.Core.Remote;
using static Tug.Core.Tests.Execution.ExecutorFixture;

namespace Tug.Core.Tests.Execution;

public sealed partial class ExecutorTests
{
    public sealed class WhenAHostCannotBeReached
    {
        [Fact]
        public async Task Should_Run_Nothing_Anywhere_When_Every_Host_Is_Required()
        {
            // Given
            using var f = new ExecutorFixture();
            f.Connector.Refuse(H2);
            var plan = f.Plan(Step(StepKind.Stage, H1, 1), Step(StepKind.Stage, H2, 1), Step(StepKind.Stop, H2, 1), Step(StepKind.Start, H3, 2));

            // When
            var report = await f.RunAsync(plan, cancellationToken: TestContext.Current.CancellationToken);

            // Then
            Assert.False(report.Ok);
            Assert.Equal([OutcomeStatus.Skipped, OutcomeStatus.Unreachable, OutcomeStatus.Unreachable, OutcomeStatus.Skipped], report.Outcomes.Select(o => o.Status));
            Assert.Equal("E3001: Cannot reach 10.0.0.2:22: connection refused.", report.Outcomes[1].Message);
            Assert.Equal("not run: 10.0.0.2 unreachable, so nothing was changed", report.Outcomes[0].Message);
            Assert.Empty(f.Log.Calls);
            Assert.Empty(f.Connector.Host(H1).Runs);
            Assert.Empty(f.Connector.Host(H3).Runs);
            var record = f.Journal(report.Id!);
            Assert.Empty(record.Steps);
            Assert.Equal(OperationStatus.Failed, record.Status);
        }

        [Fact]
        public async Task Should_Fail_Only_That_Hosts_Steps_When_Not_Every_Host_Is_Required()
        {
            // Given
            using var f = new ExecutorFixture();
            f.Connector.Refuse(H2);
            var unreachable = Step(StepKind.Stage, H2, 1);
            var plan = f.Plan(Step(StepKind.Stage, H1, 1), unreachable, Step(StepKind.Stop, H2, 1), Step(StepKind.Stage, H3, 1)) with { RequireAllHosts = false };

            // When
            var report = await f.RunAsync(plan, cancellationToken: TestContext.Current.CancellationToken);

            // Then
            Assert.Equal([OutcomeStatus.Ok, OutcomeStatus.Unreachable, OutcomeStatus.Skipped, OutcomeStatus.Ok], report.Outcomes.Select(o => o.Status));
            Assert.True(f.Hosts.Has(H1, "stage 10.0.0.1"));
            Assert.True(f.Hosts.Has(H3, "stage 10.0.0.3"));
            Assert.Empty(f.Hosts.Of(H2));
            Assert.Equal([StepState.Planned, StepState.Failed], StatesOf(f.Journal(report.Id!), unreachable));
        }

        [Fact]
        public async Task Should_Fail_A_Host_Whose_Key_Changed_And_Keep_The_Pinned_Key()
        {
            // Given
            using var f = new ExecutorFixture();
            await f.RunAsync(f.Plan(Step(StepKind.Stage, H1, 1), Step(StepKind.Stage, H2, 1)), cancellationToken: TestContext.Current.CancellationToken);
            var pinned = f.Store.Load(Prod).Tug.HostKeys["10.0.0.1:22"];
            f.Connector.PresentKey(H1, "SHA256:someone-in-the-middle");

            // When
            var report = await f.RunAsync(f.Plan(Step(StepKind.Start, H1, 1), Step(StepKind.Start, H2, 1)), cancellationToken: TestContext.Current.CancellationToken);

            // Then
            Assert.Equal([OutcomeStatus.Failed, OutcomeStatus.Skipped], report.Outcomes.Select(o => o.Status));
            Assert.StartsWith($"{RemoteException.HostKeyChanged}: The host key of 10.0.0.1:22 changed: pinned {pinned}, presented SHA256:someone-in-the-middle.", report.Outcomes[0].Message, StringComparison.Ordinal);
            Assert.Equal(0, f[StepKind.Start].Count("act"));
            Assert.Equal(pinned, f.Store.Load(Prod).Tug.HostKeys["10.0.0.1:22"]);
        }
    }
}
