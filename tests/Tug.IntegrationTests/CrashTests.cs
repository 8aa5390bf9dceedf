// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Testing;

namespace Tug.IntegrationTests;

/// <summary>Operations that survive a crash, on the testbed: SIGKILL then replay, a host cut then healed then replay, the lock, the audit chain.</summary>
public sealed class CrashTests(TestbedFixture testbed, PackagesFixture packages)
{
    private const string Cluster = "crash";

    [Fact]
    public async Task Should_Resume_Killed_And_Failed_Upgrades_Refuse_A_Second_Writer_And_Detect_An_Edited_Audit_Record()
    {
        using var dir = new TempDirectory();
        var tug = await packages.MirrorAsync(dir, ("node_exporter", "1.1.2"), ("node_exporter", "1.5.0"), ("node_exporter", "1.9.0"), ("blackbox_exporter", "0.23.0"), ("etcd", "3.4.23"));

        var hosts = testbed.Inventory.Hosts.Take(3).ToList();
        var topology = dir.Combine("topology.yaml");
        await File.WriteAllTextAsync(topology, $"""
            {TestTopology.Global}
            monitored:
              node_exporter_version: v1.1.2
              blackbox_exporter_version: v0.23.0
            etcd_servers:
            {string.Join("\n", hosts.Select(h => $"  - host: {h.Address}"))}
            """, TestContext.Current.CancellationToken);
        var deploy = await tug.RunAsync("cluster", "deploy", Cluster, "v3.4.23", topology, "-u", "root", "-i", testbed.Inventory.Key, "-y");
        try
        {
            Assert.True(deploy.ExitCode == 0, deploy.ToString());
            await KilledUpgradeIsReplayedAsync(tug, hosts);
            await CutHostUpgradeIsReplayedAsync(tug, hosts);
            await SecondWriterIsRefusedAsync(tug);
            await EditedAuditRecordIsDetectedAsync(tug);
        }
        finally
        {
            foreach (var h in hosts)
            {
                await TestbedFixture.TestbedAsync($"fault {h.Name} heal");
            }

            await tug.RunAsync("cluster", "destroy", Cluster, "-y", "--force");
        }
    }

    private async Task KilledUpgradeIsReplayedAsync(CliRunner tug, List<TestbedHost> hosts)
    {
        // Given an upgrade killed with SIGKILL while it switches the second host
        var upgrade = TugProcess.Start(tug, "cluster", "upgrade", Cluster, "--node-exporter-version", "v1.5.0", "-y");
        await TugProcess.UntilAsync(() => TestJournals.Newest(tug.Home, Cluster).Contains($"\"step\":\"switch {hosts[1].Address}:9100\",\"state\":\"planned\"", StringComparison.Ordinal) || upgrade.HasExited, 120,
            $"the upgrade never reached the second host: {upgrade.Stderr}");
        Assert.False(upgrade.HasExited, $"the upgrade ended before it could be killed: {upgrade.Stderr}");
        await upgrade.KillAsync();
        var firstPid = await Pid(hosts[0]);
        Assert.Contains("version 1.5.0", await Running(hosts[0]), StringComparison.Ordinal);

        // When another mutating command comes: it is refused, naming the interrupted operation, and the dead holder's lock is reported
        var refused = await tug.RunAsync("cluster", "restart", Cluster, "-R", "node_exporter");
        Assert.True(refused.ExitCode == 2, refused.ToString());
        Assert.Contains("E4007", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("interrupted `upgrade`", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains($"tug cluster replay {Cluster}", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("stale lock", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(firstPid, await Pid(hosts[0]));

        // Then replay completes it: the host upgraded before the kill is not restarted again, every host ends on 1.5.0, verified
        var replay = await tug.RunAsync("cluster", "replay", Cluster);
        Assert.True(replay.ExitCode == 0, replay.ToString());
        Assert.Contains("replaying operation", replay.Stderr, StringComparison.Ordinal);
        // The stored plan is resumed: the first host's switch, recorded done, is probed and found done, not run again
        Assert.Contains($"switch {hosts[0].Address}:9100: ok (already done)", replay.Stderr, StringComparison.Ordinal);
        Assert.Contains($"switch {hosts[2].Address}:9100: ok:", replay.Stderr, StringComparison.Ordinal);
        Assert.Equal(firstPid, await Pid(hosts[0]));
        foreach (var h in hosts)
        {
            Assert.Contains("version 1.5.0", await Running(h), StringComparison.Ordinal);
        }

        var verify = await tug.RunAsync("cluster", "verify", Cluster);
        Assert.True(verify.ExitCode == 0, verify.ToString());
    }

    private async Task CutHostUpgradeIsReplayedAsync(CliRunner tug, List<TestbedHost> hosts)
    {
        // Given an upgrade during which the last host is cut off the network (cut while the first host is switched)
        var journalsBefore = TestJournals.All(tug.Home, Cluster).Count;
        using var upgrade = TugProcess.Start(tug, "cluster", "upgrade", Cluster, "--node-exporter-version", "v1.9.0", "-y", "--wait-timeout", "10", "--format", "json");
        await TugProcess.UntilAsync(() => TestJournals.All(tug.Home, Cluster).Count > journalsBefore && TestJournals.Newest(tug.Home, Cluster).Contains($"\"step\":\"switch {hosts[0].Address}:9100\",\"state\":\"planned\"", StringComparison.Ordinal) || upgrade.HasExited, 120,
            "the upgrade never started switching");
        Assert.False(upgrade.HasExited, upgrade.Stdout + upgrade.Stderr);
        await TestbedFixture.TestbedAsync($"fault {hosts[2].Name} cut");
        var exit = await upgrade.WaitAsync(TimeSpan.FromMinutes(3));
        var failed = new CliResult(upgrade.Stdout, upgrade.Stderr, exit);

        // Then it fails honestly, naming the host, with the hosts before it upgraded and verified
        Assert.True(failed.ExitCode == 1, failed.ToString());
        Assert.Contains(hosts[2].Address, failed.Stdout, StringComparison.Ordinal);
        Assert.Contains("version 1.9.0", await Running(hosts[0]), StringComparison.Ordinal);

        // When the host is back, replay in TiUP's form (`replay OPERATION_ID`, no cluster name) completes the upgrade
        await TestbedFixture.TestbedAsync($"fault {hosts[2].Name} heal");
        var firstPid = await Pid(hosts[0]);
        var operation = Path.GetFileName(Path.GetDirectoryName(TestJournals.All(tug.Home, Cluster)[^1]))!;
        var replay = await tug.RunAsync("cluster", "replay", operation);
        Assert.True(replay.ExitCode == 0, replay.ToString());
        Assert.Contains($"replaying operation {operation} of cluster '{Cluster}'", replay.Stderr, StringComparison.Ordinal);
        Assert.Equal(firstPid, await Pid(hosts[0]));
        foreach (var h in hosts)
        {
            Assert.Contains("version 1.9.0", await Running(h), StringComparison.Ordinal);
        }

        var verify = await tug.RunAsync("cluster", "verify", Cluster);
        Assert.True(verify.ExitCode == 0, verify.ToString());
    }

    private static async Task SecondWriterIsRefusedAsync(CliRunner tug)
    {
        // Given a restart running in another process
        var lockFile = Path.Combine(tug.Home, "clusters", Cluster, "lock.json");
        using var first = TugProcess.Start(tug, "cluster", "restart", Cluster);
        await TugProcess.UntilAsync(() => File.Exists(lockFile) || first.HasExited, 60, "the restart never took the lock");
        Assert.False(first.HasExited, first.Stderr);

        // When a second mutating command starts, it is refused at once, naming the holder
        var second = await tug.RunAsync("cluster", "stop", Cluster);
        Assert.True(second.ExitCode == 2, second.ToString());
        Assert.Contains("E4006", second.Stderr, StringComparison.Ordinal);
        Assert.Contains($"tug cluster restart {Cluster}", second.Stderr, StringComparison.Ordinal);
        Assert.Contains($"PID {first.Pid}", second.Stderr, StringComparison.Ordinal);

        // ... and the first one finishes untroubled
        Assert.Equal(0, await first.WaitAsync(TimeSpan.FromMinutes(3)));
    }

    private static async Task EditedAuditRecordIsDetectedAsync(CliRunner tug)
    {
        var list = await tug.SucceedAsync("cluster", "audit");
        Assert.Contains("tug cluster upgrade crash --node-exporter-version v1.5.0 -y", list.Stdout, StringComparison.Ordinal);
        await tug.SucceedAsync("cluster", "audit", "--verify");

        // When one record is edited by hand, the chain names it
        var file = Path.Combine(tug.Home, "audit", "audit.jsonl");
        var lines = await File.ReadAllLinesAsync(file, TestContext.Current.CancellationToken);
        var victim = Array.FindIndex(lines, l => l.Contains("\"outcome\":\"failed\"", StringComparison.Ordinal));
        Assert.True(victim >= 0, "no failed operation was audited");
        lines[victim] = lines[victim].Replace("\"outcome\":\"failed\"", "\"outcome\":\"succeeded\"", StringComparison.Ordinal);
        await File.WriteAllLinesAsync(file, lines, TestContext.Current.CancellationToken);
        var broken = await tug.RunAsync("cluster", "audit", "--verify");
        Assert.True(broken.ExitCode == 1, broken.ToString());
        Assert.Contains($"line {victim + 1}", broken.Stdout, StringComparison.Ordinal);
        Assert.Contains("E4008", broken.Stderr, StringComparison.Ordinal);
    }



    private Task<string> Pid(TestbedHost host) => testbed.MustRunAsync(host.Name, "systemctl show -p MainPID --value node_exporter-9100");

    private Task<string> Running(TestbedHost host) => testbed.RunningVersionAsync(host.Name);
}
