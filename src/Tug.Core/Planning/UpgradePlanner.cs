// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Core.Cluster;
using Tug.Core.Components;
using Tug.Core.Execution;
using Tug.Core.Topology;

namespace Tug.Core.Planning;

/// <summary>
/// Plans <c>tug cluster upgrade</c>: the target version of every role (explicit pins first, then the new cluster
/// version for components that follow it; agents and other independently pinned components stay), every new package
/// staged and checked on its host first (wave 0), then each moving instance switched batch by batch in role order,
/// gated on health and verification (and the quorum of membership components).
/// </summary>
public sealed class UpgradePlanner(ClusterStore store, IPackageSource packages)
{
    /// <exception cref="ClusterException">An unknown role, a bad batch, or a version the mirror does not have.</exception>
    public async Task<Plan> PlanAsync(UpgradeRequest request, CancellationToken cancellationToken)
    {
        var meta = store.Load(request.Name);
        var topology = meta.Topology;
        PlanningRules.CheckHealthWindow(request.HealthWindow);
        var targets = TargetVersions(meta, request);
        var moves = new List<(InstanceSpec Instance, string To, int Wave)>();
        var wave = 0;
        foreach (var group in PlanningRules.ByRole(topology.Instances))
        {
            if (!targets.TryGetValue(group.Key, out var target))
            {
                continue;
            }

            var moving = group.Where(i => meta.Tug.Instances.GetValueOrDefault(i.Id)?.Version != target).ToList();
            var size = PlanningRules.BatchSize(request.Batch, group.Count());
            for (var k = 0; k < moving.Count; k++)
            {
                moves.Add((moving[k], target, wave + (k / size) + 1));
            }

            wave = moves.Count > 0 ? moves[^1].Wave : wave;
        }

        // Each package is resolved (and its cached tarball re-hashed) once per upgrade, not once per instance.
        var resolved = new Dictionary<(string, string, string), PackageRef>();
        foreach (var (instance, to, _) in moves)
        {
            var key = (instance.Component, to, PlanningRules.Platform(instance));
            if (!resolved.ContainsKey(key))
            {
                resolved[key] = PlanningRules.Ref(await packages.GetAsync(key.Item1, key.Item2, key.Item3, cancellationToken).ConfigureAwait(false));
            }
        }

        PackageRef PackageOf(InstanceSpec i, string to) => PackageLayouts.Install(resolved[(i.Component, to, PlanningRules.Platform(i))], meta.Tug.Layout, i);
        var steps = ImmutableArray.CreateBuilder<Step>();
        foreach (var host in moves.GroupBy(m => m.Instance.ManageHost))
        {
            steps.Add(new Step(new StepKey(StepKind.Stage, host.Key), host.Key, "host", 0, StepGate.None, StepLogin.Deploy,
                string.Join(", ", host.Select(m => $"{m.Instance.Component} {m.To}").Distinct()),
                new PackagesInputs([.. host.Select(m => new InstancePackage(m.Instance.Id, PackageOf(m.Instance, m.To)))])));
        }

        foreach (var (instance, to, w) in moves)
        {
            var package = PackageOf(instance, to);
            var from = meta.Tug.Instances.GetValueOrDefault(instance.Id)?.Label ?? "?";
            steps.Add(new Step(new StepKey(StepKind.Switch, instance.Id), instance.ManageHost, instance.Role, w,
                ComponentSpecs.For(instance).ClusterCheck is null ? StepGate.Healthy : StepGate.ClusterHealthy, StepLogin.Deploy,
                $"{instance.Role} {from} -> {to}", new SwitchInputs(instance.Id, package, PlanningRules.Record(package), from, request.HealthWindow)));
        }

        if (request.ClusterVersion is { } clusterVersion && PlanningRules.NormalizeVersion(clusterVersion) is var version && version != meta.Version)
        {
            // As TiUP: the cluster's version moves once every switch is done (a failed upgrade leaves it where it was).
            steps.Add(new Step(new StepKey(StepKind.ClusterVersion, version), string.Empty, "cluster", (moves.Count > 0 ? moves.Max(m => m.Wave) : 0) + 1, StepGate.None, StepLogin.Local,
                $"cluster version {meta.Version} -> {version}", new NoInputs()));
        }

        var unchanged = topology.Instances.Select(i => i.Role).Distinct()
            .Where(r => !moves.Any(m => m.Instance.Role == r))
            .Select(r => $"{r} stays at {meta.Tug.Versions.GetValueOrDefault(r) ?? "?"}{(targets.ContainsKey(r) ? " (already there)" : !ComponentSpecs.For(r).FollowsClusterVersion || PlanningRules.IndependentlyPinned(meta, r) ? " (pinned on its own)" : string.Empty)}");
        return new Plan("upgrade", request.Name, steps.ToImmutable()) { Notes = [.. unchanged], BasedOn = Executor.MetaRevision(store, request.Name) };
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
                targets[role] = PlanningRules.NormalizeVersion(version);
            }
        }

        if (request.ClusterVersion is { } clusterVersion)
        {
            foreach (var role in roles.Where(r => !targets.ContainsKey(r) && ComponentSpecs.For(r).FollowsClusterVersion && !PlanningRules.IndependentlyPinned(meta, r)))
            {
                targets[role] = PlanningRules.NormalizeVersion(clusterVersion);
            }
        }

        if (targets.Count == 0)
        {
            throw new ClusterException(ClusterException.BadInput, "Nothing to upgrade: give a cluster VERSION or --component COMP=VERSION.",
                "For example: `tug cluster upgrade NAME --component COMPONENT=v1.2.3`, or a new cluster version.");
        }

        return targets;
    }
}
