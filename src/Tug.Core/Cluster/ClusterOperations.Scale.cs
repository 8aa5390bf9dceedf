// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Core.Components;
using Tug.Core.Remote;
using Tug.Core.Topology;

namespace Tug.Core.Cluster;

/// <summary>What <c>tug cluster scale-out</c> is asked to do.</summary>
/// <param name="Name">Cluster name.</param>
/// <param name="TopologyFile">A topology file with only the new instances (TiUP's scale-out format).</param>
/// <param name="User">The login used to prepare new hosts (<c>-u</c>).</param>
/// <param name="Credential">Its key or password.</param>
public sealed record ScaleOutRequest(string Name, string TopologyFile, string User, Credential Credential);

/// <summary>One instance a scale operation adds or removes, at which version.</summary>
public sealed record ScaleStep(string Id, string Role, string Host, string Version);

/// <summary>The plan a scale-out or scale-in shows first: instances added or removed, and instances whose configuration follows.</summary>
public sealed record ScalePlan(string Name, string Operation, ImmutableArray<ScaleStep> Instances, ImmutableArray<string> Refreshed);

public sealed partial class ClusterOperations
{
    /// <summary>Roles whose running process must restart to read a configuration that follows the topology.</summary>
    private static readonly ImmutableHashSet<string> RestartOnRefresh = [Roles.Prometheus, Roles.Grafana, Roles.Alertmanager];

    /// <summary>
    /// Adds instances at the versions pinned in the cluster's metadata (never the mirror's latest, never whatever is
    /// cached), monitoring agents included on new hosts; new etcd members join the running cluster one at a time; the
    /// configuration of the instances that follow the topology (Prometheus' targets) is rewritten; everything touched
    /// is verified.
    /// </summary>
    /// <exception cref="ClusterException">Bad input, or the operator declined.</exception>
    public async Task<OperationReport> ScaleOutAsync(ScaleOutRequest request, Reach reach, Func<ScalePlan, bool> confirm, IProgress<OperationEvent>? progress, CancellationToken cancellationToken)
    {
        var meta = store.Load(request.Name);
        if (Resumed("install") && Journal is not null
            && OperationJournal.Read(store.Directory(request.Name), Journal.Id)?.Steps.LastOrDefault(s => s is { Step: "install", State: StepState.Done })?.Detail is { } installedIds)
        {
            // A replay after the new instances were installed and recorded: join, start and refresh what is not done.
            var ids = installedIds.Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
            await using var resumed = await OpenAsync(request.Name, meta, reach, progress, cancellationToken).ConfigureAwait(false);
            var others = meta.Topology.Instances.Where(i => !ids.Contains(i.Id)).ToImmutableArray();
            var drift = await FileDriftAsync(request.Name, meta, resumed, others, reach, cancellationToken).ConfigureAwait(false);
            return await StartAddedAsync(request.Name, meta, meta, resumed, [.. meta.Topology.Instances.Where(i => ids.Contains(i.Id))], [.. others.Where(i => drift[i.Id].Any())], reach, progress, cancellationToken).ConfigureAwait(false);
        }

        var merged = TopologyLoader.LoadScaleOut(request.TopologyFile, meta.Topology);
        var existing = meta.Topology.Instances.Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
        var existingHosts = meta.Topology.ManageHosts.ToHashSet(StringComparer.Ordinal);
        var newHosts = merged.Instances.Where(i => !existingHosts.Contains(i.ManageHost)).GroupBy(i => i.ManageHost).Select(g => (g.Key, g.First().SshPort)).ToList();
        var pins = _pins.GetOrAdd(request.Name, _ => new PinStore(meta.Tug.HostKeys));

        // 1. Reach the new hosts as the preparing user and learn their platform before anything changes.
        if (newHosts.Count > 0)
        {
            await using var root = await HostSessions.OpenAsync(newHosts, request.User, request.Credential, pins, reach, progress, cancellationToken).ConfigureAwait(false);
            if (root.Failures.Count > 0)
            {
                return Unreachable("scale-out", request.Name, root.Failures, "nothing was changed on any host");
            }

            merged = await ProbePlatformsAsync(root, merged, cancellationToken).ConfigureAwait(false);
        }

        var added = merged.Instances.Where(i => !existing.Contains(i.Id)).ToImmutableArray();
        if (added.IsEmpty)
        {
            throw new ClusterException(ClusterException.BadInput, $"{request.TopologyFile} adds no instance to cluster '{request.Name}': every instance in it is already deployed.",
                "List only the new instances in a scale-out file; see them with `tug cluster display`.");
        }

        // 2. Packages at the pinned versions, verified from the mirror.
        var packagesByInstance = new Dictionary<string, ResolvedPackage>(StringComparer.Ordinal);
        foreach (var instance in added)
        {
            var version = meta.Tug.Versions.GetValueOrDefault(instance.Role) ?? RequestedVersion(merged, instance.Role, meta.Version);
            progress?.Report(new OperationEvent("control", null, "package", $"{instance.Component} {version ?? "(latest)"} (pinned)"));
            packagesByInstance[instance.Id] = await packages.GetAsync(instance.Component, version, $"{OsOf(instance)}/{ArchOf(instance)}", cancellationToken).ConfigureAwait(false);
        }

        var next = meta with
        {
            Topology = merged,
            Tug = meta.Tug with
            {
                Instances = meta.Tug.Instances.SetItems(added.Select(i => KeyValuePair.Create(i.Id, new DeployedInstance(packagesByInstance[i.Id].Version, packagesByInstance[i.Id].Entry, packagesByInstance[i.Id].EntrySha256, false)))),
            },
        };
        next = next with { Tug = next.Tug with { Versions = meta.Tug.Versions.SetItems(added.Where(i => !meta.Tug.Versions.ContainsKey(i.Role)).Select(i => KeyValuePair.Create(i.Role, packagesByInstance[i.Id].Version))) } };
        var refreshed = Refreshed(request.Name, meta, next, meta.Topology.Instances);
        var plan = new ScalePlan(request.Name, "scale-out", [.. added.Select(i => new ScaleStep(i.Id, i.Role, i.ManageHost, packagesByInstance[i.Id].Version))], [.. refreshed.Select(i => i.Id)]);
        if (!confirm(plan))
        {
            throw new ClusterException(ClusterException.Aborted, "Scale-out cancelled; nothing was changed.", "Pass -y to skip the confirmation.");
        }

        // 3. The deploy user and the cluster key on the new hosts.
        if (newHosts.Count > 0)
        {
            await using var root = await HostSessions.OpenAsync(newHosts, request.User, request.Credential, pins, reach, progress, cancellationToken).ConfigureAwait(false);
            var publicKey = (await File.ReadAllTextAsync(store.KeyFile(request.Name) + ".pub", cancellationToken).ConfigureAwait(false)).Trim();
            var group = merged.Global.Group.Length > 0 ? merged.Global.Group : meta.User;
            var init = await root.ForEachAsync(root.Hosts.Keys, reach.Concurrency, async (host, remote, ct) =>
            {
                progress?.Report(new OperationEvent(host, null, "init", $"preparing user {meta.User}"));
                var result = await remote.RunAsync(HostScripts.EnvInit(meta.User, group, publicKey, createUser: request.User != meta.User), new RunOptions(Sudo: true, Timeout: reach.WaitTimeout), ct).ConfigureAwait(false);
                return new InstanceOutcome(host, "host", host, result.Ok ? OutcomeStatus.Ok : OutcomeStatus.Failed, result.Ok ? "deploy user ready" : result.Stderr.Trim());
            }, (host, e) => new InstanceOutcome(host, "host", host, OutcomeStatus.Failed, e.Message), cancellationToken).ConfigureAwait(false);
            if (init.Any(o => o.Status != OutcomeStatus.Ok) || root.Failures.Count > 0)
            {
                return new OperationReport("scale-out", request.Name, [.. init, .. Unreachable(root.Failures)]);
            }
        }

        // 4. Install the new instances; new etcd members are rendered to join the running cluster.
        var joining = added.Where(i => i.Role == Roles.Etcd).Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
        await using var sessions = await OpenAsync(request.Name, next, reach, progress, cancellationToken).ConfigureAwait(false);
        if (sessions.Failures.Count > 0)
        {
            return new OperationReport("scale-out", request.Name, [.. Unreachable(sessions.Failures), .. added.Select(i => new InstanceOutcome(i.Id, i.Role, i.ManageHost, OutcomeStatus.Skipped, "not deployed: a host of the cluster is unreachable"))]);
        }

        var installed = await InstallAsync(request.Name, next, sessions, added, packagesByInstance, reach, progress, cancellationToken, joining).ConfigureAwait(false);
        if (installed.Any(o => o.Status != OutcomeStatus.Ok))
        {
            return new OperationReport("scale-out", request.Name, installed);
        }

        next = next with { Tug = next.Tug with { HostKeys = pins.Snapshot() } };
        store.Save(request.Name, next);
        Journal?.Done("install", string.Join(',', added.Select(i => i.Id)));
        return await StartAddedAsync(request.Name, meta, next, sessions, added, refreshed, reach, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Scale-out after the install: etcd members join one by one, the other new instances start, the configuration that follows the topology is rewritten.</summary>
    private async Task<OperationReport> StartAddedAsync(string name, ClusterMeta meta, ClusterMeta next, HostSessions sessions, ImmutableArray<InstanceSpec> added, ImmutableArray<InstanceSpec> refreshed, Reach reach, IProgress<OperationEvent>? progress, CancellationToken cancellationToken)
    {
        var joining = added.Where(i => i.Role == Roles.Etcd).Select(i => i.Id).ToHashSet(StringComparer.Ordinal);

        // 5. New etcd members join one at a time: announced to the running cluster, started, the cluster healthy again.
        var outcomes = new List<InstanceOutcome>();
        foreach (var member in added.Where(i => joining.Contains(i.Id)))
        {
            var staying = meta with { Topology = meta.Topology.Without([member.Id]) };
            Planned($"etcd-join {member.Id}");
            var announced = await ChangeMembershipAsync(staying, sessions, member, add: true, reach, progress, cancellationToken).ConfigureAwait(false);
            Finish($"etcd-join {member.Id}", announced);
            if (announced.Status != OutcomeStatus.Ok)
            {
                outcomes.Add(announced);
                return new OperationReport("scale-out", name, [.. outcomes, .. added.Where(i => i.Id != member.Id && !outcomes.Any(o => o.Id == i.Id))
                    .Select(i => new InstanceOutcome(i.Id, i.Role, i.ManageHost, OutcomeStatus.Skipped, "installed, not started: the scale-out stopped at an etcd member"))]);
            }

            var started = await StartInstancesAsync(next, sessions, [member], reach, progress, cancellationToken).ConfigureAwait(false);
            outcomes.AddRange(started);
            if (started.Any(o => o.Status != OutcomeStatus.Ok))
            {
                return new OperationReport("scale-out", name, [.. outcomes]);
            }
        }

        // 6. The other new instances, in start order, health-gated and verified.
        outcomes.AddRange(await StartInstancesAsync(next, sessions, [.. added.Where(i => !joining.Contains(i.Id))], reach, progress, cancellationToken).ConfigureAwait(false));

        // 7. Instances whose configuration follows the topology (Prometheus' targets, etcd's member list).
        outcomes.AddRange(await RefreshAsync(name, next, sessions, [.. refreshed, .. added.Where(i => joining.Contains(i.Id))], reach, progress, cancellationToken).ConfigureAwait(false));
        return new OperationReport("scale-out", name, [.. outcomes]);
    }

    /// <summary>
    /// Removes instances: etcd members leave the cluster first, then each instance is stopped and its unit and
    /// directories removed (agents go with the last instance of their host); the configuration of the instances
    /// that follow the topology is rewritten; the removal and the remaining configuration are verified.
    /// </summary>
    /// <exception cref="ClusterException">An unknown node, a monitoring agent named alone, the last etcd member, or the operator declined.</exception>
    public async Task<OperationReport> ScaleInAsync(string name, ImmutableArray<string> nodes, Reach reach, Func<ScalePlan, bool> confirm, IProgress<OperationEvent>? progress, CancellationToken cancellationToken)
    {
        var meta = store.Load(name);
        if (nodes.IsEmpty)
        {
            throw new ClusterException(ClusterException.BadInput, "Name the instances to remove with -N host:port.", "See the instance IDs with `tug cluster display " + name + "`.");
        }

        // On a replay, instances an earlier run removed (and recorded) are gone from the metadata: only the refresh is left for them.
        var removedBefore = nodes.Where(n => meta.Topology.Find(n) is null && Resumed($"remove {n}")).ToList();
        nodes = [.. nodes.Except(removedBefore)];
        if (nodes.IsEmpty && removedBefore.Count > 0)
        {
            await using var resumed = await OpenAsync(name, meta, reach, progress, cancellationToken).ConfigureAwait(false);
            var drift = await FileDriftAsync(name, meta, resumed, meta.Topology.Instances, reach, cancellationToken).ConfigureAwait(false);
            return new OperationReport("scale-in", name, [.. removedBefore.Select(n => new InstanceOutcome(n, "-", "-", OutcomeStatus.Ok, "removed before the interruption")),
                .. await RefreshAsync(name, meta, resumed, [.. meta.Topology.Instances.Where(i => drift[i.Id].Any())], reach, progress, cancellationToken).ConfigureAwait(false)]);
        }

        foreach (var node in nodes)
        {
            var instance = meta.Topology.Find(node) ?? throw new ClusterException(ClusterException.BadInput, $"-N {node}: cluster '{name}' has no instance with this ID.",
                $"Its instances: {string.Join(", ", meta.Topology.Servers.Select(i => i.Id))}.");
            if (instance.IsMonitoringAgent)
            {
                throw new ClusterException(ClusterException.BadInput, $"-N {node}: {instance.Role} is a monitoring agent; it leaves with the last instance of its host.",
                    "Remove the host's other instances instead.");
            }
        }

        var next = meta with { Topology = meta.Topology.Without(nodes) };
        var removed = meta.Topology.Instances.Where(i => next.Topology.Find(i.Id) is null).ToImmutableArray();
        var etcdLeft = next.Topology.OfRole(Roles.Etcd).Length;
        if (etcdLeft == 0 && removed.Any(i => i.Role == Roles.Etcd))
        {
            throw new ClusterException(ClusterException.BadInput, "Scale-in would remove every etcd member; the data would be lost.", "Keep at least one member, or remove the cluster with `tug cluster destroy`.");
        }

        next = next with
        {
            Tug = meta.Tug with
            {
                Instances = meta.Tug.Instances.RemoveRange(removed.Select(i => i.Id)),
                Versions = meta.Tug.Versions.RemoveRange(meta.Tug.Versions.Keys.Where(r => next.Topology.OfRole(r).IsEmpty)),
            },
        };
        var refreshed = Refreshed(name, meta, next, next.Topology.Instances);
        var plan = new ScalePlan(name, "scale-in", [.. removed.Select(i => new ScaleStep(i.Id, i.Role, i.ManageHost, meta.Tug.Instances.GetValueOrDefault(i.Id)?.Version ?? "?"))], [.. refreshed.Select(i => i.Id)]);
        if (!confirm(plan))
        {
            throw new ClusterException(ClusterException.Aborted, "Scale-in cancelled; nothing was changed.", "Pass -y to skip the confirmation.");
        }

        await using var sessions = await OpenAsync(name, meta, reach, progress, cancellationToken).ConfigureAwait(false);
        if (sessions.Failures.Count > 0)
        {
            return new OperationReport("scale-in", name, [.. Unreachable(sessions.Failures), .. removed.Select(i => new InstanceOutcome(i.Id, i.Role, i.ManageHost, OutcomeStatus.Skipped, "not removed: a host of the cluster is unreachable"))]);
        }

        // 1. etcd members leave the cluster properly, one at a time, before they stop.
        var outcomes = new List<InstanceOutcome>();
        var left = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var member in removed.Where(i => i.Role == Roles.Etcd))
        {
            Planned($"etcd-leave {member.Id}");
            var leaving = await ChangeMembershipAsync(next, sessions, member, add: false, reach, progress, cancellationToken).ConfigureAwait(false);
            Finish($"etcd-leave {member.Id}", leaving);
            left[member.Id] = leaving.Message;
            if (leaving.Status != OutcomeStatus.Ok)
            {
                return new OperationReport("scale-in", name, [leaving, .. removed.Where(i => i.Id != member.Id).Select(i => new InstanceOutcome(i.Id, i.Role, i.ManageHost, OutcomeStatus.Skipped, "not removed: an etcd member could not leave"))]);
            }
        }

        // 2. Stop and remove, proving nothing is left; the cluster key leaves hosts that keep no instance.
        var publicKey = File.Exists(store.KeyFile(name) + ".pub") ? (await File.ReadAllTextAsync(store.KeyFile(name) + ".pub", cancellationToken).ConfigureAwait(false)).Trim() : string.Empty;
        foreach (var i in removed)
        {
            Planned($"remove {i.Id}");
        }

        var results = await sessions.ForEachAsync(removed.Select(i => i.ManageHost), reach.Concurrency, async (host, remote, ct) =>
        {
            var onHost = removed.Where(i => i.ManageHost == host).ToList();
            var emptied = !next.Topology.ManageHosts.Contains(host);
            progress?.Report(new OperationEvent(host, null, "scale-in", $"removing {string.Join(", ", onHost.Select(i => i.Id))}"));
            var result = await remote.RunAsync(HostScripts.Destroy(onHost, meta.User, emptied ? publicKey : string.Empty), new RunOptions(Sudo: true, Timeout: reach.WaitTimeout), ct).ConfigureAwait(false);
            return onHost.Select(i => new InstanceOutcome(i.Id, i.Role, host, result.Ok ? OutcomeStatus.Ok : OutcomeStatus.Failed,
                (left.TryGetValue(i.Id, out var how) ? how + "; " : string.Empty) + (result.Ok ? "removed; verified: no unit, process or directory left" : $"removal failed: {result.Stderr.Trim()}"))).ToList();
        }, (host, e) => [.. removed.Where(i => i.ManageHost == host).Select(i => new InstanceOutcome(i.Id, i.Role, host, OutcomeStatus.Failed, e.Message))], cancellationToken).ConfigureAwait(false);
        outcomes.AddRange(results.SelectMany(r => r));
        var gone = outcomes.Where(o => o.Status == OutcomeStatus.Ok).Select(o => o.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var outcome in outcomes.Where(o => removed.Any(i => i.Id == o.Id)))
        {
            Finish($"remove {outcome.Id}", outcome);
        }

        var failedRemovals = removed.Where(i => !gone.Contains(i.Id)).Select(i => i.Id).ToList();
        if (failedRemovals.Count > 0)
        {
            // Keep what could not be removed in the metadata, so it can be retried and is not forgotten.
            next = meta with { Topology = meta.Topology.Without(nodes.Where(n => gone.Contains(n))), Tug = meta.Tug with { Instances = meta.Tug.Instances.RemoveRange(gone) } };
        }

        store.Save(name, next with { Tug = next.Tug with { HostKeys = meta.Tug.HostKeys.RemoveRange(meta.Tug.HostKeys.Keys.Where(k => removed.Any(i => k.StartsWith(i.ManageHost + ":", StringComparison.Ordinal)) && !next.Topology.ManageHosts.Any(h => k.StartsWith(h + ":", StringComparison.Ordinal)))) } });

        // 3. The configuration that follows the topology.
        outcomes.AddRange(await RefreshAsync(name, next, sessions, refreshed, reach, progress, cancellationToken).ConfigureAwait(false));
        return new OperationReport("scale-in", name, [.. outcomes]);
    }

    /// <summary>The instances among <paramref name="candidates"/> whose rendered files differ between two states of the cluster.</summary>
    private static ImmutableArray<InstanceSpec> Refreshed(string name, ClusterMeta before, ClusterMeta after, IEnumerable<InstanceSpec> candidates) =>
        [.. candidates.Where(i => after.Topology.Find(i.Id) is { } now && before.Topology.Find(i.Id) is { } then
            && ComponentSpecs.For(i).CanRender
            && !RenderedFiles(name, before, then).Select(f => (f.Path, f.Content)).SequenceEqual(RenderedFiles(name, after, now).Select(f => (f.Path, f.Content))))
            .Select(i => after.Topology.Find(i.Id)!)];

    /// <summary>
    /// Rewrites the files of instances whose configuration follows the topology; monitoring servers restart to read
    /// it (health-gated); other roles read the new files at their next start (etcd ignores its member flags once it
    /// has data). Every refreshed instance is then verified.
    /// </summary>
    private async Task<ImmutableArray<InstanceOutcome>> RefreshAsync(string name, ClusterMeta meta, HostSessions sessions, ImmutableArray<InstanceSpec> instances, Reach reach, IProgress<OperationEvent>? progress, CancellationToken cancellationToken)
    {
        if (instances.IsEmpty)
        {
            return [];
        }

        var results = await sessions.ForEachAsync(instances.Select(i => i.ManageHost), reach.Concurrency, async (host, remote, ct) =>
        {
            var onHost = instances.Where(i => i.ManageHost == host).ToList();
            var restarting = onHost.Where(i => RestartOnRefresh.Contains(i.Role)).ToList();
            var contexts = new List<InstanceContext>();
            foreach (var i in onHost)
            {
                progress?.Report(new OperationEvent(host, i.Id, "refresh", RestartOnRefresh.Contains(i.Role) ? "configuration rewritten, restarting" : "configuration rewritten"));
                var deployed = meta.Tug.Instances.GetValueOrDefault(i.Id);
                contexts.Add(new InstanceContext(i, meta.Topology, name, meta.User, deployed?.Version ?? meta.Version, deployed?.Entry ?? ComponentSpecs.For(i).DefaultEntry) { ClusterVersion = meta.Version });
            }

            var result = await remote.RunAsync(HostScripts.Refresh(contexts, restarting, reach.WaitTimeout), new RunOptions(Sudo: true, Timeout: reach.WaitTimeout + TimeSpan.FromSeconds(30)), ct).ConfigureAwait(false);
            var list = new List<InstanceOutcome>();
            foreach (var i in onHost)
            {
                var outcome = RestartOnRefresh.Contains(i.Role)
                    ? WaitOutcome(i, result, "listening")
                    : new InstanceOutcome(i.Id, i.Role, host, result.ExitCode == 0 ? OutcomeStatus.Ok : OutcomeStatus.Failed, result.ExitCode == 0 ? "configuration rewritten" : $"rewriting the configuration failed: {result.Stderr.Trim()}");
                if (outcome.Status == OutcomeStatus.Ok && RestartOnRefresh.Contains(i.Role))
                {
                    outcome = await HealthAsync(i, reach, ct).ConfigureAwait(false);
                }

                list.Add(outcome);
            }

            return list;
        }, (host, e) => [.. instances.Where(i => i.ManageHost == host).Select(i => new InstanceOutcome(i.Id, i.Role, host, OutcomeStatus.Failed, e.Message))], cancellationToken).ConfigureAwait(false);
        var outcomes = results.SelectMany(r => r).ToList();

        // Prove it: the process runs the signed file and every file is what Tug renders for the new topology.
        var checkedOk = instances.Where(i => outcomes.Any(o => o.Id == i.Id && o.Status == OutcomeStatus.Ok)).ToImmutableArray();
        var verified = (await VerifyInstancesAsync(name, meta, sessions, checkedOk, reach, cancellationToken).ConfigureAwait(false)).ToDictionary(v => v.Id);
        return [.. outcomes.Select(o => !verified.TryGetValue(o.Id, out var v) ? o
            : v.Ok ? o with { Message = $"configuration follows the new topology; {(RestartOnRefresh.Contains(o.Role) ? "restarted, healthy, " : string.Empty)}verified" }
            : o with { Status = OutcomeStatus.Failed, Message = $"configuration refresh not verified: {string.Join("; ", v.Problems)}" })];
    }

    /// <summary>Per instance, the files on its host that differ from what Tug renders for <paramref name="meta"/>, or are missing.</summary>
    private static async Task<ILookup<string, string>> FileDriftAsync(string name, ClusterMeta meta, HostSessions sessions, ImmutableArray<InstanceSpec> instances, Reach reach, CancellationToken cancellationToken)
    {
        var files = await sessions.ForEachAsync(instances.Select(i => i.ManageHost), reach.Concurrency, async (host, remote, ct) =>
        {
            var onHost = instances.Where(i => i.ManageHost == host).ToList();
            var expected = onHost.SelectMany(i => RenderedFiles(name, meta, i).Select(f => (Instance: i, f.Path, Sha: Sha(f.Content)))).ToList();
            var result = await remote.RunAsync(HostScripts.FileHashes(expected.Select(e => e.Path)), new RunOptions(Sudo: true, Timeout: reach.WaitTimeout), ct).ConfigureAwait(false);
            var actual = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var file in HostReply.Parse(result.Stdout).OfType<FileLine>())
            {
                actual[file.Path] = file.Sha256;
            }

            return expected.Where(e => actual.GetValueOrDefault(e.Path) != e.Sha)
                .Select(e => (e.Instance.Id, Problem: actual.GetValueOrDefault(e.Path) is { Length: > 0 } ? $"{e.Path} differs from what Tug renders" : $"{e.Path} is missing")).ToList();
        }, (host, e) => [.. instances.Where(i => i.ManageHost == host).Select(i => (i.Id, Problem: $"files not checked: {e.Message}"))], cancellationToken).ConfigureAwait(false);
        return files.SelectMany(f => f).ToLookup(f => f.Id, f => f.Problem);
    }

    /// <summary>
    /// Announces a new etcd member to the running cluster (<c>member add</c>) or makes a member leave it
    /// (<c>member remove</c>), through a member that stays. Idempotent: a member already added or gone is left as it is.
    /// </summary>
    private static async Task<InstanceOutcome> ChangeMembershipAsync(ClusterMeta staying, HostSessions sessions, InstanceSpec member, bool add, Reach reach, IProgress<OperationEvent>? progress, CancellationToken cancellationToken)
    {
        var through = staying.Topology.OfRole(Roles.Etcd).FirstOrDefault(i => i.Id != member.Id && sessions.Hosts.ContainsKey(i.ManageHost));
        if (through is null)
        {
            return new InstanceOutcome(member.Id, member.Role, member.ManageHost, OutcomeStatus.Failed, "no other reachable etcd member to change the membership through");
        }

        var entry = staying.Tug.Instances.GetValueOrDefault(through.Id)?.Entry ?? ComponentSpecs.For(through).DefaultEntry;
        var script = HostScripts.Membership(member, add, through, entry, staying.Topology.OfRole(Roles.Etcd).Where(i => i.Id != member.Id));
        progress?.Report(new OperationEvent(member.ManageHost, member.Id, add ? "etcd-join" : "etcd-leave", $"through {through.Id}"));
        var result = await sessions.Hosts[through.ManageHost].RunAsync(script, new RunOptions(Sudo: true, Timeout: reach.WaitTimeout), cancellationToken).ConfigureAwait(false);
        var change = HostReply.Parse(result.Stdout).OfType<MemberLine>().FirstOrDefault() switch
        {
            { Change: "present" } m => $"already a member ({m.MemberId})",
            { Change: "absent" } => "not a member any more",
            { } m => m.Change,
            null => string.Empty,
        };
        return result.Ok
            ? new InstanceOutcome(member.Id, member.Role, member.ManageHost, OutcomeStatus.Ok, add ? $"announced to the etcd cluster ({change})" : $"left the etcd cluster ({change})")
            : new InstanceOutcome(member.Id, member.Role, member.ManageHost, OutcomeStatus.Failed, $"etcd member {(add ? "add" : "remove")} through {through.Id} failed (exit {result.ExitCode}): {result.Stderr.Trim()}");
    }
}
