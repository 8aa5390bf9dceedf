// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Microsoft.Extensions.Time.Testing;
using Tug.Core.Cluster;
using Tug.Core.Execution;
using Tug.Core.Execution.Steps;
using Tug.Core.Planning;
using Tug.Core.Remote;
using Tug.Core.Topology;

namespace Tug.Core.Tests.Execution;

/// <summary>
/// The health window of a switch gate (<c>--health-window</c>): after its first healthy check an instance must stay
/// active with the same PID, no systemd restart and a healthy check for the whole window.
/// </summary>
public sealed class HealthWindowTests
{
    private static readonly WindowSample Good = new("active", 4242, 0, true, "healthy");

    /// <summary>Runs the window over <paramref name="samples"/> (one per second of fake time; the last repeats).</summary>
    private static async Task<(StepResult Result, int Taken)> Hold(int windowSeconds, params WindowSample[] samples)
    {
        var time = new FakeTimeProvider();
        var taken = 0;
        var result = await HealthWindow.HoldAsync(TimeSpan.FromSeconds(windowSeconds), TimeSpan.Zero, time, _ =>
        {
            var s = samples[Math.Min(taken, samples.Length - 1)];
            taken++;
            time.Advance(TimeSpan.FromSeconds(1));
            return Task.FromResult(s);
        }, TestContext.Current.CancellationToken);
        return (result, taken);
    }

    [Fact]
    public async Task Should_Pass_When_The_Instance_Stays_Healthy_For_The_Whole_Window()
    {
        // Given / When
        var (result, taken) = await Hold(5, Good);

        // Then
        Assert.True(result.Ok, result.Message);
        Assert.Equal(5, taken);
        Assert.Contains("stayed healthy for its 5 s health window (PID 4242", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Fail_When_The_Process_Exits_And_Systemd_Waits_To_Restart_It()
    {
        // Given: healthy for 2 s, then the process exits (Restart=always: activating, auto-restart)
        var (result, taken) = await Hold(10, Good, Good, Good with { State = "activating", Pid = 0 });

        // Then
        Assert.False(result.Ok);
        Assert.Equal(3, taken);
        Assert.Contains("the unit is activating", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Fail_When_The_Process_Was_Restarted_Between_Two_Checks()
    {
        // Given: a crash and a fast restart between two samples: active again, another PID
        var (result, _) = await Hold(10, Good, Good with { Pid = 5151, Restarts = 1 });

        // Then
        Assert.False(result.Ok);
        Assert.Contains("main PID changed from 4242 to 5151", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Fail_When_Systemd_Counts_A_Restart_Even_With_The_Same_Pid()
    {
        // Given: NRestarts grew (PID reuse is possible in a small PID namespace)
        var (result, _) = await Hold(10, Good, Good with { Restarts = 1 });

        // Then
        Assert.False(result.Ok);
        Assert.Contains("systemd restarted the unit (1 restart(s))", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Fail_When_The_Health_Check_Stops_Answering()
    {
        // Given
        var (result, _) = await Hold(10, Good, Good with { Healthy = false, Detail = "connection refused" });

        // Then
        Assert.False(result.Ok);
        Assert.Contains("the health check failed (connection refused)", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Count_Restarts_From_The_First_Sample_Not_From_Zero()
    {
        // Given: the unit had restarted before the switch (NRestarts 3); it stays at 3
        var (result, _) = await Hold(3, Good with { Restarts = 3 });

        // Then
        Assert.True(result.Ok, result.Message);
    }

    [Fact]
    public async Task Should_Fail_At_Once_When_The_First_Sample_Is_Already_Bad()
    {
        // Given
        var (result, taken) = await Hold(10, Good with { State = "failed", Pid = 0 });

        // Then
        Assert.False(result.Ok);
        Assert.Equal(1, taken);
        Assert.Contains("at 0 s the unit is failed", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Not_Sample_When_The_Window_Is_Zero()
    {
        // Given / When
        var (result, taken) = await Hold(0, Good with { State = "failed" });

        // Then
        Assert.True(result.Ok);
        Assert.Equal(0, taken);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(3601)]
    public void Should_Refuse_A_Window_Outside_Zero_To_An_Hour(int seconds)
    {
        // When
        var e = Assert.Throws<ClusterException>(() => PlanningRules.CheckHealthWindow(seconds));

        // Then
        Assert.Equal(ClusterException.BadInput, e.Code);
        Assert.Contains("--health-window", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Read_A_Unit_Line()
    {
        // When
        var lines = HostReply.Parse("noise\nTUG|unit|10.0.0.1:9100|active|4242|3\nTUG|unit|x|active|1\n");

        // Then
        Assert.Equal<HostLine>([new UnitLine("10.0.0.1:9100", "active", 4242, 3)], lines);
    }

    [Fact]
    public void Should_Keep_The_Window_In_The_Plan_And_Read_Old_Plans_Without_It()
    {
        // Given
        var inputs = new SwitchInputs("10.0.0.1:9100", new PackageRef("node_exporter", "v1.9.0", "linux/amd64", "e", "a", "b"), new DeployedInstance("v1.9.0", "e", "b", false), "v1.5.0", 7);
        var json = System.Text.Json.JsonSerializer.Serialize<StepInputs>(inputs, PlanJson.Options);
        var without = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();

        // When
        var back = (SwitchInputs)System.Text.Json.JsonSerializer.Deserialize<StepInputs>(json, PlanJson.Options)!;
        Assert.True(without.Remove("healthWindow"));
        var old = (SwitchInputs)System.Text.Json.JsonSerializer.Deserialize<StepInputs>(without.ToJsonString(), PlanJson.Options)!;

        // Then
        Assert.Equal(7, back.HealthWindow);
        Assert.Equal(0, old.HealthWindow);
    }
}
