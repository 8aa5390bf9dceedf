// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Core.Topology.Yaml;

namespace Tug.Core.Topology;

/// <summary>
/// Turns a <see cref="Topology"/> back into TiUP's <c>Specification</c> shape: struct field order, yaml.v3's
/// <c>omitempty</c> rules (zero values dropped, fields without omitempty always written), defaults filled,
/// instance dirs absolute, the monitoring agents left out (TiUP derives them, so does Tug).
/// </summary>
internal static class TopologyWriter
{
    public static ConfigMap ToMap(Topology topology)
    {
        var entries = new List<KeyValuePair<string, object?>>
        {
            new("global", Struct(Schemas.Global, key => Global(topology.Global, key))),
            new("monitored", Struct(Schemas.Monitored, key => Monitored(topology.Monitored, key))),
        };

        AddIfAny(entries, "component_versions", Struct(Schemas.ComponentVersions, key => topology.ComponentVersions.GetValueOrDefault(key, string.Empty)));
        AddIfAny(entries, "component_sources", Struct(Schemas.ComponentSources, key => topology.ComponentSources.GetValueOrDefault(key, string.Empty)));
        if (Schemas.ServerConfigs.Fields.Any(f => topology.ServerConfigs.GetMap(f.Key).Count > 0))
        {
            entries.Add(new("server_configs", Struct(Schemas.ServerConfigs, key => topology.ServerConfigs.GetMap(key))));
        }

        foreach (var role in RoleDefinition.All)
        {
            var items = topology.Servers.Where(s => s.Role == role.Role).Select(s => (object?)Instance(role, s)).ToImmutableArray();
            if (items.Length > 0 || role.AlwaysWritten)
            {
                entries.Add(new(role.Section, items));
            }
        }

        return new ConfigMap(entries);
    }

    private static void AddIfAny(List<KeyValuePair<string, object?>> entries, string key, ConfigMap value)
    {
        if (value.Count > 0)
        {
            entries.Add(new(key, value));
        }
    }

    private static ConfigMap Instance(RoleDefinition role, InstanceSpec s) => Struct(role.Schema, key =>
    {
        var port = s.Ports.FirstOrDefault(p => p.Name == key);
        return key switch
        {
            _ when port.Name is not null => (long)port.Number,
            "host" => s.Host,
            "manage_host" => s.ManageHost == s.Host ? string.Empty : s.ManageHost,
            "ssh_port" => (long)s.SshPort,
            "name" => s.Name ?? string.Empty,
            "deploy_dir" => s.DeployDir,
            "data_dir" => string.Join(',', s.DataDirs),
            "log_dir" => s.LogDir,
            "config" => s.Config,
            "resource_control" => ResourceControl(s.ResourceControl),
            "arch" => s.Arch,
            "os" => s.Os,
            "numa_node" => s.NumaNode,
            "numa_cores" => s.NumaCores,
            "ignore_exporter" => s.IgnoreExporter,
            "commit_ts" => null,
            _ => s.Extras.TryGetValue(key, out var extra) ? extra : null,
        };
    });

    private static object? Global(GlobalOptions g, string key) => key switch
    {
        "user" => g.User,
        "group" => g.Group,
        "ssh_port" => (long)g.SshPort,
        "ssh_type" => g.SshType,
        "enable_tls" => g.EnableTls,
        "listen_host" => g.ListenHost,
        "deploy_dir" => g.DeployDir,
        "data_dir" => g.DataDir,
        "log_dir" => g.LogDir,
        "resource_control" => ResourceControl(g.ResourceControl),
        "os" => g.Os,
        "arch" => g.Arch,
        "custom" => g.Custom,
        "systemd_mode" => g.SystemdMode,
        "pd_mode" => g.PdMode,
        _ => null,
    };

    private static object? Monitored(MonitoredOptions m, string key) => key switch
    {
        "node_exporter_port" => (long)m.NodeExporterPort,
        "blackbox_exporter_port" => (long)m.BlackboxExporterPort,
        "node_exporter_version" => m.NodeExporterVersion,
        "blackbox_exporter_version" => m.BlackboxExporterVersion,
        "deploy_dir" => m.DeployDir,
        "data_dir" => m.DataDir,
        "log_dir" => m.LogDir,
        "numa_node" => m.NumaNode,
        "resource_control" => ResourceControl(m.ResourceControl),
        _ => null,
    };

    private static ConfigMap ResourceControl(ResourceControl rc) => new(
    [
        new("memory_limit", rc.MemoryLimit), new("cpu_quota", rc.CpuQuota),
        new("io_read_bandwidth_max", rc.IoReadBandwidthMax), new("io_write_bandwidth_max", rc.IoWriteBandwidthMax),
        new("limit_core", rc.LimitCore), new("timeout_stop_sec", rc.TimeoutStopSec), new("timeout_start_sec", rc.TimeoutStartSec),
    ]);

    /// <summary>Writes a struct: its fields in order, nested structs recursively, omitempty zero values dropped.</summary>
    private static ConfigMap Struct(StructSchema schema, Func<string, object?> get)
    {
        var entries = new List<KeyValuePair<string, object?>>();
        foreach (var field in schema.Fields)
        {
            var value = get(field.Key);
            value = field.Kind switch
            {
                FieldKind.Struct => Struct(field.Nested!, key => (value as ConfigMap)?.GetValueOrDefault(key)),
                FieldKind.StructList => (value is ImmutableArray<object?> list ? list : [])
                    .Select(item => (object?)Struct(field.Nested!, key => (item as ConfigMap)?.GetValueOrDefault(key))).ToImmutableArray(),
                FieldKind.Map or FieldKind.TextMap => value ?? ConfigMap.Empty,
                FieldKind.TextList or FieldKind.MapList => value ?? ImmutableArray<object?>.Empty,
                FieldKind.Text => value ?? string.Empty,
                FieldKind.Int or FieldKind.Long => value ?? 0L,
                FieldKind.Bool => value ?? false,
                _ => value,
            };

            if (!(field.OmitEmpty && IsZero(value)))
            {
                entries.Add(new(field.Key, value));
            }
        }

        return new ConfigMap(entries);
    }

    /// <summary>yaml.v3's <c>isZero</c>; a written struct whose fields were all zero is already an empty map.</summary>
    internal static bool IsZero(object? value) => value switch
    {
        null => true,
        string s => s.Length == 0,
        long n => n == 0,
        double d => d == 0,
        bool b => !b,
        ConfigMap m => m.Count == 0,
        ImmutableArray<object?> l => l.IsDefaultOrEmpty,
        _ => false,
    };
}
