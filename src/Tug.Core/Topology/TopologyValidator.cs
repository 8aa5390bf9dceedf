// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text.RegularExpressions;

namespace Tug.Core.Topology;

/// <summary>
/// TiUP's <c>Specification.Validate</c> rules (<c>validate.go</c>), in TiUP's order, reporting every violation
/// rather than the first. Directory conflicts are checked on the expanded (absolute) paths, so two relative
/// dirs that expand to the same place are caught too (TiUP skips relative ones).
/// </summary>
internal static partial class TopologyValidator
{
    /// <summary>Roles allowed in a cluster with <c>enable_tls: true</c> (<c>validateTLSEnabled</c>).</summary>
    private static readonly HashSet<string> TlsCapable =
    [
        Roles.Pd, Roles.Tso, Roles.Scheduling, Roles.Router, Roles.ResourceManager, Roles.TiDB, Roles.TiKV, Roles.TiFlash,
        Roles.TiProxy, Roles.Pump, Roles.Drainer, Roles.Cdc, Roles.TiKVCdc, Roles.TiDBDashboard, Roles.Prometheus,
        Roles.Alertmanager, Roles.Grafana,
    ];

    public static IEnumerable<TopologyDiagnostic> Validate(Topology topology)
    {
        var servers = topology.Servers.ToList();
        return
        [
            .. Tls(topology, servers),
            .. Platforms(servers),
            .. PortRanges(topology, servers),
            .. PortConflicts(topology, servers),
            .. DirectoryConflicts(servers),
            .. UserAndGroup(topology),
            .. Names(servers),
            .. TiSpark(servers),
            .. Exporters(servers),
            .. AbsolutePaths(servers),
            .. Modes(topology),
            .. NoInstances(topology, servers),
            .. Safety(topology),
        ];
    }

    /// <summary>Whether a cluster name is allowed (<c>clusterutil.ValidateClusterNameOrError</c>).</summary>
    public static bool IsValidClusterName(string name) => ClusterNameRegex().IsMatch(name);

    private static IEnumerable<TopologyDiagnostic> Tls(Topology topology, List<InstanceSpec> servers)
    {
        if (!topology.Global.EnableTls)
        {
            yield break;
        }

        foreach (var first in servers.Where(s => !TlsCapable.Contains(s.Role)).DistinctBy(s => s.Role))
        {
            yield return new(TopologyErrors.TlsUnsupported, first.Location,
                $"component {first.Role} is not supported in a cluster with global.enable_tls: true",
                $"Remove the {first.Role} instances or set enable_tls: false.");
        }
    }

    private static IEnumerable<TopologyDiagnostic> Platforms(List<InstanceSpec> servers)
    {
        // An empty os/arch means "not probed yet" (TiUP probes new hosts before validating a scale-out), so each
        // declared value is compared with the first instance of the host that declares one.
        foreach (var (field, value) in new (string, Func<InstanceSpec, string>)[] { ("os", s => s.Os), ("arch", s => s.Arch) })
        {
            var seen = new Dictionary<string, InstanceSpec>(StringComparer.Ordinal);
            foreach (var s in servers.Where(s => value(s).Length > 0))
            {
                if (!seen.TryGetValue(s.Host, out var first))
                {
                    seen[s.Host] = s;
                }
                else if (value(first) != value(s))
                {
                    yield return new(TopologyErrors.PlatformMismatch, s.LocationOf(field),
                        $"host \"{s.Host}\" has {field} \"{value(s)}\" in {s.Section} but \"{value(first)}\" in {first.Section} (line {first.Location.Line})",
                        "Give every instance on one host the same os and arch, or leave them empty to have them probed.");
                }
            }
        }
    }

    private static IEnumerable<TopologyDiagnostic> PortRanges(Topology topology, List<InstanceSpec> servers)
    {
        var ports = servers
            .SelectMany(s => s.Ports.Select(p => (s.Section, p.Name, p.Number, At: s.LocationOf(p.Name)))
                .Append((s.Section, "ssh_port", s.SshPort, s.LocationOf("ssh_port"))))
            .Append(("global", "ssh_port", topology.Global.SshPort, topology.LocationOf("global.ssh_port")))
            .Append(("monitored", "node_exporter_port", topology.Monitored.NodeExporterPort, topology.LocationOf("monitored.node_exporter_port")))
            .Append(("monitored", "blackbox_exporter_port", topology.Monitored.BlackboxExporterPort, topology.LocationOf("monitored.blackbox_exporter_port")));
        foreach (var (section, name, number, at) in ports)
        {
            if (number is < 1 or > 65535)
            {
                yield return new(TopologyErrors.PortOutOfRange, at,
                    $"{section}.{name} is {number}, outside the port range",
                    "Use a port between 1 and 65535.");
            }
        }
    }

    private static IEnumerable<TopologyDiagnostic> PortConflicts(Topology topology, List<InstanceSpec> servers)
    {
        // validate.go portConflictsDetect: every port field of every instance, then both exporter ports on
        // every host that has an instance (even with ignore_exporter, as TiUP does).
        var used = new Dictionary<(string Host, int Port), string>();
        // Tug skips TiFlash's http_port (deprecated since v7.1.0): TiUP counts it, which makes TiUP refuse its own
        // embed/examples/cluster/topology.example.yaml (two TiFlash instances per host, both on default 8123).
        var uses = servers.SelectMany(s => s.Ports.Where(p => !(s.Role == Roles.TiFlash && p.Name == "http_port")).Select(p => (s.Host, p.Number, Who: $"{s.Section}.{p.Name}", At: s.LocationOf(p.Name))))
            .Concat(servers.Select(s => s.Host).Distinct(StringComparer.Ordinal).SelectMany(h => new[]
            {
                (h, topology.Monitored.NodeExporterPort, "monitored.node_exporter_port", topology.LocationOf("monitored.node_exporter_port")),
                (h, topology.Monitored.BlackboxExporterPort, "monitored.blackbox_exporter_port", topology.LocationOf("monitored.blackbox_exporter_port")),
            }));
        foreach (var (host, port, who, at) in uses)
        {
            if (used.TryGetValue((host, port), out var other))
            {
                yield return new(TopologyErrors.PortConflict, at,
                    $"port {port} on host \"{host}\" is used by both {other} and {who}",
                    "Give one of them another port, or put it on another host.");
            }
            else
            {
                used[(host, port)] = who;
            }
        }
    }

    private static IEnumerable<TopologyDiagnostic> DirectoryConflicts(List<InstanceSpec> servers)
    {
        var used = new Dictionary<(string Host, string Dir), string>();
        var dirs = servers.SelectMany(s => s.DataDirs.Select(d => (s.Host, Dir: d, Who: $"{s.Section}.data_dir", At: s.LocationOf("data_dir")))
            .Prepend((s.Host, Dir: s.DeployDir, Who: $"{s.Section}.deploy_dir", At: s.LocationOf("deploy_dir"))));
        foreach (var (host, dir, who, at) in dirs)
        {
            if (used.TryGetValue((host, dir), out var other))
            {
                yield return new(TopologyErrors.DirectoryConflict, at,
                    $"directory \"{dir}\" on host \"{host}\" is used by both {other} and {who}",
                    "Give each instance on a host its own deploy and data directories.");
            }
            else
            {
                used[(host, dir)] = who;
            }
        }
    }

    private static IEnumerable<TopologyDiagnostic> UserAndGroup(Topology topology)
    {
        if (!UserRegex().IsMatch(topology.Global.User))
        {
            yield return new(TopologyErrors.BadUser, topology.LocationOf("global.user"),
                $"global.user \"{topology.Global.User}\" is not a valid Linux user name",
                "Start with a lowercase letter or '_', then up to 31 lowercase letters, digits, '_' or '-' (an optional final '$').");
        }

        if (topology.Global.Group.Length > 0 && !GroupRegex().IsMatch(topology.Global.Group))
        {
            yield return new(TopologyErrors.BadGroup, topology.LocationOf("global.group"),
                $"global.group \"{topology.Global.Group}\" is not a valid Linux group name",
                "Start with a lowercase letter or '_', then up to 15 lowercase letters, digits, '_' or '-'.");
        }
    }

    private static IEnumerable<TopologyDiagnostic> Names(List<InstanceSpec> servers)
    {
        foreach (var role in servers.Where(s => s.Name is { Length: > 0 }).GroupBy(s => s.Role))
        {
            var seen = new Dictionary<string, InstanceSpec>(StringComparer.Ordinal);
            foreach (var s in role)
            {
                if (seen.TryGetValue(s.Name!, out var first))
                {
                    yield return new(TopologyErrors.DuplicateName, s.LocationOf("name"),
                        $"{s.Role} name \"{s.Name}\" is used twice ({first.Section} and {s.Section})",
                        $"Give every {s.Role} member a unique name, or remove 'name' to get the default <{s.Role}>-<host>-<port>.");
                }
                else
                {
                    seen[s.Name!] = s;
                }
            }
        }
    }

    private static IEnumerable<TopologyDiagnostic> TiSpark(List<InstanceSpec> servers)
    {
        var masters = servers.Where(s => s.Role == Roles.TiSparkMaster).ToList();
        var workers = servers.Where(s => s.Role == Roles.TiSparkWorker).ToList();
        if (masters.Count == 0 && workers.Count > 0)
        {
            yield return new(TopologyErrors.TiSpark, workers[0].Location, "TiSpark workers need a Spark master, and tispark_masters is empty", "Add one tispark_masters entry.");
        }

        if (masters.Count > 1)
        {
            yield return new(TopologyErrors.TiSpark, masters[1].Location, $"{masters.Count} TiSpark masters are declared; only one is supported", "Keep a single tispark_masters entry.");
        }

        foreach (var duplicate in workers.GroupBy(w => w.Host).Where(g => g.Count() > 1))
        {
            yield return new(TopologyErrors.TiSpark, duplicate.ElementAt(1).Location, $"host \"{duplicate.Key}\" has more than one TiSpark worker", "Spark supports one worker per host; remove the extra ones.");
        }
    }

    private static IEnumerable<TopologyDiagnostic> Exporters(List<InstanceSpec> servers)
    {
        // TiProxy has no ignore_exporter field: it counts as false, as in TiUP.
        var seen = new Dictionary<string, InstanceSpec>(StringComparer.Ordinal);
        foreach (var s in servers)
        {
            if (!seen.TryGetValue(s.Host, out var first))
            {
                seen[s.Host] = s;
            }
            else if (first.IgnoreExporter != s.IgnoreExporter)
            {
                yield return new(TopologyErrors.ExporterMismatch, s.LocationOf("ignore_exporter"),
                    $"host \"{s.Host}\" has ignore_exporter: {Lower(s.IgnoreExporter)} in {s.Section} but {Lower(first.IgnoreExporter)} in {first.Section} (line {first.Location.Line})",
                    "Set the same ignore_exporter on every instance of a host: the monitoring agents run once per host.");
            }
        }

        static string Lower(bool b) => b ? "true" : "false";
    }

    private static IEnumerable<TopologyDiagnostic> AbsolutePaths(List<InstanceSpec> servers)
    {
        foreach (var s in servers)
        {
            foreach (var key in new[] { "config_file", "rule_dir", "dashboard_dir" })
            {
                if (s.Extras.GetString(key) is { Length: > 0 } path && !path.StartsWith('/'))
                {
                    yield return new(TopologyErrors.RelativePath, s.LocationOf(key),
                        $"{s.Section}.{key} \"{path}\" is a relative path",
                        "Write it as an absolute path on the control machine.");
                }
            }
        }
    }

    private static IEnumerable<TopologyDiagnostic> Modes(Topology topology)
    {
        if (topology.Global.SystemdMode is not ("system" or "user"))
        {
            yield return new(TopologyErrors.BadEnumValue, topology.LocationOf("global.systemd_mode"),
                $"global.systemd_mode \"{topology.Global.SystemdMode}\" is neither \"system\" nor \"user\"",
                "Use system (units in /etc/systemd/system, run as the deploy user) or user (systemctl --user).");
        }

        if (topology.Global.SshType is not ("builtin" or "system" or "none"))
        {
            yield return new(TopologyErrors.BadEnumValue, topology.LocationOf("global.ssh_type"),
                $"global.ssh_type \"{topology.Global.SshType}\" is not one of builtin, system, none",
                "Use builtin (in-process SSH), system (the ssh client) or none (local).");
        }
    }

    [GeneratedRegex(@"^[a-z_]([a-z0-9_-]{0,31}|[a-z0-9_-]{0,30}\$)\z")]
    private static partial Regex UserRegex();

    [GeneratedRegex(@"^[a-z_]([a-z0-9_-]{0,15})\z")]
    private static partial Regex GroupRegex();

    // A letter or digit first: TiUP's rule would accept "." and "..", which name $TUG_HOME/clusters itself and $TUG_HOME.
    [GeneratedRegex(@"^[a-zA-Z0-9][a-zA-Z0-9\-_\.]*\z")]
    private static partial Regex ClusterNameRegex();
}
