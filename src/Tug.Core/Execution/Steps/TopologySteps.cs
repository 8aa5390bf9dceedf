// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Core.Cluster;
using Tug.Core.Components;
using Tug.Core.Planning;
using Tug.Core.Remote;
using Tug.Core.Topology;

namespace Tug.Core.Execution.Steps;

/// <summary>Prepares a host as the preparing login: the deploy user, its sudo rule and the cluster's key.</summary>
public sealed class InitHostStep : StepHandler
{
    // Hosts are prepared in parallel; the cluster's key is made once.
    private readonly Lock _keyGate = new();

    public override StepKind Kind => StepKind.InitHost;

    public override async Task<StepResult> ActAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var meta = context.TargetMeta;
        string publicKey;
        lock (_keyGate)
        {
            publicKey = SshKeys.EnsureKeyPair(context.Store.SshDirectory(context.Plan.Cluster), $"tug-cluster-{context.Plan.Cluster}");
        }

        var group = meta.Topology.Global.Group.Length > 0 ? meta.Topology.Global.Group : meta.User;
        context.Note(step.Host, null, "init", $"preparing user {meta.User}");
        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        var result = await remote.RunAsync(HostScripts.EnvInit(meta.User, group, publicKey, createUser: remote.Endpoint.User != meta.User), new RunOptions(Sudo: true, Timeout: context.Reach.WaitTimeout), cancellationToken).ConfigureAwait(false);
        return result.Ok ? StepResult.Done("deploy user ready") : StepResult.Fail(result.Stderr.Trim());
    }

    /// <summary>Prepared already when the deploy user logs in with the cluster's key and may use sudo.</summary>
    public override async Task<StepResult?> ProbeAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        if (!File.Exists(context.Store.KeyFile(context.Plan.Cluster)))
        {
            return null;
        }

        try
        {
            var remote = await context.HostAsync(step with { Login = StepLogin.Deploy }, cancellationToken).ConfigureAwait(false);
            var result = await remote.RunAsync("true", new RunOptions(Sudo: true, Timeout: context.Reach.WaitTimeout), cancellationToken).ConfigureAwait(false);
            return result.Ok ? StepResult.Done("the deploy user logs in with the cluster key and may sudo") : null;
        }
        catch (RemoteException)
        {
            return null;
        }
    }
}

/// <summary>Delivers packages to a host, checks them there, installs the files and units of its new instances.</summary>
public sealed class InstallStep(InstanceChecks checks) : StepHandler
{
    public override StepKind Kind => StepKind.Install;

    public override async Task<StepResult> ActAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var inputs = ((PackagesInputs)step.Inputs).Instances;
        var meta = context.TargetMeta;
        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        var install = new List<(InstanceContext, ResolvedPackage)>();
        foreach (var item in inputs)
        {
            var instance = context.Instance(item.Instance);
            var package = await checks.ResolveAsync(context, item.Package, cancellationToken).ConfigureAwait(false);
            install.Add((InstanceFiles.Context(context.Plan.Cluster, meta, instance, item.Join) with { Version = package.Version, Entry = package.Entry }, package));
            context.Note(step.Host, instance.Id, "install", $"{instance.Role} {package.Version}");
        }

        foreach (var package in install.Select(i => i.Item2).DistinctBy(p => p.TarballSha256))
        {
            var how = await context.Delivery.DeliverAsync(remote, package, cancellationToken).ConfigureAwait(false);
            context.Note(step.Host, null, "transfer", $"{Path.GetFileName(package.Path)}: {how}");
        }

        var result = await remote.RunAsync(HostScripts.Install(install), new RunOptions(Sudo: true, Timeout: context.Reach.WaitTimeout), cancellationToken).ConfigureAwait(false);
        return result.Ok
            ? StepResult.Done($"installed {inputs.Length} instance(s), packages checked on the host")
            : StepResult.Fail($"install failed (exit {result.ExitCode}): {result.Stderr.Trim()}");
    }

    /// <summary>Installed already when every executable is the planned package's and every file is as Tug renders it.</summary>
    public override async Task<StepResult?> ProbeAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var inputs = ((PackagesInputs)step.Inputs).Instances;
        var instances = inputs.Select(i => context.Instance(i.Instance)).ToList();
        var joining = inputs.Where(i => i.Join).Select(i => i.Instance).ToHashSet(StringComparer.Ordinal);
        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        var entries = inputs.Select(i => (Path: $"{context.Instance(i.Instance).DeployDir}/bin/{i.Package.Entry}", i.Package.EntrySha256)).ToList();
        var hashes = await InstanceChecks.HashesAsync(remote, entries.Select(e => e.Path), context.Reach, cancellationToken).ConfigureAwait(false);
        if (entries.Any(e => hashes.GetValueOrDefault(e.Path) != e.EntrySha256))
        {
            return null;
        }

        var drift = await InstanceChecks.FileDriftAsync(remote, context.Plan.Cluster, context.TargetMeta, instances, context.Reach, cancellationToken, i => joining.Contains(i.Id)).ConfigureAwait(false);
        return drift.Count == 0 ? StepResult.Done($"{inputs.Length} instance(s) installed") : null;
    }
}

/// <summary>Writes the metadata the plan works toward, with the host keys pinned so far.</summary>
public sealed class SaveMetaStep : StepHandler
{
    public override StepKind Kind => StepKind.SaveMeta;

    public override Task<StepResult> ActAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var planned = Planned(context);
        context.State.Update(_ => planned, create: true);
        return Task.FromResult(StepResult.Done($"metadata saved: {planned.Topology.Instances.Length} instance(s)"));
    }

    public override Task<StepResult?> ProbeAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var planned = Planned(context);
        var saved = context.State.Saved && ClusterMetaSerializer.Serialize(context.Meta with { Tug = context.Meta.Tug with { HostKeys = planned.Tug.HostKeys } }) == ClusterMetaSerializer.Serialize(planned);
        return Task.FromResult(saved ? StepResult.Done("metadata saved") : null);
    }

    private static ClusterMeta Planned(StepContext context)
    {
        var planned = context.PlannedMeta ?? throw new ClusterException(ClusterException.BadInput, $"The {context.Plan.Operation} plan has a save-meta step but no metadata.");
        return planned with { Tug = planned.Tug with { HostKeys = planned.Tug.HostKeys.SetItems(context.LearnedHostKeys(planned)) } };
    }
}

/// <summary>
/// Announces a new member to the running cluster of its component (or makes a leaving one leave it), through a
/// member that stays. The script looks before it acts (a member already added or gone is left as it is), so the
/// probe is the action's own first read.
/// </summary>
public sealed class MemberStep(StepKind kind) : StepHandler
{
    public override StepKind Kind => kind;

    public override async Task<StepResult> ActAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var add = kind == StepKind.MemberJoin;
        var member = context.Instance(((InstanceInputs)step.Inputs).Instance);
        var topology = add ? context.TargetMeta.Topology : context.Meta.Topology;
        var staying = topology.OfRole(member.Role).Where(i => i.Id != member.Id).ToList();
        var through = staying.FirstOrDefault();
        if (through is null)
        {
            return StepResult.Fail($"no other {member.Role} member to change the membership through");
        }

        var entry = context.Meta.Tug.Instances.GetValueOrDefault(through.Id)?.Entry ?? ComponentSpecs.For(through).DefaultEntry;
        context.Note(member.ManageHost, member.Id, StepKinds.Name(kind), $"through {through.Id}");
        var remote = await context.HostAsync(through.ManageHost, cancellationToken).ConfigureAwait(false);
        var result = await remote.RunAsync(HostScripts.Membership(member, add, through, entry, staying), new RunOptions(Sudo: true, Timeout: context.Reach.WaitTimeout), cancellationToken).ConfigureAwait(false);
        var change = HostReply.Parse(result.Stdout).OfType<MemberLine>().FirstOrDefault() switch
        {
            { Change: "present" } m => $"already a member ({m.MemberId})",
            { Change: "absent" } => "not a member any more",
            { } m => m.Change,
            null => string.Empty,
        };
        return result.Ok
            ? StepResult.Done(add ? $"announced to the {member.Role} cluster ({change})" : $"left the {member.Role} cluster ({change})")
            : StepResult.Fail($"{member.Role} member {(add ? "add" : "remove")} through {through.Id} failed (exit {result.ExitCode}): {result.Stderr.Trim()}");
    }

    public override Task<StepResult?> ProbeAsync(StepContext context, Step step, CancellationToken cancellationToken) => Task.FromResult<StepResult?>(null);
}

/// <summary>Stops and removes instances from a host (units, directories; the cluster key when the host is emptied) and proves nothing is left.</summary>
public sealed class RemoveStep(StepKind kind) : StepHandler
{
    public override StepKind Kind => kind;

    public override async Task<StepResult> ActAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var inputs = (HostInputs)step.Inputs;
        var instances = inputs.Instances.Select(context.Instance).ToList();
        var keyFile = context.Store.KeyFile(context.Plan.Cluster) + ".pub";
        var publicKey = inputs.EmptiesHost && File.Exists(keyFile) ? (await File.ReadAllTextAsync(keyFile, cancellationToken).ConfigureAwait(false)).Trim() : string.Empty;
        context.Note(step.Host, null, StepKinds.Name(kind), $"removing {string.Join(", ", inputs.Instances)}");
        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        var result = await remote.RunAsync(HostScripts.Destroy(instances, context.Meta.User, publicKey, inputs.RetainedDirs), new RunOptions(Sudo: true, Timeout: context.Reach.WaitTimeout), cancellationToken).ConfigureAwait(false);
        var kept = inputs.RetainedDirs.IsEmpty ? string.Empty : $"; kept as asked: {string.Join(", ", inputs.RetainedDirs)}";
        return result.Ok
            ? StepResult.Done($"removed {instances.Count} instance(s); verified: no unit, process or directory left{kept}")
            : StepResult.Fail($"removal failed: {result.Stderr.Trim()}");
    }

    /// <summary>The removal script is safe to repeat and proves its own result; it always runs.</summary>
    public override Task<StepResult?> ProbeAsync(StepContext context, Step step, CancellationToken cancellationToken) => Task.FromResult<StepResult?>(null);
}

/// <summary>Rewrites an instance's files that follow the topology; restarts it when its component needs that to read them; verified.</summary>
public sealed class RefreshStep(InstanceChecks checks) : StepHandler
{
    public override StepKind Kind => StepKind.Refresh;

    public override async Task<StepResult> ActAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var instance = context.Instance(((InstanceInputs)step.Inputs).Instance);
        var restart = ComponentSpecs.For(instance).OnConfigChange == ConfigChange.Restart;
        context.Note(step.Host, instance.Id, "refresh", restart ? "configuration rewritten, restarting" : "configuration rewritten");
        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        var result = await remote.RunAsync(HostScripts.Refresh([InstanceFiles.Context(context.Plan.Cluster, context.Meta, instance)], restart ? [instance] : [], context.Reach.WaitTimeout),
            new RunOptions(Sudo: true, Timeout: context.Reach.WaitTimeout + TimeSpan.FromSeconds(30)), cancellationToken).ConfigureAwait(false);
        if (restart)
        {
            return InstanceChecks.Waited(instance, result, "listening");
        }

        return result.ExitCode == 0 ? StepResult.Done("configuration rewritten") : StepResult.Fail($"rewriting the configuration failed: {result.Stderr.Trim()}");
    }

    public override async Task<StepResult> GateAsync(StepContext context, Step step, StepResult acted, CancellationToken cancellationToken)
    {
        var instance = context.Instance(((InstanceInputs)step.Inputs).Instance);
        var restart = ComponentSpecs.For(instance).OnConfigChange == ConfigChange.Restart;
        if (restart && await checks.HealthAsync(instance, context.Reach.WaitTimeout, cancellationToken).ConfigureAwait(false) is { Ok: false } unhealthy)
        {
            return unhealthy;
        }

        var problems = await ProblemsAsync(context, step, cancellationToken).ConfigureAwait(false);
        return problems.IsEmpty
            ? StepResult.Done($"configuration follows the new topology; {(restart ? "restarted, healthy, " : string.Empty)}verified")
            : StepResult.Fail($"configuration refresh not verified: {string.Join("; ", problems)}");
    }

    public override async Task<StepResult?> ProbeAsync(StepContext context, Step step, CancellationToken cancellationToken) =>
        (await ProblemsAsync(context, step, cancellationToken).ConfigureAwait(false)).IsEmpty ? StepResult.Done("configuration follows the topology, verified") : null;

    /// <summary>The process runs the signed file and every file is what Tug renders for the topology.</summary>
    private static async Task<ImmutableArray<string>> ProblemsAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var instance = context.Instance(((InstanceInputs)step.Inputs).Instance);
        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        var status = (await InstanceChecks.ProbeAsync(remote, context.Meta, [instance], context.Reach, cancellationToken).ConfigureAwait(false))[0];
        var drift = await InstanceChecks.FileDriftAsync(remote, context.Plan.Cluster, context.Meta, [instance], context.Reach, cancellationToken).ConfigureAwait(false);
        return [.. (status.Verified ? [] : new[] { $"{status.Status}: {status.Detail}" }).Concat(drift[instance.Id])];
    }
}

/// <summary>Forgets the cluster on the control machine: its metadata, key and operation records.</summary>
public sealed class ForgetStep : StepHandler
{
    public override StepKind Kind => StepKind.Forget;

    public override Task<StepResult> ActAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        context.Store.Delete(context.Plan.Cluster);
        context.State.Forgotten();
        return Task.FromResult(StepResult.Done("forgotten on this control machine"));
    }

    public override Task<StepResult?> ProbeAsync(StepContext context, Step step, CancellationToken cancellationToken) =>
        Task.FromResult(context.Store.Exists(context.Plan.Cluster) ? null : StepResult.Done("forgotten on this control machine"));
}

/// <summary>Records the cluster's version (the step's subject) in its metadata; done when the metadata already holds it.</summary>
public sealed class ClusterVersionStep : StepHandler
{
    public override StepKind Kind => StepKind.ClusterVersion;

    public override Task<StepResult> ActAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var from = context.Meta.Version;
        context.State.Update(m => m with { Version = step.Key.Subject });
        return Task.FromResult(StepResult.Done($"cluster version {from} -> {step.Key.Subject}"));
    }

    public override Task<StepResult?> ProbeAsync(StepContext context, Step step, CancellationToken cancellationToken) =>
        Task.FromResult(context.State.Saved && context.Meta.Version == step.Key.Subject ? StepResult.Done($"cluster version {step.Key.Subject}") : null);
}
