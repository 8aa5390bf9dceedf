// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tug.Testing;

/// <summary>One instance of a <see cref="TiupCluster"/>: where it runs, what runs it, and where TiUP put it.</summary>
/// <param name="Host">The testbed host's name (<c>h1</c>), for <see cref="TestbedFixture.SshAsync"/>.</param>
/// <param name="Address">The host's address, as the topology and meta.yaml name it.</param>
/// <param name="Component">TiUP's component name: <c>alertmanager</c>, <c>node_exporter</c> or <c>blackbox_exporter</c>.</param>
/// <param name="Port">The instance's port (alertmanager: its web port) and the unit name's suffix.</param>
/// <param name="DeployDir">Its deploy dir (the two exporters share <c>/tidb-deploy/monitor-9100</c>).</param>
/// <param name="DataDir">Its data dir.</param>
/// <param name="LogDir">Its log dir.</param>
/// <param name="Unit">The systemd unit, without <c>.service</c> (<c>node_exporter-9100</c>).</param>
/// <param name="Executable">The absolute path of the binary the run script execs.</param>
public sealed record TiupInstance(
    string Host,
    string Address,
    string Component,
    int Port,
    string DeployDir,
    string DataDir,
    string LogDir,
    string Unit,
    string Executable)
{
    /// <summary>Where the unit file is.</summary>
    public string UnitFile => $"/etc/systemd/system/{Unit}.service";

    /// <summary>The run script TiUP installs (<c>DEPLOY/scripts/run_COMP.sh</c>).</summary>
    public string RunScript => $"{DeployDir}/scripts/run_{Component}.sh";
}

/// <summary>A cluster laid out on testbed hosts as <c>tiup cluster deploy</c> + <c>start</c> leave it.</summary>
/// <param name="Name">The cluster's name.</param>
/// <param name="TiupHome">The <c>$TIUP_HOME</c> holding it (<c>storage/cluster/clusters/NAME</c>).</param>
/// <param name="ClusterDir"><c>$TIUP_HOME/storage/cluster/clusters/NAME</c>.</param>
/// <param name="KeyPath">The cluster's private key (<c>ClusterDir/ssh/id_rsa</c>); <c>.pub</c> beside it.</param>
/// <param name="Version">The cluster version meta.yaml records (<c>tidb_version</c>).</param>
/// <param name="Hosts">The testbed hosts it uses.</param>
/// <param name="Instances">Every instance, in TiUP's start order per host (alertmanager, node_exporter, blackbox_exporter).</param>
public sealed record TiupCluster(
    string Name,
    string TiupHome,
    string ClusterDir,
    string KeyPath,
    string Version,
    ImmutableArray<TestbedHost> Hosts,
    ImmutableArray<TiupInstance> Instances)
{
    /// <summary>The cluster's <c>meta.yaml</c>.</summary>
    public string MetaPath => Path.Combine(ClusterDir, "meta.yaml");

    /// <summary>The instances on one host.</summary>
    public IEnumerable<TiupInstance> On(string host) => Instances.Where(i => i.Host == host);
}

/// <summary>What a cluster's hosts hold, for "nothing changed" checks: path or unit → a digest of its state.</summary>
/// <param name="Entries">Per host: every file under the cluster's deploy and data dirs (sha256, mode, owner), every
/// directory there (mode, owner), the unit files, <c>~tidb/.ssh/authorized_keys</c>, and each unit's MainPID and
/// ActiveEnterTimestamp; keys are <c>HOST:PATH</c> or <c>HOST:unit NAME</c>.</param>
public sealed record TiupSnapshot(ImmutableSortedDictionary<string, string> Entries)
{
    /// <summary>What differs from <paramref name="other"/>, one line per entry; empty when the two are equal.</summary>
    public ImmutableArray<string> Differences(TiupSnapshot other)
    {
        var lines = new List<string>();
        foreach (var key in Entries.Keys.Union(other.Entries.Keys).Order(StringComparer.Ordinal))
        {
            var mine = Entries.GetValueOrDefault(key);
            var theirs = other.Entries.GetValueOrDefault(key);
            if (mine != theirs)
            {
                lines.Add($"{key}: {mine ?? "(absent)"} -> {theirs ?? "(absent)"}");
            }
        }

        return [.. lines];
    }

    /// <summary>True when both hold the same entries with the same values.</summary>
    public bool Same(TiupSnapshot other) => Differences(other).IsEmpty;

    public override string ToString() => string.Join("\n", Entries.Select(e => $"{e.Key} {e.Value}"));
}

/// <summary>
/// Builds on testbed hosts a cluster exactly as <c>tiup cluster deploy</c> + <c>start</c> leave it, without Tug:
/// TiUP's templates rendered by <see cref="TiupRender"/>, TiUP's commands for the user, the key and the directories
/// (tiup-compat.md §4.1–4.2), over the testbed's root SSH. The cluster: alertmanager (web 9093, cluster 9094) on every
/// host, node_exporter 1.1.2 (9100) and blackbox_exporter 0.18.0 (9115) in TiUP's monitor dirs on every host.
/// </summary>
public sealed class TiupDeployment(TestbedFixture testbed, PackagesFixture packages)
{
    /// <summary>The cluster version meta.yaml records.</summary>
    public const string ClusterVersion = "v8.5.0";

    public const string User = "tidb";

    public const string DeployRoot = "/tidb-deploy";

    public const string DataRoot = "/tidb-data";

    /// <summary>The versions of the testbed packages deployed (PackagesFixture names them without the <c>v</c>).</summary>
    public static readonly ImmutableDictionary<string, string> Versions = new Dictionary<string, string>
    {
        ["alertmanager"] = "0.21.0",
        ["node_exporter"] = "1.1.2",
        ["blackbox_exporter"] = "0.18.0",
    }.ToImmutableDictionary();

    /// <summary>
    /// <c>last_ops_ver</c> as tiup-cluster 1.16.5 writes it (<c>pkg/version</c> <c>TiUPVersion.String</c>): version and
    /// name, then the build's Go version, git ref and hash.
    /// </summary>
    public const string LastOpsVer = "1.16.5 tiup\nGo Version: go1.23.8\nGit Ref: v1.16.5\nGitHash: 842f05cc83afab3e6e44eabb5020c5bd302af048";

    private const int AlertmanagerWebPort = 9093;
    private const int AlertmanagerClusterPort = 9094;
    private const int NodeExporterPort = 9100;
    private const int BlackboxExporterPort = 9115;

    /// <summary>What <see cref="DeployAsync"/> will build for <paramref name="hosts"/>: pure, so a test can clean up after a deploy that failed half-way.</summary>
    public static TiupCluster Describe(string tiupHome, IReadOnlyList<TestbedHost> hosts, string name = "tiupbed")
    {
        var clusterDir = Path.Combine(tiupHome, "storage", "cluster", "clusters", name);
        var instances = new List<TiupInstance>();
        foreach (var h in hosts)
        {
            var am = $"{DeployRoot}/alertmanager-{AlertmanagerWebPort}";
            instances.Add(new TiupInstance(h.Name, h.Address, "alertmanager", AlertmanagerWebPort, am, $"{DataRoot}/alertmanager-{AlertmanagerWebPort}", $"{am}/log",
                $"alertmanager-{AlertmanagerWebPort}", $"{am}/bin/alertmanager/alertmanager"));
            var monitor = $"{DeployRoot}/monitor-{NodeExporterPort}";
            var monitorData = $"{DataRoot}/monitor-{NodeExporterPort}";
            instances.Add(new TiupInstance(h.Name, h.Address, "node_exporter", NodeExporterPort, monitor, monitorData, $"{monitor}/log",
                $"node_exporter-{NodeExporterPort}", $"{monitor}/bin/node_exporter/node_exporter"));
            instances.Add(new TiupInstance(h.Name, h.Address, "blackbox_exporter", BlackboxExporterPort, monitor, monitorData, $"{monitor}/log",
                $"blackbox_exporter-{BlackboxExporterPort}", $"{monitor}/bin/blackbox_exporter/blackbox_exporter"));
        }

        return new TiupCluster(name, tiupHome, clusterDir, Path.Combine(clusterDir, "ssh", "id_rsa"), ClusterVersion, [.. hosts], [.. instances]);
    }

    /// <summary>The data TiUP gives <c>run_COMP.sh</c>'s template for <paramref name="instance"/> (TiUP's field names).</summary>
    public static (string Template, JsonObject Data) RunScript(TiupCluster cluster, TiupInstance instance) => instance.Component switch
    {
        "node_exporter" => ("scripts/run_node_exporter.sh.tpl", new JsonObject
        {
            ["Port"] = instance.Port,
            ["DeployDir"] = instance.DeployDir,
            ["LogDir"] = instance.LogDir,
            ["NumaNode"] = string.Empty,
        }),
        "blackbox_exporter" => ("scripts/run_blackbox_exporter.sh.tpl", new JsonObject
        {
            ["Port"] = instance.Port,
            ["DeployDir"] = instance.DeployDir,
            ["LogDir"] = instance.LogDir,
            ["NumaNode"] = string.Empty,
        }),
        "alertmanager" => ("scripts/run_alertmanager.sh.tpl", new JsonObject
        {
            // TiUP (spec/alertmanager.go InitConfig): listen on the listen host (global default 0.0.0.0), every
            // alertmanager of the topology as a peer, this one included; the cluster listener on the host itself.
            ["WebListenAddr"] = $"0.0.0.0:{instance.Port}",
            ["WebExternalURL"] = $"http://{instance.Address}:{instance.Port}",
            ["ClusterPeers"] = new JsonArray([.. cluster.Instances.Where(i => i.Component == "alertmanager").Select(i => (JsonNode)$"{i.Address}:{AlertmanagerClusterPort}")]),
            ["ClusterListenAddr"] = $"{instance.Address}:{AlertmanagerClusterPort}",
            ["DeployDir"] = instance.DeployDir,
            ["LogDir"] = instance.LogDir,
            ["DataDir"] = instance.DataDir,
            ["NumaNode"] = string.Empty,
            ["AdditionalArgs"] = new JsonArray(),
        }),
        _ => throw new ArgumentException($"not a component of this cluster: {instance.Component}", nameof(instance)),
    };

    /// <summary>The data TiUP gives <c>system.service.tpl</c> for <paramref name="instance"/>: system mode, user tidb, no resource control, default Restart.</summary>
    public static JsonObject Unit(TiupInstance instance) => new()
    {
        ["ServiceName"] = instance.Component,
        ["User"] = User,
        ["DeployDir"] = instance.DeployDir,
        ["SystemdMode"] = "system",
        // blackbox_exporter needs CAP_NET_RAW for ICMP probes (task/monitored_config.go).
        ["GrantCapNetRaw"] = instance.Component == "blackbox_exporter",
        ["Restart"] = string.Empty,
    };

    /// <summary>Builds the cluster <paramref name="cluster"/> describes (see <see cref="Describe"/>) and waits until every instance answers HTTP.</summary>
    /// <exception cref="Xunit.Sdk.XunitException">A host is not clean (a unit or directory of this cluster already there) or a step failed.</exception>
    public async Task DeployAsync(TiupCluster cluster, CancellationToken cancellationToken)
    {
        // TiUP's cluster dir: key pair, the package cache and the rendered files (config-cache/).
        var cache = Path.Combine(cluster.ClusterDir, "config-cache");
        Directory.CreateDirectory(cache);
        await GenerateKeyAsync(cluster.KeyPath, cancellationToken);
        var tarballs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var component in Versions.Keys)
        {
            tarballs[component] = await RepackageAsync(cluster.TiupHome, component, Versions[component], cancellationToken);
        }

        await Task.WhenAll(cluster.Hosts.Select(h => DeployHostAsync(cluster, h, cache, tarballs, cancellationToken)));

        await File.WriteAllBytesAsync(cluster.MetaPath, await TiupRender.RenderAsync("meta", Meta(cluster), cancellationToken), cancellationToken);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        foreach (var i in cluster.Instances)
        {
            // Exporters' landing pages (scraping /metrics would run collectors, which may log); alertmanager's readiness.
            var path = i.Component == "alertmanager" ? "/-/ready" : "/";
            await WaitHttpAsync(http, new Uri($"http://{i.Address}:{i.Port}{path}"), $"{i.Host}: {i.Unit}", cancellationToken);
        }

        // Alertmanager logs while its gossip settles; wait until every member sees every peer, so that the cluster is quiet.
        foreach (var i in cluster.Instances.Where(i => i.Component == "alertmanager"))
        {
            var peers = cluster.Instances.Count(a => a.Component == "alertmanager");
            await WaitHttpAsync(http, new Uri($"http://{i.Address}:{i.Port}/api/v2/status"), $"{i.Host}: {i.Unit} with {peers} peers ready", cancellationToken, body =>
            {
                using var json = JsonDocument.Parse(body);
                var c = json.RootElement.GetProperty("cluster");
                return c.GetProperty("status").GetString() == "ready" && c.GetProperty("peers").GetArrayLength() == peers;
            });
        }
    }

    /// <summary>Snapshots what the cluster's hosts hold (see <see cref="TiupSnapshot"/>).</summary>
    public async Task<TiupSnapshot> SnapshotAsync(TiupCluster cluster, CancellationToken cancellationToken)
    {
        var entries = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var h in cluster.Hosts)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var on = cluster.On(h.Name).ToList();
            var dirs = on.SelectMany(i => new[] { i.DeployDir, i.DataDir }).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
            var script = new StringBuilder("set -e\n");
            foreach (var d in dirs)
            {
                // Every path (type, mode, owner), then every regular file's sha256.
                script.Append(CultureInfo.InvariantCulture, $"find {Q(d)} -printf 'stat %p %y %m %u:%g\\n' | LC_ALL=C sort\n");
                script.Append(CultureInfo.InvariantCulture, $"find {Q(d)} -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum | sed 's/^/sha256 /'\n");
            }

            foreach (var f in on.Select(i => i.UnitFile).Append($"/home/{User}/.ssh/authorized_keys"))
            {
                script.Append(CultureInfo.InvariantCulture, $"printf 'stat %s %s\\n' {Q(f)} \"$(stat -c '%F %a %U:%G' {Q(f)})\"\n");
                script.Append(CultureInfo.InvariantCulture, $"sha256sum {Q(f)} | sed 's/^/sha256 /'\n");
            }

            foreach (var u in on.Select(i => i.Unit))
            {
                script.Append(CultureInfo.InvariantCulture, $"printf 'unit %s MainPID=%s ActiveEnterTimestamp=%s\\n' {u} \"$(systemctl show -p MainPID --value {u})\" \"$(systemctl show -p ActiveEnterTimestamp --value {u})\"\n");
            }

            var output = await testbed.MustRunAsync(h.Name, script.ToString());
            foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = line.Split(' ', 3);
                switch (parts[0])
                {
                    case "stat":
                        // Printed before the file's sha256 line, which appends to it.
                        entries[$"{h.Name}:{parts[1]}"] = parts[2];
                        break;
                    case "sha256":
                        var key = $"{h.Name}:{parts[2].TrimStart()}";
                        entries[key] = entries.TryGetValue(key, out var stat) ? $"{stat} {parts[1]}" : parts[1];
                        break;
                    case "unit":
                        entries[$"{h.Name}:unit {parts[1]}"] = parts[2];
                        break;
                    default:
                        Assert.Fail($"{h.Name}: unexpected snapshot line: {line}");
                        break;
                }
            }
        }

        return new TiupSnapshot(entries.ToImmutable());
    }

    /// <summary>
    /// Undoes <see cref="DeployAsync"/> as far as it got: stops, disables and removes the units, removes the instance
    /// directories and the cluster key's line from tidb's authorized_keys (as TiUP's destroy does). User tidb, its
    /// other keys and <c>/tidb-deploy</c>, <c>/tidb-data</c> themselves stay: other tests use them.
    /// </summary>
    public async Task RemoveAsync(TiupCluster cluster, CancellationToken cancellationToken)
    {
        var blob = File.Exists(cluster.KeyPath + ".pub") ? (await File.ReadAllTextAsync(cluster.KeyPath + ".pub", cancellationToken)).Split(' ')[1].Trim() : null;
        var problems = new List<string>();
        foreach (var h in cluster.Hosts)
        {
            var on = cluster.On(h.Name).ToList();
            var units = string.Join(' ', on.Select(i => i.Unit));
            var script = new StringBuilder();
            script.Append(CultureInfo.InvariantCulture, $"systemctl stop {units} 2>/dev/null; systemctl disable {units} 2>/dev/null; ");
            script.Append(CultureInfo.InvariantCulture, $"rm -f {string.Join(' ', on.Select(i => i.UnitFile))}; systemctl daemon-reload; systemctl reset-failed {units} 2>/dev/null; ");
            script.Append(CultureInfo.InvariantCulture, $"rm -rf {string.Join(' ', on.SelectMany(i => new[] { i.DeployDir, i.DataDir }).Distinct(StringComparer.Ordinal).Select(Q))}; ");
            if (blob is not null)
            {
                // Rewritten in place, so that the file keeps its owner and mode.
                script.Append(CultureInfo.InvariantCulture, $"f=/home/{User}/.ssh/authorized_keys; if [ -f $f ]; then t=$(mktemp); grep -vF {Q(blob)} $f > $t || true; cat $t > $f; rm -f $t; fi; ");
            }

            script.Append("true");
            var (exit, output) = await testbed.SshAsync(h.Name, script.ToString());
            if (exit != 0)
            {
                problems.Add($"{h.Name}: exit {exit}: {output}");
            }
        }

        Assert.True(problems.Count == 0, "removing the TiUP-deployed cluster failed:\n" + string.Join("\n", problems));
    }

    /// <summary>meta.yaml's content as TiUP writes it for this cluster (keys of meta.yaml; tiuprender orders and omits as TiUP).</summary>
    public static JsonObject Meta(TiupCluster cluster)
    {
        var sshPort = cluster.Hosts[0].Port;
        var alertmanagers = new JsonArray();
        foreach (var i in cluster.Instances.Where(i => i.Component == "alertmanager"))
        {
            alertmanagers.Add(new JsonObject
            {
                ["host"] = i.Address,
                ["ssh_port"] = cluster.Hosts.Single(h => h.Name == i.Host).Port,
                ["web_port"] = i.Port,
                ["cluster_port"] = AlertmanagerClusterPort,
                ["deploy_dir"] = i.DeployDir,
                ["data_dir"] = i.DataDir,
                ["log_dir"] = i.LogDir,
                ["arch"] = "amd64",
                ["os"] = "linux",
            });
        }

        var monitor = cluster.Instances.First(i => i.Component == "node_exporter");
        return new JsonObject
        {
            ["user"] = User,
            ["tidb_version"] = cluster.Version,
            ["last_ops_ver"] = LastOpsVer,
            ["topology"] = new JsonObject
            {
                // Defaults filled as TiUP's UnmarshalYAML fills them (ssh_type, os, systemd_mode); global dirs as written.
                ["global"] = new JsonObject
                {
                    ["user"] = User,
                    ["ssh_port"] = sshPort,
                    ["ssh_type"] = "builtin",
                    ["deploy_dir"] = DeployRoot,
                    ["data_dir"] = DataRoot,
                    ["os"] = "linux",
                    ["systemd_mode"] = "system",
                },
                ["monitored"] = new JsonObject
                {
                    ["node_exporter_port"] = NodeExporterPort,
                    ["blackbox_exporter_port"] = BlackboxExporterPort,
                    // The topology pins the exporters (TiUP's MonitoredOptions has these two fields); without them
                    // TiUP would have deployed the mirror's latest.
                    ["node_exporter_version"] = "v" + Versions["node_exporter"],
                    ["blackbox_exporter_version"] = "v" + Versions["blackbox_exporter"],
                    ["deploy_dir"] = monitor.DeployDir,
                    ["data_dir"] = monitor.DataDir,
                    ["log_dir"] = monitor.LogDir,
                },
                // Likewise alertmanager's version (it never follows the cluster version, spec/alertmanager.go).
                ["component_versions"] = new JsonObject { ["alertmanager"] = "v" + Versions["alertmanager"] },
                // One setting, as a topology written from TiUP's examples has; once one key holds something TiUP
                // writes every ServerConfigs key (the others as {}).
                ["server_configs"] = new JsonObject { ["tidb"] = new JsonObject { ["log.level"] = "warn" } },
                ["alertmanager_servers"] = alertmanagers,
            },
        };
    }

    private async Task DeployHostAsync(TiupCluster cluster, TestbedHost h, string cache, Dictionary<string, string> tarballs, CancellationToken cancellationToken)
    {
        var on = cluster.On(h.Name).ToList();

        // Given a clean host: nothing of this cluster's there already (a leftover would make the test lie).
        var leftovers = await testbed.SshAsync(h.Name, string.Join("; ", on.SelectMany(i => new[] { i.UnitFile, i.DeployDir, i.DataDir }).Distinct(StringComparer.Ordinal)
            .Select(p => $"test ! -e {Q(p)} || echo {Q(p)}")));
        Assert.True(leftovers.ExitCode == 0 && leftovers.Output.Trim().Length == 0, $"{h.Name} is not clean, it already has: {leftovers.Output}");

        // EnvInit (task/env_init.go, module/user.go): the user with sudo, then the cluster key appended as that user.
        await testbed.MustRunAsync(h.Name,
            $"id -u {User} > /dev/null 2>&1 || (/usr/sbin/groupadd -f {User} && /usr/sbin/useradd -m -s /bin/bash -g {User} {User}) && echo '{User} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/{User}");
        await testbed.MustRunAsync(h.Name, $"su - {User} -c 'mkdir -p ~/.ssh && chmod 700 ~/.ssh'");
        var pk = (await File.ReadAllTextAsync(cluster.KeyPath + ".pub", cancellationToken)).Trim();
        const string Keys = "~/.ssh/authorized_keys";
        await testbed.MustRunAsync(h.Name, $"su - {User} -c 'grep $(echo {pk}) {Keys} || echo {pk} >> {Keys} && chmod 600 {Keys}'");
        var present = await testbed.MustRunAsync(h.Name, $"grep -cxF {Q(pk)} /home/{User}/.ssh/authorized_keys || true");
        Assert.True(present.Trim() == "1", $"{h.Name}: the cluster key is in tidb's authorized_keys {present.Trim()} times, not once");

        // Directories (task/mkdir.go): each prefix created and chowned unless it exists. Global dirs first, as EnvInit.
        var dirs = new List<string> { DeployRoot, DataRoot };
        foreach (var i in on)
        {
            dirs.AddRange([i.DeployDir, i.LogDir, $"{i.DeployDir}/bin", $"{i.DeployDir}/conf", $"{i.DeployDir}/scripts", i.DataDir]);
        }

        var mkdir = new StringBuilder("set -e\n");
        foreach (var d in dirs.Distinct(StringComparer.Ordinal))
        {
            var parts = d.Split('/', StringSplitOptions.RemoveEmptyEntries);
            for (var n = 1; n <= parts.Length; n++)
            {
                var p = "/" + string.Join('/', parts.Take(n));
                mkdir.Append(CultureInfo.InvariantCulture, $"test -d {p} || (mkdir -p {p} && chown {User}:$(id -g -n {User}) {p})\n");
            }
        }

        await testbed.MustRunAsync(h.Name, mkdir.ToString());

        foreach (var i in on)
        {
            // The package (task/install_package.go): copied into bin/ and unpacked there by the deploy user.
            var tarball = tarballs[i.Component];
            var remote = $"{i.DeployDir}/bin/{Path.GetFileName(tarball)}";
            await CopyAsTidbAsync(h.Name, tarball, remote, "0644");
            await testbed.MustRunAsync(h.Name, $"runuser -u {User} -- sh -c {Q($"tar --no-same-owner -zxf {remote} -C {i.DeployDir}/bin && rm {remote}")}");

            // The unit (spec/instance.go, task/monitored_config.go): rendered, sent to /tmp as the user, moved in with sudo.
            var unitName = $"{i.Component}-{i.Address}-{i.Port}.service";
            var unit = Path.Combine(cache, unitName);
            await File.WriteAllBytesAsync(unit, await TiupRender.RenderAsync("systemd/system.service.tpl", Unit(i), cancellationToken), cancellationToken);
            var tmp = $"/tmp/{i.Component}_{Guid.NewGuid()}.service";
            await CopyAsTidbAsync(h.Name, unit, tmp, "0644");
            await testbed.MustRunAsync(h.Name, $"mv {tmp} {i.UnitFile}");

            // The run script: rendered, copied, chmod +x.
            var (template, data) = RunScript(cluster, i);
            var script = Path.Combine(cache, i.Component == "alertmanager" ? $"run_{i.Component}_{i.Address}_{i.Port}.sh" : $"run_{i.Component}_{i.Address}.sh");
            await File.WriteAllBytesAsync(script, await TiupRender.RenderAsync(template, data, cancellationToken), cancellationToken);
            await CopyAsTidbAsync(h.Name, script, i.RunScript, "0755");

            // Config files: blackbox.yml (written while handling node_exporter, as TiUP does), alertmanager.yml as is.
            if (i.Component == "node_exporter")
            {
                var blackbox = Path.Combine(cache, $"blackbox_{i.Address}.yaml");
                await File.WriteAllBytesAsync(blackbox, await TiupRender.RenderAsync("config/blackbox.yml.tpl", new JsonObject { ["DeployDir"] = i.DeployDir, ["TLSEnabled"] = false }, cancellationToken), cancellationToken);
                await CopyAsTidbAsync(h.Name, blackbox, $"{i.DeployDir}/conf/blackbox.yml", "0644");
            }
            else if (i.Component == "alertmanager")
            {
                var config = Path.Combine(cache, $"alertmanager_{i.Address}.yml");
                await File.WriteAllBytesAsync(config, await TiupRender.RenderAsync("config/alertmanager.yml", new JsonObject(), cancellationToken), cancellationToken);
                await CopyAsTidbAsync(h.Name, config, $"{i.DeployDir}/conf/alertmanager.yml", "0644");
            }
        }

        // deploy enables every unit (postDeployHook); start starts them in TiUP's order, alertmanager before the agents.
        var units = string.Join(' ', on.Select(i => i.Unit));
        await testbed.MustRunAsync(h.Name, $"systemctl daemon-reload && systemctl enable {units}");
        foreach (var i in on)
        {
            await testbed.MustRunAsync(h.Name, $"systemctl daemon-reload && systemctl start {i.Unit}");
        }
    }

    /// <summary>A file put where TiUP's scp as the deploy user puts it: owned by the user, mode 0644 (easyssh sends C0644), then chmod'ed as TiUP does.</summary>
    private async Task CopyAsTidbAsync(string host, string local, string remote, string mode)
    {
        var (exit, output) = await testbed.CopyToAsync(host, local, remote);
        Assert.True(exit == 0, $"{host}: scp {local} {remote}: {output}");
        await testbed.MustRunAsync(host, $"chown {User}:{User} {Q(remote)} && chmod {mode} {Q(remote)}");
    }

    /// <summary>The cluster key as TiUP's SSHKeyGen leaves it: PEM RSA private key and "ssh-rsa BLOB\n" public key, both 0600 in a 0700 dir.</summary>
    private static async Task GenerateKeyAsync(string keyPath, CancellationToken cancellationToken)
    {
        if (File.Exists(keyPath) && File.Exists(keyPath + ".pub"))
        {
            return; // TiUP keeps a cluster's existing key pair.
        }

        var dir = Path.GetDirectoryName(keyPath)!;
        Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var generated = Path.Combine(dir, "keygen");
        var (exit, output) = await Processes.RunAsync("ssh-keygen", ["-q", "-t", "rsa", "-b", "2048", "-N", string.Empty, "-m", "PEM", "-C", string.Empty, "-f", generated]);
        Assert.True(exit == 0, $"ssh-keygen failed: {output}");
        File.Move(generated, keyPath);
        var fields = (await File.ReadAllTextAsync(generated + ".pub", cancellationToken)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        await File.WriteAllTextAsync(keyPath + ".pub", $"{fields[0]} {fields[1]}\n", cancellationToken);
        File.Delete(generated + ".pub");
        File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.SetUnixFileMode(keyPath + ".pub", UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>
    /// The testbed package (upstream layout, <c>node_exporter-1.1.2.linux-amd64/node_exporter</c>) repacked in PingCAP's
    /// layout (<c>node_exporter/node_exporter</c>) into TiUP's download cache, <c>storage/cluster/packages/COMP-vVER-linux-amd64.tar.gz</c>.
    /// </summary>
    private async Task<string> RepackageAsync(string tiupHome, string component, string version, CancellationToken cancellationToken)
    {
        var package = packages.Find(component, version);
        var dir = Path.Combine(tiupHome, "storage", "cluster", "packages");
        Directory.CreateDirectory(dir);
        var output = Path.Combine(dir, $"{component}-v{version}-linux-amd64.tar.gz");
        var work = Path.Combine(dir, $".repack-{component}");
        Directory.CreateDirectory(work);
        try
        {
            var (exit, log) = await Processes.RunAsync("tar", ["-xzf", package.File, "-C", work]);
            Assert.True(exit == 0, $"unpacking {package.File}: {log}");
            var top = package.Entry.Split('/')[0];
            Directory.Move(Path.Combine(work, top), Path.Combine(work, component));
            cancellationToken.ThrowIfCancellationRequested();
            (exit, log) = await Processes.RunAsync("tar", ["-czf", output, "-C", work, component]);
            Assert.True(exit == 0, $"packing {output}: {log}");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }

        return output;
    }

    private static async Task WaitHttpAsync(HttpClient http, Uri url, string what, CancellationToken cancellationToken, Func<string, bool>? done = null)
    {
        var last = string.Empty;
        for (var attempt = 0; attempt < 60; attempt++)
        {
            try
            {
                using var response = await http.GetAsync(url, cancellationToken);
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                last = $"HTTP {(int)response.StatusCode}: {body}";
                if (response.IsSuccessStatusCode && (done is null || done(body)))
                {
                    return;
                }
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
            catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                last = e.Message;
            }

            await Task.Delay(1000, cancellationToken);
        }

        Assert.Fail($"{what}: {url} did not answer as expected within 60 s; last: {last}");
    }

    private static string Q(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
