// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text.Json;
using Tug.Testing;

namespace Tug.IntegrationTests;

/// <summary>
/// A 3-host cluster on the testbed, from a test mirror: etcd ×3, Prometheus, Alertmanager, and node_exporter and
/// blackbox_exporter on every host. Every claim is checked on the hosts (over the testbed's own ssh), not by trusting tug.
/// </summary>
public sealed class ClusterTests(TestbedFixture testbed, PackagesFixture packages)
{
    private static readonly (string Component, string Version)[] Published =
        [("node_exporter", "1.1.2"), ("blackbox_exporter", "0.23.0"), ("prometheus", "2.53.3"), ("alertmanager", "0.25.0"), ("etcd", "3.4.23")];

    private Task<CliRunner> MirrorAsync(TempDirectory dir) => packages.MirrorAsync(dir, Published);

    private string Topology(TempDirectory dir)
    {
        var h = testbed.Inventory.Hosts;
        var path = dir.Combine("topology.yaml");
        File.WriteAllText(path, $"""
            {TestTopology.Global}
            monitored:
              node_exporter_version: v1.1.2
            component_versions:
              prometheus: v2.53.3
              alertmanager: v0.25.0
            etcd_servers:
              - host: {h[0].Address}
              - host: {h[1].Address}
              - host: {h[2].Address}
            monitoring_servers:
              - host: {h[0].Address}
            alertmanager_servers:
              - host: {h[1].Address}
            """);
        return path;
    }

    private static List<JsonElement> Instances(CliResult display)
    {
        using var json = JsonDocument.Parse(display.Stdout);
        return [.. json.RootElement.GetProperty("instances").EnumerateArray().Select(e => e.Clone())];
    }

    private Task<string> OnHostAsync(string host, string command) => testbed.MustRunAsync(host, command);

    [Fact]
    public async Task Should_Deploy_Operate_And_Destroy_A_Three_Host_Cluster()
    {
        using var dir = new TempDirectory();
        var tug = await MirrorAsync(dir);
        var hosts = testbed.Inventory.Hosts.Take(3).ToList();
        var key = testbed.Inventory.Key;

        // Deploy: everything Up and verified, as display reads it from the hosts
        var deploy = await tug.RunAsync("cluster", "deploy", "demo", "v3.4.23", Topology(dir), "-u", "root", "-i", key, "-y");
        try
        {
            Assert.True(deploy.ExitCode == 0, deploy.ToString());
            await OperateAsync(tug, dir, hosts);
        }
        finally
        {
            // Leave the shared testbed clean even when an assertion failed half-way.
            await tug.RunAsync("cluster", "destroy", "demo", "-y", "--force");
        }
    }

    private async Task OperateAsync(CliRunner tug, TempDirectory dir, List<TestbedHost> hosts)
    {
        var display = await tug.SucceedAsync("cluster", "display", "demo", "--format", "json");
        var instances = Instances(display);
        Assert.Equal(11, instances.Count);
        Assert.All(instances, i => Assert.Equal("Up", i.GetProperty("status").GetString()));
        Assert.All(instances, i => Assert.True(i.GetProperty("verified").GetBoolean(), i.ToString()));
        Assert.Equal(3, instances.Count(i => i.GetProperty("role").GetString() == "node_exporter" && i.GetProperty("version").GetString() == "v1.1.2"));
        Assert.Equal(3, instances.Count(i => i.GetProperty("role").GetString() == "etcd" && i.GetProperty("version").GetString() == "v3.4.23"));
        foreach (var h in hosts)
        {
            Assert.Equal("active\nactive\n", await OnHostAsync(h.Name, "systemctl is-active node_exporter-9100 blackbox_exporter-9115"));
        }

        // The etcd members formed one cluster
        var members = await OnHostAsync(hosts[0].Name, "ETCDCTL_API=3 /tidb-deploy/etcd-2379/bin/etcd-v3.4.23-linux-amd64/etcdctl --endpoints=127.0.0.1:2379 member list");
        Assert.Equal(3, members.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        // Prometheus scrapes every exporter, etcd and itself, and reports them up
        await AssertAllTargetsUpAsync(hosts[0].Address, expectedAtLeast: 3 + 3 + 3 + 1 + 1);

        // exec runs once per host, grouped, with exit status per host
        var exec = await tug.RunAsync("cluster", "exec", "demo", "--command", "hostname; test $(hostname) != h2", "--format", "json");
        Assert.Equal(1, exec.ExitCode);
        using (var json = JsonDocument.Parse(exec.Stdout))
        {
            var byHost = json.RootElement.EnumerateArray().ToDictionary(e => e.GetProperty("host").GetString()!, e => e.GetProperty("exit_code").GetInt32());
            Assert.Equal(3, byHost.Count);
            Assert.Equal(1, byHost[hosts[1].Address]);
            Assert.Equal(0, byHost[hosts[0].Address]);
        }

        // push and pull move real files, checked on the hosts
        var local = dir.Combine("note.txt");
        await File.WriteAllTextAsync(local, "pushed by tug\n", TestContext.Current.CancellationToken);
        await tug.SucceedAsync("cluster", "push", "demo", local, "/tmp/tug-note.txt");
        foreach (var h in hosts)
        {
            Assert.Equal("pushed by tug\n", await OnHostAsync(h.Name, "cat /tmp/tug-note.txt"));
        }

        await tug.SucceedAsync("cluster", "pull", "demo", "/proc/sys/kernel/hostname", dir.Combine("pulled"));
        Assert.Equal(hosts.Select(h => h.Name + "\n"), hosts.Select(h => File.ReadAllText(Path.Combine(dir.Path, "pulled", h.Address, "hostname"))));

        // stop, start and restart do what they say
        await tug.SucceedAsync("cluster", "stop", "demo", "-R", "node_exporter");
        foreach (var h in hosts)
        {
            Assert.Equal("inactive\n", (await testbed.SshAsync(h.Name, "systemctl is-active node_exporter-9100")).Output);
        }

        var stopped = Instances(await tug.SucceedAsync("cluster", "display", "demo", "--format", "json", "-R", "node_exporter"));
        Assert.All(stopped, i => Assert.Equal("Down", i.GetProperty("status").GetString()));
        await tug.SucceedAsync("cluster", "start", "demo", "-R", "node_exporter");
        foreach (var h in hosts)
        {
            Assert.Equal("active\n", await OnHostAsync(h.Name, "systemctl is-active node_exporter-9100"));
        }

        var pidBefore = await OnHostAsync(hosts[1].Name, "systemctl show -p MainPID --value alertmanager-9093");
        var etcdPidBefore = await OnHostAsync(hosts[1].Name, "systemctl show -p MainPID --value etcd-2379");
        await tug.SucceedAsync("cluster", "restart", "demo", "-N", $"{hosts[1].Address}:9093");
        Assert.NotEqual(pidBefore, await OnHostAsync(hosts[1].Name, "systemctl show -p MainPID --value alertmanager-9093"));
        Assert.Equal(etcdPidBefore, await OnHostAsync(hosts[1].Name, "systemctl show -p MainPID --value etcd-2379"));

        // A host that is down is reported within the SSH timeout, the others still shown, and the exit status says so
        var (cut, cutLog) = await TestbedFixture.TestbedAsync($"fault {hosts[2].Name} cut");
        Assert.True(cut == 0, cutLog);
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var partial = await tug.RunAsync("cluster", "display", "demo", "--format", "json", "--ssh-timeout", "3");
            Assert.Equal(1, partial.ExitCode);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"display took {clock.Elapsed}");
            var rows = Instances(partial);
            Assert.All(rows.Where(r => r.GetProperty("host").GetString() == hosts[2].Address), r => Assert.Equal("Unreachable", r.GetProperty("status").GetString()));
            Assert.All(rows.Where(r => r.GetProperty("host").GetString() != hosts[2].Address), r => Assert.Equal("Up", r.GetProperty("status").GetString()));
        }
        finally
        {
            await TestbedFixture.TestbedAsync($"fault {hosts[2].Name} heal");
        }

        // A host whose key changed is refused before anything runs on it
        var (rekey, rekeyLog) = await TestbedFixture.TestbedAsync($"rekey {hosts[2].Name}");
        Assert.True(rekey == 0, rekeyLog);
        var newFingerprint = testbed.Reload()[hosts[2].Name].HostKeyFingerprint;
        var refused = await tug.RunAsync("cluster", "exec", "demo", "--command", "touch /tmp/tug-after-rekey");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("E3003", refused.All, StringComparison.Ordinal);
        Assert.Contains(newFingerprint, refused.All, StringComparison.Ordinal);
        Assert.Contains(hosts[2].HostKeyFingerprint, refused.All, StringComparison.Ordinal);
        Assert.NotEqual(0, (await testbed.SshAsync(hosts[2].Name, "test -e /tmp/tug-after-rekey")).ExitCode);
        Assert.Equal(0, (await testbed.SshAsync(hosts[0].Name, "test -e /tmp/tug-after-rekey")).ExitCode);
        await tug.SucceedAsync("cluster", "accept-host-key", "demo", $"{hosts[2].Address}:22", newFingerprint);

        // destroy leaves nothing behind on the hosts
        var clusterKey = (await File.ReadAllTextAsync(Path.Combine(tug.Home, "clusters", "demo", "ssh", "id_rsa.pub"), TestContext.Current.CancellationToken)).Split(' ')[1];
        Assert.Equal("1\n", await OnHostAsync(hosts[0].Name, $"grep -c {clusterKey} /home/tidb/.ssh/authorized_keys"));
        await tug.SucceedAsync("cluster", "destroy", "demo", "-y");
        foreach (var h in hosts)
        {
            var left = await OnHostAsync(h.Name,
                "ls -A /tidb-deploy /tidb-data 2>/dev/null; ls /etc/systemd/system | grep -E 'etcd|prometheus|alertmanager|exporter' || true; " +
                $"pgrep -u tidb -a . || true; grep -c {clusterKey} /home/tidb/.ssh/authorized_keys || true");
            Assert.Equal("0\n", left);
        }

        Assert.Empty((await tug.SucceedAsync("cluster", "list", "--format", "json")).Stdout.Split("\"name\"").Skip(1));
    }

    private static Task AssertAllTargetsUpAsync(string prometheusHost, int expectedAtLeast) =>
        HttpPoll.UntilAsync($"http://{prometheusHost}:9090/api/v1/targets", json =>
        {
            var targets = json.GetProperty("data").GetProperty("activeTargets").EnumerateArray()
                .Select(t => (Url: t.GetProperty("scrapeUrl").GetString()!, Health: t.GetProperty("health").GetString()!)).ToList();
            var done = targets.Count >= expectedAtLeast && targets.All(t => t.Health == "up")
                && targets.Any(t => t.Url.Contains(":9100/metrics", StringComparison.Ordinal)) && targets.Any(t => t.Url.Contains(":2379/metrics", StringComparison.Ordinal));
            return (done, string.Join("\n", targets.Select(t => $"{t.Health} {t.Url}")));
        }, 60, "Prometheus targets not all up");
}
