// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Cluster;
using Tug.Core.Execution;
using Tug.Core.Planning;
using static Tug.Core.Tests.Execution.ExecutorFixture;

namespace Tug.Core.Tests.Execution;

public sealed partial class ExecutorTests
{
    /// <summary><c>replay X</c>: cluster X if there is one, else operation X (TiUP's <c>replay AUDIT_ID</c>); both refused, naming both.</summary>
    public sealed class WhenReplayIsGivenOneName
    {
        /// <summary>Runs a plan on prod whose stage fails, so prod has one failed operation; returns its ID.</summary>
        private static async Task<string> FailedOperationAsync(ExecutorFixture f)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => f.RunAsync(f.Plan(Step(StepKind.Stage, H1, 1)), executor: f.Executor(Failpoints.Parse("stage:after-action=error")), cancellationToken: TestContext.Current.CancellationToken));
            return f.Executor().FindReplayable(Prod, null).Id;
        }

        [Fact]
        public async Task Should_Take_The_Cluster_When_The_Name_Is_A_Cluster()
        {
            using var f = new ExecutorFixture();
            var id = await FailedOperationAsync(f);

            var (cluster, record) = f.Executor().FindReplayTarget(Prod, null);

            Assert.Equal((Prod, id), (cluster, record.Id));
        }

        [Fact]
        public async Task Should_Find_The_Operation_And_Its_Cluster_When_The_Name_Is_An_Operation_Id()
        {
            using var f = new ExecutorFixture();
            var id = await FailedOperationAsync(f);

            var (cluster, record) = f.Executor().FindReplayTarget(id, null);

            Assert.Equal((Prod, id), (cluster, record.Id));
        }

        [Fact]
        public async Task Should_Refuse_And_Name_Both_When_A_Cluster_And_An_Operation_Share_The_Name()
        {
            using var f = new ExecutorFixture();
            var id = await FailedOperationAsync(f);
            f.Store.Save(id, f.Store.Load(Prod));

            var e = Assert.Throws<ClusterException>(() => f.Executor().FindReplayTarget(id, null));

            Assert.Equal(ClusterException.BadInput, e.Code);
            Assert.Contains($"cluster '{id}'", e.Message, StringComparison.Ordinal);
            Assert.Contains($"operation {id} of cluster '{Prod}'", e.Message, StringComparison.Ordinal);
            Assert.Contains($"tug cluster replay {Prod} {id}", e.Hint, StringComparison.Ordinal);
        }

        [Fact]
        public async Task Should_Say_Neither_Exists_When_The_Name_Is_No_Cluster_And_No_Operation()
        {
            using var f = new ExecutorFixture();
            await FailedOperationAsync(f);

            var e = Assert.Throws<ClusterException>(() => f.Executor().FindReplayTarget("0000nothing", null));

            Assert.Equal(ClusterException.NotFound, e.Code);
            Assert.Contains("No cluster and no operation is called '0000nothing'", e.Message, StringComparison.Ordinal);
        }

        [Fact]
        public async Task Should_Read_The_First_Name_As_The_Cluster_When_An_Id_Follows()
        {
            using var f = new ExecutorFixture();
            var id = await FailedOperationAsync(f);
            f.Store.Save(id, f.Store.Load(Prod));

            var e = Assert.Throws<ClusterException>(() => f.Executor().FindReplayTarget(id, id));

            Assert.Contains($"Cluster '{id}' has no", e.Message, StringComparison.Ordinal);
            Assert.Equal(id, f.Executor().FindReplayTarget(Prod, id).Record.Id);
        }
    }
}
