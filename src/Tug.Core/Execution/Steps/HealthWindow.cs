// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Globalization;

namespace Tug.Core.Execution.Steps;

/// <summary>One look at an instance during its health window: its unit, main PID, restart counter and health check.</summary>
/// <param name="State">The unit's state (<c>active</c>, <c>activating</c>, <c>failed</c>...).</param>
/// <param name="Pid">The unit's main PID; 0 when none.</param>
/// <param name="Restarts">systemd's <c>NRestarts</c> for the unit.</param>
/// <param name="Healthy">Whether the health check answered healthy.</param>
/// <param name="Detail">What the health check said.</param>
public sealed record WindowSample(string State, int Pid, int Restarts, bool Healthy, string Detail);

/// <summary>
/// The health window of a gate (<c>--health-window SECONDS</c>): after the first healthy check, the instance must stay
/// healthy for the whole window: the unit active with the same main PID, systemd's restart counter unchanged, and
/// every health check answering. A build that passes its first check and then exits or crash-loops fails the gate.
/// </summary>
public static class HealthWindow
{
    /// <summary>How often the instance is looked at during the window.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Takes a first sample (the baseline), then one every <paramref name="interval"/> until <paramref name="window"/>
    /// has passed; fails at the first sample that is not active, has another PID or more restarts, or is unhealthy.
    /// </summary>
    public static async Task<StepResult> HoldAsync(TimeSpan window, TimeSpan interval, TimeProvider time, Func<CancellationToken, Task<WindowSample>> sample, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(sample);
        if (window <= TimeSpan.Zero)
        {
            return StepResult.Done("no health window");
        }

        var start = time.GetTimestamp();
        var first = await sample(cancellationToken).ConfigureAwait(false);
        if (Problem(first, first) is { } bad)
        {
            return StepResult.Fail($"did not stay healthy in its {Seconds(window)} s health window: at 0 s {bad}");
        }

        var samples = 1;
        while (time.GetElapsedTime(start) < window)
        {
            if (interval > TimeSpan.Zero)
            {
                await Task.Delay(interval, time, cancellationToken).ConfigureAwait(false);
            }

            var now = await sample(cancellationToken).ConfigureAwait(false);
            samples++;
            if (Problem(first, now) is { } problem)
            {
                return StepResult.Fail($"did not stay healthy in its {Seconds(window)} s health window: at {Seconds(time.GetElapsedTime(start))} s {problem}");
            }
        }

        return StepResult.Done($"stayed healthy for its {Seconds(window)} s health window (PID {first.Pid}, {samples} checks, no restart)");
    }

    /// <summary>What is wrong with <paramref name="now"/> against the <paramref name="baseline"/>, or null.</summary>
    public static string? Problem(WindowSample baseline, WindowSample now)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(now);
        if (now.State != "active")
        {
            return $"the unit is {now.State} (its process exited)";
        }

        if (now.Pid == 0 || now.Pid != baseline.Pid)
        {
            return $"the main PID changed from {baseline.Pid} to {now.Pid} (the process was restarted)";
        }

        if (now.Restarts > baseline.Restarts)
        {
            return $"systemd restarted the unit ({now.Restarts - baseline.Restarts} restart(s))";
        }

        return now.Healthy ? null : $"the health check failed ({now.Detail})";
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture);
}
