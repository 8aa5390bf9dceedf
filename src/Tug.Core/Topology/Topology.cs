// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;

namespace Tug.Core.Topology;

/// <summary>The <c>global</c> section with TiUP's defaults; its dirs stay as written (TiUP never expands them).</summary>
public sealed record GlobalOptions
{
    /// <summary>The deploy user (default <c>tidb</c>).</summary>
    public string User { get; init; } = "tidb";

    /// <summary>The deploy group; empty means "same as the user".</summary>
    public string Group { get; init; } = string.Empty;

    /// <summary>The default SSH port of the instances (<c>ssh_port</c>, default 22).</summary>
    public int SshPort { get; init; } = 22;

    /// <summary><c>builtin</c>, <c>system</c> or <c>none</c>.</summary>
    public string SshType { get; init; } = "builtin";

    /// <summary>Whether the cluster uses TLS between components (<c>enable_tls</c>).</summary>
    public bool EnableTls { get; init; }

    /// <summary>The global listen address; empty for the default (<c>0.0.0.0</c>).</summary>
    public string ListenHost { get; init; } = string.Empty;

    /// <summary>The base of instance deploy dirs, as written (relative means under <c>/home/&lt;user&gt;</c>).</summary>
    public string DeployDir { get; init; } = "deploy";

    /// <summary>The base of instance data dirs, as written (relative means under each deploy dir).</summary>
    public string DataDir { get; init; } = "data";

    /// <summary>The base of instance log dirs, as written; empty means <c>log</c> under each deploy dir.</summary>
    public string LogDir { get; init; } = string.Empty;

    /// <summary>Limits applied under every instance's own.</summary>
    public ResourceControl ResourceControl { get; init; } = ResourceControl.None;

    /// <summary>The global OS (<c>linux</c>); stored only, instances are probed.</summary>
    public string Os { get; init; } = "linux";

    /// <summary>The global architecture; stored only, instances are probed.</summary>
    public string Arch { get; init; } = string.Empty;

    /// <summary>TiUP's free-form <c>custom</c> value, kept raw.</summary>
    public object? Custom { get; init; }

    /// <summary><c>system</c> (units in /etc/systemd/system, run as <see cref="User"/>) or <c>user</c>.</summary>
    public string SystemdMode { get; init; } = "system";

    /// <summary><c>ms</c> for PD micro-service mode; empty otherwise.</summary>
    public string PdMode { get; init; } = string.Empty;
}

/// <summary>The <c>monitored</c> section: the two agents' ports, pinned versions and shared (absolute) dirs.</summary>
public sealed record MonitoredOptions
{
    /// <summary>node_exporter's port (default 9100); it also names the monitored dirs.</summary>
    public int NodeExporterPort { get; init; } = 9100;

    /// <summary>blackbox_exporter's port (default 9115).</summary>
    public int BlackboxExporterPort { get; init; } = 9115;

    /// <summary>Pinned node_exporter version; empty means "latest stable in the mirror" as in TiUP.</summary>
    public string NodeExporterVersion { get; init; } = string.Empty;

    /// <summary>Pinned blackbox_exporter version; empty means "latest stable in the mirror".</summary>
    public string BlackboxExporterVersion { get; init; } = string.Empty;

    /// <summary>Absolute deploy dir shared by both agents (default <c>/home/&lt;user&gt;/deploy/monitor-9100</c>).</summary>
    public string DeployDir { get; init; } = string.Empty;

    /// <summary>Absolute data dir of the agents (kept for compatibility; the exporters keep no data).</summary>
    public string DataDir { get; init; } = string.Empty;

    /// <summary>Absolute log dir; TiUP's default doubles the deploy path (<c>.../monitor-9100/deploy/monitor-9100/log</c>), kept for compatibility.</summary>
    public string LogDir { get; init; } = string.Empty;

    /// <summary>NUMA node for node_exporter (TiUP never binds blackbox_exporter).</summary>
    public string NumaNode { get; init; } = string.Empty;

    /// <summary>Limits of the agents' units, over the global ones.</summary>
    public ResourceControl ResourceControl { get; init; } = ResourceControl.None;
}

/// <summary>
/// A validated cluster topology: TiUP's sections with defaults applied, every instance (monitoring agents
/// included) as a flat list in start order, instance directories absolute.
/// </summary>
public sealed record Topology
{
    /// <summary>The file it was read from (as given), used in error messages.</summary>
    public required string File { get; init; }

    /// <summary>The <c>global</c> section with defaults.</summary>
    public required GlobalOptions Global { get; init; }

    /// <summary>The <c>monitored</c> section with defaults, dirs absolute.</summary>
    public required MonitoredOptions Monitored { get; init; }

    /// <summary><c>component_versions</c> by YAML key (<c>tidb</c>, <c>kvcdc</c>, <c>tidb_dashboard</c>...); only set entries.</summary>
    public ImmutableSortedDictionary<string, string> ComponentVersions { get; init; } = ImmutableSortedDictionary<string, string>.Empty;

    /// <summary><c>component_sources</c> by YAML key; only set entries.</summary>
    public ImmutableSortedDictionary<string, string> ComponentSources { get; init; } = ImmutableSortedDictionary<string, string>.Empty;

    /// <summary><c>server_configs</c> raw: one map per key (<c>tidb</c>, <c>tikv</c>, <c>pd</c>...), as written.</summary>
    public ConfigMap ServerConfigs { get; init; } = ConfigMap.Empty;

    /// <summary>Every instance in start order (file order within a role), then node_exporter and blackbox_exporter per host.</summary>
    public required ImmutableArray<InstanceSpec> Instances { get; init; }

    /// <summary>Positions of <c>global.*</c> and <c>monitored.*</c> fields, for pointing at them in errors.</summary>
    internal ImmutableDictionary<string, SourceLocation> Locations { get; init; } = ImmutableDictionary<string, SourceLocation>.Empty;

    /// <summary>The instances declared in the file (everything but the monitoring agents).</summary>
    public IEnumerable<InstanceSpec> Servers => Instances.Where(i => !i.IsMonitoringAgent);

    /// <summary>The distinct management hosts, in order of first appearance in <see cref="Instances"/>.</summary>
    public ImmutableArray<string> ManageHosts => [.. Instances.Select(i => i.ManageHost).Distinct(StringComparer.Ordinal)];

    /// <summary>The instances of one role, in file order.</summary>
    public ImmutableArray<InstanceSpec> OfRole(string role) => [.. Instances.Where(i => i.Role == role)];

    /// <summary>The instance with an ID (<c>host:port</c>), or null.</summary>
    public InstanceSpec? Find(string id) => Instances.FirstOrDefault(i => i.Id == id);

    /// <summary>
    /// The version pinned in the topology for a role: <c>component_versions</c>, or the <c>monitored</c>
    /// exporter versions; null when the topology does not pin one.
    /// </summary>
    public string? PinnedVersion(string role)
    {
        var pinned = role switch
        {
            Roles.NodeExporter => Monitored.NodeExporterVersion,
            Roles.BlackboxExporter => Monitored.BlackboxExporterVersion,
            _ => RoleDefinition.All.FirstOrDefault(r => r.Role == role)?.VersionKey is { } key ? ComponentVersions.GetValueOrDefault(key) : null,
        };
        return string.IsNullOrEmpty(pinned) ? null : pinned;
    }

    /// <summary>The server config map for a key of <c>server_configs</c> (<c>tidb</c>, <c>kvcdc</c>...); empty when unset.</summary>
    public ConfigMap ServerConfig(string key) => ServerConfigs.GetMap(key);

    /// <summary>Where a <c>global.*</c>/<c>monitored.*</c> field is written, else the top of the file.</summary>
    internal SourceLocation LocationOf(string key) => Locations.TryGetValue(key, out var at) ? at : new SourceLocation(File, 1, 1);

    /// <summary>A copy where every instance managed through <paramref name="manageHost"/> with no os/arch gets the probed ones.</summary>
    public Topology WithPlatform(string manageHost, string os, string arch) => this with
    {
        Instances = [.. Instances.Select(i => i.ManageHost != manageHost ? i : i with
        {
            Os = i.Os.Length > 0 ? i.Os : os.ToLowerInvariant(),
            Arch = i.Arch.Length > 0 ? i.Arch : TopologyBuilder.NormalizeArch(arch),
        })],
    };

    /// <summary>A copy without the instances whose IDs are given (scale-in); the agents follow the remaining hosts.</summary>
    public Topology Without(IEnumerable<string> ids)
    {
        var removed = ids.ToHashSet(StringComparer.Ordinal);
        return TopologyBuilder.WithAgents(this, Servers.Where(s => !removed.Contains(s.Id)));
    }
}
