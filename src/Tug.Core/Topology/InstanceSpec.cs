// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;

namespace Tug.Core.Topology;

/// <summary>A named port of an instance, named by its YAML key (<c>client_port</c>, <c>status_port</c>...).</summary>
public readonly record struct NamedPort(string Name, int Number);

/// <summary>systemd resource limits (<c>meta.ResourceControl</c>); empty strings mean "not set".</summary>
public sealed record ResourceControl
{
    /// <summary>No limits.</summary>
    public static ResourceControl None { get; } = new();

    /// <summary>systemd <c>MemoryLimit=</c> (<c>memory_limit</c>).</summary>
    public string MemoryLimit { get; init; } = string.Empty;

    /// <summary>systemd <c>CPUQuota=</c> (<c>cpu_quota</c>).</summary>
    public string CpuQuota { get; init; } = string.Empty;

    /// <summary>systemd <c>IOReadBandwidthMax=</c> (<c>io_read_bandwidth_max</c>).</summary>
    public string IoReadBandwidthMax { get; init; } = string.Empty;

    /// <summary>systemd <c>IOWriteBandwidthMax=</c> (<c>io_write_bandwidth_max</c>).</summary>
    public string IoWriteBandwidthMax { get; init; } = string.Empty;

    /// <summary>systemd <c>LimitCORE=</c> (<c>limit_core</c>).</summary>
    public string LimitCore { get; init; } = string.Empty;

    /// <summary>systemd <c>TimeoutStopSec=</c> (<c>timeout_stop_sec</c>).</summary>
    public string TimeoutStopSec { get; init; } = string.Empty;

    /// <summary>systemd <c>TimeoutStartSec=</c> (<c>timeout_start_sec</c>).</summary>
    public string TimeoutStartSec { get; init; } = string.Empty;

    /// <summary>These limits over <paramref name="lower"/>: each field set here wins (TiUP's <c>MergeResourceControl</c>).</summary>
    public ResourceControl Over(ResourceControl lower) => new()
    {
        MemoryLimit = Pick(MemoryLimit, lower.MemoryLimit),
        CpuQuota = Pick(CpuQuota, lower.CpuQuota),
        IoReadBandwidthMax = Pick(IoReadBandwidthMax, lower.IoReadBandwidthMax),
        IoWriteBandwidthMax = Pick(IoWriteBandwidthMax, lower.IoWriteBandwidthMax),
        LimitCore = Pick(LimitCore, lower.LimitCore),
        TimeoutStopSec = Pick(TimeoutStopSec, lower.TimeoutStopSec),
        TimeoutStartSec = Pick(TimeoutStartSec, lower.TimeoutStartSec),
    };

    private static string Pick(string upper, string lower) => upper.Length > 0 ? upper : lower;
}

/// <summary>
/// One process of the cluster: a topology entry with TiUP's defaults applied and its directories made absolute,
/// or one of the monitoring agents (node_exporter, blackbox_exporter) the model adds on every host.
/// </summary>
public sealed record InstanceSpec
{
    /// <summary>TiUP's role / component name (<c>pd</c>, <c>tikv</c>, <c>node_exporter</c>...), see <see cref="Roles"/>.</summary>
    public required string Role { get; init; }

    /// <summary>The package to install from the mirror: instance <c>source</c>, else <c>component_sources</c>, else the default.</summary>
    public required string Component { get; init; }

    /// <summary>The address other cluster members use (<c>host</c>).</summary>
    public required string Host { get; init; }

    /// <summary>The SSH/management address (<c>manage_host</c>, defaulting to <see cref="Host"/>).</summary>
    public required string ManageHost { get; init; }

    /// <summary>The SSH port (instance <c>ssh_port</c>, else <c>global.ssh_port</c>).</summary>
    public required int SshPort { get; init; }

    /// <summary>The effective listen address: instance <c>listen_host</c>, else global, else <c>0.0.0.0</c> (<c>::</c> for IPv6 hosts).</summary>
    public required string ListenHost { get; init; }

    /// <summary>The ports in TiUP's struct order, named by YAML key.</summary>
    public required ImmutableArray<NamedPort> Ports { get; init; }

    /// <summary>TiUP's stem port (first of port, client_port, web_port, tcp_port): it names the instance, unit and dirs.</summary>
    public required int MainPort { get; init; }

    /// <summary>The absolute deploy directory.</summary>
    public required string DeployDir { get; init; }

    /// <summary>The absolute data directories (several for TiFlash; none for roles without data, e.g. tidb).</summary>
    public required ImmutableArray<string> DataDirs { get; init; }

    /// <summary>The absolute log directory; empty for roles without one (tiproxy, grafana, tispark).</summary>
    public required string LogDir { get; init; }

    /// <summary>CPU architecture (<c>amd64</c>, <c>arm64</c>); empty until probed on the host.</summary>
    public string Arch { get; init; } = string.Empty;

    /// <summary>Operating system (<c>linux</c>); empty until probed on the host.</summary>
    public string Os { get; init; } = string.Empty;

    /// <summary>The instance's <c>config</c> map, raw (merged over <c>server_configs</c> when rendered).</summary>
    public ConfigMap Config { get; init; } = ConfigMap.Empty;

    /// <summary>The instance's own resource limits (agents: <c>monitored.resource_control</c>); global limits apply below them.</summary>
    public ResourceControl ResourceControl { get; init; } = ResourceControl.None;

    /// <summary>NUMA node to bind to with <c>numactl</c>; empty for none.</summary>
    public string NumaNode { get; init; } = string.Empty;

    /// <summary>CPU cores for <c>numactl -C</c> (tikv, tidb, tiflash); empty for none.</summary>
    public string NumaCores { get; init; } = string.Empty;

    /// <summary>Whether this host runs no monitoring agents (<c>ignore_exporter</c>).</summary>
    public bool IgnoreExporter { get; init; }

    /// <summary>Member name for pd, tso, scheduling, resource-manager, router and etcd; null for other roles.</summary>
    public string? Name { get; init; }

    /// <summary>Every other field of the role's section (advertise addresses, rule_dir, gc-ttl...), raw, with defaults.</summary>
    public ConfigMap Extras { get; init; } = ConfigMap.Empty;

    /// <summary>Where the instance is declared (the agents: the <c>monitored</c> section, or the host's first instance).</summary>
    public SourceLocation Location { get; init; }

    /// <summary>TiUP's instance ID: <c>host:main_port</c> (IPv6 hosts bracketed).</summary>
    public string Id => HostPort.Join(Host, MainPort);

    /// <summary>TiUP's systemd unit stem <c>&lt;component&gt;-&lt;main port&gt;</c>, e.g. <c>node_exporter-9100</c>.</summary>
    public string ServiceName => $"{Role}-{MainPort}";

    /// <summary>The systemd unit file name, <c>&lt;service name&gt;.service</c> (in /etc/systemd/system, or ~/.config/systemd/user).</summary>
    public string UnitName => ServiceName + ".service";

    /// <summary>Whether this is one of the agents deployed on every host.</summary>
    public bool IsMonitoringAgent => Roles.IsMonitoringAgent(Role);

    /// <summary>The number of a named port; throws when the role has no such port.</summary>
    public int Port(string name) =>
        Ports.FirstOrDefault(p => p.Name == name) is { Name: not null } port ? port.Number : throw new KeyNotFoundException($"{Role} has no port named {name}");

    /// <summary>The first data directory, or empty when the role keeps no data.</summary>
    public string DataDir => DataDirs.IsDefaultOrEmpty ? string.Empty : DataDirs[0];

    /// <summary>Where it comes from, e.g. <c>tikv_servers[1]</c> or <c>monitored</c>, for error messages.</summary>
    internal string Section { get; init; } = string.Empty;

    /// <summary>Positions of fields in the source file, for pointing at them in errors.</summary>
    internal ImmutableDictionary<string, SourceLocation> FieldLocations { get; init; } = ImmutableDictionary<string, SourceLocation>.Empty;

    /// <summary>Where a field's value is written, else where the instance starts.</summary>
    internal SourceLocation LocationOf(string key) => FieldLocations.TryGetValue(key, out var at) ? at : Location;
}

/// <summary>Host and port formatting as Go's <c>net.JoinHostPort</c>.</summary>
public static class HostPort
{
    /// <summary><c>host:port</c>, or <c>[host]:port</c> when the host contains a colon (IPv6).</summary>
    public static string Join(string host, int port) =>
        host.Contains(':', StringComparison.Ordinal) ? $"[{host}]:{port}" : $"{host}:{port}";
}
