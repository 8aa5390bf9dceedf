// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;

namespace Tug.Core.Topology.Yaml;

/// <summary>What <c>edit-config</c> lets a user do to a field (TiUP's <c>validate:</c> struct tags, <c>pkg/utils/diff.go</c>).</summary>
internal enum EditRule
{
    /// <summary>No tag: the value may not change (host, ports, dirs, user, versions...).</summary>
    Fixed,

    /// <summary><c>:editable</c>: the value may change.</summary>
    Editable,

    /// <summary><c>:ignore</c>: anything under it may change (config maps, server_configs, additional_args...).</summary>
    Ignore,

    /// <summary><c>:expandable</c>: a comma-separated list of paths may gain paths, keeping its first and every old one (TiFlash <c>data_dir</c>).</summary>
    Expandable,
}

/// <summary>
/// TiUP's <c>validate:</c> tags of <c>pkg/cluster/spec/*.go</c> and <c>pkg/meta/resource_ctrl.go</c> (commit 842f05cc),
/// by struct and YAML key; a field not listed is <see cref="EditRule.Fixed"/>. Tug's etcd role follows PD's rules.
/// </summary>
internal static class EditRules
{
    private static readonly ImmutableArray<string> InstanceCommon = ["manage_host:editable", "ssh_port:editable", "source:editable", "numa_node:editable", "config:ignore", "resource_control:editable"];

    private static readonly ImmutableDictionary<string, ImmutableDictionary<string, EditRule>> ByStruct = new Dictionary<string, string[]>
    {
        ["topology"] = ["global:editable", "monitored:editable", "component_versions:editable", "component_sources:editable", "server_configs:ignore"],
        ["global"] = ["ssh_port:editable", "listen_host:editable", "resource_control:editable", "custom:ignore", "pd_mode:editable"],
        ["monitored"] = ["numa_node:editable", "resource_control:editable"],

        // component_versions: the struct is editable, its fields are not (a version changes with `upgrade`).
        ["component_versions"] = [],
        ["component_sources"] = ["tidb:editable", "tikv:editable", "tiflash:editable", "pd:editable", "tidb_dashboard:editable", "pump:editable", "drainer:editable", "cdc:editable", "kvcdc:editable"],
        ["resource_control"] = ["memory_limit:editable", "cpu_quota:editable", "io_read_bandwidth_max:editable", "io_write_bandwidth_max:editable", "limit_core:editable", "timeout_stop_sec:editable", "timeout_start_sec:editable"],
        ["remote_config"] = ["remote_write:ignore", "remote_read:ignore"],
        ["pd_servers"] = [.. InstanceCommon],
        ["tso_servers"] = ["manage_host:editable", "ssh_port:editable", "source:editable", "numa_node:editable", "config:ignore"],
        ["scheduling_servers"] = ["manage_host:editable", "ssh_port:editable", "source:editable", "numa_node:editable", "config:ignore"],
        ["resource_manager_servers"] = ["manage_host:editable", "ssh_port:editable", "source:editable", "numa_node:editable", "config:ignore"],
        ["router_servers"] = ["manage_host:editable", "ssh_port:editable", "source:editable", "numa_node:editable", "config:ignore"],
        ["tidb_dashboard_servers"] = [.. InstanceCommon],
        ["tiproxy_servers"] = ["manage_host:editable", "ssh_port:editable", "numa_node:editable", "config:ignore"],
        ["tikv_servers"] = [.. InstanceCommon, "numa_cores:editable"],
        ["pump_servers"] = [.. InstanceCommon],
        ["tidb_servers"] = [.. InstanceCommon, "numa_cores:editable"],
        ["tiflash_servers"] = [.. InstanceCommon, "numa_cores:editable", "data_dir:expandable", "learner_config:ignore"],
        ["drainer_servers"] = [.. InstanceCommon, "commit_ts:editable"],
        ["cdc_servers"] = [.. InstanceCommon, "gc-ttl:editable", "tz:editable"],
        ["kvcdc_servers"] = [.. InstanceCommon, "gc-ttl:editable", "tz:editable"],
        ["tispark_masters"] = ["manage_host:editable", "ssh_port:editable", "java_home:editable", "spark_config:ignore", "spark_env:ignore"],
        ["tispark_workers"] = ["ssh_port:editable", "java_home:editable"],
        ["monitoring_servers"] =
        [
            "manage_host:editable", "ssh_port:editable", "ng_port:editable", "numa_node:editable", "prom_remote_write_to_vm:editable",
            "enable_prom_agent_mode:editable", "remote_config:ignore", "external_alertmanagers:ignore", "pushgateway_addrs:ignore",
            "storage_retention:editable", "storage_retention_size:editable", "storage_retention_time:editable", "resource_control:editable",
            "rule_dir:editable", "additional_scrape_conf:ignore", "scrape_interval:editable", "scrape_timeout:editable",
            "additional_args:ignore", "ng_monitoring_config:ignore",
        ],
        ["grafana_servers"] =
        [
            "manage_host:editable", "ssh_port:editable", "config:ignore", "resource_control:editable", "dashboard_dir:editable",
            "username:editable", "password:editable", "anonymous_enable:editable", "root_url:editable", "domain:editable",
            "default_theme:editable", "org_name:editable", "org_role:editable", "use_vm_as_datasource:editable",
        ],
        ["alertmanager_servers"] =
        [
            "manage_host:editable", "ssh_port:editable", "listen_host:editable", "numa_node:editable", "resource_control:editable",
            "additional_args:ignore", "config_file:editable",
        ],
        ["etcd_servers"] = ["manage_host:editable", "ssh_port:editable", "numa_node:editable", "config:ignore", "resource_control:editable"],
    }.ToImmutableDictionary(e => e.Key, e => e.Value.Select(Parse).ToImmutableDictionary(p => p.Key, p => p.Rule));

    /// <summary>The rule of a field of a struct (by the struct's schema name); unknown structs and fields are fixed.</summary>
    public static EditRule Of(string structName, string key) =>
        ByStruct.TryGetValue(structName, out var fields) && fields.TryGetValue(key, out var rule) ? rule : EditRule.Fixed;

    private static (string Key, EditRule Rule) Parse(string tag)
    {
        var at = tag.LastIndexOf(':');
        return (tag[..at], tag[(at + 1)..] switch
        {
            "editable" => EditRule.Editable,
            "ignore" => EditRule.Ignore,
            "expandable" => EditRule.Expandable,
            var other => throw new ArgumentException($"unknown edit rule '{other}' in '{tag}'", nameof(tag)),
        });
    }
}
