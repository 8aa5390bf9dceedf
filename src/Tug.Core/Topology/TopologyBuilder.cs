// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Globalization;
using Tug.Core.Topology.Yaml;

namespace Tug.Core.Topology;

/// <summary>
/// Turns a parsed topology document into the model, in TiUP's order (<c>Specification.UnmarshalYAML</c>):
/// decode against the schema, apply <c>default:</c> tags, monitored dir defaults, per-instance defaults
/// (<c>setCustomDefaults</c>), the TiFlash data-dir override, drop drainer <c>commit_ts</c>, then expand
/// relative dirs (<c>ExpandRelativeDir</c>) and add the monitoring agents.
/// </summary>
internal sealed class TopologyBuilder
{
    private static readonly string[] TopLevelKeys =
        ["global", "monitored", "component_versions", "component_sources", "server_configs", .. RoleDefinition.All.Select(r => r.Section)];

    private static readonly HashSet<string> CommonKeys =
    [
        "host", "manage_host", "ssh_port", "name", "deploy_dir", "data_dir", "log_dir", "config", "resource_control",
        "arch", "os", "numa_node", "numa_cores", "ignore_exporter", "commit_ts",
    ];

    private readonly string _file;
    private readonly List<TopologyDiagnostic> _errors = [];
    private readonly SchemaBinder _binder;

    private TopologyBuilder(string file, bool strict)
    {
        _file = file;
        _binder = new SchemaBinder(file, strict, _errors);
    }

    /// <summary>Builds a topology from YAML text; strict for topology files, tolerant for meta.yaml.</summary>
    /// <exception cref="TopologyException">Syntax, schema or (when <paramref name="validate"/>) validation errors, all of them.</exception>
    public static Topology Build(string yaml, string file, bool strict, bool validate)
    {
        var root = YamlTree.Parse(yaml, file);
        return FromNode(root, file, strict, validate);
    }

    /// <summary>Builds a topology from an already parsed node (meta.yaml's <c>topology</c>).</summary>
    public static Topology FromNode(YNode? root, string file, bool strict, bool validate)
    {
        var builder = new TopologyBuilder(file, strict);
        var sections = builder.BindRoot(root);
        builder.ThrowIfErrors();
        var topology = builder.Assemble(sections, inherited: null);
        builder.ThrowIfErrors();
        return validate ? builder.Validated(topology) : topology;
    }

    /// <summary>
    /// Builds a scale-out part on top of a cluster: the part's <c>global</c>, <c>monitored</c> and
    /// <c>server_configs</c> are ignored as in TiUP, its new instances get the cluster's defaults, and the merged
    /// topology is validated as a whole.
    /// </summary>
    public static Topology BuildScaleOut(string yaml, string file, Topology cluster)
    {
        var builder = new TopologyBuilder(file, strict: true);
        var root = YamlTree.Parse(yaml, file);
        if (root is YMap map)
        {
            root = map with { Entries = [.. map.Entries.Where(e => e.Key.Value is not ("global" or "monitored" or "server_configs"))] };
        }

        var sections = builder.BindRoot(root);
        builder.ThrowIfErrors();
        var part = builder.Assemble(sections, cluster);
        builder.ThrowIfErrors();
        var merged = WithAgents(cluster with
        {
            ComponentVersions = cluster.ComponentVersions.SetItems(part.ComponentVersions),
            ComponentSources = cluster.ComponentSources.SetItems(part.ComponentSources),
        }, [.. cluster.Servers, .. part.Servers]);
        return builder.Validated(merged);
    }

    /// <summary>Recomputes the monitoring agents for a set of servers: one node_exporter and one blackbox_exporter per manage host.</summary>
    public static Topology WithAgents(Topology topology, IEnumerable<InstanceSpec> servers)
    {
        var ordered = servers.OrderBy(s => Roles.StartIndex(s.Role)).ToImmutableArray();
        return topology with { Instances = [.. ordered, .. Agents(ordered, topology.Monitored, topology.File)] };
    }

    /// <summary>TiUP's arch normalization: <c>x86_64</c> is <c>amd64</c>, <c>aarch64</c> is <c>arm64</c>, lowercase.</summary>
    public static string NormalizeArch(string arch) => arch.ToLowerInvariant() switch
    {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        var other => other,
    };

    private Topology Validated(Topology topology)
    {
        _errors.AddRange(TopologyValidator.Validate(topology));
        ThrowIfErrors();
        return topology;
    }

    private void ThrowIfErrors()
    {
        if (_errors.Count > 0)
        {
            throw new TopologyException(_errors
                .OrderBy(e => e.Location.Line == 0 ? int.MaxValue : e.Location.Line)
                .ThenBy(e => e.Location.Column)
                .DistinctBy(e => (e.Code, e.Location, e.Message)));
        }
    }

    private Dictionary<string, (YNode Node, YScalar Key)> BindRoot(YNode? root)
    {
        var sections = new Dictionary<string, (YNode, YScalar)>(StringComparer.Ordinal);
        if (root is null || SchemaBinder.IsNull(root))
        {
            return sections;
        }

        if (root is not YMap map)
        {
            _binder.Error(TopologyErrors.BadValue, root, $"a topology must be a mapping of sections, not {SchemaBinder.Describe(root)}", "Start the file with sections such as 'global:' and 'pd_servers:'.");
            return sections;
        }

        foreach (var entry in map.Entries)
        {
            if (!TopLevelKeys.Contains(entry.Key.Value))
            {
                _binder.UnknownKey(entry.Key, "the topology", TopLevelKeys);
                continue;
            }

            sections[entry.Key.Value] = (entry.Value, entry.Key);
        }

        return sections;
    }

    private Topology Assemble(Dictionary<string, (YNode Node, YScalar Key)> sections, Topology? inherited)
    {
        var top = new SourceLocation(_file, 1, 1);
        BoundStruct Section(string key, StructSchema schema) =>
            sections.TryGetValue(key, out var s) ? _binder.BindStruct(s.Node, schema, key, _binder.At(s.Key)) : BoundStruct.Empty(schema, top);

        var globalBound = Section("global", Schemas.Global);
        var monitoredBound = Section("monitored", Schemas.Monitored);
        var versions = Texts(Section("component_versions", Schemas.ComponentVersions));
        var sources = Texts(Section("component_sources", Schemas.ComponentSources));
        var serverConfigsBound = Section("server_configs", Schemas.ServerConfigs);

        var global = inherited?.Global ?? Global(globalBound);
        var monitored = inherited?.Monitored ?? Monitored(monitoredBound, global);
        var serverConfigs = inherited?.ServerConfigs
            ?? new ConfigMap(Schemas.ServerConfigs.Fields.Where(f => serverConfigsBound.Has(f.Key)).Select(f => new KeyValuePair<string, object?>(f.Key, serverConfigsBound.Get(f.Key))));
        var effectiveSources = inherited is null ? sources : inherited.ComponentSources.SetItems(sources);

        var servers = new List<InstanceSpec>();
        foreach (var role in RoleDefinition.All)
        {
            if (!sections.TryGetValue(role.Section, out var section) || SchemaBinder.IsNull(section.Node))
            {
                continue;
            }

            if (section.Node is not YSeq items)
            {
                _binder.Error(TopologyErrors.BadValue, section.Node, $"{role.Section} must be a list of instances ('- host: ...' lines), not {SchemaBinder.Describe(section.Node)}", "Write one '- host: <address>' item per instance.");
                continue;
            }

            for (var i = 0; i < items.Items.Length; i++)
            {
                var path = $"{role.Section}[{i}]";
                var bound = _binder.BindStruct(items.Items[i], role.Schema, path, _binder.At(items.Items[i]));
                if (Instance(role, bound, items.Items[i], path, global, serverConfigs, effectiveSources) is { } instance)
                {
                    servers.Add(instance);
                }
            }
        }

        if (inherited is null && servers.Any(s => s.Role == Roles.TiFlash))
        {
            TiFlashStorage.CheckServerConfigs(serverConfigs.GetMap("tiflash"), serverConfigsBound.At("tiflash"), _errors);
        }

        var topology = new Topology
        {
            File = _file,
            Global = global,
            Monitored = monitored,
            ComponentVersions = versions,
            ComponentSources = effectiveSources,
            ServerConfigs = serverConfigs,
            Instances = [],
            Locations = Locations(("global", globalBound), ("monitored", monitoredBound))
                .SetItems(SectionLocations(sections, "global")).SetItems(SectionLocations(sections, "monitored"))
                .SetItems(SectionLocations(sections, "component_versions")).SetItems(SectionLocations(sections, "component_sources")),
        };
        return WithAgents(topology, servers);
    }

    /// <summary>An IP address in its canonical text (<see cref="HostNames"/>); anything else as written, for the validator to judge.</summary>
    private static string Host(string text) => HostNames.Normalize(text, out _) ?? text;

    /// <summary>Positions of the values nested in a section (<c>global.resource_control.memory_limit</c>...).</summary>
    private IEnumerable<KeyValuePair<string, SourceLocation>> SectionLocations(Dictionary<string, (YNode Node, YScalar Key)> sections, string key) =>
        sections.TryGetValue(key, out var s) ? NestedLocations(s.Node, key, 0) : [];

    /// <summary>
    /// Positions of a struct's values below its top level (<c>resource_control.cpu_quota</c>, <c>additional_args[1]</c>,
    /// <c>external_alertmanagers[0].host</c>), so a value refused by the validator is pointed at exactly. Free-form maps
    /// (<c>config</c> and the like) are not walked, and the walk stops three levels down.
    /// </summary>
    private IEnumerable<KeyValuePair<string, SourceLocation>> NestedLocations(YNode node, string prefix, int depth)
    {
        if (depth >= 3)
        {
            yield break;
        }

        switch (node)
        {
            case YMap map:
                foreach (var (key, value) in map.Entries)
                {
                    if (depth == 0 && FreeForm.Contains(key.Value))
                    {
                        continue;
                    }

                    var path = prefix.Length == 0 ? key.Value : $"{prefix}.{key.Value}";
                    if (depth > 0 || prefix.Length > 0)
                    {
                        yield return new(path, _binder.At(value is YScalar { Value: "", Plain: true } ? key : value));
                    }

                    foreach (var inner in NestedLocations(value, path, depth + 1))
                    {
                        yield return inner;
                    }
                }

                break;

            case YSeq seq:
                for (var i = 0; i < seq.Items.Length; i++)
                {
                    var path = $"{prefix}[{i}]";
                    yield return new(path, _binder.At(seq.Items[i]));
                    foreach (var inner in NestedLocations(seq.Items[i], path, depth + 1))
                    {
                        yield return inner;
                    }
                }

                break;
        }
    }

    private static readonly HashSet<string> FreeForm =
        ["config", "learner_config", "spark_config", "spark_env", "additional_scrape_conf", "ng_monitoring_config", "custom", "remote_config"];

    private static ImmutableSortedDictionary<string, string> Texts(BoundStruct bound) =>
        bound.Schema.Fields.Select(f => (f.Key, Value: bound.Text(f.Key))).Where(p => p.Value.Length > 0)
            .ToImmutableSortedDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    private static ImmutableDictionary<string, SourceLocation> Locations(params (string Prefix, BoundStruct Bound)[] structs) =>
        structs.SelectMany(s => s.Bound.Values.Select(v => (Key: $"{s.Prefix}.{v.Key}", v.Value.At)))
            .ToImmutableDictionary(p => p.Key, p => p.At);

    private static string Or(string value, string fallback) => value.Length > 0 ? value : fallback;

    private static int Or(int value, int fallback) => value != 0 ? value : fallback;

    private static GlobalOptions Global(BoundStruct g) => new()
    {
        User = Or(g.Text("user"), "tidb"),
        Group = g.Text("group"),
        SshPort = Or(g.Int("ssh_port"), 22),
        SshType = Or(g.Text("ssh_type"), "builtin"),
        EnableTls = g.Bool("enable_tls"),
        ListenHost = Host(g.Text("listen_host")),
        DeployDir = Or(g.Text("deploy_dir"), "deploy"),
        DataDir = Or(g.Text("data_dir"), "data"),
        LogDir = g.Text("log_dir"),
        ResourceControl = ResourceControlOf(g.Struct("resource_control")),
        Os = Or(g.Text("os"), "linux"),
        Arch = g.Text("arch"),
        Custom = g.Get("custom"),
        SystemdMode = Or(g.Text("systemd_mode"), "system"),
        PdMode = g.Text("pd_mode"),
    };

    private static MonitoredOptions Monitored(BoundStruct m, GlobalOptions global)
    {
        var nodePort = Or(m.Int("node_exporter_port"), 9100);
        var stem = $"monitor-{nodePort.ToString(CultureInfo.InvariantCulture)}";

        // spec.go UnmarshalYAML, then ExpandRelativeDir: the default log dir is joined to the (still relative)
        // deploy dir, then expanded under the absolute deploy dir again. TiUP's integration tests assert the
        // resulting doubled path (/home/tidb/deploy/monitor-9100/deploy/monitor-9100/log), so it is kept.
        var deploy = Or(m.Text("deploy_dir"), GoPath.Join(global.DeployDir, stem));
        var data = Or(m.Text("data_dir"), GoPath.Join(global.DataDir, stem));
        var log = Or(m.Text("log_dir"), "log");
        if (!log.StartsWith('/') && !log.StartsWith(deploy, StringComparison.Ordinal))
        {
            log = GoPath.Join(deploy, log);
        }

        var deployAbs = GoPath.Abs(global.User, deploy);
        return new MonitoredOptions
        {
            NodeExporterPort = nodePort,
            BlackboxExporterPort = Or(m.Int("blackbox_exporter_port"), 9115),
            NodeExporterVersion = m.Text("node_exporter_version"),
            BlackboxExporterVersion = m.Text("blackbox_exporter_version"),
            DeployDir = deployAbs,
            DataDir = ExpandData(deployAbs, data),
            LogDir = log.StartsWith('/') ? log : GoPath.Join(deployAbs, log),
            NumaNode = m.Text("numa_node"),
            ResourceControl = ResourceControlOf(m.Struct("resource_control")),
        };
    }

    private InstanceSpec? Instance(RoleDefinition role, BoundStruct b, YNode node, string path, GlobalOptions global, ConfigMap serverConfigs, ImmutableSortedDictionary<string, string> sources)
    {
        var host = Host(b.Text("host"));
        if (host.Length == 0)
        {
            _errors.Add(new TopologyDiagnostic(TopologyErrors.MissingHost, b.At("host"), $"{path} has no host", $"Add 'host: <address>' to this {role.Section} entry."));
            return null;
        }

        var schema = role.Schema;
        // ng_port has no default: 0 means "decided by the cluster version", -1 "disabled"; neither is a port in use.
        var ports = role.PortKeys
            .Select(k => new NamedPort(k, Or(b.Int(k), schema.Find(k)!.Default as int? ?? 0)))
            .Where(p => p.Name != "ng_port" || p.Number > 0)
            .ToImmutableArray();
        var mainPort = ports.First(p => p.Name == role.MainPortKey).Number;
        var stem = $"{role.Role}-{mainPort.ToString(CultureInfo.InvariantCulture)}";

        // setCustomDefaults: name, deploy_dir, data_dir, log_dir from the global options.
        string? name = null;
        if (role.NamePrefix is not null)
        {
            var namePort = schema.Has("client_port") ? ports.First(p => p.Name == "client_port").Number : mainPort;
            name = Or(b.Text("name"), $"{role.NamePrefix}-{host}-{namePort.ToString(CultureInfo.InvariantCulture)}");
        }

        var deploy = Or(b.Text("deploy_dir"), GoPath.Join(global.DeployDir, stem));
        var data = !schema.Has("data_dir") ? string.Empty
            : Or(b.Text("data_dir"), global.DataDir.StartsWith('/') ? GoPath.Join(global.DataDir, stem) : Or(global.DataDir, "data"));
        var log = !schema.Has("log_dir") ? string.Empty
            : Or(b.Text("log_dir"), global.LogDir.StartsWith('/') ? GoPath.Join(global.LogDir, stem) : Or(global.LogDir, "log"));

        var config = b.Map("config");
        if (role.Role == Roles.TiFlash)
        {
            data = TiFlashStorage.Check(b, path, data, _errors);
        }

        if (role.Role == Roles.Drainer && b.Get("commit_ts") is long commitTs && commitTs != -1
            && !serverConfigs.GetMap("drainer").ContainsKey("initial-commit-ts") && !config.ContainsKey("initial-commit-ts"))
        {
            config = config.With("initial-commit-ts", commitTs);
        }

        // ExpandRelativeDir.
        var deployAbs = GoPath.Abs(global.User, deploy);
        var listen = Or(schema.Has("listen_host") ? Host(b.Text("listen_host")) : string.Empty, global.ListenHost);
        var source = schema.Has("source") ? b.Text("source") : string.Empty;
        var component = Or(source, role.SourceKey is { } key ? sources.GetValueOrDefault(key, string.Empty) : string.Empty);

        var locations = b.Values.ToImmutableDictionary(v => v.Key, v => v.Value.At).SetItems(NestedLocations(node, string.Empty, 0));
        return new InstanceSpec
        {
            Role = role.Role,
            Component = Or(component, role.DefaultComponent),
            Host = host,
            ManageHost = Or(Host(b.Text("manage_host")), host),
            SshPort = Or(b.Int("ssh_port"), global.SshPort),
            ListenHost = Or(listen, host.Contains(':', StringComparison.Ordinal) ? "::" : "0.0.0.0"),
            Ports = ports,
            MainPort = mainPort,
            DeployDir = deployAbs,
            DataDirs = data.Length == 0 ? [] : [.. ExpandData(deployAbs, data).Split(',')],
            LogDir = log.Length == 0 ? string.Empty : log.StartsWith('/') ? log : GoPath.Join(deployAbs, log),
            Arch = NormalizeArch(b.Text("arch")),
            Os = b.Text("os").ToLowerInvariant(),
            Config = config,
            ResourceControl = ResourceControlOf(b.Struct("resource_control")),
            NumaNode = b.Text("numa_node"),
            NumaCores = b.Text("numa_cores"),
            IgnoreExporter = b.Bool("ignore_exporter"),
            Name = name,
            Extras = Extras(schema, b),
            Location = b.Start,
            Section = path,
            FieldLocations = locations,
        };
    }

    /// <summary>Every non-common field, with its default or zero value, raw (structs become maps).</summary>
    private static ConfigMap Extras(StructSchema schema, BoundStruct b) =>
        new(schema.Fields
            .Where(f => !CommonKeys.Contains(f.Key) && (!RoleDefinition.IsPort(f) || (f.Key == "ng_port" && b.Int(f.Key) <= 0)))
            .Select(f => new KeyValuePair<string, object?>(f.Key, ExtraValue(f, b))));

    private static object? ExtraValue(Field field, BoundStruct b)
    {
        var value = b.Get(field.Key);
        return field.Kind switch
        {
            FieldKind.Struct => StructToMap(value as BoundStruct ?? BoundStruct.Empty(field.Nested!, b.Start)),
            FieldKind.StructList => (value is ImmutableArray<BoundStruct> list ? list : []).Select(s => (object?)StructToMap(s)).ToImmutableArray(),
            FieldKind.Text => value is string s && s.Length > 0 ? s : field.Default as string ?? string.Empty,
            FieldKind.Bool => value is true,
            FieldKind.Int or FieldKind.Long => value is long n && n != 0 ? n : (long)(field.Default as int? ?? 0),
            FieldKind.Map or FieldKind.TextMap => value ?? ConfigMap.Empty,
            FieldKind.TextList or FieldKind.MapList => value ?? ImmutableArray<object?>.Empty,
            _ => value,
        };
    }

    private static ConfigMap StructToMap(BoundStruct s) =>
        new(s.Schema.Fields.Select(f => new KeyValuePair<string, object?>(f.Key, ExtraValue(f, s))));

    internal static ResourceControl ResourceControlOf(BoundStruct rc) => new()
    {
        MemoryLimit = rc.Text("memory_limit"),
        CpuQuota = rc.Text("cpu_quota"),
        IoReadBandwidthMax = rc.Text("io_read_bandwidth_max"),
        IoWriteBandwidthMax = rc.Text("io_write_bandwidth_max"),
        LimitCore = rc.Text("limit_core"),
        TimeoutStopSec = rc.Text("timeout_stop_sec"),
        TimeoutStartSec = rc.Text("timeout_start_sec"),
    };

    /// <summary>Each comma-separated data dir that is relative lives under the (absolute) deploy dir.</summary>
    private static string ExpandData(string deployAbs, string data) =>
        data.Length == 0 ? data : string.Join(',', data.Split(',').Select(d => d.StartsWith('/') ? d : GoPath.Join(deployAbs, d)));

    private static IEnumerable<InstanceSpec> Agents(ImmutableArray<InstanceSpec> servers, MonitoredOptions monitored, string file)
    {
        // manager/basic.go getMonitorHosts: hosts by manage host, the first instance gives ssh port, os and arch;
        // a host is skipped when any of its instances sets ignore_exporter.
        var ignored = servers.Where(s => s.IgnoreExporter).Select(s => s.ManageHost).ToHashSet(StringComparer.Ordinal);
        var hosts = servers.Where(s => !ignored.Contains(s.ManageHost)).DistinctBy(s => s.ManageHost).ToList();
        foreach (var (role, port, key) in new[]
        {
            (Roles.NodeExporter, monitored.NodeExporterPort, "node_exporter_port"),
            (Roles.BlackboxExporter, monitored.BlackboxExporterPort, "blackbox_exporter_port"),
        })
        {
            foreach (var first in hosts)
            {
                yield return new InstanceSpec
                {
                    Role = role,
                    Component = role,
                    Host = first.Host,
                    ManageHost = first.ManageHost,
                    SshPort = first.SshPort,
                    ListenHost = first.Host.Contains(':', StringComparison.Ordinal) ? "::" : "0.0.0.0",
                    Ports = [new NamedPort(key, port)],
                    MainPort = port,
                    DeployDir = monitored.DeployDir,
                    DataDirs = monitored.DataDir.Length == 0 ? [] : [monitored.DataDir],
                    LogDir = monitored.LogDir,
                    Arch = first.Arch,
                    Os = first.Os,
                    ResourceControl = monitored.ResourceControl,
                    NumaNode = monitored.NumaNode,
                    Location = first.Location.Line > 0 ? first.Location : new SourceLocation(file, 0, 0),
                    Section = "monitored",
                };
            }
        }
    }
}
