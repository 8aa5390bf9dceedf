// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Core.Topology;

namespace Tug.Core.Components;

/// <summary>The specs of every component Tug knows, in start order.</summary>
public static class ComponentSpecs
{
    // "<name>, version 1.9.0 (branch: ...)" (Prometheus-family binaries); Debian builds may append "+ds" etc., ignored.
    private const string PrometheusStyle = @"^\S+, version (?<version>\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)";

    // "Release Version: v8.5.0" (TiDB-family binaries). Not run here: TiDB binaries cannot be fetched on this network.
    private const string TiDBStyle = @"Release Version:\s+v?(?<version>\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)";

    private static VersionProbe Probe(string pattern, params string[] args) => new([.. args], pattern);

    private static ImmutableArray<PortSpec> PortsOf(string role) =>
        [.. RoleDefinition.ForRole(role).Schema.Fields.Where(RoleDefinition.IsPort).Select(f => new PortSpec(f.Key, f.Default as int? ?? 0))];

    private static ConfigFileSpec Toml(string name) => new($"conf/{name}.toml", null);

    /// <summary>All specs, in start order.</summary>
    public static ImmutableArray<ComponentSpec> All { get; } =
    [
        new()
        {
            Name = "pd", Role = Roles.Pd, Ports = PortsOf(Roles.Pd), DefaultEntry = "pd-server",
            Health = HealthCheck.Tcp("client_port"), VersionProbe = Probe(TiDBStyle, "-V"),
            ConfigFiles = [Toml("pd")], RunScript = RunScripts.Pd,
        },
        PdService(Roles.Tso),
        PdService(Roles.Scheduling),
        PdService(Roles.Router),
        PdService(Roles.ResourceManager),
        new()
        {
            Name = "tidb-dashboard", Role = Roles.TiDBDashboard, Ports = PortsOf(Roles.TiDBDashboard), DefaultEntry = "tidb-dashboard",
            Health = HealthCheck.Tcp("port"), VersionProbe = Probe(TiDBStyle, "--version"),
            ConfigFiles = [Toml("tidb-dashboard")], RunScript = RunScripts.TiDBDashboard,
        },
        new()
        {
            Name = "tiproxy", Role = Roles.TiProxy, Ports = PortsOf(Roles.TiProxy), DefaultEntry = "tiproxy",
            Health = HealthCheck.Tcp("port"), VersionProbe = Probe(@"v?(?<version>\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)", "--version"),
            ConfigFiles = [Toml("tiproxy")], RunScript = RunScripts.TiProxy,
        },
        new()
        {
            Name = "tikv", Role = Roles.TiKV, Ports = PortsOf(Roles.TiKV), PrunedWhenTombstone = true, DefaultEntry = "tikv-server",
            Health = HealthCheck.Tcp("port"), VersionProbe = Probe(TiDBStyle, "--version"),
            ConfigFiles = [Toml("tikv")], RunScript = RunScripts.TiKV,
        },
        new()
        {
            Name = "pump", Role = Roles.Pump, Ports = PortsOf(Roles.Pump), PrunedWhenTombstone = true, DefaultEntry = "pump", Restart = "on-failure",
            Health = HealthCheck.Tcp("port"), VersionProbe = Probe(TiDBStyle, "-V"),
            ConfigFiles = [Toml("pump")], RunScript = RunScripts.Pump,
        },
        new()
        {
            Name = "tidb", Role = Roles.TiDB, Ports = PortsOf(Roles.TiDB), LogFiles = ["tidb?[!audit]*.log", "tidb.log"], AuditLogFiles = ["tidb-audit*.log"], DefaultEntry = "tidb-server",
            Health = HealthCheck.Tcp("port"), VersionProbe = Probe(TiDBStyle, "-V"),
            ConfigFiles = [Toml("tidb")], RunScript = RunScripts.TiDB,
        },
        new()
        {
            Name = "tiflash", Role = Roles.TiFlash, Ports = PortsOf(Roles.TiFlash), PrunedWhenTombstone = true, DefaultEntry = "tiflash/tiflash",
            Health = HealthCheck.Tcp("tcp_port"), VersionProbe = Probe(TiDBStyle, "version"),
            ConfigFiles = [Toml("tiflash"), Toml("tiflash-learner")], RunScript = RunScripts.TiFlash,
        },
        new()
        {
            Name = "drainer", Role = Roles.Drainer, Ports = PortsOf(Roles.Drainer), PrunedWhenTombstone = true, DefaultEntry = "drainer", Restart = "on-failure",
            Health = HealthCheck.Tcp("port"), VersionProbe = Probe(TiDBStyle, "-V"),
            ConfigFiles = [Toml("drainer")], RunScript = RunScripts.Drainer,
        },
        new()
        {
            Name = "cdc", Role = Roles.Cdc, Ports = PortsOf(Roles.Cdc), DefaultEntry = "cdc",
            Health = HealthCheck.Tcp("port"), VersionProbe = Probe(TiDBStyle, "version"),
            ConfigFiles = [Toml("cdc")], RunScript = RunScripts.Cdc,
        },
        new()
        {
            Name = "tikv-cdc", Role = Roles.TiKVCdc, Ports = PortsOf(Roles.TiKVCdc), DefaultEntry = "tikv-cdc",
            Health = HealthCheck.Tcp("port"), VersionProbe = Probe(TiDBStyle, "version"),
            ConfigFiles = [Toml("tikv-cdc")], RunScript = RunScripts.TiKVCdc,
        },
        new()
        {
            Name = "etcd", Role = Roles.Etcd, Ports = PortsOf(Roles.Etcd), DefaultEntry = "etcd",
            Health = HealthCheck.HttpGet("client_port", "/health"),
            VersionProbe = Probe(@"etcd Version:\s+v?(?<version>\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)", "--version"),
            RunScript = RunScripts.Etcd,
            ClusterCheck = EtcdClusterHealthy, HasMembership = true,
        },
        new()
        {
            Name = "prometheus", Role = Roles.Prometheus, Ports = PortsOf(Roles.Prometheus), OnConfigChange = ConfigChange.Restart, DefaultEntry = "prometheus/prometheus",
            Health = HealthCheck.HttpGet("port", "/-/healthy"), VersionProbe = Probe(PrometheusStyle, "--version"),
            ConfigFiles = [new("conf/prometheus.yml", MonitoringConfig.Prometheus)], RunScript = RunScripts.Prometheus,
        },
        new()
        {
            Name = "grafana", Role = Roles.Grafana, Ports = PortsOf(Roles.Grafana), OnConfigChange = ConfigChange.Restart, DefaultEntry = "bin/grafana-server",
            Health = HealthCheck.HttpGet("port", "/api/health"),
            VersionProbe = Probe(@"[Vv]ersion\s+v?(?<version>\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)", "-v"),
            ConfigFiles = [new("conf/grafana.ini", null)], RunScript = RunScripts.Grafana,
        },
        new()
        {
            Name = "alertmanager", Role = Roles.Alertmanager, Ports = PortsOf(Roles.Alertmanager), OnConfigChange = ConfigChange.Restart, DefaultEntry = "alertmanager/alertmanager",
            Health = HealthCheck.HttpGet("web_port", "/-/healthy"), VersionProbe = Probe(PrometheusStyle, "--version"),
            ConfigFiles = [new("conf/alertmanager.yml", MonitoringConfig.Alertmanager)], RunScript = RunScripts.Alertmanager,

            // TiUP's AlertManagerComponent.CalculateVersion: never the cluster version; unpinned means the mirror's latest.
            FollowsClusterVersion = false,
        },
        new()
        {
            Name = "tispark", Role = Roles.TiSparkMaster, Ports = PortsOf(Roles.TiSparkMaster), DefaultEntry = "tispark",
            Health = HealthCheck.Tcp("port"),
        },
        new()
        {
            Name = "tispark", Role = Roles.TiSparkWorker, Ports = PortsOf(Roles.TiSparkWorker), DefaultEntry = "tispark",
            Health = HealthCheck.Tcp("port"),
        },
        new()
        {
            Name = "node_exporter", Role = Roles.NodeExporter, Ports = [new("node_exporter_port", 9100)], DefaultEntry = "node_exporter/node_exporter",
            Health = HealthCheck.HttpGet("node_exporter_port", "/metrics"), VersionProbe = Probe(PrometheusStyle, "--version"),
            RunScript = RunScripts.NodeExporter, FollowsClusterVersion = false, PerHost = true,
        },
        new()
        {
            Name = "blackbox_exporter", Role = Roles.BlackboxExporter, Ports = [new("blackbox_exporter_port", 9115)], DefaultEntry = "blackbox_exporter/blackbox_exporter",
            Health = HealthCheck.HttpGet("blackbox_exporter_port", "/metrics"), VersionProbe = Probe(PrometheusStyle, "--version"),
            GrantCapNetRaw = true, ConfigFiles = [new("conf/blackbox.yml", MonitoringConfig.Blackbox)], RunScript = RunScripts.BlackboxExporter, FollowsClusterVersion = false, PerHost = true,
        },
    ];

    /// <summary>Every etcd member answers <c>endpoint health</c> (so the cluster has quorum) through the etcdctl shipped beside the new etcd.</summary>
    private static ClusterCheckCommand EtcdClusterHealthy(InstanceContext context)
    {
        var endpoints = string.Join(',', context.Topology.OfRole(Roles.Etcd).Select(e => $"http://{HostPort.Join(e.Host, e.Port("client_port"))}"));
        var ctl = $"{context.Instance.DeployDir}/bin/{(context.EntryDirectory.Length > 0 ? context.EntryDirectory + "/" : string.Empty)}etcdctl";
        return new ClusterCheckCommand(ctl, "etcdctl", ["ETCDCTL_API=3"], [$"--endpoints={endpoints}", "--command-timeout=3s", "endpoint", "health"]);
    }

    /// <summary>The spec of a role.</summary>
    /// <exception cref="KeyNotFoundException">Tug has no spec for the role.</exception>
    public static ComponentSpec For(string role) =>
        All.FirstOrDefault(s => s.Role == role) ?? throw new KeyNotFoundException($"no component spec for role \"{role}\"");

    /// <summary>The spec of an instance's role.</summary>
    public static ComponentSpec For(InstanceSpec instance) => For(instance.Role);

    private static ComponentSpec PdService(string role) => new()
    {
        Name = "pd", Role = role, Ports = PortsOf(role), DefaultEntry = "pd-server",
        Health = HealthCheck.Tcp("port"), VersionProbe = Probe(TiDBStyle, "-V"),
        ConfigFiles = [Toml(role)], RunScript = RunScripts.PdService,
    };
}
