// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Cluster;
using Tug.Core.Planning;
using Tug.Testing;
using static Tug.Core.Tests.Execution.ExecutorFixture;

namespace Tug.Core.Tests.Execution;

/// <summary>The executor runs plans of fake steps against fake hosts: waves, journal, plan.json, audit, host keys.</summary>
public sealed partial class ExecutorTests
{
    public sealed class WhenAPlanSucceeds
    {
        [Fact]
        public async Task Should_Run_Waves_In_Order_Hosts_Of_A_Wave_In_Parallel_And_Steps_Of_A_Host_In_Order()
        {
            // Given
            using var f = new ExecutorFixture();
            var arrived = 0;
            var allArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            f[StepKind.Stage].BeforeAct = async (step, ct) =>
            {
                // Each host's first step of wave 1 waits for the others: it completes only if the hosts run at once.
                if (Interlocked.Increment(ref arrived) == 3)
                {
                    allArrived.SetResult();
                }

                await allArrived.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
            };
            var plan = f.Plan(
                Step(StepKind.Stage, H1, 1), Step(StepKind.Stage, H2, 1), Step(StepKind.Stage, H3, 1),
                Step(StepKind.Stop, H1, 1), Step(StepKind.Stop, H2, 1), Step(StepKind.Stop, H3, 1),
                Step(StepKind.Start, H1, 2), Step(StepKind.Start, H2, 2), Step(StepKind.Start, H3, 2));

            // When
            var report = await f.RunAsync(plan, cancellationToken: TestContext.Current.CancellationToken);

            // Then
            Assert.True(report.Ok, string.Join("; ", report.Outcomes.Select(o => $"{o.Step}: {o.Status} {o.Message}")));
            var calls = f.Log.Calls;
            var lastOfWave1 = calls.Select((c, i) => (c, i)).Where(x => x.c.Wave == 1).Max(x => x.i);
            var firstOfWave2 = calls.Select((c, i) => (c, i)).Where(x => x.c.Wave == 2).Min(x => x.i);
            Assert.True(lastOfWave1 < firstOfWave2, "wave 2 began before wave 1 ended");
            foreach (var host in new[] { H1, H2, H3 })
            {
                Assert.Equal(
                    [$"act stage {host}", $"acted stage {host}", $"gate stage {host}", $"act stop {host}", $"acted stop {host}", $"gate stop {host}", $"act start {host}", $"acted start {host}", $"gate start {host}"],
                    calls.Where(c => c.Host == host).Select(c => $"{c.What} {c.Step}"));
            }
        }

        [Fact]
        public async Task Should_Journal_Planned_Then_Done_For_Every_Step()
        {
            // Given
            using var f = new ExecutorFixture();
            var plan = f.Plan(Step(StepKind.Stage, H1, 1), Step(StepKind.Stage, H2, 1), Step(StepKind.Switch, H1, 2, "10.0.0.1:2379"), Step(StepKind.Switch, H2, 3, "10.0.0.2:2379"));

            // When
            var report = await f.RunAsync(plan, cancellationToken: TestContext.Current.CancellationToken);

            // Then
            var record = f.Journal(report.Id!);
            Assert.Equal(OperationStatus.Succeeded, record.Status);
            Assert.Equal("test", record.Header.Operation);
            Assert.Equal(0, record.Replays);
            foreach (var step in plan.Steps)
            {
                Assert.Equal([StepState.Planned, StepState.Done], StatesOf(record, step));
            }

            Assert.Equal(plan.Steps.Length * 2, record.Steps.Length);
        }

        [Fact]
        public async Task Should_Store_The_Plan_Beside_The_Journal_As_It_Ran()
        {
            // Given
            using var f = new ExecutorFixture();
            var plan = f.Plan(Step(StepKind.Stage, H1, 1), Step(StepKind.Switch, H1, 2, "10.0.0.1:2379", StepGate.Healthy)) with
            {
                Notes = ["etcd stays at v3.5.17"],
                ContinueOnFailure = true,
                RequireAllHosts = false,
            };

            // When
            var report = await f.RunAsync(plan, cancellationToken: TestContext.Current.CancellationToken);

            // Then
            var path = PlanJson.PathOf(f.ClusterDirectory, report.Id!);
            Assert.Equal(Path.GetDirectoryName(OperationJournal.PathOf(f.ClusterDirectory, report.Id!)), Path.GetDirectoryName(path));
            var stored = PlanJson.Deserialize(File.ReadAllText(path), path);
            Assert.Equal(plan.Steps, stored.Steps);
            Assert.Equal(plan.Notes, stored.Notes);
            Assert.Equal(plan with { Steps = stored.Steps, Notes = stored.Notes }, stored);
            Assert.Equal(PlanJson.Serialize(plan), PlanJson.Serialize(stored));
        }

        [Fact]
        public async Task Should_Record_The_Start_And_The_Succeeded_End_In_The_Audit_Log()
        {
            // Given
            using var f = new ExecutorFixture();
            var plan = f.Plan(Step(StepKind.Stage, H1, 1));

            // When
            var report = await f.RunAsync(plan, cancellationToken: TestContext.Current.CancellationToken);

            // Then
            var entries = f.Audit.Read();
            Assert.Collection(entries,
                start =>
                {
                    Assert.Equal(AuditEventKind.Start, start.Event);
                    Assert.Equal(report.Id, start.Id);
                    Assert.Equal("tug cluster test prod", start.Command);
                },
                end =>
                {
                    Assert.Equal(AuditEventKind.End, end.Event);
                    Assert.Equal(JournalOutcome.Succeeded, end.Outcome);
                    Assert.Equal(0, end.ExitCode);
                });
            Assert.True(f.Audit.Verify().Ok);
        }

        [Fact]
        public async Task Should_Release_The_Lock_When_It_Ends()
        {
            // Given
            using var f = new ExecutorFixture();

            // When
            await f.RunAsync(f.Plan(Step(StepKind.Stage, H1, 1)), cancellationToken: TestContext.Current.CancellationToken);

            // Then
            using var again = ClusterLock.Acquire(f.ClusterDirectory, LockHolder.ForThisProcess("x", "tug test", TimeProvider.System));
            Assert.Null(again.Stale);
        }

        [Fact]
        public async Task Should_Pin_Host_Keys_In_The_Metadata_On_First_Contact()
        {
            // Given
            using var f = new ExecutorFixture();
            var plan = f.Plan(Step(StepKind.Stage, H1, 1), Step(StepKind.Stage, H2, 1));

            // When
            await f.RunAsync(plan, cancellationToken: TestContext.Current.CancellationToken);

            // Then
            var keys = f.Store.Load(Prod).Tug.HostKeys;
            Assert.Equal(FakeRemoteConnector.FingerprintOf(H1), keys["10.0.0.1:22"]);
            Assert.Equal(FakeRemoteConnector.FingerprintOf(H2), keys["10.0.0.2:22"]);
            Assert.False(keys.ContainsKey("10.0.0.3:22"));
        }

        [Fact]
        public async Task Should_Reuse_One_Connection_Per_Host_And_Run_Each_Action_There()
        {
            // Given
            using var f = new ExecutorFixture();
            var plan = f.Plan(Step(StepKind.Stage, H1, 1), Step(StepKind.Stop, H1, 1), Step(StepKind.Start, H1, 2));

            // When
            await f.RunAsync(plan, cancellationToken: TestContext.Current.CancellationToken);

            // Then
            var connection = Assert.Single(f.Connector.Connections);
            Assert.Equal("tidb", connection.Endpoint.User);
            Assert.Equal(["act stage 10.0.0.1", "act stop 10.0.0.1", "act start 10.0.0.1"], f.Connector.Host(H1).Scripts);
            Assert.Equal(1, f.Connector.Host(H1).Disposals);
        }
    }
}
