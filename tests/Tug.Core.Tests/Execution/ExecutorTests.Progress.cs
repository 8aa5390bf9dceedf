// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text.Json;
using Tug.Core.Cluster;
using Tug.Core.Execution;
using Tug.Core.Planning;
using Tug.Testing;
using static Tug.Core.Tests.Execution.ExecutorFixture;

namespace Tug.Core.Tests.Execution;

public sealed partial class ExecutorTests
{
    public sealed class TheProgressEvents
    {
        private static string Describe(ProgressEvent e) => e switch
        {
            OperationStarted s => $"operation-started {s.Operation} {s.Cluster} steps={s.Steps} resumed={s.Resumed}",
            PhaseFinished p => $"phase-finished {p.Phase}",
            StepStarted s => $"step-started {s.Step} wave={s.Wave}",
            StepFinished s => $"step-finished {s.Step} {s.Status} already-done={s.AlreadyDone}",
            WaveFinished w => $"wave-finished {w.Wave} failed={w.Failed}",
            OperationFinished o => $"operation-finished {o.Outcome}",
            _ => e.GetType().Name,
        };

        [Fact]
        public async Task Should_Report_The_Operation_Each_Step_And_Each_Wave_In_Order()
        {
            // Given
            using var f = new ExecutorFixture();
            var progress = new RecordingProgress<ProgressEvent>();
            var plan = f.Plan(Step(StepKind.Stage, H1, 1), Step(StepKind.Stop, H1, 1), Step(StepKind.Start, H1, 2));

            // When
            var report = await f.RunAsync(plan, progress, cancellationToken: TestContext.Current.CancellationToken);

            // Then
            Assert.Equal(
                [
                    "operation-started test prod steps=3 resumed=False",
                    "phase-finished connect",
                    "step-started stage 10.0.0.1 wave=1",
                    "step-finished stage 10.0.0.1 Ok already-done=False",
                    "step-started stop 10.0.0.1 wave=1",
                    "step-finished stop 10.0.0.1 Ok already-done=False",
                    "wave-finished 1 failed=0",
                    "step-started start 10.0.0.1 wave=2",
                    "step-finished start 10.0.0.1 Ok already-done=False",
                    "wave-finished 2 failed=0",
                    "phase-finished total",
                    "operation-finished Succeeded",
                ],
                progress.Reports.Select(Describe));
            Assert.Equal(report.Id, progress.OfType<OperationStarted>().Single().Id);
            Assert.Equal("3 ok, verified", progress.OfType<OperationFinished>().Single().Summary);
        }

        [Fact]
        public async Task Should_Mark_Found_Done_Steps_And_The_Resume_When_Replayed()
        {
            // Given
            using var f = new ExecutorFixture();
            var plan = f.Plan(Step(StepKind.Stage, H1, 1), Step(StepKind.Stop, H1, 1), Step(StepKind.Start, H1, 2));
            await Assert.ThrowsAsync<InvalidOperationException>(() => f.RunAsync(plan, executor: f.Executor(Failpoints.Parse("stop:after-action=error")), cancellationToken: TestContext.Current.CancellationToken));
            var progress = new RecordingProgress<ProgressEvent>();

            // When
            await f.ReplayAsync(progress: progress, cancellationToken: TestContext.Current.CancellationToken);

            // Then
            Assert.Equal(
                [
                    "operation-started test prod steps=3 resumed=True",
                    "phase-finished connect",
                    "step-started stage 10.0.0.1 wave=1",
                    "step-finished stage 10.0.0.1 Ok already-done=True",
                    "step-started stop 10.0.0.1 wave=1",
                    "step-finished stop 10.0.0.1 Ok already-done=True",
                    "wave-finished 1 failed=0",
                    "step-started start 10.0.0.1 wave=2",
                    "step-finished start 10.0.0.1 Ok already-done=False",
                    "wave-finished 2 failed=0",
                    "phase-finished total",
                    "operation-finished Succeeded",
                ],
                progress.Reports.Select(Describe));
        }

        [Fact]
        public async Task Should_Report_A_Failed_Wave_With_Its_Failure_Count()
        {
            // Given
            using var f = new ExecutorFixture();
            var progress = new RecordingProgress<ProgressEvent>();
            var failing = Step(StepKind.Stage, H2, 1);
            f[StepKind.Stage].FailActionOf[failing.Key.ToString()] = true;

            // When
            await f.RunAsync(f.Plan(Step(StepKind.Stage, H1, 1), failing, Step(StepKind.Start, H1, 2)), progress, cancellationToken: TestContext.Current.CancellationToken);

            // Then
            Assert.Equal([(1, 1)], progress.OfType<WaveFinished>().Select(w => (w.Wave, w.Failed)));
            Assert.DoesNotContain(progress.OfType<StepStarted>(), s => s.Wave == 2);
            Assert.Equal(JournalOutcome.Failed, progress.OfType<OperationFinished>().Single().Outcome);
        }

        [Fact]
        public async Task Should_Serialize_Every_Event_As_One_Json_Line_With_An_Event_Discriminator()
        {
            // Given
            using var f = new ExecutorFixture();
            var progress = new RecordingProgress<ProgressEvent>();
            await f.RunAsync(f.Plan(Step(StepKind.Stage, H1, 1)), progress, cancellationToken: TestContext.Current.CancellationToken);
            ProgressEvent[] events = [.. progress.Reports, new Warning("a stale lock was taken over"), new OperationEvent(H1, "10.0.0.1:2379", "rollback", "put v3.5.16 back")];
            var lines = new JsonSerializerOptions(PlanJson.Options) { WriteIndented = false };

            // When
            var json = events.Select(e => JsonSerializer.Serialize(e, lines)).ToList();

            // Then
            Assert.All(json, line => Assert.DoesNotContain('\n', line));
            Assert.Equal(
                ["operation-started", "phase-finished", "step-started", "step-finished", "wave-finished", "phase-finished", "operation-finished", "warning", "note"],
                json.Select(line => JsonDocument.Parse(line).RootElement.EnumerateObject().First()).Select(p => p.Name == "event" ? p.Value.GetString() : $"first member is {p.Name}"));
            var finished = JsonDocument.Parse(json[3]).RootElement;
            Assert.Equal("ok", finished.GetProperty("status").GetString());
            Assert.False(finished.GetProperty("alreadyDone").GetBoolean());
            Assert.Equal("succeeded", JsonDocument.Parse(json[6]).RootElement.GetProperty("outcome").GetString());
            Assert.All(events, e => Assert.Equal(e, JsonSerializer.Deserialize<ProgressEvent>(JsonSerializer.Serialize(e, lines), lines), ProgressEventComparer.Instance));
        }

        /// <summary>Events compare as their JSON does: records with arrays compare those by reference.</summary>
        private sealed class ProgressEventComparer : IEqualityComparer<ProgressEvent?>
        {
            public static ProgressEventComparer Instance { get; } = new();

            public bool Equals(ProgressEvent? x, ProgressEvent? y) =>
                x?.GetType() == y?.GetType() && JsonSerializer.Serialize(x, PlanJson.Options) == JsonSerializer.Serialize(y, PlanJson.Options);

            public int GetHashCode(ProgressEvent? obj) => 0;
        }
    }
}
