// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text.Json;
using Tug.Testing;

namespace Tug.IntegrationTests;

/// <summary>
/// Issue 12 item 3 on the testbed: <c>check</c> names a port taken by a process started by hand (process and PID), a
/// scale-out onto that host is refused with nothing left there, a deployed cluster's own ports are no conflict, and
/// <c>check --apply</c> then <c>--revert</c> leaves the host's files as they were.
/// </summary>
public sealed class CheckTests(TestbedFixture testbed, PackagesFixture packages)
{
    /// <summary>Every file, link and directory under what --apply may touch, with its hash or target.</summary>
    private const string Hashes = "find /etc/sysctl.d /etc/security/limits.d /etc/systemd/system /etc/tug "
        + "\\( -type f -exec sha256sum {} \\; \\) -o \\( -type l -printf '%p -> %l\\n' \\) -o \\( -type d -printf '%p/\\n' \\) 2>/dev/null | sort";

    /// <summary>What a scale-out could leave on a host: directories, units, the deploy user, sudo rules.</summary>
    private const string Leftovers = "ls -d /tidb-deploy /tidb-data 2>&1; ls /etc/systemd/system | grep -E 'etcd|node_exporter|blackbox' ; id tidb 2>&1; ls /etc/sudoers.d; "
        + "sha256sum /etc/passwd /etc/group /etc/shadow";

    [Fact]
    public async Task Should_Name_A_Squatted_Port_Refuse_A_Scale_Out_Onto_It_And_Revert_What_Apply_Changed()
    {
        using var dir = new TempDirectory();
        var tug = await packages.MirrorAsync(dir, ("etcd", "3.4.23"), ("node_exporter", "1.1.2"), ("blackbox_exporter", "0.23.0"));
        var hosts = testbed.Inventory.Hosts;
        var (h1, h2, h3) = (hosts[0], hosts[1], hosts[2]);
        var key = testbed.Inventory.Key;
        var topology = dir.Combine("topology.yaml");
        await File.WriteAllTextAsync(topology, $"""
            {TestTopology.Global}
            monitored:
              node_exporter_version: v1.1.2
              blackbox_exporter_version: v0.23.0
            etcd_servers:
              - host: {h1.Address}
            """, TestContext.Current.CancellationToken);
        var deploy = await tug.RunAsync("cluster", "deploy", "chk", "v3.4.23", topology, "-u", "root", "-i", key, "-y");
        try
        {
            Assert.True(deploy.ExitCode == 0, deploy.ToString());

            // Given a process started by hand on h2 holding node_exporter's port
            await testbed.MustRunAsync(h2.Name, "systemd-run --unit=squat --working-directory=/tmp python3 -m http.server 9100 && for i in $(seq 50); do ss -Hltn sport = :9100 | grep -q . && break; sleep 0.1; done");
            var pid = (await testbed.MustRunAsync(h2.Name, "systemctl show -p MainPID --value squat")).Trim();

            // When a topology for h2 is checked
            var fresh = dir.Combine("fresh.yaml");
            await File.WriteAllTextAsync(fresh, $"""
                {TestTopology.Global}
                etcd_servers:
                  - host: {h2.Address}
                """, TestContext.Current.CancellationToken);
            var check = await tug.RunAsync("cluster", "check", fresh, "-u", "root", "-i", key, "--format", "json");

            // Then it fails, naming the port, the process and its PID; the other planned ports (the exporters') pass
            Assert.True(check.ExitCode == 1, check.ToString());
            var rows = Rows(check.Stdout);
            var squatted = rows.Single(r => r.Host == h2.Address && r.Check == "listening-port" && r.Result == "fail");
            Assert.Contains("port 9100", squatted.Message, StringComparison.Ordinal);
            Assert.Contains($"python3 (pid {pid}, unit squat.service)", squatted.Message, StringComparison.Ordinal);
            Assert.Contains(rows, r => r.Host == h2.Address && r.Check == "listening-port" && r.Result == "pass" && r.Message.Contains("9115", StringComparison.Ordinal) && r.Message.Contains("2379", StringComparison.Ordinal));

            // ... and the text table says the same
            var table = await tug.RunAsync("cluster", "check", fresh, "-u", "root", "-i", key);
            Assert.True(table.ExitCode == 1, table.ToString());
            Assert.Contains($"python3 (pid {pid}", table.Stdout, StringComparison.Ordinal);

            // When the deployed cluster is checked: its own running instances' ports are no conflict
            var own = await tug.RunAsync("cluster", "check", "chk", "--cluster", "--format", "json");
            Assert.DoesNotContain(Rows(own.Stdout), r => r.Check is "listening-port" or "exist" or "port-conflict" or "dir-conflict" && r.Result == "fail");
            Assert.Contains(Rows(own.Stdout), r => r.Host == h1.Address && r.Check == "listening-port" && r.Message.Contains("this cluster's node_exporter-9100.service", StringComparison.Ordinal));

            // ... and its scale-out onto h2, checked with --cluster, names the squatter too
            var part = dir.Combine("scale-out.yaml");
            await File.WriteAllTextAsync(part, $"""
                etcd_servers:
                  - host: {h2.Address}
                """, TestContext.Current.CancellationToken);
            var checkOut = await tug.RunAsync("cluster", "check", "chk", part, "--cluster", "-u", "root", "-i", key, "--format", "json");
            Assert.True(checkOut.ExitCode == 1, checkOut.ToString());
            Assert.Contains(Rows(checkOut.Stdout), r => r.Host == h2.Address && r.Check == "listening-port" && r.Result == "fail" && r.Message.Contains($"pid {pid}", StringComparison.Ordinal));

            // When that scale-out is run
            var before = await testbed.MustRunAsync(h2.Name, Leftovers);
            var journalsBefore = TestJournals.All(tug.Home, "chk").Count;
            var scaleOut = await tug.RunAsync("cluster", "scale-out", "chk", part, "-u", "root", "-i", key, "-y");

            // Then it is refused (exit 2) naming host:port and the process, and nothing is left on h2 nor journaled
            Assert.True(scaleOut.ExitCode == 2, scaleOut.ToString());
            Assert.Contains("E4040", scaleOut.Stderr, StringComparison.Ordinal);
            Assert.Contains($"{h2.Address}: port 9100", scaleOut.Stderr, StringComparison.Ordinal);
            Assert.Contains($"python3 (pid {pid}", scaleOut.Stderr, StringComparison.Ordinal);
            Assert.Equal(before, await testbed.MustRunAsync(h2.Name, Leftovers));
            Assert.Contains("No such file", before, StringComparison.Ordinal);
            Assert.Equal(journalsBefore, TestJournals.All(tug.Home, "chk").Count);

            // Given h3 as it is
            var hashes = await testbed.MustRunAsync(h3.Name, Hashes);
            var onH3 = dir.Combine("h3.yaml");
            await File.WriteAllTextAsync(onH3, $"""
                {TestTopology.Global}
                etcd_servers:
                  - host: {h3.Address}
                """, TestContext.Current.CancellationToken);

            // When --apply runs
            var apply = await tug.RunAsync("cluster", "check", onH3, "-u", "root", "-i", key, "--apply", "--format", "json");

            // Then it changed files (the deploy user's limits at least), says so, and the limits now pass
            using (var json = JsonDocument.Parse(apply.Stdout))
            {
                var changes = json.RootElement.GetProperty("changes").EnumerateArray().Select(c => c.GetProperty("change").GetString()!).ToList();
                Assert.Contains(changes, c => c.Contains("created /etc/security/limits.d/99-tug-tidb.conf", StringComparison.Ordinal));
            }

            var applied = Rows(apply.Stdout);
            Assert.All(applied.Where(r => r.Check == "limits"), r => Assert.Equal("pass", r.Result));
            Assert.Contains("tidb    soft    nofile    1000000", await testbed.MustRunAsync(h3.Name, "cat /etc/security/limits.d/99-tug-tidb.conf"), StringComparison.Ordinal);
            Assert.NotEqual(hashes, await testbed.MustRunAsync(h3.Name, Hashes));
            Assert.Single((await testbed.MustRunAsync(h3.Name, "ls /etc/tug/check-applied")).Split('\n', StringSplitOptions.RemoveEmptyEntries));

            // ... a kernel-wide setting this container cannot change is reported so, never as fixed
            Assert.All(applied.Where(r => r.Check is "sysctl" or "thp" && r.Result != "pass"), r => Assert.Contains("cannot be changed on this host", r.Message, StringComparison.Ordinal));

            // When --revert runs
            var revert = await tug.RunAsync("cluster", "check", onH3, "-u", "root", "-i", key, "--revert", "--format", "json");

            // Then every file is as before --apply
            Assert.Contains("removed /etc/security/limits.d/99-tug-tidb.conf", revert.Stdout, StringComparison.Ordinal);
            Assert.Equal(hashes, await testbed.MustRunAsync(h3.Name, Hashes));
            Assert.Contains(Rows(revert.Stdout), r => r.Check == "limits" && r.Result == "fail");
        }
        finally
        {
            await testbed.SshAsync(h2.Name, "systemctl stop squat");
            await tug.RunAsync("cluster", "destroy", "chk", "-y", "--force");
        }
    }

    private sealed record Row(string Host, string Check, string Result, string Message);

    private static List<Row> Rows(string stdout)
    {
        using var json = JsonDocument.Parse(stdout);
        return [.. json.RootElement.GetProperty("checks").EnumerateArray().Select(r => new Row(r.GetProperty("host").GetString()!, r.GetProperty("check").GetString()!, r.GetProperty("result").GetString()!, r.GetProperty("message").GetString()!))];
    }
}
