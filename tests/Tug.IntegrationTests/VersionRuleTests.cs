// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Cluster;
using Tug.Testing;

namespace Tug.IntegrationTests;

/// <summary>
/// TiUP's version rules (its components' <c>CalculateVersion</c>), then pinning, on the testbed: an unpinned
/// alertmanager and unpinned agents get the mirror's latest at deploy, not the cluster version, and are pinned at it;
/// a later cluster upgrade moves the cluster's components and leaves them where they are (read on the hosts).
/// </summary>
public sealed class VersionRuleTests(TestbedFixture testbed, PackagesFixture packages)
{
    private const string Cluster = "versions";

    [Fact]
    public async Task Should_Give_An_Unpinned_Alertmanager_The_Mirrors_Latest_Pin_It_And_Leave_It_There_On_A_Cluster_Upgrade()
    {
        using var dir = new TempDirectory();
        // 0.25.0 is published before 0.21.0: "latest" is the highest version, not the last published
        var tug = await packages.MirrorAsync(dir, ("alertmanager", "0.25.0"), ("alertmanager", "0.21.0"), ("node_exporter", "1.5.0"), ("node_exporter", "1.1.2"),
            ("blackbox_exporter", "0.23.0"), ("etcd", "3.4.23"));
        var hosts = testbed.Inventory.Hosts.Take(3).ToList();
        var topology = dir.Combine("topology.yaml");
        await File.WriteAllTextAsync(topology, $"""
            {TestTopology.Global}
            etcd_servers:
            {string.Join("\n", hosts.Select(h => $"  - host: {h.Address}"))}
            alertmanager_servers:
              - host: {hosts[0].Address}
            """, TestContext.Current.CancellationToken);
        var deploy = await tug.RunAsync("cluster", "deploy", Cluster, "v3.4.23", topology, "-u", "root", "-i", testbed.Inventory.Key, "-y");
        try
        {
            // Deploy: alertmanager and the agents get the mirror's latest (not v3.4.23, which the mirror does not have for them)
            Assert.True(deploy.ExitCode == 0, deploy.ToString());
            Assert.Contains("version 0.25.0", await testbed.RunningVersionAsync(hosts[0].Name, "alertmanager-9093"), StringComparison.Ordinal);
            foreach (var h in hosts)
            {
                Assert.Contains("version 1.5.0", await testbed.RunningVersionAsync(h.Name), StringComparison.Ordinal);
                Assert.Contains("3.4.23", await testbed.RunningVersionAsync(h.Name, "etcd-2379"), StringComparison.Ordinal);
            }

            // ... and are pinned in meta at what was deployed
            var store = new ClusterStore(Path.Combine(tug.Home, "clusters"), TimeProvider.System);
            var meta = store.Load(Cluster);
            Assert.Equal("v0.25.0", meta.Tug.Versions["alertmanager"]);
            Assert.Equal("v1.5.0", meta.Tug.Versions["node_exporter"]);
            Assert.Equal("v3.4.23", meta.Tug.Versions["etcd"]);

            // When the mirror gets newer alertmanager and agents and the cluster is upgraded
            await packages.PublishAsync(tug, "alertmanager", "0.28.1");
            await packages.PublishAsync(tug, "node_exporter", "1.9.0");
            await packages.PublishAsync(tug, "etcd", "3.5.16");
            var alertmanagerPid = await testbed.MustRunAsync(hosts[0].Name, "systemctl show -p MainPID --value alertmanager-9093");
            var agentPids = new List<string>();
            foreach (var h in hosts)
            {
                agentPids.Add(await testbed.MustRunAsync(h.Name, "systemctl show -p MainPID --value node_exporter-9100"));
            }

            var plan = await tug.SucceedAsync("cluster", "upgrade", Cluster, "v3.5.16", "--dry-run");
            Assert.Contains("alertmanager stays at v0.25.0 (pinned on its own)", plan.Stdout, StringComparison.Ordinal);
            Assert.Contains("node_exporter stays at v1.5.0 (pinned on its own)", plan.Stdout, StringComparison.Ordinal);
            var upgrade = await tug.RunAsync("cluster", "upgrade", Cluster, "v3.5.16", "-y");

            // Then etcd moved; alertmanager and the agents were not touched (same process, same version, same pin)
            Assert.True(upgrade.ExitCode == 0, upgrade.ToString());
            foreach (var h in hosts)
            {
                Assert.Contains("3.5.16", await testbed.RunningVersionAsync(h.Name, "etcd-2379"), StringComparison.Ordinal);
                Assert.Contains("version 1.5.0", await testbed.RunningVersionAsync(h.Name), StringComparison.Ordinal);
            }

            Assert.Equal(agentPids, [.. await Task.WhenAll(hosts.Select(h => testbed.MustRunAsync(h.Name, "systemctl show -p MainPID --value node_exporter-9100")))]);
            Assert.Equal(alertmanagerPid, await testbed.MustRunAsync(hosts[0].Name, "systemctl show -p MainPID --value alertmanager-9093"));
            Assert.Contains("version 0.25.0", await testbed.RunningVersionAsync(hosts[0].Name, "alertmanager-9093"), StringComparison.Ordinal);
            meta = store.Load(Cluster);
            Assert.Equal("v0.25.0", meta.Tug.Versions["alertmanager"]);
            Assert.Equal("v1.5.0", meta.Tug.Versions["node_exporter"]);
            Assert.Equal("v3.5.16", meta.Tug.Versions["etcd"]);
            Assert.Equal("v3.5.16", meta.Version); // the cluster's version moved too, as TiUP's upgrade moves it
            var verify = await tug.RunAsync("cluster", "verify", Cluster);
            Assert.True(verify.ExitCode == 0, verify.ToString());
        }
        finally
        {
            await tug.RunAsync("cluster", "destroy", Cluster, "-y", "--force");
        }
    }
}
