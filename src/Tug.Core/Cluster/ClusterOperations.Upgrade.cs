// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Tug.Core.Components;
using Tug.Core.Remote;
using Tug.Core.Topology;

namespace Tug.Core.Cluster;

/// <summary>What <c>tug cluster upgrade</c> is asked to do.</summary>
/// <param name="Name">Cluster name.</param>
/// <param name="ClusterVersion">New cluster version (components that follow the cluster), or null to leave them.</param>
/// <param name="Components">Explicit role (or package) → version pins.</param>
/// <param name="Batch">Instances per batch: a count, or a percentage of each role's instances ("25%").</param>
public sealed record UpgradeRequest(string Name, string? ClusterVersion, ImmutableDictionary<string, string> Components, string Batch);

/// <summary>One instance's move in an upgrade plan.</summary>
public sealed record UpgradeStep(string Id, string Role, string Host, string From, string To, int Batch);

/// <summary>The plan an upgrade prints first: which instances move, from which version to which, in which batches; and what stays.</summary>
public sealed record UpgradePlan(string Name, ImmutableArray<UpgradeStep> Steps, ImmutableArray<string> Unchanged);

/// <summary>What <c>tug cluster verify</c> found for one instance.</summary>
public sealed record InstanceVerification(string Id, string Role, string Host, bool Ok, ImmutableArray<string> Problems, string? Version);

public sealed partial class ClusterOperations
{
    /// <summary>
    /// Plans an upgrade: the target version of every role (explicit pins first, then the new cluster version for
    /// components that follow the cluster; agents and other independently pinned components stay where they are).
    /// </summary>
    /// <exception cref="ClusterException">An unknown role, or nothing to do.</exception>
    public UpgradePlan PlanUpgrade(UpgradeRequest request)
    {
        var meta = store.Load(request.Name);
        var topology = meta.Topology;
        var targets = TargetVersions(meta, request);
        var steps = ImmutableArray.CreateBuilder<UpgradeStep>();
        foreach (var group in topology.Instances.GroupBy(i => i.Role).OrderBy(g => Roles.StartIndex(g.Key)))
        {
            if (!targets.TryGetValue(group.Key, out var target))
            {
                continue;
            }

            var moving = group.Where(i => meta.Tug.Instances.GetValueOrDefault(i.Id)?.Version != target).ToList();
            var size = BatchSize(request.Batch, group.Count());
            for (var k = 0; k < moving.Count; k++)
            {
                var i = moving[k];
                steps.Add(new UpgradeStep(i.Id, i.Role, i.ManageHost, meta.Tug.Instances.GetValueOrDefault(i.Id)?.Version ?? "?", target, (k / size) + 1));
            }
        }

        var unchanged = topology.Instances.Select(i => i.Role).Distinct()
            .Where(r => !steps.Any(s => s.Role == r))
            .Select(r => $"{r} stays at {meta.Tug.Versions.GetValueOrDefault(r) ?? "?"}{(targets.ContainsKey(r) ? " (already there)" : Roles.IsMonitoringAgent(r) || IndependentlyPinned(meta, r) ? " (pinned on its own)" : string.Empty)}");
        return new UpgradePlan(request.Name, steps.ToImmutable(), [.. unchanged]);
    }

    /// <summary>
    /// Rolls the plan batch by batch: every new package is staged and verified on its host first, then each instance is
    /// switched, started and passed through its health gate. An instance that fails is rolled back to its previous
    /// version on that host and checked again, and the upgrade stops there. Metadata records only verified versions.
    /// </summary>
    public async Task<OperationReport> UpgradeAsync(UpgradeRequest request, UpgradePlan plan, Reach reach, IProgress<OperationEvent>? progress, CancellationToken cancellationToken)
    {
        var clock = new PhaseClock(time, progress);
        var began = clock.Start();
        var meta = store.Load(request.Name);
        var byId = meta.Topology.Instances.ToDictionary(i => i.Id);
        var moving = plan.Steps.Select(s => byId[s.Id]).ToImmutableArray();
        var targets = new Dictionary<string, ResolvedPackage>(StringComparer.Ordinal);
        var resolved = new Dictionary<(string, string, string), ResolvedPackage>();
        foreach (var step in plan.Steps)
        {
            // Each package is resolved (and its cached tarball re-hashed) once per upgrade, as deploy does, not once per instance.
            var i = byId[step.Id];
            var key = (i.Component, step.To, $"{OsOf(i)}/{ArchOf(i)}");
            targets[i.Id] = resolved.TryGetValue(key, out var known) ? known : resolved[key] = await packages.GetAsync(key.Item1, key.Item2, key.Item3, cancellationToken).ConfigureAwait(false);
        }

        clock.Record("resolve", null, began);
        var phase = clock.Start();
        await using var sessions = await OpenAsync(request.Name, meta, reach, progress, cancellationToken, [.. moving.Select(i => i.ManageHost)]).ConfigureAwait(false);
        clock.Record("connect", null, phase);
        if (sessions.Failures.Count > 0)
        {
            return new OperationReport("upgrade", request.Name, [.. Unreachable(sessions.Failures, moving), .. moving.Where(i => !sessions.Failures.ContainsKey(i.ManageHost))
                .Select(i => new InstanceOutcome(i.Id, i.Role, i.ManageHost, OutcomeStatus.Skipped, "not touched: a host of this upgrade is unreachable"))]) { Timings = clock.Finish(began) };
        }

        // 1. Stage every new package on every host, verified there, before touching anything that runs.
        phase = clock.Start();
        // On a replay, an instance an earlier run switched is not staged again, and a host staged before is only checked.
        var pending = moving.Where(i => !Resumed($"switch {i.Id}")).ToImmutableArray();
        var staged = await sessions.ForEachAsync(pending.Select(i => i.ManageHost), reach.Concurrency, async (host, remote, ct) =>
        {
            var onHost = pending.Where(i => i.ManageHost == host).ToList();
            var step = $"stage {host}";
            if (Resumed(step))
            {
                var check = HostScripts.StageCheck([.. onHost.Select(i => (i, targets[i.Id]))]);
                if ((await remote.RunAsync(check, new RunOptions(Sudo: true, Timeout: reach.WaitTimeout), ct).ConfigureAwait(false)).Ok)
                {
                    return new InstanceOutcome(host, "host", host, OutcomeStatus.Ok, "staged before the interruption; checked");
                }
            }

            Planned(step);
            foreach (var package in onHost.Select(i => targets[i.Id]).DistinctBy(p => p.TarballSha256))
            {
                progress?.Report(new OperationEvent(host, null, "stage", Path.GetFileName(package.Path)));
                var stream = File.OpenRead(package.Path);
                await using (stream.ConfigureAwait(false))
                {
                    await remote.UploadAsync(stream, HostScripts.PackageUploadPath(package), "0644", sudo: false, ct).ConfigureAwait(false);
                }
            }

            var result = await remote.RunAsync(HostScripts.Stage(meta.User, [.. onHost.Select(i => (i, targets[i.Id]))]), new RunOptions(Sudo: true, Timeout: reach.WaitTimeout), ct).ConfigureAwait(false);
            var outcome = new InstanceOutcome(host, "host", host, result.Ok ? OutcomeStatus.Ok : OutcomeStatus.Failed, result.Ok ? "staged" : $"staging failed: {result.Stderr.Trim()}");
            Finish(step, outcome);
            return outcome;
        }, (host, e) => new InstanceOutcome(host, "host", host, OutcomeStatus.Failed, e.Message), cancellationToken).ConfigureAwait(false);
        clock.Record("stage", null, phase);
        if (staged.Any(s => s.Status != OutcomeStatus.Ok))
        {
            return new OperationReport("upgrade", request.Name, [.. staged, .. moving.Select(i => new InstanceOutcome(i.Id, i.Role, i.ManageHost, OutcomeStatus.Skipped, "not touched: staging failed"))]) { Timings = clock.Finish(began) };
        }

        // 2. Roll batch by batch, role by role, each instance gated on health and verification.
        var outcomes = new List<InstanceOutcome>();
        var current = meta;
        var stopped = false;
        var batches = 0;
        foreach (var batch in plan.Steps.GroupBy(s => (Order: Roles.StartIndex(s.Role), s.Role, s.Batch)).OrderBy(g => g.Key.Order).ThenBy(g => g.Key.Batch))
        {
            if (stopped)
            {
                outcomes.AddRange(batch.Select(s => new InstanceOutcome(s.Id, s.Role, s.Host, OutcomeStatus.Skipped, $"not touched, still {s.From}: the upgrade stopped earlier")));
                continue;
            }

            var instances = batch.Select(s => byId[s.Id]).ToImmutableArray();
            var number = ++batches;
            phase = clock.Start();
            var results = await sessions.ForEachAsync(instances.Select(i => i.ManageHost), reach.Concurrency, async (host, remote, ct) =>
            {
                var list = new List<InstanceOutcome>();
                foreach (var i in instances.Where(i => i.ManageHost == host))
                {
                    var step = $"switch {i.Id}";
                    if (Resumed(step) && await AlreadySwitchedAsync(current, i, targets[i.Id], Record(targets[i.Id]), remote, reach, ct).ConfigureAwait(false) is { } done)
                    {
                        list.Add(done);
                        continue;
                    }

                    Planned(step, $"{current.Tug.Instances.GetValueOrDefault(i.Id)?.Label} -> {targets[i.Id].Version}");
                    var outcome = await SwitchInstanceAsync(request.Name, current, i, targets[i.Id], Record(targets[i.Id]), remote, reach, progress, ct, clock, number).ConfigureAwait(false);
                    clock.Announce(i, number);
                    Finish(step, outcome);
                    list.Add(outcome);
                }

                return list;
            }, (host, e) => [.. instances.Where(i => i.ManageHost == host).Select(i => new InstanceOutcome(i.Id, i.Role, host, OutcomeStatus.Failed, e.Message))], cancellationToken).ConfigureAwait(false);
            clock.Record("batch", number, phase);
            var flat = results.SelectMany(r => r).ToList();
            outcomes.AddRange(flat);

            // Record only what was verified, after every batch, so an interruption loses nothing that happened.
            foreach (var ok in flat.Where(o => o.Status == OutcomeStatus.Ok))
            {
                var package = targets[ok.Id];
                current = current with { Tug = current.Tug with { Instances = current.Tug.Instances.SetItem(ok.Id, Record(package)) } };
            }

            phase = clock.Start();
            current = current with { Tug = current.Tug with { Versions = RoleVersions(current) } };
            store.Save(request.Name, current);
            clock.Record("save", number, phase);
            stopped = flat.Any(o => o.Status != OutcomeStatus.Ok);
        }

        return new OperationReport("upgrade", request.Name, [.. outcomes]) { Timings = clock.Finish(began) };
    }

    /// <summary>Checks every selected instance: process executable = deployed file = signed package, no deleted executable, unit and configs as Tug renders them.</summary>
    public async Task<ImmutableArray<InstanceVerification>> VerifyAsync(string name, InstanceFilter filter, Reach reach, CancellationToken cancellationToken)
    {
        var meta = store.Load(name);
        var instances = Select(meta, filter);
        await using var sessions = await OpenAsync(name, meta, reach, null, cancellationToken).ConfigureAwait(false);
        return await VerifyInstancesAsync(name, meta, sessions, instances, reach, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The checks of <see cref="VerifyAsync"/> on open sessions: the probe's verdict plus every file that drifted from what Tug renders.</summary>
    private static async Task<ImmutableArray<InstanceVerification>> VerifyInstancesAsync(string name, ClusterMeta meta, HostSessions sessions, ImmutableArray<InstanceSpec> instances, Reach reach, CancellationToken cancellationToken)
    {
        var statuses = await ProbeAsync(meta, sessions, instances, reach, cancellationToken).ConfigureAwait(false);
        var drift = await FileDriftAsync(name, meta, sessions, instances, reach, cancellationToken).ConfigureAwait(false);
        return [.. statuses.Select(s =>
        {
            var problems = (s.Verified ? [] : new[] { $"{s.Status}: {s.Detail}" }).Concat(drift[s.Id]).ToImmutableArray();
            return new InstanceVerification(s.Id, s.Role, s.Host, problems.IsEmpty, problems, s.Version);
        })];
    }

    private static IEnumerable<RenderedFile> RenderedFiles(string name, ClusterMeta meta, InstanceSpec instance)
    {
        var deployed = meta.Tug.Instances.GetValueOrDefault(instance.Id);
        var spec = ComponentSpecs.For(instance);
        var context = new InstanceContext(instance, meta.Topology, name, meta.User, deployed?.Version ?? meta.Version, deployed?.Entry ?? spec.DefaultEntry) { ClusterVersion = meta.Version };
        return spec.RenderConfigFiles(context)
            .Append(new RenderedFile(spec.RunScriptPath(instance), spec.RenderRunScript(context)))
            .Append(new RenderedFile($"/etc/systemd/system/{instance.UnitName}", spec.RenderSystemdUnit(context)));
    }

    private static string Sha(string content) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)));

    /// <summary>
    /// On a replay: an Ok outcome when an earlier run switched the instance and it still runs the new build, healthy and
    /// verified (it is not restarted); null when it must be switched again.
    /// </summary>
    private async Task<InstanceOutcome?> AlreadySwitchedAsync(ClusterMeta meta, InstanceSpec instance, ResolvedPackage target, DeployedInstance next, IRemoteHost remote, Reach reach, CancellationToken cancellationToken)
    {
        var (status, runs) = await ProbeAsRecordedAsync(meta, instance, next, remote, reach, cancellationToken).ConfigureAwait(false);
        if (!runs || status.Status != "Up")
        {
            return null;
        }

        var health = await HealthAsync(instance, reach with { WaitTimeout = TimeSpan.FromSeconds(10) }, cancellationToken).ConfigureAwait(false);
        return health.Status == OutcomeStatus.Ok
            ? health with { Message = $"switched to {target.Version} before the interruption: running {status.Version}, healthy, verified; not restarted" }
            : null;
    }

    /// <summary>What the metadata records for an instance verified on a package.</summary>
    private static DeployedInstance Record(ResolvedPackage package) => new(package.Version, package.Entry, package.EntrySha256, false);

    /// <summary>
    /// Moves one instance to the staged build <paramref name="target"/> (recorded as <paramref name="next"/>): stop,
    /// switch files, start, health gate, verify (running executable = the new file; the version it reports, unless
    /// patched), cluster check; on failure the previous build is restored and checked.
    /// </summary>
    private async Task<InstanceOutcome> SwitchInstanceAsync(string name, ClusterMeta meta, InstanceSpec instance, ResolvedPackage target, DeployedInstance next, IRemoteHost remote, Reach reach, IProgress<OperationEvent>? progress, CancellationToken cancellationToken, PhaseClock? clock = null, int batch = 0)
    {
        clock ??= new PhaseClock(time, null);
        var previous = meta.Tug.Instances.GetValueOrDefault(instance.Id);
        var spec = ComponentSpecs.For(instance);
        progress?.Report(new OperationEvent(instance.ManageHost, instance.Id, next.Patched ? "patch" : "upgrade", $"{previous?.Label} -> {next.Label}"));
        var newContext = new InstanceContext(instance, meta.Topology, name, meta.User, next.Version, target.Entry) { ClusterVersion = meta.Version };
        var switchScript = HostScripts.Switch(newContext, target, previous?.Label ?? "unknown", reach.WaitTimeout);
        var phase = clock.Start();
        var switched = await remote.RunAsync(switchScript, new RunOptions(Sudo: true, Timeout: reach.WaitTimeout + TimeSpan.FromSeconds(30)), cancellationToken).ConfigureAwait(false);
        var roundTrip = clock.Elapsed(phase);
        var reply = HostReply.Parse(switched.Stdout);
        var restart = HostReply.Seconds(reply, "stop", "stopped") + HostReply.Seconds(reply, "start", "listening");
        clock.RecordSeconds("restart", batch, restart, instance);
        clock.RecordSeconds("switch", batch, roundTrip - restart, instance);
        var outcome = WaitOutcome(instance, switched, "listening");
        if (outcome.Status == OutcomeStatus.Ok)
        {
            phase = clock.Start();
            outcome = await HealthAsync(instance, reach with { WaitTimeout = TimeSpan.FromSeconds(Math.Min(reach.WaitTimeout.TotalSeconds, 60)) }, cancellationToken).ConfigureAwait(false);
            clock.Record("health", batch, phase, instance);
        }

        phase = clock.Start();
        if (outcome.Status == OutcomeStatus.Ok)
        {
            var (status, runs) = await ProbeAsRecordedAsync(meta, instance, next, remote, reach, cancellationToken).ConfigureAwait(false);
            if (runs)
            {
                if (spec.ClusterCheck is null)
                {
                    clock.Record("verify", batch, phase, instance);
                    return outcome with { Message = $"{previous?.Label} -> {next.Label}: healthy, running {status.Version}, verified" };
                }

                // Stateful members: the whole cluster must be healthy (quorum) before the next member is touched.
                var clusterScript = HostScripts.ClusterCheck(newContext, TimeSpan.FromSeconds(Math.Min(reach.WaitTimeout.TotalSeconds, 60)));
                var cluster = await remote.RunAsync(clusterScript, new RunOptions(Sudo: true, Timeout: reach.WaitTimeout + TimeSpan.FromSeconds(30)), cancellationToken).ConfigureAwait(false);
                clock.Record("verify", batch, phase, instance);
                if (cluster.Ok)
                {
                    return outcome with { Message = $"{previous?.Label} -> {next.Label}: healthy, running {status.Version}, verified; cluster healthy" };
                }

                outcome = outcome with { Status = OutcomeStatus.Failed, Message = $"the {instance.Role} cluster did not become healthy after this member moved: {cluster.Stderr.Trim()}" };
            }
            else
            {
                outcome = outcome with { Status = OutcomeStatus.Failed, Message = $"started but not verified as {next.Label}: {status.Detail} (reports {status.Version ?? "no version"})" };
            }
        }

        // The gate failed: put the previous version back on this host, check it, and stop the upgrade.
        progress?.Report(new OperationEvent(instance.ManageHost, instance.Id, "rollback", $"{next.Label} failed: {outcome.Message}"));
        if (previous is null)
        {
            return outcome with { Message = $"{outcome.Message}; no previous version recorded, nothing to roll back to" };
        }

        var (restored, detail) = await RestoreAsync(name, meta, instance, target, previous, remote, reach, cancellationToken).ConfigureAwait(false);
        return outcome with
        {
            Status = OutcomeStatus.Failed,
            Message = restored
                ? $"{next.Label} failed its health gate ({outcome.Message}); rolled back to {previous.Label}, {detail}"
                : $"{next.Label} failed its health gate ({outcome.Message}); ROLLBACK to {previous.Label} ALSO FAILED ({detail}); the instance needs attention",
        };
    }

    /// <summary>
    /// Puts <paramref name="previous"/> back in place of the build switched in from <paramref name="installed"/>
    /// (what it added removed, what it replaced moved back), restarts, and checks health and the running executable.
    /// </summary>
    private async Task<(bool Restored, string Detail)> RestoreAsync(string name, ClusterMeta meta, InstanceSpec instance, ResolvedPackage installed, DeployedInstance previous, IRemoteHost remote, Reach reach, CancellationToken cancellationToken)
    {
        var oldContext = new InstanceContext(instance, meta.Topology, name, meta.User, previous.Version, previous.Entry) { ClusterVersion = meta.Version };
        var rollbackScript = HostScripts.Rollback(oldContext, installed, previous.Label, reach.WaitTimeout);
        var rolled = await remote.RunAsync(rollbackScript, new RunOptions(Sudo: true, Timeout: reach.WaitTimeout + TimeSpan.FromSeconds(30)), cancellationToken).ConfigureAwait(false);
        var back = WaitOutcome(instance, rolled, "listening");
        if (back.Status == OutcomeStatus.Ok)
        {
            back = await HealthAsync(instance, reach, cancellationToken).ConfigureAwait(false);
        }

        if (back.Status != OutcomeStatus.Ok)
        {
            return (false, back.Message);
        }

        var (check, runs) = await ProbeAsRecordedAsync(meta, instance, previous, remote, reach, cancellationToken).ConfigureAwait(false);
        return runs
            ? (true, "healthy and verified")
            : (false, $"running but not verified as {previous.Label}: {check.Detail} (reports {check.Version ?? "no version"})");
    }

    /// <summary>
    /// Probes one instance against <paramref name="record"/>: <c>Runs</c> when the running executable is the recorded
    /// build's file (verified) and, unless patched, reports the recorded version.
    /// </summary>
    private static async Task<(InstanceStatus Status, bool Runs)> ProbeAsRecordedAsync(ClusterMeta meta, InstanceSpec instance, DeployedInstance record, IRemoteHost remote, Reach reach, CancellationToken cancellationToken)
    {
        var recorded = meta with { Tug = meta.Tug with { Instances = meta.Tug.Instances.SetItem(instance.Id, record) } };
        var result = await remote.RunAsync(ProbeScript(recorded, [instance]), new RunOptions(Sudo: true, Timeout: reach.WaitTimeout), cancellationToken).ConfigureAwait(false);
        var status = ParseProbe(recorded, instance, result);
        return (status, status.Verified && (record.Patched || status.Version == record.Version));
    }

    private static Dictionary<string, string> TargetVersions(ClusterMeta meta, UpgradeRequest request)
    {
        var roles = meta.Topology.Instances.Select(i => i.Role).Distinct().ToList();
        var targets = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, version) in request.Components)
        {
            var matched = roles.Where(r => r == key || meta.Topology.Instances.Any(i => i.Role == r && i.Component == key)).ToList();
            if (matched.Count == 0)
            {
                throw new ClusterException(ClusterException.BadInput, $"--component {key}={version}: the cluster has no component '{key}'.", $"Its roles: {string.Join(", ", roles)}.");
            }

            foreach (var role in matched)
            {
                targets[role] = NormalizeVersion(version);
            }
        }

        if (request.ClusterVersion is { } clusterVersion)
        {
            foreach (var role in roles.Where(r => !targets.ContainsKey(r) && !Roles.IsMonitoringAgent(r) && !IndependentlyPinned(meta, r)))
            {
                targets[role] = NormalizeVersion(clusterVersion);
            }
        }

        if (targets.Count == 0)
        {
            throw new ClusterException(ClusterException.BadInput, "Nothing to upgrade: give a cluster VERSION or --component COMP=VERSION.",
                "For example: `tug cluster upgrade NAME --component node_exporter=v1.9.0`.");
        }

        return targets;
    }

    private static bool IndependentlyPinned(ClusterMeta meta, string role) => !string.IsNullOrEmpty(meta.Topology.PinnedVersion(role));

    /// <summary>A role's pinned version moves only when every instance of the role was verified on the new one.</summary>
    private static ImmutableSortedDictionary<string, string> RoleVersions(ClusterMeta meta) =>
        meta.Topology.Instances.GroupBy(i => i.Role).ToImmutableSortedDictionary(
            g => g.Key,
            g => g.Select(i => meta.Tug.Instances.GetValueOrDefault(i.Id)?.Version).Distinct().ToList() is [{ } only]
                ? only
                : meta.Tug.Versions.GetValueOrDefault(g.Key) ?? "?",
            StringComparer.Ordinal);

    private static int BatchSize(string batch, int count)
    {
        if (batch.EndsWith('%') && int.TryParse(batch[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var percent) && percent is > 0 and <= 100)
        {
            return Math.Max(1, count * percent / 100);
        }

        if (int.TryParse(batch, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0)
        {
            return n;
        }

        throw new ClusterException(ClusterException.BadInput, $"--batch '{batch}' is neither a positive count nor a percentage like 25%.");
    }

    private static string OsOf(InstanceSpec i) => i.Os.Length > 0 ? i.Os : "linux";

    private static string ArchOf(InstanceSpec i) => i.Arch.Length > 0 ? i.Arch : "amd64";
}

/// <summary>
/// Times the phases of one operation with the injected clock: each is kept for the report and also announced as a
/// progress event (step <c>timing</c>): an operation's or a batch's phase as it ends (<c>phase=NAME [batch=N] seconds=S</c>),
/// an instance's phases in one line once it is done (<c>batch=N restart=S switch=S health=S verify=S</c>).
/// </summary>
internal sealed class PhaseClock(TimeProvider time, IProgress<OperationEvent>? progress)
{
    private readonly ConcurrentQueue<PhaseTiming> _timings = new();

    public long Start() => time.GetTimestamp();

    public double Elapsed(long start) => time.GetElapsedTime(start).TotalSeconds;

    public void Record(string phase, int? batch, long start, InstanceSpec? instance = null) => RecordSeconds(phase, batch, Elapsed(start), instance);

    public void RecordSeconds(string phase, int? batch, double seconds, InstanceSpec? instance = null)
    {
        var timing = new PhaseTiming(phase, batch, instance?.Id, Math.Round(Math.Max(0, seconds), 4));
        _timings.Enqueue(timing);
        if (instance is null)
        {
            progress?.Report(new OperationEvent("control", null, "timing",
                string.Create(CultureInfo.InvariantCulture, $"phase={phase}{(batch is { } b ? $" batch={b}" : string.Empty)} seconds={timing.Seconds:0.0000}")));
        }
    }

    /// <summary>Announces the phases recorded for one instance in one batch, in one progress line.</summary>
    public void Announce(InstanceSpec instance, int batch)
    {
        var phases = _timings.Where(t => t.Instance == instance.Id && t.Batch == batch)
            .Select(t => string.Create(CultureInfo.InvariantCulture, $" {t.Phase}={t.Seconds:0.0000}"));
        progress?.Report(new OperationEvent(instance.ManageHost, instance.Id, "timing", $"batch={batch}{string.Concat(phases)}"));
    }

    /// <summary>Records the whole operation as <c>total</c> and returns every timing, in the order they ended.</summary>
    public ImmutableArray<PhaseTiming> Finish(long began)
    {
        Record("total", null, began);
        return [.. _timings];
    }
}
