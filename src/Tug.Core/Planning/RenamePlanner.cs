// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Cluster;
using Tug.Core.Components;
using Tug.Core.Execution;

namespace Tug.Core.Planning;

/// <summary>
/// Plans <c>tug cluster rename OLD NEW</c>, as TiUP's: the cluster's directory moves to the new name (one local step),
/// then the instances whose rendered files carry the name get them rewritten (TiUP reloads Grafana and Prometheus;
/// Tug refreshes every instance whose files differ: Prometheus' <c>cluster</c> label restarts Prometheus, etcd's
/// cluster token is rewritten for its next start), each gated as scale-in's refresh.
/// </summary>
public sealed class RenamePlanner(ClusterStore store)
{
    /// <summary>The plan; its <see cref="Plan.Cluster"/> is the new name and <see cref="Plan.RenamedFrom"/> the old one.</summary>
    /// <exception cref="ClusterException">A bad name, OLD unknown, NEW taken, OLD locked or with an interrupted operation, or a broken meta.yaml.</exception>
    public Plan Rename(string from, string to)
    {
        ClusterStore.RefuseBadName(from);
        ClusterStore.RefuseBadName(to);
        if (from == to)
        {
            throw new ClusterException(ClusterException.BadInput, $"Cluster '{from}' already has that name.", "Give a new name.");
        }

        if (!store.Exists(from))
        {
            throw new ClusterException(ClusterException.NotFound, $"Cluster name '{from}' does not exist.", "Please double check your cluster name: `tug cluster list` lists them.");
        }

        if (Directory.Exists(store.Directory(to)))
        {
            throw new ClusterException(ClusterException.Exists, $"Cluster name '{to}' is duplicated: {store.Directory(to)} exists.", "Please specify another cluster name.");
        }

        var directory = store.Directory(from);
        if (ClusterLock.Peek(directory) is { Live: true } held)
        {
            throw ClusterLock.LockedError(directory, held.Holder);
        }

        OperationJournal.ThrowIfInterrupted(directory);
        var meta = store.Load(from);
        var rename = new Step(new StepKey(StepKind.Rename, from), string.Empty, "cluster", 1, StepGate.None, StepLogin.Local,
            $"clusters/{from} -> clusters/{to} (meta.yaml, key, journals)", new NoInputs());
        var refreshed = InstanceFiles.ChangedByName(from, to, meta);
        return new Plan("rename", to, [rename, .. refreshed.Select(i => TopologyPlanner.RefreshStep(i, 2))])
        {
            RenamedFrom = from,
            BasedOn = Executor.MetaRevision(store, from),
            Notes = refreshed.IsEmpty ? ["no instance's files carry the cluster's name"] : [$"the cluster's name is in the files of {string.Join(", ", refreshed.Select(i => $"{i.Role} {i.Id}"))}"],
        };
    }
}
