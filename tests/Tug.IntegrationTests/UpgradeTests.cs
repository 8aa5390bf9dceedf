// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text.Json;
using Tug.Testing;

namespace Tug.IntegrationTests;

/// <summary>The field report, replayed on the testbed: one component upgraded alone, proven on every host; a broken package rolled back; drift caught.</summary>
public sealed class UpgradeTests(TestbedFixture testbed, PackagesFixture packages)
{
    private static readonly string[] Others = ["etcd-2379", "prometheus-9090", "alertmanager-9093", "blackbox_exporter-9115"];

    private Task<string> OnHostAsync(string host, string command) => testbed.MustRunAsync(host, command);

    private async Task<Dictionary<string, string>> StartTimesAsync(IEnumerable<TestbedHost> hosts)
    {
        var times = new Dictionary<string, string>();
        foreach (var h in hosts)
        {
            foreach (var unit in Others)
            {
                times[$"{h.Name}/{unit}"] = (await testbed.SshAsync(h.Name, $"systemctl show -p ExecMainStartTimestampMonotonic --value {unit} 2>/dev/null")).Output.Trim();
            }
        }

        return times;
    }

    [Fact]
    public async Task Should_Upgrade_Only_Node_Exporter_Roll_Back_A_Broken_Package_And_Catch_Drift()
    {
        using var dir = new TempDirectory();
        var tug = new CliRunner(dir.Path);
        await TestMirror.InitAsync(tug, dir.Combine("mirror"));
        foreach (var (component, version) in new[] { ("node_exporter", "1.1.2"), ("blackbox_exporter", "0.23.0"), ("prometheus", "2.53.3"), ("alertmanager", "0.25.0"), ("etcd", "3.4.23") })
        {
            var p = packages.Find(component, version);
            await tug.SucceedAsync("mirror", "publish", component, "v" + version, p.File, p.Entry, "--os", "linux", "--arch", "amd64");
        }

        var hosts = testbed.Inventory.Hosts.Take(3).ToList();
        var topology = dir.Combine("topology.yaml");
        await File.WriteAllTextAsync(topology, $"""
            global:
              user: tidb
              deploy_dir: /tidb-deploy
              data_dir: /tidb-data
            monitored:
              node_exporter_version: v1.1.2
              blackbox_exporter_version: v0.23.0
            component_versions:
              prometheus: v2.53.3
              alertmanager: v0.25.0
            etcd_servers:
            {string.Join("\n", hosts.Select(h => $"  - host: {h.Address}"))}
            monitoring_servers:
              - host: {hosts[0].Address}
            alertmanager_servers:
              - host: {hosts[1].Address}
            """, TestContext.Current.CancellationToken);
        var deploy = await tug.RunAsync("cluster", "deploy", "field", "v3.4.23", topology, "-u", "root", "-i", testbed.Inventory.Key, "-y");
        try
        {
            Assert.True(deploy.ExitCode == 0, deploy.ToString());
            await ReplayAsync(tug, hosts);
        }
        finally
        {
            await tug.RunAsync("cluster", "destroy", "field", "-y", "--force");
        }
    }

    private async Task ReplayAsync(CliRunner tug, List<TestbedHost> hosts)
    {
        // Given node_exporter 1.9.0 published from its upstream tarball, as downloaded
        var ne = packages.Find("node_exporter", "1.9.0");
        await tug.SucceedAsync("mirror", "publish", "node_exporter", "v1.9.0", ne.File, ne.Entry, "--os", "linux", "--arch", "amd64");
        var before = await StartTimesAsync(hosts);

        // When only node_exporter is upgraded
        var upgrade = await tug.RunAsync("cluster", "upgrade", "field", "--component", "node_exporter=v1.9.0", "-y");

        // Then every host runs 1.9.0, proven on the hosts and through Prometheus; nothing else restarted; verify agrees
        Assert.True(upgrade.ExitCode == 0, upgrade.ToString());
        foreach (var h in hosts)
        {
            var running = await OnHostAsync(h.Name, "/proc/$(systemctl show -p MainPID --value node_exporter-9100)/exe --version 2>&1 | head -1");
            Assert.Contains("version 1.9.0", running, StringComparison.Ordinal);
        }

        Assert.Equal(before, await StartTimesAsync(hosts));
        await AssertBuildInfoAsync(hosts, "1.9.0");
        var verify = await tug.RunAsync("cluster", "verify", "field");
        Assert.True(verify.ExitCode == 0, verify.ToString());

        // A cluster upgrade of the other components leaves node_exporter where it was pinned
        var etcd = packages.Find("etcd", "3.5.16");
        await tug.SucceedAsync("mirror", "publish", "etcd", "v3.5.16", etcd.File, etcd.Entry, "--os", "linux", "--arch", "amd64");
        var plan = await tug.SucceedAsync("cluster", "upgrade", "field", "v3.5.16", "--dry-run");
        Assert.Contains("node_exporter stays at v1.9.0 (pinned on its own)", plan.Stdout, StringComparison.Ordinal);
        var cluster = await tug.RunAsync("cluster", "upgrade", "field", "v3.5.16", "-y");
        Assert.True(cluster.ExitCode == 0, cluster.ToString());
        var display = await tug.SucceedAsync("cluster", "display", "field", "--format", "json");
        using (var json = JsonDocument.Parse(display.Stdout))
        {
            var rows = json.RootElement.GetProperty("instances").EnumerateArray().ToList();
            Assert.All(rows.Where(r => r.GetProperty("role").GetString() == "etcd"), r => Assert.Equal("v3.5.16", r.GetProperty("version").GetString()));
            Assert.All(rows.Where(r => r.GetProperty("role").GetString() == "node_exporter"), r => Assert.Equal("v1.9.0", r.GetProperty("version").GetString()));
            Assert.All(rows, r => Assert.True(r.GetProperty("verified").GetBoolean(), r.ToString()));
        }

        // A broken package (exits at once) fails the gate on the first host, is rolled back there, and nothing else changes
        var broken = Packages.Write(Path.Combine(Path.GetTempPath(), $"ne-broken-{Guid.NewGuid():N}.tar.gz"), "node_exporter-1.9.1.linux-amd64/node_exporter", "#!/bin/sh\necho 'node_exporter, version 1.9.1'\nexit 1\n");
        await tug.SucceedAsync("mirror", "publish", "node_exporter", "v1.9.1", broken, "node_exporter-1.9.1.linux-amd64/node_exporter", "--os", "linux", "--arch", "amd64");
        var pids = new Dictionary<string, string>();
        foreach (var h in hosts)
        {
            pids[h.Name] = await OnHostAsync(h.Name, "systemctl show -p MainPID --value node_exporter-9100");
        }

        var failed = await tug.RunAsync("cluster", "upgrade", "field", "--component", "node_exporter=v1.9.1", "-y", "--format", "json");
        Assert.Equal(1, failed.ExitCode);
        var report = failed.Stdout[failed.Stdout.IndexOf("{\n", StringComparison.Ordinal)..];
        using (var json = JsonDocument.Parse(report))
        {
            var outcomes = json.RootElement.GetProperty("outcomes").EnumerateArray().ToList();
            var first = outcomes.Single(o => o.GetProperty("status").GetString() == "failed");
            Assert.Equal($"{hosts[0].Address}:9100", first.GetProperty("id").GetString());
            Assert.Contains("rolled back to v1.9.0, healthy and verified", first.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Equal(2, outcomes.Count(o => o.GetProperty("status").GetString() == "skipped" && o.GetProperty("message").GetString()!.Contains("still v1.9.0", StringComparison.Ordinal)));
        }

        foreach (var h in hosts.Skip(1))
        {
            Assert.Equal(pids[h.Name], await OnHostAsync(h.Name, "systemctl show -p MainPID --value node_exporter-9100"));
        }

        foreach (var h in hosts)
        {
            Assert.Contains("version 1.9.0", await OnHostAsync(h.Name, "/proc/$(systemctl show -p MainPID --value node_exporter-9100)/exe --version 2>&1 | head -1"), StringComparison.Ordinal);
        }

        Assert.Equal(0, (await tug.RunAsync("cluster", "verify", "field")).ExitCode);

        // Drift: a binary replaced by hand (the field report's rm/push) makes verify fail, naming the instance
        var victim = hosts[2];
        var bin = $"/tidb-deploy/monitor-9100/bin/{ne.Entry}";
        await OnHostAsync(victim.Name, $"cp {bin} /tmp/ne.orig && rm {bin} && cp /tmp/ne.orig {bin} && echo >> {bin}");
        var drift = await tug.RunAsync("cluster", "verify", "field");
        Assert.True(drift.ExitCode == 1 && drift.Stdout.Contains($"FAIL {victim.Address}:9100", StringComparison.Ordinal), drift.ToString());
        Assert.Contains("deleted executable", drift.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain($"FAIL {hosts[0].Address}:9100", drift.Stdout, StringComparison.Ordinal);
    }

    private static Task AssertBuildInfoAsync(List<TestbedHost> hosts, string version) =>
        HttpPoll.UntilAsync($"http://{hosts[0].Address}:9090/api/v1/query?query=node_exporter_build_info", json =>
        {
            var found = json.GetProperty("data").GetProperty("result").EnumerateArray()
                .Select(r => (Instance: r.GetProperty("metric").GetProperty("instance").GetString()!, Version: r.GetProperty("metric").GetProperty("version").GetString()!)).ToList();
            var done = hosts.All(h => found.Any(f => f.Instance == $"{h.Address}:9100" && f.Version == version)) && found.All(f => f.Version == version);
            return (done, string.Join(", ", found.Select(f => $"{f.Instance}={f.Version}")));
        }, 45, $"Prometheus did not report node_exporter_build_info{{version=\"{version}\"}} for every host");
}
