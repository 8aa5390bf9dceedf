// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Core.Cluster;
using Tug.Core.Components;
using Tug.Core.Execution;
using Tug.Core.Topology;

namespace Tug.Core.Planning;

/// <summary>Reads whether instances of a membership component (etcd) are still members of its running cluster.</summary>
public interface IMemberReader
{
    /// <summary>Per instance ID, whether it is still a member, asked through a member that is not <paramref name="leaving"/>.</summary>
    /// <exception cref="ClusterException">No member to ask through, a host cannot be reached, or the member list cannot be read (nothing was changed).</exception>
    Task<ImmutableDictionary<string, bool>> AreMembersAsync(string cluster, ClusterMeta meta, IReadOnlyList<InstanceSpec> leaving, Reach reach, CancellationToken cancellationToken);
}

/// <summary>What <c>tug cluster clean</c> is asked to delete (TiUP's flags).</summary>
/// <param name="Name">Cluster name.</param>
/// <param name="Data">The contents of data directories (<c>--data</c>, <c>--all</c>).</param>
/// <param name="Log">Log files in log directories (<c>--log</c>, <c>--all</c>).</param>
/// <param name="AuditLog">TiDB's audit log files (<c>--audit-log</c>).</param>
/// <param name="IgnoreNodes">Instances (host:port) or hosts whose files stay (<c>--ignore-node</c>).</param>
/// <param name="IgnoreRoles">Roles whose files stay (<c>--ignore-role</c>).</param>
public sealed record CleanRequest(string Name, bool Data, bool Log, bool AuditLog, ImmutableArray<string> IgnoreNodes, ImmutableArray<string> IgnoreRoles);

/// <summary>
/// Plans the verbs that change an existing cluster's life on its hosts without changing what it is made of:
/// <c>enable</c> and <c>disable</c> (boot state of units), <c>clean</c> (stop everything, delete data or log
/// contents), and <c>prune</c> (remove instances marked offline, through scale-in's steps).
/// </summary>
public sealed class LifecyclePlanner(ClusterStore store, TopologyPlanner topologies, IMemberReader members)
{
    /// <summary>Directories a clean never empties, whatever a topology says.</summary>
    private static readonly ImmutableHashSet<string> SystemDirs = ["/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var"];

    /// <summary>
    /// Plans <c>enable</c> (or <c>disable</c>): one step per host running <c>systemctl enable|disable</c> on the
    /// selected instances' units, proven by <c>systemctl is-enabled</c>; nothing is started or stopped. As TiUP, the
    /// monitoring agents of a host follow when every other instance of that host is selected; <c>-R node_exporter</c>
    /// selects the agents themselves.
    /// </summary>
    /// <exception cref="ClusterException">The cluster does not exist, or nothing matches the filter.</exception>
    public Plan Enable(string name, InstanceFilter filter, bool enable)
    {
        var meta = store.Load(name);
        var chosen = PlanningRules.Select(meta, filter).Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
        var selected = meta.Topology.Instances.Where(i => chosen.Contains(i.Id) || (i.IsMonitoringAgent && AllServersChosen(meta.Topology, i.ManageHost, chosen))).ToList();
        var kind = enable ? StepKind.Enable : StepKind.Disable;
        var verb = enable ? "enable" : "disable";
        var steps = selected.GroupBy(i => i.ManageHost).Select(h => new Step(new StepKey(kind, h.Key), h.Key, "host", 1, StepGate.None, StepLogin.Deploy,
            $"{verb} at boot: {string.Join(", ", h.Select(i => i.UnitName))}", new HostInputs([.. h.Select(i => i.Id)], false)));
        return new Plan(verb, name, [.. steps])
        {
            RequireAllHosts = false,
            ContinueOnFailure = true,
            BasedOn = Executor.MetaRevision(store, name),
            Notes = [enable ? "nothing is started: `tug cluster start` starts the instances" : "nothing is stopped: `tug cluster stop` stops the instances"],
        };
    }

    /// <summary>
    /// Plans <c>clean</c>: every instance stopped, proven (TiUP stops the whole cluster first), then per host the
    /// selected contents deleted as the deploy user, proven gone; the cluster stays stopped, as TiUP leaves it.
    /// Data: everything inside each data directory; logs: <c>*.log</c> in the log directory (for tidb, not its audit
    /// log unless <c>--audit-log</c>), as TiUP's clean deletes them. The directories themselves stay.
    /// </summary>
    /// <exception cref="ClusterException">Nothing asked, an unknown role or node, or a directory that is not absolute, is a system directory, or is shared with files that stay.</exception>
    public Plan Clean(CleanRequest request)
    {
        if (!request.Data && !request.Log && !request.AuditLog)
        {
            throw new ClusterException(ClusterException.BadInput, "Say what to clean: --data, --log, --all (both) or --audit-log.", $"For example `tug cluster clean {request.Name} --log`.");
        }

        return Clean(request, store.Load(request.Name), Executor.MetaRevision(store, request.Name));
    }

    /// <summary>The clean plan for <paramref name="meta"/> (made from the revision <paramref name="basedOn"/>); the topology is not validated again here, so every directory is checked.</summary>
    /// <exception cref="ClusterException">An unknown role or node, or an unsafe directory.</exception>
    internal static Plan Clean(CleanRequest request, ClusterMeta meta, string basedOn)
    {
        CheckRoles(meta, request.IgnoreRoles, "--ignore-role");
        CheckNodes(meta, request.IgnoreNodes, "--ignore-node");
        var ignored = meta.Topology.Instances.Where(i => request.IgnoreRoles.Contains(i.Role) || request.IgnoreNodes.Contains(i.Id) || request.IgnoreNodes.Contains(i.Host) || request.IgnoreNodes.Contains(i.ManageHost)).ToList();
        var targets = meta.Topology.Instances.Except(ignored).SelectMany(i => Targets(i, request)).ToList();
        RefuseUnsafe(meta, targets);
        var byHost = targets.GroupBy(t => meta.Topology.Find(t.Instance)!.ManageHost)
            .Select(h => (Host: h.Key, Targets: h.DistinctBy(t => (t.Dir, t.Pattern)).ToImmutableArray())).Where(h => !h.Targets.IsEmpty).ToList();

        var steps = ImmutableArray.CreateBuilder<Step>();
        var wave = 0;
        foreach (var role in PlanningRules.ByRole(meta.Topology.Instances, stopping: true))
        {
            wave++;
            steps.AddRange(role.Select(i => ServicePlanner.StopStep(i, wave)));
        }

        wave++;
        steps.AddRange(byHost.Select(h => new Step(new StepKey(StepKind.Clean, h.Host), h.Host, "host", wave, StepGate.None, StepLogin.Deploy,
            $"delete {string.Join(", ", h.Targets.Select(t => $"{t.Dir}/{t.Pattern}"))}", new CleanInputs(h.Targets))));
        var notes = ImmutableArray.CreateBuilder<string>();
        if (ignored.Count > 0)
        {
            notes.Add($"kept (--ignore-node/--ignore-role): {string.Join(", ", ignored.Select(i => i.Id))}");
        }

        if (byHost.Count == 0)
        {
            notes.Add("no directory to clean: every instance is ignored or has none of the asked directories");
        }

        notes.Add($"the cluster stays stopped, as TiUP leaves it: `tug cluster start {request.Name}` starts it again");
        return new Plan("clean", request.Name, steps.ToImmutable()) { BasedOn = basedOn, Notes = notes.ToImmutable() };
    }

    /// <summary>
    /// Plans <c>prune</c>: the instances marked <c>offline: true</c> in the metadata (TiUP's pending-offline mark after a
    /// scale-in) that are done leaving are removed with scale-in's steps: stopped, removed from their hosts and proven
    /// gone, forgotten in the metadata, and the files that follow the topology (Prometheus' targets) rewritten. A member
    /// of a membership component (etcd) is done when it is no longer a member; a tikv, tiflash, pump or drainer would
    /// need PD's Tombstone state, which Tug cannot read, so they stay (named in the notes). An empty plan: nothing to prune.
    /// </summary>
    /// <exception cref="ClusterException">The cluster does not exist, or the membership cannot be read.</exception>
    public async Task<Plan> PruneAsync(string name, Reach reach, CancellationToken cancellationToken)
    {
        var meta = store.Load(name);
        var offline = meta.Topology.Servers.Where(IsOffline).ToList();
        var notes = ImmutableArray.CreateBuilder<string>();
        foreach (var waiting in offline.Where(i => ComponentSpecs.For(i).PrunedWhenTombstone))
        {
            notes.Add($"{waiting.Id} ({waiting.Role}) is marked offline but stays: TiUP prunes it once the placement driver reports it Tombstone, which Tug cannot ask; prune it with TiUP, or remove it with `tug cluster scale-in {name} -N {waiting.Id}`");
        }

        var candidates = offline.Where(i => !ComponentSpecs.For(i).PrunedWhenTombstone).ToList();
        var leaving = candidates.Where(i => ComponentSpecs.For(i).HasMembership).ToList();
        var stillMembers = leaving.Count == 0 ? ImmutableDictionary<string, bool>.Empty : await members.AreMembersAsync(name, meta, leaving, reach, cancellationToken).ConfigureAwait(false);
        foreach (var member in leaving.Where(i => stillMembers.GetValueOrDefault(i.Id, true)))
        {
            notes.Add($"{member.Id} ({member.Role}) is marked offline but is still a member of the {member.Role} cluster: not pruned (`tug cluster scale-in {name} -N {member.Id}` makes it leave and removes it)");
        }

        var prunable = candidates.Where(i => !ComponentSpecs.For(i).HasMembership || !stillMembers.GetValueOrDefault(i.Id, true)).Select(i => i.Id).ToImmutableArray();
        if (prunable.IsEmpty)
        {
            notes.Insert(0, offline.Count == 0 ? $"nothing to prune: no instance of cluster '{name}' is marked offline" : "nothing to prune: no instance marked offline is done leaving");
            return new Plan("prune", name, []) { BasedOn = Executor.MetaRevision(store, name), Notes = notes.ToImmutable() };
        }

        var plan = topologies.ScaleIn(name, prunable, "prune");
        return plan with { Notes = [$"pruning the instance(s) marked offline: {string.Join(", ", prunable)}", .. notes, .. plan.Notes] };
    }

    /// <summary>Whether the metadata marks an instance pending offline (TiUP's <c>offline: true</c>).</summary>
    public static bool IsOffline(InstanceSpec instance) => instance.Extras.GetBool("offline");

    /// <summary>Refuses a role name that is no role of Tug's (a typo would delete what was meant to stay).</summary>
    /// <exception cref="ClusterException">An unknown role.</exception>
    public static void CheckRoles(ClusterMeta meta, IEnumerable<string> roles, string option)
    {
        foreach (var role in roles)
        {
            if (!ComponentSpecs.All.Any(s => s.Role == role))
            {
                throw new ClusterException(ClusterException.BadInput, $"{option} {role}: role name `{role}` invalid.",
                    $"Roles: {string.Join(", ", ComponentSpecs.All.Select(s => s.Role))}; this cluster has {string.Join(", ", meta.Topology.Instances.Select(i => i.Role).Distinct())}.");
            }
        }
    }

    /// <summary>Refuses a node that is neither an instance ID nor a host of the cluster (a typo would delete what was meant to stay).</summary>
    /// <exception cref="ClusterException">An unknown node.</exception>
    public static void CheckNodes(ClusterMeta meta, IEnumerable<string> nodes, string option)
    {
        foreach (var node in nodes)
        {
            if (!meta.Topology.Instances.Any(i => i.Id == node || i.Host == node || i.ManageHost == node))
            {
                throw new ClusterException(ClusterException.BadInput, $"{option} {node}: the cluster has no instance or host {node}.",
                    $"Give an instance ID (host:port) or a host; the instances: {string.Join(", ", meta.Topology.Instances.Select(i => i.Id))}.");
            }
        }
    }

    private static bool AllServersChosen(Topology.Topology topology, string host, HashSet<string> chosen)
    {
        var servers = topology.Servers.Where(s => s.ManageHost == host).ToList();
        return servers.Count > 0 && servers.All(s => chosen.Contains(s.Id));
    }

    private static IEnumerable<CleanTarget> Targets(InstanceSpec i, CleanRequest request)
    {
        if (request.Data)
        {
            foreach (var dir in i.DataDirs.Where(d => d.Length > 0))
            {
                yield return new CleanTarget(i.Id, "data", dir, "*");
            }
        }

        if (i.LogDir.Length == 0)
        {
            yield break;
        }

        var spec = ComponentSpecs.For(i);
        foreach (var pattern in request.Log ? spec.LogFiles : [])
        {
            yield return new CleanTarget(i.Id, "log", i.LogDir, pattern);
        }

        foreach (var pattern in request.AuditLog ? spec.AuditLogFiles : [])
        {
            yield return new CleanTarget(i.Id, "audit-log", i.LogDir, pattern);
        }
    }

    /// <summary>
    /// Refuses a target that is not absolute, is a system directory, holds (or is) a directory that stays (any deploy
    /// directory, any data or log directory not cleaned), or lies inside a data or log directory of another instance that stays.
    /// </summary>
    private static void RefuseUnsafe(ClusterMeta meta, List<CleanTarget> targets)
    {
        var cleaned = targets.Select(t => (t.Instance, t.Dir)).ToHashSet();
        foreach (var target in targets)
        {
            var instance = meta.Topology.Find(target.Instance)!;
            var dir = target.Dir.TrimEnd('/');
            if (!target.Dir.StartsWith('/') || dir.Length == 0 || SystemDirs.Contains(dir))
            {
                throw Unsafe(target, instance, "it is not an absolute path, or it is / or a system directory");
            }

            foreach (var other in meta.Topology.Instances.Where(o => o.ManageHost == instance.ManageHost))
            {
                if (Holds(dir, other.DeployDir))
                {
                    throw Unsafe(target, instance, $"it holds the deploy directory of {other.Id} ({other.DeployDir})");
                }

                foreach (var kept in other.DataDirs.Append(other.LogDir).Where(d => d.Length > 0 && !cleaned.Contains((other.Id, d))))
                {
                    if (Holds(dir, kept) || (other.Id != instance.Id && Holds(kept.TrimEnd('/'), dir)))
                    {
                        throw Unsafe(target, instance, $"it shares {kept} with files of {other.Id} that stay");
                    }
                }
            }
        }
    }

    /// <summary>Whether <paramref name="dir"/> is <paramref name="path"/> or one of its ancestors.</summary>
    private static bool Holds(string dir, string path)
    {
        var p = path.TrimEnd('/');
        return p == dir || p.StartsWith(dir + "/", StringComparison.Ordinal);
    }

    private static ClusterException Unsafe(CleanTarget target, InstanceSpec instance, string why) =>
        new(ClusterException.BadInput, $"Refusing to clean {target.Dir} ({target.Kind} of {instance.Id}): {why}; nothing was changed.",
            "Fix the directory in the topology (`tug cluster edit-config`), or keep the instance with --ignore-node/--ignore-role.");
}
