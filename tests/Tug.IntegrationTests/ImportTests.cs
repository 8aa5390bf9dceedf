// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Tug.Testing;
using YamlDotNet.RepresentationModel;

namespace Tug.IntegrationTests;

/// <summary>
/// Issue 14 on the testbed: a cluster laid out exactly as TiUP deploys it (<see cref="TiupDeployment"/>: TiUP's own
/// templates rendered by Go's text/template, PingCAP's <c>bin/&lt;comp&gt;/&lt;comp&gt;</c> layout, the deploy user
/// with the cluster key, TiUP's meta.yaml and <c>ssh/id_rsa</c> in a TiUP home) with alertmanager 0.21.0,
/// node_exporter 1.1.2 and blackbox_exporter 0.18.0 running on two hosts, then, checked on the hosts:
/// <list type="number">
/// <item><c>import</c> leaves every file, unit, key and PID on the hosts as it was (by hash, on the hosts), and display
/// shows every instance Up, verified, at the version it runs, with the roles pinned there;</item>
/// <item>the field report: node_exporter alone to 1.9.0 from the upstream-layout tarball; every host runs 1.9.0 from
/// TiUP's path <c>bin/node_exporter/node_exporter</c>, which holds the package's build; no other process restarted;</item>
/// <item>scale-out of an alertmanager onto a third host brings node_exporter 1.9.0 there, in TiUP's layout;</item>
/// <item><c>export</c> writes a meta.yaml that a YAML reader sees as TiUP's, with the upgraded agent's version in
/// <c>monitored.node_exporter_version</c>, plus the key; importing the export gives the same topology and pins.</item>
/// </list>
/// </summary>
public sealed class ImportTests(TestbedFixture testbed, PackagesFixture packages)
{
    private const string Cluster = "tiupbed";

    [Fact]
    public async Task Should_Adopt_A_TiUP_Cluster_Unchanged_Then_Upgrade_Scale_And_Give_It_Back_In_TiUPs_Layout()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var tug = await packages.MirrorAsync(dir, ("node_exporter", "1.1.2"), ("node_exporter", "1.9.0"), ("blackbox_exporter", "0.18.0"), ("alertmanager", "0.21.0"));
        var handFixed = packages.Find("node_exporter", "1.5.0");
        var hosts = testbed.Inventory.Hosts.Take(3).ToList();
        var deployment = new TiupDeployment(testbed, packages);
        var tiup = TiupDeployment.Describe(dir.Combine("tiup-home"), hosts.Take(2).ToList(), Cluster);
        try
        {
            // Given: the cluster as TiUP left it
            await deployment.DeployAsync(tiup, cancel);

            // And the field report's hand fix on h2: a node_exporter 1.5.0 binary copied over TiUP's (no signed package of it in the mirror)
            var binary = dir.Combine("node_exporter-1.5.0");
            await File.WriteAllBytesAsync(binary, EntryBytes(handFixed), cancel);
            Assert.Equal(0, (await testbed.CopyToAsync(hosts[1].Name, binary, "/tmp/node_exporter-1.5.0")).ExitCode);
            await testbed.MustRunAsync(hosts[1].Name, "systemctl stop node_exporter-9100 && install -o tidb -g tidb -m 0755 /tmp/node_exporter-1.5.0 /tidb-deploy/monitor-9100/bin/node_exporter/node_exporter && rm /tmp/node_exporter-1.5.0 && systemctl start node_exporter-9100");
            await WaitListeningAsync(hosts[1], 9100);
            var before = await deployment.SnapshotAsync(tiup, cancel);

            // When: imported
            var import = await tug.RunAsync("cluster", "import", tiup.ClusterDir, "--format", "json");

            // Then: nothing on the hosts changed, by hash, unit and PID
            await File.WriteAllTextAsync(Path.Combine(AppContext.BaseDirectory, "import-report.json"), import.Stdout, cancel);
            Assert.True(import.ExitCode == 0, import.ToString());
            var afterImport = await deployment.SnapshotAsync(tiup, cancel);
            Assert.True(before.Same(afterImport), "import changed the hosts:\n" + string.Join("\n", before.Differences(afterImport)));
            var handFixedId = $"{hosts[1].Address}:9100";
            using (var report = JsonDocument.Parse(import.Stdout))
            {
                // What runs is the baseline: uniform roles pinned, node_exporter mixed and unpinned, the hand-copied build unknown
                var pinned = report.RootElement.GetProperty("pinned");
                Assert.False(pinned.TryGetProperty("node_exporter", out _), pinned.ToString());
                Assert.Equal("v0.18.0", pinned.GetProperty("blackbox_exporter").GetString());
                Assert.Equal("v0.21.0", pinned.GetProperty("alertmanager").GetString());
                Assert.Equal(["v1.1.2", "v1.5.0"], report.RootElement.GetProperty("mixed").GetProperty("node_exporter").EnumerateArray().Select(v => v.GetString()));
                foreach (var i in report.RootElement.GetProperty("instances").EnumerateArray())
                {
                    var expected = i.GetProperty("id").GetString() == handFixedId && i.GetProperty("role").GetString() == "node_exporter" ? "unknown" : "known";
                    Assert.True(i.GetProperty("build").GetString() == expected, $"{i}: build should be {expected}");
                }
            }

            // And the host keys are pinned, as the hosts present them
            var meta = Tug.Core.Topology.ClusterMetaSerializer.Deserialize(await File.ReadAllTextAsync(Path.Combine(tug.Home, "clusters", Cluster, "meta.yaml"), cancel), "meta.yaml");
            foreach (var h in hosts.Take(2))
            {
                Assert.Equal(h.HostKeyFingerprint, meta.Tug.HostKeys.GetValueOrDefault($"{h.Address}:{h.Port}"));
            }

            // And display shows every instance Up, verified, at the version it runs; the hand fix as an unknown build of a mixed role
            var shown = await DisplayAsync(tug);
            Assert.Equal(6, shown.Count);
            foreach (var i in shown)
            {
                var expected = i.Id == handFixedId && i.Role == "node_exporter" ? "v1.5.0" : "v" + TiupDeployment.Versions[i.Role];
                Assert.True(i.Status == "Up" && i.Verified && i.Version == expected, $"after import: {i}");
            }

            var text = (await tug.RunAsync("cluster", "display", Cluster)).WithoutAnsi();
            Assert.Contains("v1.5.0 (unknown build)", text.Stdout, StringComparison.Ordinal);
            Assert.Contains("node_exporter runs mixed versions (v1.1.2, v1.5.0) and is not pinned", text.Stderr, StringComparison.Ordinal);

            // When: the field report, node_exporter alone to 1.9.0 (an upstream tarball: node_exporter-1.9.0.linux-amd64/node_exporter)
            var others = await PidsAsync(hosts.Take(2), ["alertmanager-9093", "blackbox_exporter-9115"]);
            var upgrade = await tug.RunAsync("cluster", "upgrade", Cluster, "--node-exporter-version", "v1.9.0", "-y");

            // Then: each host runs 1.9.0 from TiUP's path, which holds the package's build; nothing else restarted
            Assert.True(upgrade.ExitCode == 0, upgrade.ToString());
            var newBuild = EntrySha256(packages.Find("node_exporter", "1.9.0"));
            foreach (var h in hosts.Take(2))
            {
                await AssertNodeExporterAsync(h, newBuild);
            }

            Assert.Equal(others, await PidsAsync(hosts.Take(2), ["alertmanager-9093", "blackbox_exporter-9115"]));
            foreach (var i in await DisplayAsync(tug))
            {
                var expected = i.Role == "node_exporter" ? "v1.9.0" : "v" + TiupDeployment.Versions[i.Role];
                Assert.True(i.Status == "Up" && i.Verified && i.Version == expected, $"after the upgrade: {i}");
            }

            // When: scale-out of an alertmanager onto a third host
            var h3 = hosts[2];
            var scale = dir.Combine("scale.yaml");
            await File.WriteAllTextAsync(scale, $"alertmanager_servers:\n  - host: {h3.Address}\n    ssh_port: {h3.Port}\n    web_port: 9093\n    cluster_port: 9094\n", cancel);
            var scaled = await tug.RunAsync("cluster", "scale-out", Cluster, scale, "-u", "root", "-i", testbed.Inventory.Key, "-y");

            // Then: h3 runs node_exporter 1.9.0 in TiUP's layout, started by TiUP's run script
            Assert.True(scaled.ExitCode == 0, scaled.ToString());
            await AssertNodeExporterAsync(h3, newBuild);
            var script = await testbed.MustRunAsync(h3.Name, "cat /tidb-deploy/monitor-9100/scripts/run_node_exporter.sh");
            Assert.Contains("EXPORTER_BIN=bin/node_exporter/node_exporter\nif [ ! -f $EXPORTER_BIN ]; then", script, StringComparison.Ordinal);
            Assert.Equal("alertmanager-0.21.0", (await testbed.MustRunAsync(h3.Name, "test -x /tidb-deploy/alertmanager-9093/bin/alertmanager/alertmanager && echo alertmanager-$(/tidb-deploy/alertmanager-9093/bin/alertmanager/alertmanager --version 2>&1 | head -1 | grep -o '[0-9]*\\.[0-9]*\\.[0-9]*' | head -1)")).Trim());
            Assert.All(await DisplayAsync(tug), i => Assert.True(i.Status == "Up" && i.Verified, $"after the scale-out: {i}"));

            // When: exported for TiUP
            var export = await tug.RunAsync("cluster", "export", Cluster, dir.Combine("back-to-tiup"));

            // Then: a YAML reader sees TiUP's meta.yaml, the agents' version where TiUP keeps it, and the key
            Assert.True(export.ExitCode == 0, export.ToString());
            var yaml = new YamlStream();
            yaml.Load(new StringReader(await File.ReadAllTextAsync(dir.Combine("back-to-tiup/meta.yaml"), cancel)));
            var root = (YamlMappingNode)yaml.Documents[0].RootNode;
            Assert.Equal("tidb", Scalar(root, "user"));
            Assert.Equal(TiupDeployment.ClusterVersion, Scalar(root, "tidb_version"));
            Assert.False(root.Children.ContainsKey(new YamlScalarNode("tug")), "Tug's own section is left out");
            var topology = (YamlMappingNode)root["topology"];
            Assert.Equal("v1.9.0", Scalar((YamlMappingNode)topology["monitored"], "node_exporter_version"));
            var alertmanagers = ((YamlSequenceNode)topology["alertmanager_servers"]).Children.Cast<YamlMappingNode>().Select(n => Scalar(n, "host")).ToList();
            Assert.Equal(hosts.Select(h => h.Address), alertmanagers);
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(tug.Home, "clusters", Cluster, "ssh", "id_rsa"), cancel), await File.ReadAllBytesAsync(dir.Combine("back-to-tiup/ssh/id_rsa"), cancel));

            // And importing the export gives the same topology, versions and pins
            var again = await tug.RunAsync("cluster", "import", dir.Combine("back-to-tiup"), "--name", "roundtrip");
            await File.WriteAllTextAsync(Path.Combine(AppContext.BaseDirectory, "import-roundtrip.txt"), again.ToString(), cancel);
            Assert.True(again.ExitCode == 0, again.ToString());
            var first = await tug.SucceedAsync("cluster", "display", Cluster, "--format", "json");
            var second = await tug.SucceedAsync("cluster", "display", "roundtrip", "--format", "json");
            Assert.Equal(Summary(first.Stdout), Summary(second.Stdout));
        }
        finally
        {
            await tug.RunAsync("cluster", "destroy", Cluster, "-y", "--force");
            await deployment.RemoveAsync(tiup, CancellationToken.None);
        }
    }

    private sealed record Shown(string Id, string Role, string Status, string? Version, bool Verified);

    private static async Task<List<Shown>> DisplayAsync(CliRunner tug)
    {
        var display = await tug.RunAsync("cluster", "display", Cluster, "--format", "json");
        Assert.True(display.ExitCode == 0, display.ToString());
        using var json = JsonDocument.Parse(display.Stdout);
        return [.. json.RootElement.GetProperty("instances").EnumerateArray().Select(i => new Shown(
            i.GetProperty("id").GetString()!, i.GetProperty("role").GetString()!, i.GetProperty("status").GetString()!,
            i.GetProperty("version").GetString(), i.GetProperty("verified").GetBoolean()))];
    }

    /// <summary>The instances (ID, role, version, deployed version) and the pins display shows, for comparing two clusters.</summary>
    private static string Summary(string displayJson)
    {
        using var json = JsonDocument.Parse(displayJson);
        var pins = json.RootElement.GetProperty("cluster_meta").GetProperty("versions").ToString();
        var instances = json.RootElement.GetProperty("instances").EnumerateArray()
            .Select(i => $"{i.GetProperty("id").GetString()} {i.GetProperty("role").GetString()} {i.GetProperty("version").GetString()} {i.GetProperty("deployed_version").GetString()} {i.GetProperty("deploy_dir").GetString()}");
        return pins + "\n" + string.Join("\n", instances.Order(StringComparer.Ordinal));
    }

    private async Task AssertNodeExporterAsync(TestbedHost host, string build)
    {
        const string Path = "/tidb-deploy/monitor-9100/bin/node_exporter/node_exporter";
        Assert.Contains("1.9.0", await testbed.RunningVersionAsync(host.Name), StringComparison.Ordinal);
        Assert.Equal(Path, (await testbed.MustRunAsync(host.Name, "readlink /proc/$(systemctl show -p MainPID --value node_exporter-9100)/exe")).Trim());
        Assert.Equal(build, (await testbed.MustRunAsync(host.Name, $"sha256sum {Path} | cut -d' ' -f1")).Trim());
    }

    private async Task<Dictionary<string, string>> PidsAsync(IEnumerable<TestbedHost> hosts, string[] units)
    {
        var pids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var h in hosts)
        {
            foreach (var unit in units)
            {
                pids[$"{h.Name} {unit}"] = (await testbed.MustRunAsync(h.Name, $"systemctl show -p MainPID --value {unit}")).Trim();
            }
        }

        return pids;
    }

    /// <summary>The sha256 of a package's entry file, read from its tarball here.</summary>
    private static string EntrySha256((string Component, string Version, string File, string Entry) package) => Convert.ToHexStringLower(SHA256.HashData(EntryBytes(package)));

    /// <summary>The bytes of a package's entry file, read from its tarball here.</summary>
    private static byte[] EntryBytes((string Component, string Version, string File, string Entry) package)
    {
        using var file = File.OpenRead(package.File);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        while (tar.GetNextEntry() is { } entry)
        {
            if (entry.Name.TrimStart('.', '/') == package.Entry && entry.DataStream is { } data)
            {
                using var copy = new MemoryStream();
                data.CopyTo(copy);
                return copy.ToArray();
            }
        }

        throw new InvalidOperationException($"{package.File} has no {package.Entry}");
    }

    private async Task WaitListeningAsync(TestbedHost host, int port)
    {
        for (var attempt = 0; attempt < 60; attempt++)
        {
            if ((await testbed.SshAsync(host.Name, $"ss -ltnH 'sport = :{port}' | grep -q .")).ExitCode == 0)
            {
                return;
            }

            await Task.Delay(500, TestContext.Current.CancellationToken);
        }

        Assert.Fail($"{host.Name}: nothing listens on {port} after 30 s");
    }

    private static string Scalar(YamlMappingNode map, string key) => ((YamlScalarNode)map[key]).Value ?? string.Empty;
}
