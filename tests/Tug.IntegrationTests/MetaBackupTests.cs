// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text.Json;
using Tug.Testing;

namespace Tug.IntegrationTests;

/// <summary>
/// <c>tug cluster meta backup</c> / <c>meta restore</c> on the testbed: a 3-host cluster's metadata is backed up, the
/// control machine then loses the cluster's state (its directory removed, as a lost disk would), Tug no longer knows
/// it; the backup is restored, and the cluster is the same: <c>display</c> reads every instance Up and verified from
/// the hosts, <c>verify</c> exits 0, and a <c>restart</c> (which needs the restored key on every host) succeeds.
/// Then the cluster changes (a scale-in of one etcd member and its host's agents, proven on its host) and the backup from
/// before is restored: Tug then describes the host the cluster left, which <c>verify</c> reports (exit 1, naming it):
/// a restore brings back the metadata, not the hosts.
/// </summary>
public sealed class MetaBackupTests(TestbedFixture testbed, PackagesFixture packages)
{
    private const string Cluster = "metabk";

    private static readonly (string Component, string Version)[] Published =
        [("node_exporter", "1.5.0"), ("blackbox_exporter", "0.23.0"), ("etcd", "3.4.23")];

    [Fact]
    public async Task Should_Give_The_Same_Cluster_Back_From_A_Meta_Backup()
    {
        using var dir = new TempDirectory();
        var tug = await packages.MirrorAsync(dir, Published);
        var hosts = testbed.Inventory.Hosts.Take(3).ToList();
        var topology = dir.Combine("topology.yaml");
        await File.WriteAllTextAsync(topology, TestTopology.EtcdWithAgents(hosts), TestContext.Current.CancellationToken);
        var deploy = await tug.RunAsync("cluster", "deploy", Cluster, "v3.4.23", topology, "-u", "root", "-i", testbed.Inventory.Key, "-y");
        try
        {
            Assert.True(deploy.ExitCode == 0, deploy.ToString());
            var clusterDirectory = Path.Combine(tug.Home, "clusters", Cluster);
            var meta = await File.ReadAllBytesAsync(Path.Combine(clusterDirectory, "meta.yaml"), TestContext.Current.CancellationToken);
            var backupFile = dir.Combine("metabk.tar.gz");
            var backup = await tug.RunAsync("cluster", "meta", "backup", Cluster, "--file", backupFile);
            Assert.True(backup.ExitCode == 0, backup.ToString());

            // The control machine loses the cluster's state.
            Directory.Delete(clusterDirectory, recursive: true);
            Assert.Equal(2, (await tug.RunAsync("cluster", "display", Cluster)).ExitCode);

            var restore = await tug.RunAsync("cluster", "meta", "restore", Cluster, backupFile, "-y");
            Assert.True(restore.ExitCode == 0, restore.ToString());
            Assert.Equal(meta, await File.ReadAllBytesAsync(Path.Combine(clusterDirectory, "meta.yaml"), TestContext.Current.CancellationToken));
            await SameClusterAsync(tug, 9);
            var restart = await tug.RunAsync("cluster", "restart", Cluster, "-y");
            Assert.True(restart.ExitCode == 0, restart.ToString());
            Assert.Equal(0, (await tug.RunAsync("cluster", "verify", Cluster)).ExitCode);

            // The cluster changes: one etcd member leaves (gone from its host).
            var leaving = $"{hosts[2].Address}:2379";
            var scaleIn = await tug.RunAsync("cluster", "scale-in", Cluster, "-N", leaving, "-y");
            Assert.True(scaleIn.ExitCode == 0, scaleIn.ToString());
            Assert.Contains("inactive", await testbed.MustRunAsync(hosts[2].Name, "systemctl is-active etcd-2379 || true"), StringComparison.Ordinal);

            // The backup from before: Tug now describes the member the hosts no longer run, and verify says so.
            restore = await tug.RunAsync("cluster", "meta", "restore", Cluster, backupFile, "-y");
            Assert.True(restore.ExitCode == 0, restore.ToString());
            Assert.Equal(meta, await File.ReadAllBytesAsync(Path.Combine(clusterDirectory, "meta.yaml"), TestContext.Current.CancellationToken));
            var mismatch = await tug.RunAsync("cluster", "verify", Cluster);
            Assert.True(mismatch.ExitCode == 1, mismatch.ToString());
            Assert.Contains(hosts[2].Address, mismatch.All, StringComparison.Ordinal);
            Assert.Equal(0, (await tug.RunAsync("cluster", "audit", "--verify")).ExitCode);
            var audit = await tug.RunAsync("cluster", "audit");
            Assert.Contains("meta restore", audit.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            await tug.RunAsync("cluster", "destroy", Cluster, "-y", "--force");
        }
    }

    /// <summary>display reads every instance Up and verified from the hosts, and verify exits 0.</summary>
    private static async Task SameClusterAsync(CliRunner tug, int count)
    {
        var display = await tug.RunAsync("cluster", "display", Cluster, "--format", "json");
        Assert.True(display.ExitCode == 0, display.ToString());
        using var json = JsonDocument.Parse(display.Stdout);
        var instances = json.RootElement.GetProperty("instances").EnumerateArray().ToList();
        Assert.Equal(count, instances.Count);
        Assert.All(instances, i => Assert.Equal("Up", i.GetProperty("status").GetString()));
        Assert.All(instances, i => Assert.True(i.GetProperty("verified").GetBoolean(), i.ToString()));
        var verify = await tug.RunAsync("cluster", "verify", Cluster);
        Assert.True(verify.ExitCode == 0, verify.ToString());
    }
}
