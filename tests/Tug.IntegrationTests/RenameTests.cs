// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text.Json;
using Tug.Testing;

namespace Tug.IntegrationTests;

/// <summary>
/// <c>tug cluster rename</c> on the testbed, read on the hosts: a 3-host cluster (etcd ×3, Prometheus, agents) is
/// renamed; Prometheus' prometheus.yml on its host carries the new name as its <c>cluster</c> label, the running
/// Prometheus serves it (its config API), etcd's run scripts carry the new token, no other unit restarted; then a
/// second rename is SIGKILLed right after its rename step acted: the cluster is under the new name only, other
/// commands are refused naming it, and <c>replay NEW</c> finishes the refreshes. After each, <c>display</c>,
/// <c>restart</c> and <c>verify</c> work under the new name and the old one is refused as unknown.
/// </summary>
public sealed class RenameTests(TestbedFixture testbed, PackagesFixture packages)
{
    private const string PrometheusYml = "/tidb-deploy/prometheus-9090/conf/prometheus.yml";
    private const string EtcdScript = "/tidb-deploy/etcd-2379/scripts/run_etcd.sh";

    private static readonly (string Component, string Version)[] Published =
        [("node_exporter", "1.5.0"), ("blackbox_exporter", "0.23.0"), ("prometheus", "2.53.3"), ("etcd", "3.4.23")];

    [Fact]
    public async Task Should_Manage_A_Renamed_Cluster_Under_Its_New_Name_Also_After_A_Kill()
    {
        using var dir = new TempDirectory();
        var tug = await packages.MirrorAsync(dir, Published);
        var hosts = testbed.Inventory.Hosts.Take(3).ToList();
        var topology = dir.Combine("topology.yaml");
        await File.WriteAllTextAsync(topology, $"""
            {TestTopology.EtcdWithAgents(hosts)}
            component_versions:
              prometheus: v2.53.3
            monitoring_servers:
              - host: {hosts[0].Address}
            """, TestContext.Current.CancellationToken);
        var deploy = await tug.RunAsync("cluster", "deploy", "alpha", "v3.4.23", topology, "-u", "root", "-i", testbed.Inventory.Key, "-y");
        try
        {
            Assert.True(deploy.ExitCode == 0, deploy.ToString());
            Assert.Contains("cluster: 'alpha'", await testbed.MustRunAsync(hosts[0].Name, $"cat {PrometheusYml}"), StringComparison.Ordinal);

            // A plain rename.
            var before = await PidsAsync(hosts);
            var renamed = await tug.RunAsync("cluster", "rename", "alpha", "beta", "-y");
            Assert.True(renamed.ExitCode == 0, renamed.ToString());
            await ManagedUnderAsync(tug, hosts, "beta", "alpha", before);

            // A rename killed right after its rename step moved the directory, before the journal knew.
            before = await PidsAsync(hosts);
            using (var killed = TugProcess.Start(tug, new Dictionary<string, string> { ["TUG_FAILPOINTS"] = "rename:after-action=kill" }, "cluster", "rename", "beta", "gamma", "-y"))
            {
                var exit = await killed.WaitAsync(TimeSpan.FromMinutes(3));
                Assert.True(exit is 137 or -1 or 9, $"the rename was not killed (exit {exit}):\n{killed.Stdout}\n{killed.Stderr}");
            }

            Assert.Equal(["gamma"], Directory.GetDirectories(Path.Combine(tug.Home, "clusters")).Select(Path.GetFileName));
            Assert.Contains("cluster: 'beta'", await testbed.MustRunAsync(hosts[0].Name, $"cat {PrometheusYml}"), StringComparison.Ordinal);
            var refused = await tug.RunAsync("cluster", "restart", "gamma", "-y");
            Assert.True(refused.ExitCode == 2, refused.ToString());
            Assert.Contains("Cluster 'gamma' has an interrupted `rename`", refused.Stderr, StringComparison.Ordinal);
            Assert.Contains("tug cluster replay gamma", refused.Stderr, StringComparison.Ordinal);
            Assert.Equal(before, await PidsAsync(hosts));

            var replay = await tug.RunAsync("cluster", "replay", "gamma");
            Assert.True(replay.ExitCode == 0, replay.ToString());
            Assert.Contains("found done", replay.All, StringComparison.Ordinal);
            await ManagedUnderAsync(tug, hosts, "gamma", "beta", before);
            Assert.Equal(0, (await tug.RunAsync("cluster", "audit", "--verify")).ExitCode);
        }
        finally
        {
            foreach (var name in new[] { "alpha", "beta", "gamma" })
            {
                await tug.RunAsync("cluster", "destroy", name, "-y", "--force");
            }
        }
    }

    /// <summary>The hosts carry <paramref name="name"/> where the name goes, only Prometheus restarted, and the verbs work under it and not under <paramref name="old"/>.</summary>
    private async Task ManagedUnderAsync(CliRunner tug, List<TestbedHost> hosts, string name, string old, SortedDictionary<string, string> before)
    {
        var yml = await testbed.MustRunAsync(hosts[0].Name, $"cat {PrometheusYml}");
        Assert.Contains($"cluster: '{name}'", yml, StringComparison.Ordinal);
        Assert.DoesNotContain($"cluster: '{old}'", yml, StringComparison.Ordinal);
        using (var http = new HttpClient())
        {
            var served = await http.GetStringAsync(new Uri($"http://{hosts[0].Address}:9090/api/v1/status/config"), TestContext.Current.CancellationToken);
            using var json = JsonDocument.Parse(served);
            Assert.Contains($"cluster: {name}", json.RootElement.GetProperty("data").GetProperty("yaml").GetString(), StringComparison.Ordinal);
        }

        foreach (var h in hosts)
        {
            Assert.Contains($"--initial-cluster-token=\"{name}\"", await testbed.MustRunAsync(h.Name, $"cat {EtcdScript}"), StringComparison.Ordinal);
        }

        var after = await PidsAsync(hosts);
        var prometheus = $"{hosts[0].Name}/prometheus-9090";
        Assert.NotEqual(before[prometheus], after[prometheus]);
        Assert.Equal(before.Where(p => p.Key != prometheus), after.Where(p => p.Key != prometheus));

        var display = await tug.RunAsync("cluster", "display", name, "--format", "json");
        Assert.True(display.ExitCode == 0, display.ToString());
        using (var json = JsonDocument.Parse(display.Stdout))
        {
            var instances = json.RootElement.GetProperty("instances").EnumerateArray().ToList();
            Assert.Equal(10, instances.Count);
            Assert.All(instances, i => Assert.Equal("Up", i.GetProperty("status").GetString()));
        }

        Assert.Equal(0, (await tug.RunAsync("cluster", "verify", name)).ExitCode);
        var restart = await tug.RunAsync("cluster", "restart", name, "-R", "etcd", "-y");
        Assert.True(restart.ExitCode == 0, restart.ToString());
        Assert.Equal(0, (await tug.RunAsync("cluster", "verify", name)).ExitCode);
        foreach (var verb in new[] { "display", "verify" })
        {
            var unknown = await tug.RunAsync("cluster", verb, old);
            Assert.True(unknown.ExitCode == 2, unknown.ToString());
            Assert.Contains("E4001", unknown.Stderr, StringComparison.Ordinal);
        }
    }

    /// <summary>host/unit → MainPID of every cluster unit on every host.</summary>
    private async Task<SortedDictionary<string, string>> PidsAsync(List<TestbedHost> hosts)
    {
        var pids = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var h in hosts)
        {
            var output = await testbed.MustRunAsync(h.Name,
                "for u in $(systemctl list-units --type=service --all --no-legend --plain 'etcd-*' 'node_exporter-*' 'blackbox_exporter-*' 'prometheus-*' | awk '{print $1}'); do echo \"${u%.service} $(systemctl show -p MainPID --value \"$u\")\"; done");
            foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = line.Split(' ');
                pids[$"{h.Name}/{parts[0]}"] = parts.Length > 1 ? parts[1] : string.Empty;
            }
        }

        return pids;
    }
}
