// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Core.Topology;

namespace Tug.Core.Components;

/// <summary>The files Tug renders for an instance (configs, run script, unit), as the cluster's metadata says.</summary>
public static class InstanceFiles
{
    /// <summary>The rendering context of an instance: its recorded build (or the cluster version before one is recorded).</summary>
    public static InstanceContext Context(string cluster, ClusterMeta meta, InstanceSpec instance, bool joinExisting = false)
    {
        var deployed = meta.Tug.Instances.GetValueOrDefault(instance.Id);
        var spec = ComponentSpecs.For(instance);
        return new InstanceContext(instance, meta.Topology, cluster, meta.User, deployed?.Version ?? meta.Version, deployed?.Entry ?? spec.DefaultEntry)
        {
            ClusterVersion = meta.Version,
            JoinExisting = joinExisting,
        };
    }

    /// <summary>Every file Tug renders for the instance, with absolute paths: configs, then the run script, then the unit.</summary>
    public static ImmutableArray<RenderedFile> Render(string cluster, ClusterMeta meta, InstanceSpec instance, bool joinExisting = false)
    {
        var spec = ComponentSpecs.For(instance);
        var context = Context(cluster, meta, instance, joinExisting);
        return [.. spec.RenderConfigFiles(context),
            new RenderedFile(spec.RunScriptPath(instance), spec.RenderRunScript(context)),
            new RenderedFile($"/etc/systemd/system/{instance.UnitName}", spec.RenderSystemdUnit(context))];
    }

    /// <summary>The instances among <paramref name="candidates"/> whose rendered files differ between two states of the cluster (as they are in <paramref name="after"/>).</summary>
    public static ImmutableArray<InstanceSpec> Changed(string cluster, ClusterMeta before, ClusterMeta after, IEnumerable<InstanceSpec> candidates) =>
        [.. candidates.Where(i => after.Topology.Find(i.Id) is { } now && before.Topology.Find(i.Id) is { } then
            && ComponentSpecs.For(i).CanRender
            && !Render(cluster, before, then).SequenceEqual(Render(cluster, after, now)))
            .Select(i => after.Topology.Find(i.Id)!)];

    /// <summary>The instances whose rendered files differ when the cluster is called <paramref name="after"/> instead of <paramref name="before"/> (Prometheus' <c>cluster</c> label, etcd's cluster token...).</summary>
    public static ImmutableArray<InstanceSpec> ChangedByName(string before, string after, ClusterMeta meta) =>
        [.. meta.Topology.Instances.Where(i => ComponentSpecs.For(i).CanRender && !Render(before, meta, i).SequenceEqual(Render(after, meta, i)))];
}
