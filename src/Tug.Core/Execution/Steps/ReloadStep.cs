// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Core.Cluster;
using Tug.Core.Components;
using Tug.Core.Planning;
using Tug.Core.Remote;
using Tug.Core.Topology;

namespace Tug.Core.Execution.Steps;

/// <summary>
/// Reloads one instance whose files differ on its host from what Tug renders: writes the files that still differ
/// (read on the host again at act time), then restarts it once, systemd reloaded first when its unit changed; gated
/// on health, verification (and the cluster's health for membership components) and on the files being as rendered;
/// rolled back when the gate fails: the host's previous files put back, restarted, proven healthy and verified.
/// A resume never restarts an instance that already runs the new files: the process systemd started after the files
/// were last written (its <c>ExecMainStartTimestamp</c> against their modification times) is proof that it read them.
/// </summary>
public sealed class ReloadStep(InstanceChecks checks, Failpoints failpoints) : StepHandler
{
    public override StepKind Kind => StepKind.Reload;

    /// <summary>The new files and the restart that read them must hold at the plan's end: a done reload is probed again.</summary>
    public override bool ReprobeWhenDone => true;

    public override string Untouched(Step step) => "its files and process as they were";

    public override async Task<StepResult> ActAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var inputs = (ReloadInputs)step.Inputs;
        var instance = context.Instance(inputs.Instance);
        var rendered = Rendered(context, instance);
        var stale = inputs.Files.Where(f => !rendered.TryGetValue(f.Path, out var content) || ReloadPlanner.Sha256(content) != f.AfterSha256).Select(f => f.Path).ToList();
        if (stale.Count > 0)
        {
            return StepResult.Fail($"the metadata changed after this reload was planned: {string.Join(", ", stale)} no longer render as planned; run `tug cluster reload {context.Plan.Cluster}` again");
        }

        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        var now = await InstanceChecks.HashesAsync(remote, inputs.Files.Select(f => f.Path), context.Reach, cancellationToken).ConfigureAwait(false);
        var toWrite = inputs.Files.Where(f => now.GetValueOrDefault(f.Path) != f.AfterSha256).ToList();
        var files = InstanceFiles.Context(context.Plan.Cluster, context.Meta, instance);
        if (toWrite.Count > 0)
        {
            context.Note(step.Host, instance.Id, "reload", $"writing {string.Join(", ", toWrite.Select(f => f.Path))}");
            var write = await remote.RunAsync(HostScripts.Rewrite(files, [.. toWrite.Select(f => (f.Path, (string?)rendered[f.Path]))], daemonReload: inputs.UnitChanged, restart: false, context.Reach.WaitTimeout),
                new RunOptions(Sudo: true, Timeout: context.Reach.WaitTimeout), cancellationToken).ConfigureAwait(false);
            if (!write.Ok)
            {
                return StepResult.Fail($"writing the files failed (exit {write.ExitCode}): {write.Stderr.Trim()}");
            }
        }

        var wrote = toWrite.Count > 0 ? $"wrote {toWrite.Count} file(s)" : "the files were already written";
        failpoints.Check(StepKind.Reload, FailpointSite.AfterWrite);
        if (!inputs.Restart)
        {
            return StepResult.Done($"{wrote}; not restarted (--skip-restart)");
        }

        if (toWrite.Count == 0 && await RestartedAfterWriteAsync(context, remote, instance, inputs, cancellationToken).ConfigureAwait(false) is { } proof)
        {
            return StepResult.Done($"{wrote}; {proof}, not restarted again");
        }

        context.Note(step.Host, instance.Id, "reload", $"restarting {instance.UnitName}");
        var restart = await remote.RunAsync(HostScripts.Rewrite(files, [], daemonReload: inputs.UnitChanged, restart: true, context.Reach.WaitTimeout),
            new RunOptions(Sudo: true, Timeout: context.Reach.WaitTimeout + TimeSpan.FromSeconds(30)), cancellationToken).ConfigureAwait(false);
        var waited = InstanceChecks.Waited(instance, restart, "listening");
        return waited.Ok ? StepResult.Done($"{wrote}; restarted, listening") : waited with { Message = $"{wrote}; restarted: {waited.Message}" };
    }

    public override async Task<StepResult> GateAsync(StepContext context, Step step, StepResult acted, CancellationToken cancellationToken)
    {
        var inputs = (ReloadInputs)step.Inputs;
        var instance = context.Instance(inputs.Instance);
        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        var drift = await DriftAsync(context, remote, inputs, cancellationToken).ConfigureAwait(false);
        if (drift.Count > 0)
        {
            return StepResult.Fail($"the files are not as rendered after the write: {string.Join(", ", drift)}");
        }

        if (!inputs.Restart)
        {
            return StepResult.Done($"{acted.Message}; files verified on the host");
        }

        var verdict = await RunningHealthyAsync(context, step, remote, instance, cancellationToken).ConfigureAwait(false);
        if (!verdict.Ok)
        {
            return verdict;
        }

        if (await RestartedAfterWriteAsync(context, remote, instance, inputs, cancellationToken).ConfigureAwait(false) is not { } proof)
        {
            return StepResult.Fail("the running process was not started after the files were written");
        }

        var done = StepResult.Done($"{acted.Message}; {verdict.Message}; {proof}");
        if (inputs.HealthWindow <= 0)
        {
            return done;
        }

        var held = await checks.HoldAsync(remote, instance, TimeSpan.FromSeconds(inputs.HealthWindow), cancellationToken).ConfigureAwait(false);
        return held.Ok ? done with { Message = $"{done.Message}; {held.Message}" } : held;
    }

    /// <summary>Puts the host's previous files back (as the plan read them), restarts the instance, and proves it healthy and verified.</summary>
    public override async Task<StepResult> RollbackAsync(StepContext context, Step step, StepResult failed, CancellationToken cancellationToken)
    {
        var inputs = (ReloadInputs)step.Inputs;
        var instance = context.Instance(inputs.Instance);
        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        var now = await InstanceChecks.HashesAsync(remote, inputs.Files.Select(f => f.Path), context.Reach, cancellationToken).ConfigureAwait(false);
        if (inputs.Files.All(f => now.GetValueOrDefault(f.Path, string.Empty) == f.BeforeSha256))
        {
            return failed with { Message = $"{failed.Message}; nothing was written, nothing to roll back" };
        }

        context.Note(step.Host, instance.Id, "rollback", $"reload failed: {failed.Message}; putting the previous files back");
        var back = await remote.RunAsync(HostScripts.Rewrite(InstanceFiles.Context(context.Plan.Cluster, context.Meta, instance), [.. inputs.Files.Select(f => (f.Path, f.Before))], inputs.UnitChanged, inputs.Restart, context.Reach.WaitTimeout),
            new RunOptions(Sudo: true, Timeout: context.Reach.WaitTimeout + TimeSpan.FromSeconds(30)), cancellationToken).ConfigureAwait(false);
        var restored = back.Ok || (inputs.Restart && HostReply.Parse(back.Stdout).OfType<WaitLine>().Any(w => w.Id == instance.Id))
            ? StepResult.Done("previous files back")
            : StepResult.Fail($"putting the previous files back failed (exit {back.ExitCode}): {back.Stderr.Trim()}");
        if (restored.Ok && inputs.Restart)
        {
            restored = InstanceChecks.Waited(instance, back, "listening");
            if (restored.Ok)
            {
                restored = await RunningHealthyAsync(context, step, remote, instance, cancellationToken).ConfigureAwait(false);
            }
        }

        var after = await InstanceChecks.HashesAsync(remote, inputs.Files.Select(f => f.Path), context.Reach, cancellationToken).ConfigureAwait(false);
        var notBack = inputs.Files.Where(f => after.GetValueOrDefault(f.Path, string.Empty) != f.BeforeSha256).Select(f => f.Path).ToList();
        if (restored.Ok && notBack.Count > 0)
        {
            restored = StepResult.Fail($"{string.Join(", ", notBack)} not as before");
        }

        return failed with
        {
            Status = OutcomeStatus.Failed,
            Message = restored.Ok
                ? $"reload failed ({failed.Message}); rolled back: the previous files are back on the host{(inputs.Restart ? $", restarted, {restored.Message}" : string.Empty)}"
                : $"reload failed ({failed.Message}); ROLLBACK ALSO FAILED ({restored.Message}); the instance needs attention",
        };
    }

    /// <summary>Reloaded already when every planned file is as rendered and, unless restarts are skipped, the process was started after they were written and is healthy and verified.</summary>
    public override async Task<StepResult?> ProbeAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var inputs = (ReloadInputs)step.Inputs;
        var instance = context.Instance(inputs.Instance);
        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        if ((await DriftAsync(context, remote, inputs, cancellationToken).ConfigureAwait(false)).Count > 0)
        {
            return null;
        }

        if (!inputs.Restart)
        {
            return StepResult.Done("the files are as rendered");
        }

        if (await RestartedAfterWriteAsync(context, remote, instance, inputs, cancellationToken).ConfigureAwait(false) is not { } proof)
        {
            return null;
        }

        var verdict = await RunningHealthyAsync(context, step, remote, instance, cancellationToken).ConfigureAwait(false);
        return verdict.Ok ? StepResult.Done($"the files are as rendered; {proof}; {verdict.Message}") : null;
    }

    private static Dictionary<string, string> Rendered(StepContext context, InstanceSpec instance) =>
        InstanceFiles.Render(context.Plan.Cluster, context.Meta, instance).ToDictionary(f => f.Path, f => f.Content, StringComparer.Ordinal);

    /// <summary>The planned files whose hash on the host is not the rendered one.</summary>
    private static async Task<List<string>> DriftAsync(StepContext context, IRemoteHost remote, ReloadInputs inputs, CancellationToken cancellationToken)
    {
        var now = await InstanceChecks.HashesAsync(remote, inputs.Files.Select(f => f.Path), context.Reach, cancellationToken).ConfigureAwait(false);
        return [.. inputs.Files.Where(f => now.GetValueOrDefault(f.Path) != f.AfterSha256).Select(f => f.Path)];
    }

    /// <summary>
    /// Proof, read on the host, that the instance's running process read the planned files: the unit is active and
    /// systemd started its main process at or after the latest modification of those files; null otherwise.
    /// </summary>
    private static async Task<string?> RestartedAfterWriteAsync(StepContext context, IRemoteHost remote, InstanceSpec instance, ReloadInputs inputs, CancellationToken cancellationToken)
    {
        var result = await remote.RunAsync(HostScripts.RestartProof(instance, inputs.Files.Select(f => f.Path)), new RunOptions(Sudo: true, Timeout: context.Reach.WaitTimeout), cancellationToken).ConfigureAwait(false);
        var reply = HostReply.Parse(result.Stdout);
        var started = reply.OfType<StartedLine>().FirstOrDefault(s => s.Id == instance.Id);
        var mtimes = reply.OfType<MtimeLine>().ToList();
        return ProofOf(started, mtimes, inputs.Files.Length);
    }

    /// <summary>The restart proof from the host's reply, or null: an active unit whose process started at or after every file's modification.</summary>
    public static string? ProofOf(StartedLine? started, IReadOnlyList<MtimeLine> mtimes, int files)
    {
        if (started is not { State: "active", Pid: > 0, StartedMs: { } start } || mtimes.Count != files || mtimes.Any(m => m.Ms is null))
        {
            return null;
        }

        var written = mtimes.Max(m => m.Ms!.Value);
        return start >= written
            ? $"PID {started.Pid} started {start - written} ms after the files were written"
            : null;
    }

    /// <summary>The instance answers its health check, runs the deployed signed executable, and (for membership components) its cluster is healthy.</summary>
    private async Task<StepResult> RunningHealthyAsync(StepContext context, Step step, IRemoteHost remote, InstanceSpec instance, CancellationToken cancellationToken)
    {
        var health = await checks.HealthAsync(instance, context.Reach.WaitTimeout, cancellationToken).ConfigureAwait(false);
        if (!health.Ok)
        {
            return health;
        }

        var status = (await InstanceChecks.ProbeAsync(remote, context.Meta, [instance], context.Reach, cancellationToken).ConfigureAwait(false))[0];
        if (status is not { Status: "Up", Verified: true })
        {
            return StepResult.Fail($"{status.Status}, not verified: {status.Detail}");
        }

        if (step.Gate == StepGate.ClusterHealthy && ComponentSpecs.For(instance).ClusterCheck is not null)
        {
            var check = await remote.RunAsync(HostScripts.ClusterCheck(InstanceFiles.Context(context.Plan.Cluster, context.Meta, instance), TimeSpan.FromSeconds(Math.Min(context.Reach.WaitTimeout.TotalSeconds, 60))),
                new RunOptions(Sudo: true, Timeout: context.Reach.WaitTimeout + TimeSpan.FromSeconds(30)), cancellationToken).ConfigureAwait(false);
            if (!check.Ok)
            {
                return StepResult.Fail($"the {instance.Role} cluster is not healthy: {check.Stderr.Trim()}");
            }
        }

        return StepResult.Done($"{health.Message}, running {status.Version ?? "?"}, verified");
    }
}
