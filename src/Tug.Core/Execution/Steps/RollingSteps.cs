// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Core.Cluster;
using Tug.Core.Components;
using Tug.Core.Planning;
using Tug.Core.Remote;
using Tug.Core.Topology;

namespace Tug.Core.Execution.Steps;

/// <summary>Delivers new builds (mirror packages or a patch) to a host and unpacks each beside the running one, checked by hash.</summary>
public sealed class StageStep(InstanceChecks checks) : StepHandler
{
    public override StepKind Kind => StepKind.Stage;

    public override async Task<StepResult> ActAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var inputs = ((PackagesInputs)step.Inputs).Instances;
        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        var staged = new List<(InstanceSpec, ResolvedPackage)>();
        foreach (var item in inputs)
        {
            staged.Add((context.Instance(item.Instance), await checks.ResolveAsync(context, item.Package, cancellationToken).ConfigureAwait(false)));
        }

        string script;
        if (inputs.All(i => i.Package.Patch))
        {
            var patch = staged[0].Item2;
            var remotePatch = $"/tmp/tug-patch-{patch.TarballSha256[..16]}";
            context.Note(step.Host, null, "stage", $"patch {InstanceChecks.Short(patch.TarballSha256)}");
            await UploadAsync(remote, patch.Path, remotePatch, "0755", cancellationToken).ConfigureAwait(false);
            script = HostScripts.StagePatch(context.Meta.User, remotePatch, patch.TarballSha256, staged);
        }
        else
        {
            foreach (var package in staged.Select(s => s.Item2).DistinctBy(p => p.TarballSha256))
            {
                var how = await context.Delivery.DeliverAsync(remote, package, cancellationToken).ConfigureAwait(false);
                context.Note(step.Host, null, "stage", $"{Path.GetFileName(package.Path)}: {how}");
            }

            script = HostScripts.Stage(context.Meta.User, staged);
        }

        var result = await remote.RunAsync(script, new RunOptions(Sudo: true, Timeout: context.Reach.WaitTimeout), cancellationToken).ConfigureAwait(false);
        return result.Ok ? StepResult.Done($"staged {string.Join(", ", inputs.Select(i => i.Package.Version).Distinct())}, checked on the host") : StepResult.Fail($"staging failed: {result.Stderr.Trim()}");
    }

    /// <summary>
    /// Staged already when each instance's staged entry is the planned build. (A stage is probed only while it is not
    /// recorded done, so no switch of this plan has consumed it yet; an older copy of the same version left in bin by
    /// an earlier upgrade does not count.)
    /// </summary>
    public override async Task<StepResult?> ProbeAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var inputs = ((PackagesInputs)step.Inputs).Instances;
        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        var staged = inputs.Select(i =>
        {
            var package = InstanceChecks.Unfetched(i.Package);
            return (i.Package.EntrySha256, Path: $"{HostScripts.StageDirectory(context.Instance(i.Instance), package)}/{package.Entry}");
        }).ToList();
        var hashes = await InstanceChecks.HashesAsync(remote, staged.Select(p => p.Path), context.Reach, cancellationToken).ConfigureAwait(false);
        return staged.All(p => hashes.GetValueOrDefault(p.Path) == p.EntrySha256) ? StepResult.Done("staged, checked on the host") : null;
    }

    private static async Task UploadAsync(IRemoteHost remote, string local, string path, string mode, CancellationToken cancellationToken)
    {
        var stream = File.OpenRead(local);
        await using (stream.ConfigureAwait(false))
        {
            await remote.UploadAsync(stream, path, mode, sudo: false, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>
/// Moves one instance to its staged build: stop, switch files, start (timed on the host); gated on health, on the
/// running executable being the new build (and reporting its version), and for membership components on the whole
/// cluster being healthy; rolled back to the previous build when the gate fails. The metadata records the new build
/// only once it is verified.
/// </summary>
public sealed class SwitchStep(InstanceChecks checks, TimeProvider time) : StepHandler
{
    public override StepKind Kind => StepKind.Switch;

    /// <summary>A switch's effect must hold at the plan's end: a done one is probed again on a resume.</summary>
    public override bool ReprobeWhenDone => true;

    public override string Untouched(Step step) => $"still {((SwitchInputs)step.Inputs).From}";

    public override async Task<StepResult> ActAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var inputs = (SwitchInputs)step.Inputs;
        var instance = context.Instance(inputs.Instance);
        var meta = context.Meta;
        var previous = meta.Tug.Instances.GetValueOrDefault(instance.Id);
        context.Note(instance.ManageHost, instance.Id, inputs.Next.Patched ? "patch" : "upgrade", $"{previous?.Label} -> {inputs.Next.Label}");
        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        var started = time.GetTimestamp();
        var switched = await remote.RunAsync(HostScripts.Switch(NextContext(context, inputs, instance), InstanceChecks.Unfetched(inputs.Target), previous?.Label ?? "unknown", context.Reach.WaitTimeout),
            new RunOptions(Sudo: true, Timeout: context.Reach.WaitTimeout + TimeSpan.FromSeconds(30)), cancellationToken).ConfigureAwait(false);
        var roundTrip = time.GetElapsedTime(started).TotalSeconds;
        var reply = HostReply.Parse(switched.Stdout);
        var restart = HostReply.Seconds(reply, "stop", "stopped") + HostReply.Seconds(reply, "start", "listening");
        return InstanceChecks.Waited(instance, switched, "listening") with
        {
            Phases = [Phase("restart", step, restart), Phase("switch", step, roundTrip - restart)],
        };
    }

    public override async Task<StepResult> GateAsync(StepContext context, Step step, StepResult acted, CancellationToken cancellationToken)
    {
        var inputs = (SwitchInputs)step.Inputs;
        var instance = context.Instance(inputs.Instance);
        var started = time.GetTimestamp();
        var health = await checks.HealthAsync(instance, TimeSpan.FromSeconds(Math.Min(context.Reach.WaitTimeout.TotalSeconds, 60)), cancellationToken).ConfigureAwait(false);
        var healthPhase = Phase("health", step, time.GetElapsedTime(started).TotalSeconds);
        if (!health.Ok)
        {
            return health with { Phases = [healthPhase] };
        }

        started = time.GetTimestamp();
        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        var (status, runs) = await InstanceChecks.ProbeAsRecordedAsync(remote, context.Meta, instance, inputs.Next, context.Reach, cancellationToken).ConfigureAwait(false);
        var verified = await VerifiedAsync(context, step, remote, status, runs, cancellationToken).ConfigureAwait(false);
        var verifyPhase = Phase("verify", step, time.GetElapsedTime(started).TotalSeconds);
        var result = verified with { Phases = [healthPhase, verifyPhase] };
        if (result.Ok && inputs.HealthWindow > 0)
        {
            started = time.GetTimestamp();
            var held = await checks.HoldAsync(remote, instance, TimeSpan.FromSeconds(inputs.HealthWindow), cancellationToken).ConfigureAwait(false);
            result = (held.Ok ? result with { Message = $"{result.Message}; {held.Message}" } : held) with
            {
                Phases = [healthPhase, verifyPhase, Phase("window", step, time.GetElapsedTime(started).TotalSeconds)],
            };
        }

        if (result.Ok)
        {
            Record(context, instance, inputs.Next);
        }

        return result;
    }

    public override async Task<StepResult> RollbackAsync(StepContext context, Step step, StepResult failed, CancellationToken cancellationToken)
    {
        var inputs = (SwitchInputs)step.Inputs;
        var instance = context.Instance(inputs.Instance);
        var previous = context.Meta.Tug.Instances.GetValueOrDefault(instance.Id);
        context.Note(instance.ManageHost, instance.Id, "rollback", $"{inputs.Next.Label} failed: {failed.Message}");
        if (previous is null)
        {
            return failed with { Message = $"{failed.Message}; no previous version recorded, nothing to roll back to" };
        }

        var (restored, detail) = await RestoreStep.RestoreAsync(checks, context, step, instance, InstanceChecks.Unfetched(inputs.Target), previous, cancellationToken).ConfigureAwait(false);
        return failed with
        {
            Status = OutcomeStatus.Failed,
            Message = restored
                ? $"{inputs.Next.Label} failed its health gate ({failed.Message}); rolled back to {previous.Label}, {detail}"
                : $"{inputs.Next.Label} failed its health gate ({failed.Message}); ROLLBACK to {previous.Label} ALSO FAILED ({detail}); the instance needs attention",
        };
    }

    /// <summary>Switched already when the instance runs the new build, verified and healthy (and its cluster is healthy); the metadata then records it.</summary>
    public override async Task<StepResult?> ProbeAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var inputs = (SwitchInputs)step.Inputs;
        var instance = context.Instance(inputs.Instance);
        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        var (status, runs) = await InstanceChecks.ProbeAsRecordedAsync(remote, context.Meta, instance, inputs.Next, context.Reach, cancellationToken).ConfigureAwait(false);
        if (!runs || status.Status != "Up" || !(await checks.HealthAsync(instance, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false)).Ok)
        {
            return null;
        }

        if (!(await VerifiedAsync(context, step, remote, status, runs, cancellationToken).ConfigureAwait(false)).Ok)
        {
            return null;
        }

        Record(context, instance, inputs.Next);
        return StepResult.Done($"running {status.Version} ({inputs.Next.Label}), healthy, verified; not restarted");
    }

    /// <summary>
    /// The verdict on a probe of the instance against the new build (<paramref name="status"/>, <paramref name="runs"/>):
    /// the running executable is the new build; for components with a cluster check, the whole cluster is healthy too.
    /// </summary>
    private static async Task<StepResult> VerifiedAsync(StepContext context, Step step, IRemoteHost remote, InstanceStatus status, bool runs, CancellationToken cancellationToken)
    {
        var inputs = (SwitchInputs)step.Inputs;
        var instance = context.Instance(inputs.Instance);
        var from = context.Meta.Tug.Instances.GetValueOrDefault(instance.Id)?.Label ?? inputs.From;
        if (!runs)
        {
            return StepResult.Fail($"started but not verified as {inputs.Next.Label}: {status.Detail} (reports {status.Version ?? "no version"})");
        }

        if (step.Gate != StepGate.ClusterHealthy)
        {
            return StepResult.Done($"{from} -> {inputs.Next.Label}: healthy, running {status.Version}, verified");
        }

        // Members of a cluster: the whole cluster must be healthy (quorum) before the next member is touched.
        var cluster = await remote.RunAsync(HostScripts.ClusterCheck(NextContext(context, inputs, instance), TimeSpan.FromSeconds(Math.Min(context.Reach.WaitTimeout.TotalSeconds, 60))),
            new RunOptions(Sudo: true, Timeout: context.Reach.WaitTimeout + TimeSpan.FromSeconds(30)), cancellationToken).ConfigureAwait(false);
        return cluster.Ok
            ? StepResult.Done($"{from} -> {inputs.Next.Label}: healthy, running {status.Version}, verified; cluster healthy")
            : StepResult.Fail($"the {instance.Role} cluster did not become healthy after this member moved: {cluster.Stderr.Trim()}");
    }

    /// <summary>The instance rendered as it is once on the new build.</summary>
    private static InstanceContext NextContext(StepContext context, SwitchInputs inputs, InstanceSpec instance) =>
        InstanceFiles.Context(context.Plan.Cluster, context.Meta, instance) with { Version = inputs.Next.Version, Entry = inputs.Target.Entry };

    private static void Record(StepContext context, InstanceSpec instance, DeployedInstance next) =>
        context.State.Update(m =>
        {
            var updated = m with { Tug = m.Tug with { Instances = m.Tug.Instances.SetItem(instance.Id, next) } };
            return updated with { Tug = updated.Tug with { Versions = PlanningRules.RoleVersions(updated) } };
        });

    private static PhaseTiming Phase(string name, Step step, double seconds) =>
        new(name, step.Wave, step.Key.Subject, Math.Round(Math.Max(0, seconds), 4));
}

/// <summary>Puts back the build an instance ran before its patch (<c>patch --rollback</c>), health-gated and verified; the metadata then records it.</summary>
public sealed class RestoreStep(InstanceChecks checks) : StepHandler
{
    public override StepKind Kind => StepKind.Restore;

    public override async Task<StepResult> ActAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var instance = context.Instance(((InstanceInputs)step.Inputs).Instance);
        if (context.Meta.Tug.Instances.GetValueOrDefault(instance.Id) is not { Patched: true, Previous: { } previous } patched)
        {
            return StepResult.Fail($"{instance.Id} is not patched; nothing to roll back");
        }

        context.Note(instance.ManageHost, instance.Id, "unpatch", $"{patched.Label} -> {previous.Label}");
        var installed = new ResolvedPackage(instance.Component, patched.Label, PlanningRules.Platform(instance), string.Empty, patched.Entry, patched.Sha256, patched.Sha256);
        var (restored, message) = await RestoreAsync(checks, context, step, instance, installed, previous, cancellationToken).ConfigureAwait(false);
        if (!restored)
        {
            return StepResult.Fail($"patch rollback FAILED: {message}");
        }

        context.State.Update(m => m with { Tug = m.Tug with { Instances = m.Tug.Instances.SetItem(instance.Id, previous) } });
        return StepResult.Done($"patch rolled back: {message}");
    }

    public override async Task<StepResult?> ProbeAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var instance = context.Instance(((InstanceInputs)step.Inputs).Instance);
        var record = context.Meta.Tug.Instances.GetValueOrDefault(instance.Id);
        var previous = record is { Patched: true, Previous: { } p } ? p : record;
        if (previous is null)
        {
            return null;
        }

        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        var (status, runs) = await InstanceChecks.ProbeAsRecordedAsync(remote, context.Meta, instance, previous, context.Reach, cancellationToken).ConfigureAwait(false);
        if (!runs || status.Status != "Up")
        {
            return null;
        }

        context.State.Update(m => m with { Tug = m.Tug with { Instances = m.Tug.Instances.SetItem(instance.Id, previous) } });
        return StepResult.Done($"running {previous.Label}, verified");
    }

    /// <summary>
    /// Puts <paramref name="previous"/> back in place of the build switched in from <paramref name="installed"/>
    /// (what it added removed, what it replaced moved back), restarts, and checks health and the running executable.
    /// </summary>
    internal static async Task<(bool Restored, string Detail)> RestoreAsync(InstanceChecks checks, StepContext context, Step step, InstanceSpec instance, ResolvedPackage installed, DeployedInstance previous, CancellationToken cancellationToken)
    {
        var meta = context.Meta;
        var old = InstanceFiles.Context(context.Plan.Cluster, meta, instance) with { Version = previous.Version, Entry = previous.Entry };
        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        var rolled = await remote.RunAsync(HostScripts.Rollback(old, installed, previous.Label, context.Reach.WaitTimeout), new RunOptions(Sudo: true, Timeout: context.Reach.WaitTimeout + TimeSpan.FromSeconds(30)), cancellationToken).ConfigureAwait(false);
        var back = InstanceChecks.Waited(instance, rolled, "listening");
        if (back.Ok)
        {
            back = await checks.HealthAsync(instance, context.Reach.WaitTimeout, cancellationToken).ConfigureAwait(false);
        }

        if (!back.Ok)
        {
            return (false, back.Message);
        }

        var (check, runs) = await InstanceChecks.ProbeAsRecordedAsync(remote, meta, instance, previous, context.Reach, cancellationToken).ConfigureAwait(false);
        return runs
            ? (true, "healthy and verified")
            : (false, $"running but not verified as {previous.Label}: {check.Detail} (reports {check.Version ?? "no version"})");
    }
}
