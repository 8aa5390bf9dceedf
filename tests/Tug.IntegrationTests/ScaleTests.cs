// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text.Json;
using Tug.Testing;

namespace Tug.IntegrationTests;

/// <summary>Scale-out at the pinned versions (the seed's old-agent bug), etcd members joining and leaving, Prometheus following.</summary>
public sealed class ScaleTests(TestbedFixture testbed, PackagesFixture packages)
{
    [Fact]
    public async Task Should_Scale_Out_At_Pinned_Versions_And_Scale_In_An_Etcd_Member_Properly()
    {
        using var dir = new TempDirectory();
        var tug = await packages.MirrorAsync(dir, ("node_exporter", "1.1.2"), ("node_exporter", "1.5.0"), ("blackbox_exporter", "0.23.0"), ("prometheus", "2.53.3"), ("etcd", "3.4.23"));

        var hosts = testbed.Inventory.Hosts.Take(3).ToList();
        var (h1, h2, h3) = (hosts[0], hosts[1], hosts[2]);
        var topology = dir.Combine("topology.yaml");
        await File.WriteAllTextAsync(topology, $"""
            {TestTopology.Global}
            monitored:
              node_exporter_version: v1.1.2
              blackbox_exporter_version: v0.23.0
            component_versions:
              prometheus: v2.53.3
            etcd_servers:
              - host: {h1.Address}
              - host: {h2.Address}
            monitoring_servers:
              - host: {h1.Address}
            """, TestContext.Current.CancellationToken);
        var deploy = await tug.RunAsync("cluster", "deploy", "scale", "v3.4.23", topology, "-u", "root", "-i", testbed.Inventory.Key, "-y");
        try
        {
            Assert.True(deploy.ExitCode == 0, deploy.ToString());

            // Given node_exporter upgraded to 1.5.0 (now pinned), a newer 1.9.0 in the mirror, and 1.1.2 in the package cache
            var upgrade = await tug.RunAsync("cluster", "upgrade", "scale", "--node-exporter-version", "v1.5.0", "-y", "--batch", "2");
            Assert.True(upgrade.ExitCode == 0, upgrade.ToString());
            var newest = packages.Find("node_exporter", "1.9.0");
            await tug.SucceedAsync("mirror", "publish", "node_exporter", "v1.9.0", newest.File, newest.Entry, "--os", "linux", "--arch", "amd64");
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(dir.Path, "home", "packages"), "node_exporter-v1.1.2*", SearchOption.AllDirectories));

            // When a third host joins as an etcd member
            var part = dir.Combine("scale-out.yaml");
            await File.WriteAllTextAsync(part, $"""
                etcd_servers:
                  - host: {h3.Address}
                """, TestContext.Current.CancellationToken);
            var scaleOut = await tug.RunAsync("cluster", "scale-out", "scale", part, "-u", "root", "-i", testbed.Inventory.Key, "-y", "--format", "json");

            // Then it runs the pinned versions, joined the etcd cluster, and Prometheus scrapes it
            Assert.True(scaleOut.ExitCode == 0, scaleOut.ToString());
            Assert.Contains("version 1.5.0", await testbed.RunningVersionAsync(h3.Name), StringComparison.Ordinal);
            var members = await testbed.MustRunAsync(h1.Name, "ETCDCTL_API=3 /tidb-deploy/etcd-2379/bin/etcd-v3.4.23-linux-amd64/etcdctl --endpoints=http://127.0.0.1:2379 member list");
            Assert.Equal(3, members.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.Contains(", started,", StringComparison.Ordinal)));
            Assert.Contains($"http://{h3.Address}:2380", members, StringComparison.Ordinal);
            await AssertScrapedAsync(h1, [h1, h2, h3], "1.5.0");
            var display = await tug.SucceedAsync("cluster", "display", "scale", "--format", "json");
            using (var json = JsonDocument.Parse(display.Stdout))
            {
                var rows = json.RootElement.GetProperty("instances").EnumerateArray().ToList();
                Assert.Equal(10, rows.Count);
                Assert.All(rows, r => Assert.True(r.GetProperty("verified").GetBoolean() && r.GetProperty("status").GetString() == "Up", r.ToString()));
                Assert.Equal("v1.5.0", rows.Single(r => r.GetProperty("id").GetString() == $"{h3.Address}:9100").GetProperty("version").GetString());
                Assert.Equal("v3.4.23", rows.Single(r => r.GetProperty("id").GetString() == $"{h3.Address}:2379").GetProperty("version").GetString());
            }

            var verify = await tug.RunAsync("cluster", "verify", "scale");
            Assert.True(verify.ExitCode == 0, verify.ToString());

            // When the new member is scaled in
            var scaleIn = await tug.RunAsync("cluster", "scale-in", "scale", "-N", $"{h3.Address}:2379", "-y");

            // Then it left the etcd cluster, nothing of the cluster is left on its host, and Prometheus forgot it
            Assert.True(scaleIn.ExitCode == 0, scaleIn.ToString());
            Assert.Contains("left the etcd cluster", scaleIn.Stdout, StringComparison.Ordinal);
            members = await testbed.MustRunAsync(h1.Name, "ETCDCTL_API=3 /tidb-deploy/etcd-2379/bin/etcd-v3.4.23-linux-amd64/etcdctl --endpoints=http://127.0.0.1:2379 member list");
            Assert.DoesNotContain(h3.Address + ":", members, StringComparison.Ordinal);
            Assert.Equal("gone", (await testbed.MustRunAsync(h3.Name, "if [ -e /tidb-deploy ] || [ -e /tidb-data ] || [ -e /etc/systemd/system/node_exporter-9100.service ]; then echo there; else echo gone; fi; pgrep -u tidb || true")).Trim());
            await HttpPoll.UntilAsync($"http://{h1.Address}:9090/api/v1/targets", json =>
            {
                var targets = json.GetProperty("data").GetProperty("activeTargets").EnumerateArray().Select(t => t.GetProperty("labels").GetProperty("instance").GetString()!).ToList();
                return (targets.Count > 0 && !targets.Any(t => t.StartsWith(h3.Address + ":", StringComparison.Ordinal)), string.Join(", ", targets));
            }, 45, "Prometheus still scrapes the removed host");
            verify = await tug.RunAsync("cluster", "verify", "scale");
            Assert.True(verify.ExitCode == 0, verify.ToString());

            // Patch: a hot-fix build from a tarball replaces node_exporter on one host, verified; display marks it
            var patch = await tug.RunAsync("cluster", "patch", "scale", newest.File, "-N", $"{h1.Address}:9100");
            Assert.True(patch.ExitCode == 0, patch.ToString());
            Assert.Contains("version 1.9.0", await testbed.RunningVersionAsync(h1.Name), StringComparison.Ordinal);
            Assert.Contains("version 1.5.0", await testbed.RunningVersionAsync(h2.Name), StringComparison.Ordinal);
            display = await tug.SucceedAsync("cluster", "display", "scale", "--format", "json");
            using (var json = JsonDocument.Parse(display.Stdout))
            {
                var rows = json.RootElement.GetProperty("instances").EnumerateArray().ToDictionary(r => r.GetProperty("id").GetString()!);
                Assert.True(rows[$"{h1.Address}:9100"].GetProperty("patched").GetBoolean());
                Assert.True(rows[$"{h1.Address}:9100"].GetProperty("verified").GetBoolean(), rows[$"{h1.Address}:9100"].ToString());
                Assert.False(rows[$"{h2.Address}:9100"].GetProperty("patched").GetBoolean());
            }

            // ... a broken patch (a raw executable that exits at once) fails its gate and is rolled back, changing nothing
            var broken = dir.Combine("node_exporter");
            await File.WriteAllTextAsync(broken, "#!/bin/sh\necho 'node_exporter, version 1.5.0'\nexit 1\n", TestContext.Current.CancellationToken);
            var pid = await testbed.MustRunAsync(h2.Name, "systemctl show -p MainPID --value node_exporter-9100");
            var failed = await tug.RunAsync("cluster", "patch", "scale", broken, "-R", "node_exporter", "-N", $"{h2.Address}:9100");
            Assert.True(failed.ExitCode == 1, failed.ToString());
            Assert.Contains("rolled back to v1.5.0, healthy and verified", failed.Stdout, StringComparison.Ordinal);
            Assert.NotEqual(pid, await testbed.MustRunAsync(h2.Name, "systemctl show -p MainPID --value node_exporter-9100"));
            Assert.Contains("version 1.5.0", await testbed.RunningVersionAsync(h2.Name), StringComparison.Ordinal);

            // ... and --rollback puts the build before the patch back
            var unpatch = await tug.RunAsync("cluster", "patch", "scale", "--rollback", "-N", $"{h1.Address}:9100");
            Assert.True(unpatch.ExitCode == 0, unpatch.ToString());
            Assert.Contains("version 1.5.0", await testbed.RunningVersionAsync(h1.Name), StringComparison.Ordinal);
            verify = await tug.RunAsync("cluster", "verify", "scale");
            Assert.True(verify.ExitCode == 0, verify.ToString());
            Assert.DoesNotContain("(patched)", (await tug.SucceedAsync("cluster", "display", "scale")).Stdout, StringComparison.Ordinal);
        }
        finally
        {
            await tug.RunAsync("cluster", "destroy", "scale", "-y", "--force");
        }
    }

    private static Task AssertScrapedAsync(TestbedHost prometheus, IReadOnlyList<TestbedHost> hosts, string version) =>
        HttpPoll.UntilAsync($"http://{prometheus.Address}:9090/api/v1/query?query=node_exporter_build_info", json =>
        {
            var found = json.GetProperty("data").GetProperty("result").EnumerateArray()
                .Select(r => (Instance: r.GetProperty("metric").GetProperty("instance").GetString()!, Version: r.GetProperty("metric").GetProperty("version").GetString()!)).ToList();
            var done = hosts.All(h => found.Any(f => f.Instance == $"{h.Address}:9100" && f.Version.StartsWith(version, StringComparison.Ordinal)));
            return (done, string.Join(", ", found.Select(f => $"{f.Instance}={f.Version}")));
        }, 60, $"Prometheus did not scrape node_exporter {version} on every host");
}
