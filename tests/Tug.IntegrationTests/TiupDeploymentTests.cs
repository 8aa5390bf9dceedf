// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Globalization;
using System.Text.Json;
using Tug.Testing;

namespace Tug.IntegrationTests;

/// <summary>
/// The harness for issue 14: a cluster laid out by <see cref="TiupDeployment"/> as <c>tiup cluster deploy</c> + <c>start</c>
/// leave it, checked on the hosts. Every unit runs the binary at TiUP's path (read through <c>/proc/PID/exe</c>), the
/// alertmanagers form a cluster, the run scripts on the hosts are byte for byte what TiUP's template renders, the
/// cluster key logs in as tidb, meta.yaml is TiUP's, and two snapshots taken apart are equal.
/// </summary>
public sealed class TiupDeploymentTests(TestbedFixture testbed, PackagesFixture packages)
{
    [Fact]
    public async Task Should_Leave_The_Hosts_As_Tiup_Deploy_And_Start_Do()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var hosts = testbed.Inventory.Hosts.Take(2).ToList();
        var tiup = new TiupDeployment(testbed, packages);
        var cluster = TiupDeployment.Describe(dir.Combine("tiup"), hosts);
        try
        {
            // When
            await tiup.DeployAsync(cluster, cancel);

            // Then: every unit active, running TiUP's binary of the testbed package's version
            Assert.Equal(6, cluster.Instances.Length);
            foreach (var i in cluster.Instances)
            {
                Assert.Equal("active", (await testbed.MustRunAsync(i.Host, $"systemctl is-active {i.Unit}")).Trim());
                Assert.Equal("enabled", (await testbed.MustRunAsync(i.Host, $"systemctl is-enabled {i.Unit}")).Trim());
                var exe = (await testbed.MustRunAsync(i.Host, $"readlink /proc/$(systemctl show -p MainPID --value {i.Unit})/exe")).Trim();
                Assert.Equal(i.Executable, exe);
                Assert.Contains(TiupDeployment.Versions[i.Component], await testbed.RunningVersionAsync(i.Host, i.Unit), StringComparison.Ordinal);
                Assert.Equal("tidb", (await testbed.MustRunAsync(i.Host, $"ps -o user= -p $(systemctl show -p MainPID --value {i.Unit})")).Trim());
            }

            foreach (var h in hosts)
            {
                Assert.Equal("/tidb-deploy/monitor-9100/bin/node_exporter/node_exporter",
                    (await testbed.MustRunAsync(h.Name, "readlink /proc/$(systemctl show -p MainPID --value node_exporter-9100)/exe")).Trim());
                Assert.Contains("1.1.2", await testbed.RunningVersionAsync(h.Name, "node_exporter-9100"), StringComparison.Ordinal);
            }

            // Then: the alertmanagers answer their API and see each other (TiUP gives each every --cluster.peer)
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            foreach (var h in hosts)
            {
                using var status = JsonDocument.Parse(await http.GetStringAsync(new Uri($"http://{h.Address}:9093/api/v2/status"), cancel));
                var peers = status.RootElement.GetProperty("cluster").GetProperty("peers").EnumerateArray().Select(p => p.GetProperty("address").GetString()).Order(StringComparer.Ordinal);
                Assert.Equal(hosts.Select(x => $"{x.Address}:9094").Order(StringComparer.Ordinal), peers);
                // Debian's build reports "0.21.0+ds".
                Assert.StartsWith("0.21.0", status.RootElement.GetProperty("versionInfo").GetProperty("version").GetString(), StringComparison.Ordinal);
            }

            // Then: each run script and unit on the host is byte for byte what tiuprender makes of TiUP's template
            foreach (var i in cluster.Instances)
            {
                var (template, data) = TiupDeployment.RunScript(cluster, i);
                Assert.Equal(await TiupRender.RenderAsync(template, data, cancel), await ReadAsync(i.Host, i.RunScript));
                Assert.Equal("755 tidb:tidb", (await testbed.MustRunAsync(i.Host, $"stat -c '%a %U:%G' {i.RunScript}")).Trim());
                Assert.Equal(await TiupRender.RenderAsync("systemd/system.service.tpl", TiupDeployment.Unit(i), cancel), await ReadAsync(i.Host, i.UnitFile));
            }

            // Spot checks against the template itself, so that a renderer gone wrong cannot agree with itself
            var script = await ReadAsync(hosts[0].Name, "/tidb-deploy/alertmanager-9093/scripts/run_alertmanager.sh");
            var text = System.Text.Encoding.UTF8.GetString(script);
            Assert.Contains("exec bin/alertmanager/alertmanager \\\n", text, StringComparison.Ordinal);
            Assert.Contains($"    --cluster.peer=\"{hosts[1].Address}:9094\" \\\n", text, StringComparison.Ordinal);
            Assert.EndsWith($"    --cluster.listen-address=\"{hosts[0].Address}:9094\"\n", text, StringComparison.Ordinal);
            var unit = System.Text.Encoding.UTF8.GetString(await ReadAsync(hosts[0].Name, "/etc/systemd/system/blackbox_exporter-9115.service"));
            Assert.Contains("AmbientCapabilities=CAP_NET_RAW\nUser=tidb\nExecStart=/bin/bash -c '/tidb-deploy/monitor-9100/scripts/run_blackbox_exporter.sh'\nRestart=always\n", unit, StringComparison.Ordinal);

            // Then: the cluster key (PEM RSA, TiUP's layout) logs in as tidb on every host
            Assert.StartsWith("-----BEGIN RSA PRIVATE KEY-----", await File.ReadAllTextAsync(cluster.KeyPath, cancel), StringComparison.Ordinal);
            Assert.Matches("^ssh-rsa [A-Za-z0-9+/=]+\n$", await File.ReadAllTextAsync(cluster.KeyPath + ".pub", cancel));
            foreach (var h in hosts)
            {
                var (exit, output) = await Processes.RunAsync("ssh", ["-F", "/dev/null", "-i", cluster.KeyPath, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes",
                    "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10",
                    "-p", h.Port.ToString(CultureInfo.InvariantCulture), $"tidb@{h.Address}", "id -un"]);
                Assert.True(exit == 0 && output.Trim() == "tidb", $"{h.Name}: login as tidb with the cluster key: exit {exit}: {output}");
            }

            // Then: meta.yaml is TiUP's, starting as TiUP's ClusterMeta marshals
            var meta = await File.ReadAllTextAsync(cluster.MetaPath, cancel);
            Assert.StartsWith("user: tidb\ntidb_version: v8.5.0\nlast_ops_ver: |-\n    1.16.5 tiup\n", meta, StringComparison.Ordinal);
            Assert.Contains($"    alertmanager_servers:\n        - host: {hosts[0].Address}\n", meta, StringComparison.Ordinal);
            Assert.Contains("    monitored:\n        node_exporter_port: 9100\n        blackbox_exporter_port: 9115\n", meta, StringComparison.Ordinal);

            // Then: two snapshots some seconds apart are equal, and one after a change is not
            var first = await tiup.SnapshotAsync(cluster, cancel);
            Assert.Contains($"{hosts[0].Name}:/tidb-deploy/monitor-9100/bin/node_exporter/node_exporter", first.Entries.Keys);
            Assert.Contains($"{hosts[1].Name}:unit alertmanager-9093", first.Entries.Keys);
            await Task.Delay(TimeSpan.FromSeconds(5), cancel);
            var second = await tiup.SnapshotAsync(cluster, cancel);
            Assert.True(first.Same(second), "the hosts changed between two snapshots:\n" + string.Join("\n", first.Differences(second)));

            await testbed.MustRunAsync(hosts[1].Name, "systemctl restart node_exporter-9100");
            var third = await tiup.SnapshotAsync(cluster, cancel);
            Assert.Contains(first.Differences(third), d => d.StartsWith($"{hosts[1].Name}:unit node_exporter-9100:", StringComparison.Ordinal));
        }
        finally
        {
            await tiup.RemoveAsync(cluster, cancel);
        }

        // After the cleanup nothing of it is left, and user tidb stays
        foreach (var h in hosts)
        {
            Assert.Equal("clean", (await testbed.MustRunAsync(h.Name,
                "test ! -e /tidb-deploy/monitor-9100 && test ! -e /tidb-data/alertmanager-9093 && test ! -e /etc/systemd/system/node_exporter-9100.service && id -u tidb >/dev/null && echo clean")).Trim());
        }
    }

    /// <summary>A file's exact bytes on a host, read as root.</summary>
    private async Task<byte[]> ReadAsync(string host, string path) =>
        Convert.FromBase64String((await testbed.MustRunAsync(host, $"base64 -w0 {path}")).Trim());
}
