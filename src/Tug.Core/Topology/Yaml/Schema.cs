// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;

namespace Tug.Core.Topology.Yaml;

/// <summary>The Go type of a TiUP struct field, as far as decoding and encoding care.</summary>
internal enum FieldKind
{
    /// <summary><c>string</c>.</summary>
    Text,

    /// <summary><c>int</c>.</summary>
    Int,

    /// <summary><c>int64</c>.</summary>
    Long,

    /// <summary><c>*int64</c> (null when absent).</summary>
    OptionalLong,

    /// <summary><c>bool</c>.</summary>
    Bool,

    /// <summary><c>map[string]any</c>, kept raw.</summary>
    Map,

    /// <summary><c>map[string]string</c>.</summary>
    TextMap,

    /// <summary><c>[]string</c>.</summary>
    TextList,

    /// <summary><c>[]map[string]any</c>.</summary>
    MapList,

    /// <summary><c>any</c>, kept raw.</summary>
    Any,

    /// <summary>A nested struct, decoded strictly with <see cref="Field.Nested"/>.</summary>
    Struct,

    /// <summary>A list of nested structs.</summary>
    StructList,
}

/// <summary>One field of a TiUP struct: YAML key, type, whether yaml.v3 omits its zero value, and its <c>default:</c> tag.</summary>
internal sealed record Field(string Key, FieldKind Kind, bool OmitEmpty = true, object? Default = null, StructSchema? Nested = null);

/// <summary>A TiUP struct as data: its fields in declaration order (which is also yaml.v3's output order).</summary>
internal sealed record StructSchema(string Name, ImmutableArray<Field> Fields)
{
    private readonly Dictionary<string, Field> _byKey = Fields.ToDictionary(f => f.Key, StringComparer.Ordinal);

    /// <summary>The field for a key, or null when TiUP's struct has no such field.</summary>
    public Field? Find(string key) => _byKey.GetValueOrDefault(key);

    /// <summary>Whether the struct declares the field.</summary>
    public bool Has(string key) => _byKey.ContainsKey(key);
}

/// <summary>TiUP's topology structs (<c>pkg/cluster/spec/*.go</c>, commit 842f05cc), field by field, plus Tug's etcd role.</summary>
internal static class Schemas
{
    private static Field T(string key, bool omitEmpty = true, string? @default = null) => new(key, FieldKind.Text, omitEmpty, @default);

    private static Field I(string key, bool omitEmpty = true, int? @default = null) => new(key, FieldKind.Int, omitEmpty, @default);

    private static Field B(string key, bool omitEmpty = true) => new(key, FieldKind.Bool, omitEmpty);

    private static Field M(string key, bool omitEmpty = true) => new(key, FieldKind.Map, omitEmpty);

    private static Field RC() => new("resource_control", FieldKind.Struct, Nested: ResourceControl);

    /// <summary><c>meta.ResourceControl</c>.</summary>
    public static readonly StructSchema ResourceControl = new("resource_control",
    [
        T("memory_limit"), T("cpu_quota"), T("io_read_bandwidth_max"), T("io_write_bandwidth_max"),
        T("limit_core"), T("timeout_stop_sec"), T("timeout_start_sec"),
    ]);

    /// <summary><c>GlobalOptions</c>.</summary>
    public static readonly StructSchema Global = new("global",
    [
        T("user", @default: "tidb"), T("group"), I("ssh_port", @default: 22), T("ssh_type", @default: "builtin"),
        B("enable_tls"), T("listen_host"), T("deploy_dir", @default: "deploy"), T("data_dir", @default: "data"),
        T("log_dir"), RC(), T("os", @default: "linux"), T("arch"), new("custom", FieldKind.Any),
        T("systemd_mode", @default: "system"), T("pd_mode"),
    ]);

    /// <summary><c>MonitoredOptions</c>.</summary>
    public static readonly StructSchema Monitored = new("monitored",
    [
        I("node_exporter_port", @default: 9100), I("blackbox_exporter_port", @default: 9115),
        T("node_exporter_version"), T("blackbox_exporter_version"),
        T("deploy_dir"), T("data_dir"), T("log_dir"), T("numa_node"), RC(),
    ]);

    /// <summary><c>ComponentVersions</c>; <c>etcd</c> is Tug's extension.</summary>
    public static readonly StructSchema ComponentVersions = new("component_versions",
    [
        T("tidb"), T("tikv"), T("tiflash"), T("pd"), T("tso"), T("scheduling"), T("resource_manager"), T("router"),
        T("tidb_dashboard"), T("pump"), T("drainer"), T("cdc"), T("kvcdc"), T("tiproxy"), T("prometheus"),
        T("grafana"), T("alertmanager"), T("etcd"),
    ]);

    /// <summary><c>ComponentSources</c>.</summary>
    public static readonly StructSchema ComponentSources = new("component_sources",
    [
        T("tidb"), T("tikv"), T("tiflash"), T("pd"), T("tidb_dashboard"), T("pump"), T("drainer"), T("cdc"), T("kvcdc"),
    ]);

    /// <summary><c>ServerConfigs</c> (no omitempty on its keys: yaml.v3 writes <c>{}</c> for each empty one).</summary>
    public static readonly StructSchema ServerConfigs = new("server_configs",
    [
        M("tidb", false), M("tikv", false), M("pd", false), M("tso", false), M("scheduling", false),
        M("resource_manager", false), M("router", false), M("tidb_dashboard", false), M("tiflash", false),
        M("tiproxy", false), M("tiflash-learner", false), M("pump", false), M("drainer", false), M("cdc", false),
        M("kvcdc", false), new("grafana", FieldKind.TextMap, false), M("ng_monitoring", false),
    ]);

    private static readonly StructSchema Remote = new("remote_config",
    [
        new("remote_write", FieldKind.MapList), new("remote_read", FieldKind.MapList),
    ]);

    private static readonly StructSchema ExternalAlertmanager = new("external_alertmanagers",
    [
        T("host", false), I("web_port", false, 9093),
    ]);

    public static readonly StructSchema Pd = new("pd_servers",
    [
        T("host", false), T("manage_host"), T("listen_host"), T("advertise_client_addr"), T("advertise_peer_addr"),
        I("ssh_port"), B("patched"), B("ignore_exporter"), T("name", false), I("client_port", false, 2379),
        I("peer_port", false, 2380), T("deploy_dir"), T("data_dir"), T("log_dir"), T("source"), T("numa_node"),
        M("config"), RC(), T("arch"), T("os"),
    ]);

    /// <summary>TSO, scheduling, resource-manager and router share one shape.</summary>
    public static StructSchema PdService(string section) => new(section,
    [
        T("host", false), T("manage_host"), T("listen_host"), T("advertise_listen_addr"), I("ssh_port"),
        B("ignore_exporter"), T("name"), I("port", false, 3379), T("deploy_dir"), T("data_dir"), T("log_dir"),
        T("source"), T("numa_node"), M("config"), T("arch"), T("os"),
    ]);

    public static readonly StructSchema Dashboard = new("tidb_dashboard_servers",
    [
        T("host", false), T("manage_host"), I("ssh_port"), B("patched"), B("ignore_exporter"), I("port", false, 12333),
        T("deploy_dir"), T("data_dir"), T("log_dir"), T("source"), T("numa_node"), M("config"), RC(), T("arch"), T("os"),
    ]);

    public static readonly StructSchema TiProxy = new("tiproxy_servers",
    [
        T("host", false), T("manage_host"), I("ssh_port"), I("port", false, 6000), I("status_port", false, 3080),
        T("deploy_dir"), T("numa_node"), M("config"), T("arch"), T("os"),
    ]);

    public static readonly StructSchema TiKV = new("tikv_servers",
    [
        T("host", false), T("manage_host"), T("listen_host"), T("advertise_addr"), I("ssh_port"), B("patched"),
        B("ignore_exporter"), I("port", false, 20160), I("status_port", false, 20180), T("advertise_status_addr"),
        T("deploy_dir"), T("data_dir"), T("log_dir"), B("offline"), T("source"), T("numa_node"), T("numa_cores"),
        M("config"), RC(), T("arch"), T("os"),
    ]);

    public static readonly StructSchema Pump = new("pump_servers",
    [
        T("host", false), T("manage_host"), I("ssh_port"), B("patched"), B("ignore_exporter"), I("port", false, 8250),
        T("deploy_dir"), T("data_dir"), T("log_dir"), B("offline"), T("source"), T("numa_node"), M("config"), RC(),
        T("arch"), T("os"),
    ]);

    public static readonly StructSchema TiDB = new("tidb_servers",
    [
        T("host", false), T("manage_host"), T("listen_host"), T("advertise_address"), I("ssh_port"), B("patched"),
        B("ignore_exporter"), I("port", false, 4000), I("status_port", false, 10080), T("deploy_dir"), T("log_dir"),
        T("source"), T("numa_node"), T("numa_cores"), M("config"), RC(), T("arch"), T("os"),
    ]);

    public static readonly StructSchema TiFlash = new("tiflash_servers",
    [
        T("host", false), T("manage_host"), I("ssh_port"), B("patched"), B("ignore_exporter"), I("tcp_port", false, 9000),
        I("http_port", false, 8123), I("flash_service_port", false, 3930), I("flash_proxy_port", false, 20170),
        I("flash_proxy_status_port", false, 20292), I("metrics_port", false, 8234), T("deploy_dir"), T("data_dir"),
        T("log_dir"), T("tmp_path"), B("offline"), T("source"), T("numa_node"), T("numa_cores"), M("config"),
        M("learner_config"), RC(), T("arch"), T("os"),
    ]);

    public static readonly StructSchema Drainer = new("drainer_servers",
    [
        T("host", false), T("manage_host"), I("ssh_port"), B("patched"), B("ignore_exporter"), I("port", false, 8249),
        T("deploy_dir"), T("data_dir"), T("log_dir"), new("commit_ts", FieldKind.OptionalLong), B("offline"),
        T("source"), T("numa_node"), M("config"), RC(), T("arch"), T("os"),
    ]);

    public static readonly StructSchema Cdc = new("cdc_servers",
    [
        T("host", false), T("manage_host"), I("ssh_port"), B("patched"), B("ignore_exporter"), I("port", false, 8300),
        T("deploy_dir"), T("data_dir"), T("log_dir"), B("offline"), new("gc-ttl", FieldKind.Long), T("tz"),
        T("ticdc_cluster_id", false), T("source"), T("numa_node"), M("config"), RC(), T("arch"), T("os"),
    ]);

    public static readonly StructSchema TiKVCdc = new("kvcdc_servers",
    [
        T("host", false), T("manage_host"), I("ssh_port"), B("patched"), B("ignore_exporter"), I("port", false, 8600),
        T("deploy_dir"), T("data_dir"), T("log_dir"), B("offline"), new("gc-ttl", FieldKind.Long), T("tz"),
        T("source"), T("numa_node"), M("config"), RC(), T("arch"), T("os"),
    ]);

    public static readonly StructSchema TiSparkMaster = new("tispark_masters",
    [
        T("host", false), T("manage_host"), T("listen_host"), I("ssh_port"), B("patched"), B("ignore_exporter"),
        I("port", false, 7077), I("web_port", false, 8080), T("deploy_dir"), T("java_home"), M("spark_config"),
        new("spark_env", FieldKind.TextMap), T("arch"), T("os"),
    ]);

    public static readonly StructSchema TiSparkWorker = new("tispark_workers",
    [
        T("host", false), T("manage_host"), T("listen_host"), I("ssh_port"), B("patched"), B("ignore_exporter"),
        I("port", false, 7078), I("web_port", false, 8081), T("deploy_dir"), T("java_home"), T("arch"), T("os"),
    ]);

    public static readonly StructSchema Prometheus = new("monitoring_servers",
    [
        T("host", false), T("manage_host"), I("ssh_port"), B("patched"), B("ignore_exporter"), I("port", false, 9090),
        I("ng_port"), T("deploy_dir"), T("data_dir"), T("log_dir"), T("numa_node"), B("prom_remote_write_to_vm"),
        B("enable_prom_agent_mode"), new("remote_config", FieldKind.Struct, Nested: Remote),
        new("external_alertmanagers", FieldKind.StructList, false, Nested: ExternalAlertmanager),
        new("pushgateway_addrs", FieldKind.TextList), T("storage_retention"), T("storage_retention_size"),
        T("storage_retention_time"), RC(), T("arch"), T("os"), T("rule_dir"), M("additional_scrape_conf"),
        T("scrape_interval"), T("scrape_timeout"), new("additional_args", FieldKind.TextList), M("ng_monitoring_config"),
    ]);

    public static readonly StructSchema Grafana = new("grafana_servers",
    [
        T("host", false), T("manage_host"), I("ssh_port"), B("patched"), B("ignore_exporter"), I("port", false, 3000),
        T("deploy_dir"), new("config", FieldKind.TextMap), RC(), T("arch"), T("os"), T("dashboard_dir"),
        T("username", @default: "admin"), T("password", @default: "admin"), B("anonymous_enable", false),
        T("root_url", false), T("domain", false), T("default_theme"), T("org_name"), T("org_role"),
        B("use_vm_as_datasource"),
    ]);

    public static readonly StructSchema Alertmanager = new("alertmanager_servers",
    [
        T("host", false), T("manage_host"), I("ssh_port"), B("patched"), B("ignore_exporter"), I("web_port", false, 9093),
        I("cluster_port", false, 9094), T("listen_host"), T("deploy_dir"), T("data_dir"), T("log_dir"), T("numa_node"),
        RC(), new("additional_args", FieldKind.TextList), T("arch"), T("os"), T("config_file"),
    ]);

    /// <summary>Tug's extension: a plain etcd cluster (shaped like PD without the TiDB-specific fields; <c>offline</c> as TiKV's, for <c>prune</c>).</summary>
    public static readonly StructSchema Etcd = new("etcd_servers",
    [
        T("host", false), T("manage_host"), T("listen_host"), I("ssh_port"), B("ignore_exporter"), T("name", false),
        I("client_port", false, 2379), I("peer_port", false, 2380), T("deploy_dir"), T("data_dir"), T("log_dir"),
        T("numa_node"), M("config"), RC(), T("arch"), T("os"), B("offline"),
    ]);
}
