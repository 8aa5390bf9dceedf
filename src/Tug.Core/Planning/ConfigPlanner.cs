// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Cluster;
using Tug.Core.Execution;
using Tug.Core.Topology;

namespace Tug.Core.Planning;

/// <summary>An edit of a cluster's topology, planned: what changed, and the plan that saves it (null when nothing changed).</summary>
/// <param name="Before">The topology as meta.yaml holds it, as YAML.</param>
/// <param name="After">The edited topology, as meta.yaml will hold it.</param>
/// <param name="Diff">The unified diff of the two (empty when equal).</param>
/// <param name="Plan">One local save-meta step; null when nothing changed.</param>
public sealed record ConfigEdit(string Before, string After, string Diff, Plan? Plan)
{
    /// <summary>Whether the edit changes nothing.</summary>
    public bool Unchanged => Plan is null;
}

/// <summary>A cluster's meta as an edit starts from it: the topology as YAML and the sha256 of meta.yaml then.</summary>
public sealed record ConfigSnapshot(string Name, ClusterMeta Meta, string Yaml, string Revision);

/// <summary>
/// Plans <c>tug cluster edit-config</c>: the edited topology replaces meta.yaml's, Tug's own section (pinned versions,
/// host keys, instance records) kept as it is. Only fields TiUP lets edit-config change may differ; no host is touched
/// (the plan's one step is local). The change reaches the hosts with <c>tug cluster reload</c>.
/// </summary>
public sealed class ConfigPlanner(ClusterStore store)
{
    /// <summary>The cluster's topology as the user edits it, taken before the edit starts: a change to the cluster meanwhile makes the plan refused.</summary>
    /// <exception cref="ClusterException">The cluster does not exist or its meta.yaml is broken.</exception>
    public ConfigSnapshot Current(string name)
    {
        var revision = Executor.MetaRevision(store, name);
        var meta = store.Load(name);
        return new ConfigSnapshot(name, meta, TopologyEdit.Render(meta.Topology), revision);
    }

    /// <summary>Plans saving <paramref name="editedYaml"/> (read from <paramref name="fileName"/>) as the topology of the cluster taken in <paramref name="current"/>.</summary>
    /// <exception cref="TopologyException">The text does not parse or validate (E10xx, file:line:column), or changes a field that may not change (E1040).</exception>
    public static ConfigEdit EditConfig(ConfigSnapshot current, string editedYaml, string fileName)
    {
        var (name, meta, before, basedOn) = current;
        var edited = TopologyEdit.Parse(editedYaml, fileName);
        TopologyEdit.RefuseImmutable(meta.Topology, edited, editedYaml, fileName);
        var after = TopologyEdit.Render(edited);
        if (after == before)
        {
            return new ConfigEdit(before, after, string.Empty, null);
        }

        var next = meta with { Topology = edited };
        var changed = TopologyEdit.Changes(meta.Topology, edited);
        var step = new Step(new StepKey(StepKind.SaveMeta, name), string.Empty, "cluster", 1, StepGate.None, StepLogin.Local,
            $"topology: {changed.Length} field(s) changed ({string.Join(", ", changed.Take(3).Select(c => c.Path))}{(changed.Length > 3 ? ", ..." : string.Empty)})", new NoInputs());
        var plan = new Plan("edit-config", name, [step])
        {
            Meta = ClusterMetaSerializer.Serialize(next),
            BasedOn = basedOn,
            Notes = [$"the hosts: no instance is touched until `tug cluster reload {name}` brings the change to them"],
        };
        return new ConfigEdit(before, after, UnifiedDiff.Compute(before, after, $"{name} topology (saved)", $"{name} topology (edited)"), plan);
    }
}
