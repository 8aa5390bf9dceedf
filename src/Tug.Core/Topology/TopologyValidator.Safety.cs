// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Text.RegularExpressions;

namespace Tug.Core.Topology;

/// <summary>
/// Tug's own rules, beyond TiUP's: every value that ends up in a run script, a systemd unit or one of Tug's scripts
/// (which run as root) has its documented shape and is one line. The renderers stay byte-identical to TiUP's and
/// quote nothing, so this check is the guard; it runs on topology files, scale-out parts and meta.yaml alike.
/// </summary>
internal static partial class TopologyValidator
{
    /// <summary>Directories no instance may own (install chowns them to the deploy user, destroy removes them).</summary>
    private static readonly HashSet<string> SystemDirectories =
    [
        "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/opt", "/proc", "/root", "/run", "/sbin", "/srv",
        "/sys", "/tmp", "/usr", "/var", "/var/lib", "/var/log",
    ];

    /// <summary>Directories no instance directory may be inside.</summary>
    private static readonly string[] SystemTrees = ["/proc", "/sys", "/dev", "/etc", "/usr", "/boot", "/bin", "/sbin", "/lib", "/lib64"];

    /// <summary>The text fields of a role's section (beyond the common ones) that are rendered somewhere, with their shape.</summary>
    private static readonly (string Key, Func<string, bool> Valid, string Shape)[] ExtraShapes =
    [
        ("advertise_addr", IsHostPort, "host:port"),
        ("advertise_status_addr", IsHostPort, "host:port"),
        ("advertise_address", HostNames.IsValid, "an IP address or a DNS name"),
        ("advertise_client_addr", IsUrlList, "http(s)://host:port (several separated by ',')"),
        ("advertise_peer_addr", IsUrlList, "http(s)://host:port (several separated by ',')"),
        ("advertise_listen_addr", IsUrlList, "http(s)://host:port"),
        ("ticdc_cluster_id", v => CdcClusterIdRegex().IsMatch(v), "letters and digits in groups separated by single '-' (TiCDC's rule)"),
        ("tz", v => TimeZoneRegex().IsMatch(v), "a time zone name such as UTC, System or Asia/Shanghai"),
        ("source", v => TokenRegex().IsMatch(v), "a component name such as tidb or tikv-cdc"),
        ("tmp_path", v => RelativeDirectoryRegex().IsMatch(v), "a directory"),
        ("java_home", v => DirectoryRegex().IsMatch(v), "an absolute directory"),
    ];

    /// <summary>
    /// Tug's rules for everything rendered into scripts and units: hosts, directories (after TiUP's expansion),
    /// shaped values, one line each. Applied to topology files, scale-out topologies (merged) and meta.yaml.
    /// </summary>
    public static IEnumerable<TopologyDiagnostic> Safety(Topology topology) =>
    [
        .. Hosts(topology),
        .. UserAndGroup(topology),
        .. Directories(topology),
        .. Shapes(topology),
    ];

    /// <summary>Whether a version is one token of letters, digits, '.', '_', '+' and '-' (<c>v8.5.0</c>, <c>nightly</c>).</summary>
    public static bool IsValidVersion(string version) => TokenRegex().IsMatch(version);

    /// <summary>Whether a name is a Linux user name as useradd takes it.</summary>
    public static bool IsValidUser(string user) => UserRegex().IsMatch(user);

    private static IEnumerable<TopologyDiagnostic> NoInstances(Topology topology, List<InstanceSpec> servers)
    {
        if (servers.Count == 0)
        {
            yield return new(TopologyErrors.NoInstances, new SourceLocation(topology.File, 1, 1),
                "the topology declares no instance",
                "Add at least one section such as 'pd_servers:' with a '- host: <address>' entry; 'tug cluster template' prints an example.");
        }
    }

    private static IEnumerable<TopologyDiagnostic> Hosts(Topology topology)
    {
        var servers = topology.Servers.ToList();
        foreach (var s in servers)
        {
            // manage_host and listen_host only where the instance sets them (else they are host's, or global's).
            foreach (var (key, value) in new[] { ("host", s.Host), ("manage_host", s.ManageHost), ("listen_host", s.ListenHost) })
            {
                if ((key == "host" || s.FieldLocations.ContainsKey(key)) && HostNames.Normalize(value, out var problem) is null)
                {
                    yield return new(TopologyErrors.BadHost, s.LocationOf(key),
                        $"{s.Section}.{key} \"{Shown(value)}\" is not an IP address or a DNS name: {Shown(problem)}",
                        "Write an IP address (10.0.1.5, fd00::5) or a DNS name (letters, digits, '-' and '.'; no quotes, spaces or shell characters).");
                }
            }

            foreach (var (alertmanager, i) in s.Extras.GetList("external_alertmanagers").OfType<ConfigMap>().Select((m, i) => (m, i)))
            {
                if (alertmanager.GetString("host") is { } host && !HostNames.IsValid(host))
                {
                    yield return new(TopologyErrors.BadHost, s.LocationOf($"external_alertmanagers[{i}].host"),
                        $"{s.Section}.external_alertmanagers[{i}].host \"{Shown(host)}\" is not an IP address or a DNS name",
                        "Write an IP address or a DNS name.");
                }
            }
        }

        if (topology.Global.ListenHost.Length > 0 && !HostNames.IsValid(topology.Global.ListenHost))
        {
            yield return new(TopologyErrors.BadHost, topology.LocationOf("global.listen_host"),
                $"global.listen_host \"{Shown(topology.Global.ListenHost)}\" is not an IP address or a DNS name",
                "Write an IP address such as 0.0.0.0 or ::.");
        }

        // One machine written two ways (DNS names differ only in case) would get two sets of agents on the same ports.
        foreach (var group in servers.SelectMany(s => new[] { s.Host, s.ManageHost }).Where(HostNames.IsValid).Distinct(StringComparer.Ordinal)
            .GroupBy(HostNames.Key).Where(g => g.Count() > 1))
        {
            var spellings = group.ToList();
            var second = servers.First(s => s.Host == spellings[1] || s.ManageHost == spellings[1]);
            yield return new(TopologyErrors.BadHost, second.LocationOf(second.Host == spellings[1] ? "host" : "manage_host"),
                $"host \"{spellings[1]}\" in {second.Section} is \"{spellings[0]}\" written another way",
                "Write each host the same way everywhere in the topology.");
        }
    }

    private static IEnumerable<TopologyDiagnostic> Directories(Topology topology)
    {
        var owned = new List<(InstanceSpec Owner, string Field, string Dir, SourceLocation At)>();
        foreach (var s in topology.Instances)
        {
            var dirs = s.DataDirs.Select(d => ("data_dir", d)).Prepend(("deploy_dir", s.DeployDir));
            if (s.LogDir.Length > 0)
            {
                dirs = dirs.Append(("log_dir", s.LogDir));
            }

            if (s.Extras.GetString("tmp_path") is { Length: > 0 } tmp && tmp.StartsWith('/'))
            {
                dirs = dirs.Append(("tmp_path", tmp));
            }

            foreach (var (field, dir) in dirs)
            {
                var at = DirectoryLocation(topology, s, field);
                if (DirectoryProblem(dir) is { } problem)
                {
                    yield return problem.Code == TopologyErrors.ForbiddenDirectory
                        ? new(problem.Code, at, $"{s.Section}.{field} is \"{dir}\", {problem.Message}", "Give each instance its own directory, for example /tidb-deploy/<role>-<port> and /tidb-data/<role>-<port>.")
                        : new(problem.Code, at, $"{s.Section}.{field} \"{Shown(dir)}\" {problem.Message}", "Write an absolute, normalised path of letters, digits and . _ + @ - / only (no '..', no '//', no spaces or shell characters).");
                }
                else
                {
                    owned.Add((s, field, Trimmed(dir), at));
                }
            }
        }

        // Nesting, per machine: a directory inside another instance's would be chowned, and removed by destroy, with it.
        // Pairs that share a deploy or data dir exactly are already reported (E1008); the two agents share theirs by design.
        var exact = owned.Where(o => o.Field is "deploy_dir" or "data_dir")
            .GroupBy(o => (HostNames.Key(o.Owner.Host), o.Dir)).SelectMany(g => g.SelectMany(a => g.Where(b => !ReferenceEquals(a.Owner, b.Owner)).Select(b => (a.Owner, b.Owner))))
            .ToHashSet();
        var reported = new HashSet<(InstanceSpec, InstanceSpec)>();
        foreach (var machine in owned.GroupBy(o => HostNames.Key(o.Owner.ManageHost)))
        {
            var dirs = machine.ToList();
            foreach (var inner in dirs)
            {
                foreach (var outer in dirs)
                {
                    if (ReferenceEquals(inner.Owner, outer.Owner) || (inner.Owner.IsMonitoringAgent && outer.Owner.IsMonitoringAgent) || exact.Contains((inner.Owner, outer.Owner)) || reported.Contains((outer.Owner, inner.Owner)))
                    {
                        continue;
                    }

                    var nested = inner.Dir.StartsWith(outer.Dir + "/", StringComparison.Ordinal) || (outer.Dir == "/" && inner.Dir != "/");
                    var same = inner.Dir == outer.Dir && dirs.IndexOf(inner) > dirs.IndexOf(outer);
                    if ((nested || same) && reported.Add((inner.Owner, outer.Owner)))
                    {
                        yield return new(TopologyErrors.NestedDirectory, inner.At,
                            same
                                ? $"{inner.Owner.Section}.{inner.Field} \"{inner.Dir}\" on host \"{inner.Owner.ManageHost}\" is also {outer.Owner.Section}.{outer.Field}"
                                : $"{inner.Owner.Section}.{inner.Field} \"{inner.Dir}\" on host \"{inner.Owner.ManageHost}\" is inside {outer.Owner.Section}.{outer.Field} \"{outer.Dir}\"",
                            "Give each instance directories of its own, side by side (e.g. /data/pd-2379 and /data/tikv-20160), never one inside another.");
                    }
                }
            }
        }

        // The bases the instance dirs are built from, as written.
        foreach (var (key, value) in new[] { ("global.deploy_dir", topology.Global.DeployDir), ("global.data_dir", topology.Global.DataDir), ("global.log_dir", topology.Global.LogDir) })
        {
            if (value.Length > 0 && BaseProblem(value) is { } problem)
            {
                yield return new(TopologyErrors.BadDirectory, topology.LocationOf(key), $"{key} \"{Shown(value)}\" {problem}",
                    "Write a normalised path of letters, digits and . _ + @ - / only (no '..', no '//', no spaces or shell characters).");
            }
        }
    }

    private static IEnumerable<TopologyDiagnostic> Shapes(Topology topology)
    {
        var global = topology.Global;
        foreach (var d in ResourceControlShapes(global.ResourceControl, "global.resource_control", k => topology.LocationOf($"global.resource_control.{k}")))
        {
            yield return d;
        }

        foreach (var d in ResourceControlShapes(topology.Monitored.ResourceControl, "monitored.resource_control", k => topology.LocationOf($"monitored.resource_control.{k}")))
        {
            yield return d;
        }

        if (topology.Monitored.NumaNode.Length > 0 && !NumaRegex().IsMatch(topology.Monitored.NumaNode))
        {
            yield return BadNuma(topology.LocationOf("monitored.numa_node"), "monitored.numa_node", topology.Monitored.NumaNode);
        }

        foreach (var (key, version) in new[] { ("monitored.node_exporter_version", topology.Monitored.NodeExporterVersion), ("monitored.blackbox_exporter_version", topology.Monitored.BlackboxExporterVersion) }
            .Concat(topology.ComponentVersions.Select(v => ($"component_versions.{v.Key}", v.Value))))
        {
            if (version.Length > 0 && !IsValidVersion(version))
            {
                yield return BadShape(topology.LocationOf(key), key, version, "a version such as v8.5.0");
            }
        }

        foreach (var (key, source) in topology.ComponentSources)
        {
            if (!TokenRegex().IsMatch(source))
            {
                yield return BadShape(topology.LocationOf($"component_sources.{key}"), $"component_sources.{key}", source, "a component name such as tidb");
            }
        }

        foreach (var (key, value) in new[] { ("global.os", global.Os), ("global.arch", global.Arch), ("global.pd_mode", global.PdMode) })
        {
            if (value.Length > 0 && !PlatformRegex().IsMatch(value))
            {
                yield return BadShape(topology.LocationOf(key), key, value, "a word of lowercase letters, digits and '_' (linux, amd64)");
            }
        }

        foreach (var s in topology.Servers)
        {
            foreach (var d in InstanceShapes(topology, s))
            {
                yield return d;
            }
        }
    }

    private static IEnumerable<TopologyDiagnostic> InstanceShapes(Topology topology, InstanceSpec s)
    {
        if (s.NumaNode.Length > 0 && !NumaRegex().IsMatch(s.NumaNode))
        {
            yield return BadNuma(s.LocationOf("numa_node"), $"{s.Section}.numa_node", s.NumaNode);
        }

        if (s.NumaCores.Length > 0 && !NumaRegex().IsMatch(s.NumaCores))
        {
            yield return BadShape(s.LocationOf("numa_cores"), $"{s.Section}.numa_cores", s.NumaCores, "a CPU list such as 0-7 or 0,2,4-7");
        }

        // A name the topology does not set is made from the host, whose own error already says what is wrong.
        if (s.Name is { Length: > 0 } name && !MemberNameRegex().IsMatch(name) && s.FieldLocations.ContainsKey("name"))
        {
            yield return BadShape(s.LocationOf("name"), $"{s.Section}.name", name, "a member name of letters, digits, '.', '_', '-' and ':' (starting with a letter or digit)");
        }

        foreach (var (key, value) in new[] { ("os", s.Os), ("arch", s.Arch) })
        {
            if (value.Length > 0 && !PlatformRegex().IsMatch(value))
            {
                yield return BadShape(s.LocationOf(key), $"{s.Section}.{key}", value, "a word of lowercase letters, digits and '_' (linux, amd64)");
            }
        }

        foreach (var d in ResourceControlShapes(s.ResourceControl, $"{s.Section}.resource_control", k => s.LocationOf($"resource_control.{k}")))
        {
            yield return d;
        }

        foreach (var (key, valid, shape) in ExtraShapes)
        {
            if (s.Extras.GetString(key) is { Length: > 0 } value && !valid(value))
            {
                yield return BadShape(s.LocationOf(key), $"{s.Section}.{key}", value, shape);
            }
        }

        var args = s.Extras.GetList("additional_args");
        for (var i = 0; i < args.Length; i++)
        {
            if (ConfigMap.AsText(args[i]) is { } arg && !ArgumentRegex().IsMatch(arg))
            {
                yield return BadShape(s.LocationOf($"additional_args[{i}]"), $"{s.Section}.additional_args[{i}]", arg,
                    "one command-line flag such as --web.enable-lifecycle or --query.timeout=2m (letters, digits and . _ - : / , @ + % = only; no spaces, quotes or shell characters)");
            }
        }

        // Every other text the section holds is at least one line of printable text.
        foreach (var (key, value) in s.Extras)
        {
            foreach (var (text, suffix) in Texts(value))
            {
                if (text.Any(char.IsControl))
                {
                    yield return BadShape(s.LocationOf(key + suffix), $"{s.Section}.{key}{suffix}", text, "a single line of text");
                }
            }
        }
    }

    /// <summary>The strings of a raw value with their path suffix; free-form maps (config) are left to their writers.</summary>
    private static IEnumerable<(string Text, string Suffix)> Texts(object? value) => value switch
    {
        string s => [(s, string.Empty)],
        ImmutableArray<object?> list => list.SelectMany((v, i) => v is string s ? [(s, $"[{i}]")] : Array.Empty<(string, string)>()),
        _ => [],
    };

    private static IEnumerable<TopologyDiagnostic> ResourceControlShapes(ResourceControl rc, string path, Func<string, SourceLocation> at)
    {
        foreach (var (key, value, regex, shape) in new (string, string, Regex, string)[]
        {
            ("memory_limit", rc.MemoryLimit, MemoryRegex(), "a size such as 2G, 512M, 80% or infinity"),
            ("cpu_quota", rc.CpuQuota, PercentRegex(), "a percentage such as 200%"),
            ("io_read_bandwidth_max", rc.IoReadBandwidthMax, BandwidthRegex(), "a device path and a rate, such as /dev/sda 100M"),
            ("io_write_bandwidth_max", rc.IoWriteBandwidthMax, BandwidthRegex(), "a device path and a rate, such as /dev/sda 100M"),
            ("limit_core", rc.LimitCore, LimitRegex(), "a size or infinity (soft:hard allowed), such as 0 or infinity"),
            ("timeout_stop_sec", rc.TimeoutStopSec, TimeSpanRegex(), "a time span such as 90, 90s, 5min 20s or infinity"),
            ("timeout_start_sec", rc.TimeoutStartSec, TimeSpanRegex(), "a time span such as 90, 90s, 5min 20s or infinity"),
        })
        {
            if (value.Length > 0 && !regex.IsMatch(value))
            {
                yield return BadShape(at(key), $"{path}.{key}", value, shape);
            }
        }
    }

    /// <summary>What is wrong with an instance directory after expansion, or null when it is fine.</summary>
    private static (string Code, string Message)? DirectoryProblem(string dir)
    {
        if (SystemDirectories.Contains(Trimmed(dir)))
        {
            return (TopologyErrors.ForbiddenDirectory, "a system directory");
        }

        if (!DirectoryRegex().IsMatch(dir))
        {
            return (TopologyErrors.BadDirectory, dir.StartsWith('/')
                ? "has characters other than letters, digits and . _ + @ - /"
                : "is not an absolute path");
        }

        if (BaseProblem(dir) is { } problem)
        {
            return (TopologyErrors.BadDirectory, problem);
        }

        var trimmed = Trimmed(dir);
        return SystemTrees.FirstOrDefault(t => trimmed.StartsWith(t + "/", StringComparison.Ordinal)) is { } tree
            ? (TopologyErrors.ForbiddenDirectory, $"inside the system directory {tree}")
            : null;
    }

    /// <summary>What is wrong with a path as written (relative or absolute), or null.</summary>
    private static string? BaseProblem(string path)
    {
        if (!RelativeDirectoryRegex().IsMatch(path))
        {
            return "has characters other than letters, digits and . _ + @ - /";
        }

        var parts = path.Split('/');
        for (var i = 0; i < parts.Length; i++)
        {
            if (parts[i] is "." or "..")
            {
                return $"is not normalised (it has a '{parts[i]}' part)";
            }

            if (parts[i].Length == 0 && i > 0 && i < parts.Length - 1)
            {
                return "is not normalised (it has '//')";
            }
        }

        return null;
    }

    private static string Trimmed(string dir) => dir.Length > 1 && dir.EndsWith('/') ? dir[..^1] : dir;

    /// <summary>Where an instance directory comes from: the instance's own field, else the global or monitored base it was built from.</summary>
    private static SourceLocation DirectoryLocation(Topology topology, InstanceSpec s, string field)
    {
        if (s.IsMonitoringAgent)
        {
            var keys = field switch
            {
                "deploy_dir" => new[] { "monitored.deploy_dir", "global.deploy_dir" },
                "data_dir" => ["monitored.data_dir", "global.data_dir", "monitored.deploy_dir", "global.deploy_dir"],
                _ => ["monitored.log_dir", "monitored.deploy_dir", "global.deploy_dir"],
            };
            return keys.Where(topology.Locations.ContainsKey).Select(k => topology.Locations[k]).FirstOrDefault(s.Location);
        }

        if (s.FieldLocations.TryGetValue(field, out var own))
        {
            return own;
        }

        if (field == "data_dir" && s.Role == Roles.TiFlash && s.FieldLocations.TryGetValue("config", out var config))
        {
            return config;
        }

        if (topology.Locations.TryGetValue($"global.{field}", out var global))
        {
            return global;
        }

        return s.FieldLocations.TryGetValue("deploy_dir", out var deploy) ? deploy
            : topology.Locations.TryGetValue("global.deploy_dir", out var globalDeploy) ? globalDeploy
            : s.Location;
    }

    private static TopologyDiagnostic BadNuma(SourceLocation at, string path, string value) =>
        BadShape(at, path, value, "a NUMA node list such as 0 or 0,1");

    private static TopologyDiagnostic BadShape(SourceLocation at, string path, string value, string shape) =>
        new(TopologyErrors.BadShape, at, $"{path} \"{Shown(value)}\" is not {shape}",
            $"Write {shape}; the value goes into a run script or systemd unit as it is, so it must be exactly that, on one line.");

    /// <summary>A value as shown in a message: control characters escaped, so a newline cannot forge a second error line.</summary>
    private static string Shown(string value) =>
        string.Concat(value.Select(c => c switch
        {
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            _ when char.IsControl(c) => $"\\u{(int)c:x4}",
            _ => c.ToString(),
        }));

    private static bool IsHostPort(string value)
    {
        var colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            return false;
        }

        var host = value[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            return host.Length > 2 && host[1..^1].Contains(':', StringComparison.Ordinal) && HostNames.IsValid(host[1..^1]);
        }

        return !host.Contains(':', StringComparison.Ordinal) && HostNames.IsValid(host);
    }

    private static bool IsUrlList(string value) => value.Split(',').All(url =>
        (url.StartsWith("http://", StringComparison.Ordinal) && IsHostPort(url[7..]))
        || (url.StartsWith("https://", StringComparison.Ordinal) && IsHostPort(url[8..])));

    [GeneratedRegex(@"^/[A-Za-z0-9._+@/-]+\z")]
    private static partial Regex DirectoryRegex();

    [GeneratedRegex(@"^[A-Za-z0-9._+@/-]+\z")]
    private static partial Regex RelativeDirectoryRegex();

    [GeneratedRegex(@"^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*\z")]
    private static partial Regex NumaRegex();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\z")]
    private static partial Regex MemberNameRegex();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}\z")]
    private static partial Regex TokenRegex();

    [GeneratedRegex(@"^[a-z0-9_]{1,32}\z")]
    private static partial Regex PlatformRegex();

    [GeneratedRegex(@"^(infinity|[0-9]+(\.[0-9]+)?[KMGTPE]?|[0-9]+(\.[0-9]+)?%)\z")]
    private static partial Regex MemoryRegex();

    [GeneratedRegex(@"^[0-9]+(\.[0-9]+)?%\z")]
    private static partial Regex PercentRegex();

    [GeneratedRegex(@"^/[A-Za-z0-9._:+@/-]+ (infinity|[0-9]+(\.[0-9]+)?[KMGTPE]?)\z")]
    private static partial Regex BandwidthRegex();

    [GeneratedRegex(@"^(infinity|[0-9]+[KMGTPE]?)(:(infinity|[0-9]+[KMGTPE]?))?\z")]
    private static partial Regex LimitRegex();

    [GeneratedRegex(@"^(infinity|[0-9]+(\.[0-9]+)?[a-z]*( [0-9]+(\.[0-9]+)?[a-z]*)*)\z")]
    private static partial Regex TimeSpanRegex();

    [GeneratedRegex(@"^[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*\z")]
    private static partial Regex CdcClusterIdRegex();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*\z")]
    private static partial Regex TimeZoneRegex();

    [GeneratedRegex(@"^--?[A-Za-z0-9][A-Za-z0-9._-]*(=[A-Za-z0-9._:/,@+%=-]*)?\z")]
    private static partial Regex ArgumentRegex();
}
