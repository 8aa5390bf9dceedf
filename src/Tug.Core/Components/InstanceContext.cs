// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text.RegularExpressions;
using Tug.Core.Topology;

namespace Tug.Core.Components;

/// <summary>
/// Everything a renderer needs for one instance: the instance, the whole topology (peers, PD list, scrape
/// targets), the cluster name, the deploy user, the component version being deployed and the package's
/// <c>entry</c> from the signed mirror manifest.
/// </summary>
/// <param name="Instance">The instance to render for.</param>
/// <param name="Topology">The cluster topology the instance belongs to (after a scale-out or scale-in: the new one).</param>
/// <param name="ClusterName">The cluster name (Prometheus' <c>cluster</c> label, etcd's cluster token).</param>
/// <param name="DeployUser">The user the services run as (systemd <c>User=</c>).</param>
/// <param name="Version">The version of this component being deployed, <c>v</c>-prefixed.</param>
/// <param name="Entry">The executable's path inside the package (manifest <c>entry</c>), e.g. <c>node_exporter-1.9.0.linux-amd64/node_exporter</c>.</param>
public sealed partial record InstanceContext(
    InstanceSpec Instance,
    Topology.Topology Topology,
    string ClusterName,
    string DeployUser,
    string Version,
    string Entry)
{
    /// <summary>The cluster version (<c>tidb_version</c>), for TiUP's version gates that use it; defaults to <see cref="Version"/>.</summary>
    public string? ClusterVersion { get; init; }

    /// <summary>Whether the instance joins a running cluster (scale-out): PD uses <c>--join</c>, etcd <c>--initial-cluster-state=existing</c>.</summary>
    public bool JoinExisting { get; init; }

    /// <summary>The executable relative to the deploy dir: <c>bin/&lt;entry&gt;</c>.</summary>
    /// <exception cref="ArgumentException">The entry is not a plain relative path (it would be pasted into a shell script).</exception>
    public string Binary => SafeEntry().IsMatch(Entry) && !Entry.Split('/').Contains("..")
        ? "bin/" + Entry
        : throw new ArgumentException($"manifest entry \"{Entry}\" is not a plain relative path; refusing to put it in a run script.", nameof(Entry));

    /// <summary>The directory holding the executable, relative to <c>bin/</c> ("" when the entry is at the top).</summary>
    public string EntryDirectory => Entry.Contains('/', StringComparison.Ordinal) ? Entry[..Entry.LastIndexOf('/')] : string.Empty;

    /// <summary>The version used by TiUP's cluster-version gates.</summary>
    public string EffectiveClusterVersion => ClusterVersion ?? Version;

    [GeneratedRegex(@"^[A-Za-z0-9._+@-][A-Za-z0-9._+@/-]*\z")]
    private static partial Regex SafeEntry();
}
