// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Core.Topology.Yaml;

namespace Tug.Core.Topology;

/// <summary>Role names as TiUP spells them (<c>pkg/cluster/spec/instance.go</c>), plus Tug's <c>etcd</c>.</summary>
public static class Roles
{
    /// <summary>PD (placement driver), <c>pd_servers</c>.</summary>
    public const string Pd = "pd";
    /// <summary>PD's TSO micro-service, <c>tso_servers</c>.</summary>
    public const string Tso = "tso";
    /// <summary>PD's scheduling micro-service, <c>scheduling_servers</c>.</summary>
    public const string Scheduling = "scheduling";
    /// <summary>PD's resource-manager micro-service, <c>resource_manager_servers</c>.</summary>
    public const string ResourceManager = "resource-manager";
    /// <summary>PD's router micro-service, <c>router_servers</c>.</summary>
    public const string Router = "router";
    /// <summary>TiDB Dashboard, <c>tidb_dashboard_servers</c>.</summary>
    public const string TiDBDashboard = "tidb-dashboard";
    /// <summary>TiProxy, <c>tiproxy_servers</c>.</summary>
    public const string TiProxy = "tiproxy";
    /// <summary>TiKV, <c>tikv_servers</c>.</summary>
    public const string TiKV = "tikv";
    /// <summary>TiDB, <c>tidb_servers</c>.</summary>
    public const string TiDB = "tidb";
    /// <summary>TiFlash, <c>tiflash_servers</c>.</summary>
    public const string TiFlash = "tiflash";
    /// <summary>TiDB-Binlog pump, <c>pump_servers</c>.</summary>
    public const string Pump = "pump";
    /// <summary>TiDB-Binlog drainer, <c>drainer_servers</c>.</summary>
    public const string Drainer = "drainer";
    /// <summary>TiCDC, <c>cdc_servers</c>.</summary>
    public const string Cdc = "cdc";
    /// <summary>TiKV-CDC, <c>kvcdc_servers</c>.</summary>
    public const string TiKVCdc = "tikv-cdc";
    /// <summary>TiSpark master, <c>tispark_masters</c>.</summary>
    public const string TiSparkMaster = "tispark-master";
    /// <summary>TiSpark worker, <c>tispark_workers</c>.</summary>
    public const string TiSparkWorker = "tispark-worker";
    /// <summary>Prometheus, <c>monitoring_servers</c>.</summary>
    public const string Prometheus = "prometheus";
    /// <summary>Grafana, <c>grafana_servers</c>.</summary>
    public const string Grafana = "grafana";
    /// <summary>Alertmanager, <c>alertmanager_servers</c>.</summary>
    public const string Alertmanager = "alertmanager";

    /// <summary>Tug's extension: a plain etcd cluster member, <c>etcd_servers</c> (see <see cref="TopologyLoader"/>).</summary>
    public const string Etcd = "etcd";

    /// <summary>The node_exporter agent on every host (from <c>monitored</c>).</summary>
    public const string NodeExporter = "node_exporter";
    /// <summary>The blackbox_exporter agent on every host (from <c>monitored</c>).</summary>
    public const string BlackboxExporter = "blackbox_exporter";

    /// <summary>Every role in TiUP's start order (<c>ComponentsByStartOrder</c>), etcd just before prometheus, the agents last.</summary>
    public static ImmutableArray<string> StartOrder { get; } =
    [
        Pd, Tso, Scheduling, Router, ResourceManager, TiDBDashboard, TiProxy, TiKV, Pump, TiDB, TiFlash, Drainer, Cdc,
        TiKVCdc, Etcd, Prometheus, Grafana, Alertmanager, TiSparkMaster, TiSparkWorker, NodeExporter, BlackboxExporter,
    ];

    /// <summary>Whether a role is one of the two monitoring agents deployed on every host.</summary>
    public static bool IsMonitoringAgent(string role) => role is NodeExporter or BlackboxExporter;

    /// <summary>The position of a role in <see cref="StartOrder"/>; stop order is the reverse.</summary>
    public static int StartIndex(string role) => StartOrder.IndexOf(role) is var i and >= 0 ? i : int.MaxValue;
}

/// <summary>A topology section and what TiUP derives from it: role, default package, ports, name rule.</summary>
internal sealed record RoleDefinition(
    string Section,
    string Role,
    string DefaultComponent,
    StructSchema Schema,
    string? SourceKey,
    string? VersionKey,
    string? NamePrefix)
{
    /// <summary>The port fields, in struct order (TiUP's <c>portTypes</c> are all fields named *Port except ssh).</summary>
    public ImmutableArray<string> PortKeys { get; } =
        [.. Schema.Fields.Where(IsPort).Select(f => f.Key)];

    /// <summary>The "stem" port naming dirs and units: the first of Port, ClientPort, WebPort, TCPPort (<c>getPort</c>).</summary>
    public string MainPortKey { get; } =
        Schema.Fields.First(f => f.Key is "port" or "client_port" or "web_port" or "tcp_port").Key;

    /// <summary>Whether a field is a port of the instance (<c>port</c> or <c>*_port</c>, but not <c>ssh_port</c>).</summary>
    public static bool IsPort(Field field) =>
        field.Kind == FieldKind.Int && (field.Key == "port" || field.Key.EndsWith("_port", StringComparison.Ordinal)) && field.Key != "ssh_port";

    /// <summary>All sections in yaml.v3's output order (the order of <c>Specification</c>'s fields), etcd appended.</summary>
    public static ImmutableArray<RoleDefinition> All { get; } =
    [
        new("tidb_servers", Roles.TiDB, "tidb", Schemas.TiDB, "tidb", "tidb", null),
        new("tikv_servers", Roles.TiKV, "tikv", Schemas.TiKV, "tikv", "tikv", null),
        new("tiflash_servers", Roles.TiFlash, "tiflash", Schemas.TiFlash, "tiflash", "tiflash", null),
        new("tiproxy_servers", Roles.TiProxy, "tiproxy", Schemas.TiProxy, null, "tiproxy", null),
        new("pd_servers", Roles.Pd, "pd", Schemas.Pd, "pd", "pd", "pd"),
        new("tso_servers", Roles.Tso, "pd", Schemas.PdService("tso_servers"), "pd", "tso", "tso"),
        new("scheduling_servers", Roles.Scheduling, "pd", Schemas.PdService("scheduling_servers"), "pd", "scheduling", "scheduling"),
        new("resource_manager_servers", Roles.ResourceManager, "pd", Schemas.PdService("resource_manager_servers"), "pd", "resource_manager", "resourcemanager"),
        new("router_servers", Roles.Router, "pd", Schemas.PdService("router_servers"), "pd", "router", "router"),
        new("tidb_dashboard_servers", Roles.TiDBDashboard, "tidb-dashboard", Schemas.Dashboard, "tidb_dashboard", "tidb_dashboard", null),
        new("pump_servers", Roles.Pump, "pump", Schemas.Pump, "pump", "pump", null),
        new("drainer_servers", Roles.Drainer, "drainer", Schemas.Drainer, "drainer", "drainer", null),
        new("cdc_servers", Roles.Cdc, "cdc", Schemas.Cdc, "cdc", "cdc", null),
        new("kvcdc_servers", Roles.TiKVCdc, "tikv-cdc", Schemas.TiKVCdc, "kvcdc", "kvcdc", null),
        new("tispark_masters", Roles.TiSparkMaster, "tispark", Schemas.TiSparkMaster, null, null, null),
        new("tispark_workers", Roles.TiSparkWorker, "tispark", Schemas.TiSparkWorker, null, null, null),
        new("monitoring_servers", Roles.Prometheus, "prometheus", Schemas.Prometheus, null, "prometheus", null),
        new("grafana_servers", Roles.Grafana, "grafana", Schemas.Grafana, null, "grafana", null),
        new("alertmanager_servers", Roles.Alertmanager, "alertmanager", Schemas.Alertmanager, null, "alertmanager", null),
        new("etcd_servers", Roles.Etcd, "etcd", Schemas.Etcd, null, "etcd", "etcd"),
    ];

    /// <summary>Sections whose empty list yaml.v3 still writes (no <c>omitempty</c>).</summary>
    public bool AlwaysWritten => Section is "tidb_servers" or "tikv_servers" or "tiflash_servers" or "tiproxy_servers" or "pd_servers" or "monitoring_servers";

    /// <summary>Finds a role's definition.</summary>
    public static RoleDefinition ForRole(string role) => All.First(r => r.Role == role);
}
