// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Tug.Core.Topology;

namespace Tug.Core.Components;

/// <summary>A port of a component, by YAML key, with TiUP's default number.</summary>
public sealed record PortSpec(string Name, int Default);

/// <summary>How a health check talks to an instance.</summary>
public enum HealthCheckKind
{
    /// <summary>The port accepts a TCP connection (TiUP's readiness rule for every component).</summary>
    Tcp,

    /// <summary>An HTTP GET on the port answers 2xx.</summary>
    Http,
}

/// <summary>How to tell that an instance is up: TCP connect, or HTTP GET of a path, on one of its named ports.</summary>
/// <param name="Kind">TCP connect or HTTP GET.</param>
/// <param name="Port">The name of the port to check (<c>client_port</c>, <c>node_exporter_port</c>...).</param>
/// <param name="Path">The HTTP path (<c>/metrics</c>, <c>/-/healthy</c>, <c>/health</c>); empty for TCP.</param>
public sealed record HealthCheck(HealthCheckKind Kind, string Port, string Path = "")
{
    /// <summary>A TCP connect to a named port.</summary>
    public static HealthCheck Tcp(string port) => new(HealthCheckKind.Tcp, port);

    /// <summary>An HTTP GET of <paramref name="path"/> on a named port.</summary>
    public static HealthCheck HttpGet(string port, string path) => new(HealthCheckKind.Http, port, path);

    /// <summary>The port number to check on an instance.</summary>
    public int PortOf(InstanceSpec instance) => instance.Port(Port);

    /// <summary>The URL to GET (<c>http://host:port/path</c>), from <paramref name="host"/> or the instance's host.</summary>
    public string UrlFor(InstanceSpec instance, string? host = null) => $"http://{HostPort.Join(host ?? instance.Host, PortOf(instance))}{Path}";
}

/// <summary>How to ask a binary its version: the arguments, and a regex whose group <c>version</c> captures it.</summary>
public sealed record VersionProbe(ImmutableArray<string> Arguments, string Pattern)
{
    /// <summary>The version found in a probe's output, <c>v</c>-prefixed (<c>v1.9.0</c>); null when none.</summary>
    public string? Extract(string output)
    {
        var match = Regex.Match(output, Pattern, RegexOptions.Multiline | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        return match.Success ? "v" + match.Groups["version"].Value : null;
    }
}

/// <summary>A program to run on a host as data (never shell text): an executable, where else to find it, its environment and arguments.</summary>
/// <param name="Executable">The absolute path of the program (e.g. the <c>etcdctl</c> beside the deployed etcd).</param>
/// <param name="Fallback">The program's name, looked up on the host's <c>PATH</c> when <paramref name="Executable"/> is not there.</param>
/// <param name="Environment">Variables set for it, each <c>NAME=value</c>.</param>
/// <param name="Arguments">Its arguments, one word each.</param>
public sealed record ClusterCheckCommand(string Executable, string Fallback, ImmutableArray<string> Environment, ImmutableArray<string> Arguments);

/// <summary>A file written into an instance's deploy dir, with its renderer when Tug renders it.</summary>
public sealed record ConfigFileSpec(string RelativePath, Func<InstanceContext, string>? Render)
{
    /// <summary>Whether Tug renders this file (the TiDB-family TOML files are listed but not rendered yet).</summary>
    public bool IsRendered => Render is not null;
}

/// <summary>What a running instance needs to read a changed configuration file.</summary>
public enum ConfigChange
{
    /// <summary>Nothing now: it reads its files at its next start (etcd ignores its member flags once it has data).</summary>
    NextStart,

    /// <summary>A restart, health-gated.</summary>
    Restart,
}

/// <summary>A rendered file and its absolute path on the host.</summary>
public sealed record RenderedFile(string Path, string Content);

/// <summary>
/// A component as data: identity, ports, health check, version probe, start order, the files it needs, and
/// renderers for its run script, systemd unit and config files. The monitoring agents are specs like any other.
/// </summary>
public sealed record ComponentSpec
{
    /// <summary>The default package name in the mirror (<c>pd</c> for tso/scheduling/..., <c>tispark</c> for TiSpark).</summary>
    public required string Name { get; init; }

    /// <summary>The role (<see cref="Roles"/>); it names the run script and the unit.</summary>
    public required string Role { get; init; }

    /// <summary>The ports, main port first where TiUP names the stem by it.</summary>
    public required ImmutableArray<PortSpec> Ports { get; init; }

    /// <summary>How to tell the instance is up after a start or restart.</summary>
    public required HealthCheck Health { get; init; }

    /// <summary>How to read the version of the deployed binary; null when it cannot be asked.</summary>
    public VersionProbe? VersionProbe { get; init; }

    /// <summary>Position in the start order (TiUP's, with etcd before prometheus and the agents last); stop is the reverse.</summary>
    public int StartOrder => Roles.StartIndex(Role);

    /// <summary>The entry TiUP's official packages use (<c>node_exporter/node_exporter</c>); the real one comes from the manifest.</summary>
    public required string DefaultEntry { get; init; }

    /// <summary>Files the instance needs besides its binary and run script, relative to the deploy dir.</summary>
    public ImmutableArray<ConfigFileSpec> ConfigFiles { get; init; } = [];

    /// <summary>systemd <c>Restart=</c>; TiUP uses <c>on-failure</c> for pump and drainer so binlogctl can take them offline.</summary>
    public string Restart { get; init; } = "always";

    /// <summary>
    /// A command, run on an upgraded instance's host, that exits 0 only when the whole cluster of this component is
    /// healthy again (etcd: every member answers <c>endpoint health</c>); a rolling upgrade waits for it before the next member.
    /// </summary>
    public Func<InstanceContext, ClusterCheckCommand>? ClusterCheck { get; init; }

    /// <summary>
    /// Whether the component follows the cluster version when it has no pin of its own (TiDB's components); false for
    /// the monitoring agents, which have their own version line (an unpinned agent gets the mirror's latest).
    /// </summary>
    public bool FollowsClusterVersion { get; init; } = true;

    /// <summary>
    /// Whether instances are members of a running cluster of their own (etcd): new ones are announced before they
    /// start and render their start flags to join it; leaving ones leave it before they stop; the last one never leaves.
    /// </summary>
    public bool HasMembership { get; init; }

    /// <summary>What a running instance needs to read files that follow the topology (Prometheus' targets).</summary>
    public ConfigChange OnConfigChange { get; init; } = ConfigChange.NextStart;

    /// <summary>Whether the component runs on every host of the cluster, placed by the hosts rather than by the topology (the monitoring agents).</summary>
    public bool PerHost { get; init; }

    /// <summary>The names <c>clean --log</c> deletes in the log directory (TiUP's <c>*.log</c>; tidb's spare its audit log).</summary>
    public ImmutableArray<string> LogFiles { get; init; } = ["*.log"];

    /// <summary>The names <c>clean --audit-log</c> deletes in the log directory (tidb's <c>tidb-audit*.log</c>); none by default.</summary>
    public ImmutableArray<string> AuditLogFiles { get; init; } = [];

    /// <summary>Whether an instance marked offline is pruned only once PD reports it Tombstone (TiUP's tikv, tiflash, pump, drainer); Tug cannot ask PD, so <c>prune</c> leaves it.</summary>
    public bool PrunedWhenTombstone { get; init; }

    /// <summary>Whether the unit grants <c>CAP_NET_RAW</c> (blackbox_exporter's ICMP probes; system mode only).</summary>
    public bool GrantCapNetRaw { get; init; }

    /// <summary>Whether Tug can render a run script (false for TiSpark, which TiUP starts with Spark's own scripts).</summary>
    public bool CanRender => RunScript is not null;

    internal Func<InstanceContext, string>? RunScript { get; init; }

    /// <summary>The run script, <c>&lt;deploy&gt;/scripts/run_&lt;role&gt;.sh</c>, in TiUP's shape; it executes <c>bin/&lt;entry&gt;</c>.</summary>
    /// <exception cref="NotSupportedException">Tug does not render this component's script (TiSpark).</exception>
    public string RenderRunScript(InstanceContext context) =>
        RunScript is { } render ? render(Check(context)) : throw new NotSupportedException($"Tug does not deploy {Role}: it has no run script.");

    /// <summary>The systemd unit, <c>/etc/systemd/system/&lt;role&gt;-&lt;port&gt;.service</c>, byte for byte as TiUP renders it.</summary>
    public string RenderSystemdUnit(InstanceContext context) => SystemdUnit.Render(this, Check(context));

    /// <summary>The config files Tug renders for the instance, with absolute paths.</summary>
    /// <exception cref="IOException">A user-provided file (alertmanager <c>config_file</c>) cannot be read.</exception>
    public ImmutableArray<RenderedFile> RenderConfigFiles(InstanceContext context) =>
        [.. ConfigFiles.Where(f => f.IsRendered).Select(f => new RenderedFile($"{context.Instance.DeployDir}/{f.RelativePath}", f.Render!(Check(context))))];

    /// <summary>Where the run script goes on the host.</summary>
    public string RunScriptPath(InstanceSpec instance) => $"{instance.DeployDir}/scripts/run_{Role}.sh";

    private InstanceContext Check(InstanceContext context) =>
        context.Instance.Role == Role ? context : throw new ArgumentException($"{context.Instance.Id} is a {context.Instance.Role}, not a {Role}.", nameof(context));
}
