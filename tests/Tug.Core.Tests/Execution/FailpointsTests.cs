// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Execution;
using Tug.Core.Planning;

namespace Tug.Core.Tests.Execution;

/// <summary><c>TUG_FAILPOINTS</c>: <c>KIND:SITE=ACTION[@N]</c>, comma-separated.</summary>
public sealed class FailpointsTests
{
    public sealed class TheParseMethod
    {
        [Fact]
        public void Should_Arm_A_Kill_At_The_First_Hit_When_No_Hit_Is_Given()
        {
            // Given
            const string spec = "switch:after-action=kill";

            // When
            var failpoints = Failpoints.Parse(spec);

            // Then
            Assert.Equal([new Failpoint(StepKind.Switch, FailpointSite.AfterAction, FailpointAction.Kill, 1)], failpoints.Armed);
        }

        [Fact]
        public void Should_Arm_An_Error_At_The_Nth_Hit_When_A_Hit_Is_Given()
        {
            // Given
            const string spec = "stage:before-action=error@2";

            // When
            var failpoints = Failpoints.Parse(spec);

            // Then
            Assert.Equal([new Failpoint(StepKind.Stage, FailpointSite.BeforeAction, FailpointAction.Error, 2)], failpoints.Armed);
        }

        [Fact]
        public void Should_Arm_The_In_Handler_Point_Between_A_Write_And_Its_Restart()
        {
            // Given
            const string spec = "reload:after-write=kill";

            // When
            var failpoints = Failpoints.Parse(spec);

            // Then
            Assert.Equal([new Failpoint(StepKind.Reload, FailpointSite.AfterWrite, FailpointAction.Kill, 1)], failpoints.Armed);
        }

        [Fact]
        public void Should_Arm_Each_Entry_In_Order_When_Several_Are_Comma_Separated()
        {
            // Given
            const string spec = "switch:after-action=kill, member-join:after-record=error@3,,stage:before-action=error";

            // When
            var failpoints = Failpoints.Parse(spec);

            // Then
            Assert.Equal(
                [
                    new Failpoint(StepKind.Switch, FailpointSite.AfterAction, FailpointAction.Kill, 1),
                    new Failpoint(StepKind.MemberJoin, FailpointSite.AfterRecord, FailpointAction.Error, 3),
                    new Failpoint(StepKind.Stage, FailpointSite.BeforeAction, FailpointAction.Error, 1),
                ],
                failpoints.Armed);
        }

        [Theory]
        [InlineData(null)]
        [InlineData("")]
        [InlineData("  ")]
        public void Should_Arm_Nothing_When_The_Spec_Is_Empty(string? spec)
        {
            // When
            var failpoints = Failpoints.Parse(spec);

            // Then
            Assert.Empty(failpoints.Armed);
        }

        [Theory]
        [InlineData("switch")]
        [InlineData("switch:after-action")]
        [InlineData("switch=kill")]
        [InlineData(":after-action=kill")]
        [InlineData("switch:=kill")]
        [InlineData("nope:after-action=kill")]
        [InlineData("Switch:after-action=kill")]
        [InlineData("switch:during-action=kill")]
        [InlineData("switch:after-action=explode")]
        [InlineData("switch:after-action=")]
        [InlineData("switch:after-action=kill@")]
        [InlineData("switch:after-action=kill@0")]
        [InlineData("switch:after-action=kill@-1")]
        [InlineData("switch:after-action=kill@+2")]
        [InlineData("switch:after-action=kill@two")]
        [InlineData("switch:after-action=kill@1@2")]
        public void Should_Reject_The_Entry_By_Name_When_It_Is_Malformed(string entry)
        {
            // When
            var e = Assert.Throws<ArgumentException>(() => Failpoints.Parse(entry));

            // Then
            Assert.StartsWith($"TUG_FAILPOINTS: '{entry}' is not KIND:SITE=ACTION[@N] (kinds: init, install, save-meta, stage, switch,", e.Message, StringComparison.Ordinal);
            Assert.Contains("sites: before-action, after-action, after-record, after-write; actions: kill, error", e.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void Should_Name_The_Malformed_Entry_When_Others_Are_Valid()
        {
            // When
            var e = Assert.Throws<ArgumentException>(() => Failpoints.Parse("switch:after-action=kill, stage:after-record=boom"));

            // Then
            Assert.StartsWith("TUG_FAILPOINTS: 'stage:after-record=boom' is not", e.Message, StringComparison.Ordinal);
        }
    }

    public sealed class TheCheckMethod
    {
        [Fact]
        public void Should_Throw_At_The_Armed_Hit_Of_Its_Kind_And_Site_Only()
        {
            // Given
            var failpoints = Failpoints.Parse("stage:before-action=error@2");

            // When
            failpoints.Check(StepKind.Stage, FailpointSite.AfterAction);
            failpoints.Check(StepKind.Switch, FailpointSite.BeforeAction);
            failpoints.Check(StepKind.Stage, FailpointSite.BeforeAction);
            var second = Record.Exception(() => failpoints.Check(StepKind.Stage, FailpointSite.BeforeAction));
            var third = Record.Exception(() => failpoints.Check(StepKind.Stage, FailpointSite.BeforeAction));

            // Then
            Assert.StartsWith("failpoint stage:", Assert.IsType<InvalidOperationException>(second).Message, StringComparison.Ordinal);
            Assert.Null(third);
        }

        [Fact]
        public void Should_Do_Nothing_When_Nothing_Is_Armed()
        {
            // When
            var e = Record.Exception(() =>
            {
                foreach (var kind in StepKinds.All)
                {
                    Failpoints.None.Check(kind, FailpointSite.AfterRecord);
                }
            });

            // Then
            Assert.Null(e);
        }
    }
}
