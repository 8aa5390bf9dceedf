// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Core.Cluster;
using Tug.Core.Components;
using Tug.Core.Execution;
using Tug.Core.Remote;
using Tug.Core.Topology;

namespace Tug.Core.Planning;

/// <summary>
/// Plans the verbs that change what the cluster is made of: <c>deploy</c>, <c>scale-out</c>, <c>scale-in</c> and
/// <c>destroy</c>. Planning reads the hosts (their platform) but changes nothing; the plan carries the metadata it
/// works toward, written by its save-meta step once the hosts hold what it describes.
/// </summary>
public sealed class TopologyPlanner(ClusterStore store, IPackageSource packages, Inspection.Preflight preflight)
{
    private const string TugVersion = "tug 0.1.0";

    /// <summary>Plans a deploy: hosts prepared (wave 0), packages checked and files installed per host (1), metadata saved (2), instances started role by role, gated.</summary>
    /// <exception cref="ClusterException">Bad input, the cluster exists, a package is missing.</exception>
    /// <exception cref="RemoteException">A host cannot be reached as the preparing login (nothing was changed).</exception>
    public async Task<Plan> DeployAsync(DeployRequest request, Reach reach, CancellationToken cancellationToken)
    {
        ClusterName.Validate(request.Name);
        if (store.Exists(request.Name))
        {
            throw new ClusterException(ClusterException.Exists, $"Cluster '{request.Name}' already exists.",
                $"Choose another name, or remove it first with `tug cluster destroy {request.Name}`.");
        }

        var version = PlanningRules.NormalizeVersion(request.Version);
        var pins = new PinStore([]);
        var topology = await ProbePlatformsAsync(TopologyLoader.Load(request.TopologyFile), topology => topology.ManageHosts, request.User, request.Credential, pins, reach, cancellationToken).ConfigureAwait(false);
        await preflight.RefuseConflictsAsync(request.Name, topology.Instances, [], topology.Global.User, request.User, request.Credential, pins, reach, cancellationToken).ConfigureAwait(false);
        var resolved = await ResolveAsync(topology.Instances, i => PlanningRules.RequestedVersion(topology, i.Role, version), PackageLayouts.Tug, cancellationToken).ConfigureAwait(false);
        var meta = new ClusterMeta
        {
            User = topology.Global.User,
            Version = version,
            OpsVersion = TugVersion,
            Topology = topology,
            Tug = new TugState
            {
                Versions = topology.Instances.GroupBy(i => i.Role).ToImmutableSortedDictionary(g => g.Key, g => resolved[g.First().Id].Version, StringComparer.Ordinal),
                HostKeys = pins.Snapshot(),
                Instances = topology.Instances.ToImmutableSortedDictionary(i => i.Id, i => PlanningRules.Record(resolved[i.Id]), StringComparer.Ordinal),
            },
        };

        var steps = ImmutableArray.CreateBuilder<Step>();
        steps.AddRange(topology.ManageHosts.Select(h => InitStep(h, meta.User)));
        steps.AddRange(InstallSteps(topology.Instances, resolved, joining: [], wave: 1));
        steps.Add(SaveMetaStep(request.Name, 2, $"{topology.Instances.Length} instance(s), version {version}"));
        var wave = 2;
        foreach (var role in PlanningRules.ByRole(topology.Instances))
        {
            wave++;
            steps.AddRange(role.Select(i => ServicePlanner.StartStep(i, wave)));
        }

        return new Plan("deploy", request.Name, steps.ToImmutable()) { Meta = ClusterMetaSerializer.Serialize(meta), PreparingUser = request.User };
    }

    /// <summary>
    /// Plans a scale-out: new instances at the versions pinned in the metadata (never the mirror's latest), agents on new
    /// hosts, new members of membership components announced and started one at a time, the files that follow the
    /// topology rewritten on the instances whose rendering changed.
    /// </summary>
    /// <exception cref="ClusterException">Bad input, nothing new, a package missing.</exception>
    /// <exception cref="RemoteException">A new host cannot be reached as the preparing login (nothing was changed).</exception>
    public async Task<Plan> ScaleOutAsync(ScaleOutRequest request, Reach reach, CancellationToken cancellationToken)
    {
        var meta = store.Load(request.Name);
        var existingHosts = meta.Topology.ManageHosts.ToHashSet(StringComparer.Ordinal);
        var pins = new PinStore(meta.Tug.HostKeys);
        var merged = await ProbePlatformsAsync(TopologyLoader.LoadScaleOut(request.TopologyFile, meta.Topology), t => t.ManageHosts.Where(h => !existingHosts.Contains(h)), request.User, request.Credential, pins, reach, cancellationToken).ConfigureAwait(false);
        var added = merged.Instances.Where(i => meta.Topology.Find(i.Id) is null).ToImmutableArray();
        if (added.IsEmpty)
        {
            throw new ClusterException(ClusterException.BadInput, $"{request.TopologyFile} adds no instance to cluster '{request.Name}': every instance in it is already deployed.",
                "List only the new instances in a scale-out file; see them with `tug cluster display`.");
        }

        await preflight.RefuseConflictsAsync(request.Name, added, meta.Topology.Instances, meta.User, request.User, request.Credential, pins, reach, cancellationToken).ConfigureAwait(false);

        var resolved = await ResolveAsync(added, i => meta.Tug.Versions.GetValueOrDefault(i.Role) ?? PlanningRules.RequestedVersion(merged, i.Role, meta.Version), meta.Tug.Layout, cancellationToken).ConfigureAwait(false);
        var next = meta with
        {
            Topology = merged,
            Tug = meta.Tug with
            {
                HostKeys = pins.Snapshot(),
                Instances = meta.Tug.Instances.SetItems(added.Select(i => KeyValuePair.Create(i.Id, PlanningRules.Record(resolved[i.Id])))),
                Versions = meta.Tug.Versions.SetItems(added.Where(i => !meta.Tug.Versions.ContainsKey(i.Role)).Select(i => KeyValuePair.Create(i.Role, resolved[i.Id].Version))),
            },
        };
        var joining = added.Where(i => ComponentSpecs.For(i).HasMembership).ToImmutableArray();
        var steps = ImmutableArray.CreateBuilder<Step>();
        steps.AddRange(merged.ManageHosts.Where(h => !existingHosts.Contains(h)).Select(h => InitStep(h, meta.User)));
        steps.AddRange(InstallSteps(added, resolved, [.. joining.Select(i => i.Id)], wave: 1));
        steps.Add(SaveMetaStep(request.Name, 2, $"{added.Length} instance(s) added"));
        var wave = 2;
        foreach (var member in joining)
        {
            steps.Add(MemberStep(StepKind.MemberJoin, member, ++wave));
            steps.Add(ServicePlanner.StartStep(member, ++wave));
        }

        foreach (var role in PlanningRules.ByRole(added.Where(i => !joining.Contains(i))))
        {
            wave++;
            steps.AddRange(role.Select(i => ServicePlanner.StartStep(i, wave)));
        }

        // Joined members are rendered to join; once they run, their files are rendered as for any member.
        var refreshed = InstanceFiles.Changed(request.Name, meta, next, meta.Topology.Instances).Concat(joining).ToList();
        wave++;
        steps.AddRange(refreshed.Select(i => RefreshStep(i, wave)));
        return new Plan("scale-out", request.Name, steps.ToImmutable())
        {
            Meta = ClusterMetaSerializer.Serialize(next),
            PreparingUser = request.User,
            BasedOn = Executor.MetaRevision(store, request.Name),
        };
    }

    /// <summary>Plans a scale-in: members leave their component's cluster first, one at a time; then removal per host, proven; metadata saved; the files that follow the topology rewritten.</summary>
    /// <exception cref="ClusterException">An unknown node, an agent named alone, the last member of a membership component.</exception>
    public Plan ScaleIn(string name, ImmutableArray<string> nodes) => ScaleIn(name, nodes, "scale-in");

    /// <summary>Scale-in's plan under another operation's name (<c>prune</c> removes the instances marked offline with the same steps).</summary>
    /// <exception cref="ClusterException">An unknown node, an agent named alone, the last member of a membership component.</exception>
    internal Plan ScaleIn(string name, ImmutableArray<string> nodes, string operation)
    {
        var meta = store.Load(name);
        if (nodes.IsEmpty)
        {
            throw new ClusterException(ClusterException.BadInput, "Name the instances to remove with -N host:port.", $"See the instance IDs with `tug cluster display {name}`.");
        }

        foreach (var node in nodes)
        {
            var instance = meta.Topology.Find(node) ?? throw new ClusterException(ClusterException.BadInput, $"-N {node}: cluster '{name}' has no instance with this ID.",
                $"Its instances: {string.Join(", ", meta.Topology.Servers.Select(i => i.Id))}.");
            if (ComponentSpecs.For(instance).PerHost)
            {
                throw new ClusterException(ClusterException.BadInput, $"-N {node}: {instance.Role} is a monitoring agent; it leaves with the last instance of its host.",
                    "Remove the host's other instances instead.");
            }
        }

        var nextTopology = meta.Topology.Without(nodes);
        var removed = meta.Topology.Instances.Where(i => nextTopology.Find(i.Id) is null).ToImmutableArray();
        foreach (var role in removed.Where(i => ComponentSpecs.For(i).HasMembership).Select(i => i.Role).Distinct())
        {
            if (nextTopology.OfRole(role).IsEmpty)
            {
                throw new ClusterException(ClusterException.BadInput, $"Scale-in would remove every {role} member; the data would be lost.", "Keep at least one member, or remove the cluster with `tug cluster destroy`.");
            }
        }

        var next = meta with
        {
            Topology = nextTopology,
            Tug = meta.Tug with
            {
                Instances = meta.Tug.Instances.RemoveRange(removed.Select(i => i.Id)),
                Versions = meta.Tug.Versions.RemoveRange(meta.Tug.Versions.Keys.Where(r => nextTopology.OfRole(r).IsEmpty)),
                HostKeys = meta.Tug.HostKeys.RemoveRange(meta.Tug.HostKeys.Keys.Where(k => removed.Any(i => k.StartsWith(i.ManageHost + ":", StringComparison.Ordinal)) && !nextTopology.ManageHosts.Any(h => k.StartsWith(h + ":", StringComparison.Ordinal)))),
            },
        };
        var steps = ImmutableArray.CreateBuilder<Step>();
        var wave = 0;
        foreach (var member in removed.Where(i => ComponentSpecs.For(i).HasMembership))
        {
            steps.Add(MemberStep(StepKind.MemberLeave, member, ++wave));
        }

        wave++;
        foreach (var host in removed.GroupBy(i => i.ManageHost))
        {
            steps.Add(new Step(new StepKey(StepKind.Remove, host.Key), host.Key, "host", wave, StepGate.None, StepLogin.Deploy,
                $"remove {string.Join(", ", host.Select(i => i.Id))}", new HostInputs([.. host.Select(i => i.Id)], !nextTopology.ManageHosts.Contains(host.Key))));
        }

        steps.Add(SaveMetaStep(name, ++wave, $"{removed.Length} instance(s) removed"));
        wave++;
        steps.AddRange(InstanceFiles.Changed(name, meta, next, nextTopology.Instances).Select(i => RefreshStep(i, wave)));
        return new Plan(operation, name, steps.ToImmutable()) { Meta = ClusterMetaSerializer.Serialize(next), BasedOn = Executor.MetaRevision(store, name) };
    }

    /// <summary>
    /// Plans a destroy: every host emptied and proven empty, then the local state forgotten (also after failures with
    /// <paramref name="force"/>). The data directories of the instances <paramref name="retainNodes"/> (IDs or hosts)
    /// and <paramref name="retainRoles"/> name stay on their hosts, as TiUP's <c>--retain-node-data</c> and
    /// <c>--retain-role-data</c> keep them: a deploy directory holding one stays too, emptied of bin, conf and scripts;
    /// units, logs and everything else go. The plan's notes say what stays.
    /// </summary>
    /// <exception cref="ClusterException">The cluster does not exist, or a retained role or node is unknown.</exception>
    public Plan Destroy(string name, bool force, ImmutableArray<string> retainNodes = default, ImmutableArray<string> retainRoles = default)
    {
        var meta = store.Load(name);
        retainNodes = retainNodes.IsDefault ? [] : retainNodes;
        retainRoles = retainRoles.IsDefault ? [] : retainRoles;
        LifecyclePlanner.CheckRoles(meta, retainRoles, "--retain-role-data");
        LifecyclePlanner.CheckNodes(meta, retainNodes, "--retain-node-data");
        var retained = meta.Topology.Instances
            .Where(i => retainRoles.Contains(i.Role) || retainNodes.Contains(i.Id) || retainNodes.Contains(i.Host) || retainNodes.Contains(i.ManageHost))
            .ToList();
        var kept = retained.SelectMany(i => i.DataDirs.Where(d => d.Length > 0).Select(d => (i.ManageHost, Dir: d, Holder: i)))
            .Concat(retained.Where(i => i.DataDirs.Any(d => d.StartsWith(i.DeployDir.TrimEnd('/') + "/", StringComparison.Ordinal))).Select(i => (i.ManageHost, Dir: i.DeployDir, Holder: i)))
            .ToList();
        var steps = meta.Topology.Instances.GroupBy(i => i.ManageHost)
            .Select(h =>
            {
                var keep = kept.Where(k => k.ManageHost == h.Key).Select(k => k.Dir).Distinct().ToImmutableArray();
                var summary = keep.IsEmpty ? $"remove {h.Count()} instance(s)" : $"remove {h.Count()} instance(s), keep {string.Join(", ", keep)}";
                return new Step(new StepKey(StepKind.DestroyHost, h.Key), h.Key, "host", 1, StepGate.None, StepLogin.Deploy, summary,
                    new HostInputs([.. h.Select(i => i.Id)], true) { Retained = keep.IsEmpty ? default : keep });
            })
            .Append(new Step(new StepKey(StepKind.Forget, name), string.Empty, "cluster", 2, StepGate.None, StepLogin.Local, "forget the cluster on this control machine", new NoInputs()));
        var notes = kept.Where(k => k.Holder.DataDirs.Contains(k.Dir)).Select(k => $"kept on {k.ManageHost}: {k.Dir} (data of {k.Holder.Role} {k.Holder.Id})").ToImmutableArray();
        if (retained.Count > 0 && notes.IsEmpty)
        {
            notes = [$"nothing to keep: {string.Join(", ", retained.Select(i => i.Id))} have no data directory"];
        }

        return new Plan("destroy", name, [.. steps]) { RequireAllHosts = false, ContinueOnFailure = force, Force = force, BasedOn = Executor.MetaRevision(store, name), Notes = notes };
    }

    private static Step InitStep(string host, string user) =>
        new(new StepKey(StepKind.InitHost, host), host, "host", 0, StepGate.None, StepLogin.Preparing, $"deploy user {user}, its sudo rule and the cluster key", new NoInputs());

    private static IEnumerable<Step> InstallSteps(IEnumerable<InstanceSpec> instances, Dictionary<string, PackageRef> resolved, ImmutableHashSet<string> joining, int wave) =>
        instances.GroupBy(i => i.ManageHost).Select(h => new Step(new StepKey(StepKind.Install, h.Key), h.Key, "host", wave, StepGate.None, StepLogin.Deploy,
            string.Join(", ", h.Select(i => $"{i.Role} {resolved[i.Id].Version}")), new PackagesInputs([.. h.Select(i => new InstancePackage(i.Id, resolved[i.Id], joining.Contains(i.Id)))])));

    private static Step SaveMetaStep(string cluster, int wave, string summary) =>
        new(new StepKey(StepKind.SaveMeta, cluster), string.Empty, "cluster", wave, StepGate.None, StepLogin.Local, summary, new NoInputs());

    private static Step MemberStep(StepKind kind, InstanceSpec member, int wave) =>
        new(new StepKey(kind, member.Id), member.ManageHost, member.Role, wave, StepGate.None, StepLogin.Deploy, $"{member.Role} member {(kind == StepKind.MemberJoin ? "joins" : "leaves")} the cluster", new InstanceInputs(member.Id));

    internal static Step RefreshStep(InstanceSpec i, int wave) =>
        new(new StepKey(StepKind.Refresh, i.Id), i.ManageHost, i.Role, wave, ComponentSpecs.For(i).OnConfigChange == ConfigChange.Restart ? StepGate.Healthy : StepGate.None, StepLogin.Deploy,
            ComponentSpecs.For(i).OnConfigChange == ConfigChange.Restart ? "files follow the topology; restart" : "files follow the topology", new InstanceInputs(i.Id));

    private async Task<Dictionary<string, PackageRef>> ResolveAsync(IEnumerable<InstanceSpec> instances, Func<InstanceSpec, string?> version, string layout, CancellationToken cancellationToken)
    {
        var byKey = new Dictionary<(string, string?, string), PackageRef>();
        var result = new Dictionary<string, PackageRef>(StringComparer.Ordinal);
        foreach (var instance in instances)
        {
            if (!ComponentSpecs.For(instance).CanRender)
            {
                throw new ClusterException(ClusterException.BadInput, $"Tug cannot deploy {instance.Role} yet (no run script for it).");
            }

            var key = (instance.Component, version(instance), PlanningRules.Platform(instance));
            if (!byKey.TryGetValue(key, out var package))
            {
                package = byKey[key] = PlanningRules.Ref(await packages.GetAsync(key.Item1, key.Item2, key.Item3, cancellationToken).ConfigureAwait(false));
            }

            result[instance.Id] = PackageLayouts.Install(package, layout, instance);
        }

        return result;
    }

    /// <summary>Reaches the given hosts as the preparing login and learns each one's OS and architecture (reads only).</summary>
    private static async Task<Topology.Topology> ProbePlatformsAsync(Topology.Topology topology, Func<Topology.Topology, IEnumerable<string>> hosts, string user, Credential credential, PinStore pins, Reach reach, CancellationToken cancellationToken)
    {
        var targets = hosts(topology).Select(h => (h, topology.Instances.First(i => i.ManageHost == h).SshPort)).ToList();
        if (targets.Count == 0)
        {
            return topology;
        }

        await using var sessions = await HostSessions.OpenAsync(targets, user, credential, pins, reach, null, cancellationToken).ConfigureAwait(false);
        if (sessions.Failures.Count > 0)
        {
            var first = sessions.Failures.First();
            throw new ClusterException(ClusterException.BadInput,
                $"{string.Join(", ", sessions.Failures.Select(f => $"{f.Key}: {f.Value.Code}: {f.Value.Message}"))}; nothing was changed on any host.",
                first.Value.Hint ?? "Check the host, the login (-u) and its key (-i), then run the command again.");
        }

        foreach (var (host, remote) in sessions.Hosts)
        {
            var probe = await remote.RunAsync(HostScripts.Platform(), new RunOptions(), cancellationToken).ConfigureAwait(false);
            var platform = HostReply.Parse(probe.Stdout).OfType<PlatformLine>().FirstOrDefault();
            topology = topology.WithPlatform(host, platform?.Os ?? "linux", platform?.Arch ?? "x86_64");
        }

        return topology;
    }
}
