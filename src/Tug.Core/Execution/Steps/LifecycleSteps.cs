// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Planning;
using Tug.Core.Remote;

namespace Tug.Core.Execution.Steps;

/// <summary>
/// Enables (or disables) at boot the units of a host's instances with <c>systemctl enable|disable</c>; starts and stops
/// nothing. The action reads <c>systemctl is-enabled</c> back, so its result is the proof; the probe is that read alone.
/// </summary>
public sealed class UnitEnableStep(StepKind kind) : StepHandler
{
    public override StepKind Kind => kind;

    private string Action => kind == StepKind.Enable ? "enable" : "disable";

    private string Wanted => kind == StepKind.Enable ? "enabled" : "disabled";

    public override async Task<StepResult> ActAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var units = Units(context, step);
        context.Note(step.Host, null, Action, string.Join(", ", units));
        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        var result = await remote.RunAsync(HostScripts.UnitEnable(Action, units), new RunOptions(Sudo: true, Timeout: context.Reach.WaitTimeout), cancellationToken).ConfigureAwait(false);
        var wrong = Wrong(units, result);
        if (wrong.Count > 0)
        {
            return StepResult.Fail($"systemctl {Action} left {string.Join(", ", wrong)}{(result.Stderr.Trim().Length > 0 ? $": {result.Stderr.Trim()}" : string.Empty)}");
        }

        return StepResult.Done($"{string.Join(", ", units)} {Wanted} at boot; verified by systemctl is-enabled");
    }

    public override async Task<StepResult?> ProbeAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var units = Units(context, step);
        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        var result = await remote.RunAsync(HostScripts.UnitEnable("read", units), new RunOptions(Sudo: true, Timeout: context.Reach.WaitTimeout), cancellationToken).ConfigureAwait(false);
        return Wrong(units, result).Count == 0 ? StepResult.Done($"{string.Join(", ", units)} {Wanted} at boot") : null;
    }

    private static List<string> Units(StepContext context, Step step) =>
        [.. ((HostInputs)step.Inputs).Instances.Select(id => context.Instance(id).UnitName)];

    /// <summary>The units whose boot state is not the wanted one (a unit the host did not report counts as wrong).</summary>
    private List<string> Wrong(List<string> units, CommandResult result)
    {
        var states = HostReply.Parse(result.Stdout).OfType<EnabledLine>().GroupBy(l => l.Unit).ToDictionary(g => g.Key, g => g.Last().State, StringComparer.Ordinal);
        return [.. units.Where(u => states.GetValueOrDefault(u) != Wanted).Select(u => $"{u} {states.GetValueOrDefault(u) ?? "unreported"}")];
    }
}

/// <summary>
/// Deletes the contents of instances' data or log directories on one host (the entries matching each target's
/// pattern; never the directory itself), as the deploy user; proven by counting what still matches: nothing.
/// </summary>
public sealed class CleanStep : StepHandler
{
    public override StepKind Kind => StepKind.Clean;

    public override async Task<StepResult> ActAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var targets = ((CleanInputs)step.Inputs).Targets;
        context.Note(step.Host, null, "clean", string.Join(", ", targets.Select(t => $"{t.Dir}/{t.Pattern}")));
        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        var result = await remote.RunAsync(HostScripts.Clean([.. targets.Select(t => (t.Dir, t.Pattern))], remove: true), new RunOptions(Sudo: false, Timeout: context.Reach.WaitTimeout), cancellationToken).ConfigureAwait(false);
        if (result.ExitCode == 2)
        {
            return StepResult.Fail($"refused: {result.Stderr.Trim()}");
        }

        var left = Left(targets, result);
        return left.Count == 0
            ? StepResult.Done($"emptied {targets.Length} director{(targets.Length == 1 ? "y" : "ies")}; verified: nothing matching is left")
            : StepResult.Fail($"clean not verified: {string.Join("; ", left)}{(result.Stderr.Trim().Length > 0 ? $" ({result.Stderr.Trim()})" : string.Empty)}");
    }

    public override async Task<StepResult?> ProbeAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var targets = ((CleanInputs)step.Inputs).Targets;
        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        var result = await remote.RunAsync(HostScripts.Clean([.. targets.Select(t => (t.Dir, t.Pattern))], remove: false), new RunOptions(Sudo: false, Timeout: context.Reach.WaitTimeout), cancellationToken).ConfigureAwait(false);
        return result.ExitCode == 0 && Left(targets, result).Count == 0 ? StepResult.Done("nothing matching is left") : null;
    }

    /// <summary>What is not clean: a target with entries left, or that the host did not report. A missing directory is clean (nothing to delete), as TiUP's <c>rm -rf DIR/*</c> finds it.</summary>
    private static List<string> Left(IEnumerable<CleanTarget> targets, CommandResult result)
    {
        var lines = HostReply.Parse(result.Stdout).OfType<CleanLine>().ToList();
        var problems = new List<string>();
        foreach (var t in targets)
        {
            var line = lines.LastOrDefault(l => l.Dir == t.Dir && l.Pattern == t.Pattern);
            if (line is null)
            {
                problems.Add($"{t.Dir}: not reported");
            }
            else if (line.Left is { } n && n != 0)
            {
                problems.Add(n < 0 ? $"{t.Dir}: unreadable" : $"{t.Dir}: {n} entr{(n == 1 ? "y" : "ies")} matching {t.Pattern} left");
            }
        }

        return problems;
    }
}
