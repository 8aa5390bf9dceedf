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
        var tug = await packages.MirrorAsync(dir, ("node_exporter", "1.1.2"), ("blackbox_exporter", "0.23.0"), ("prometheus", "2.53.3"), ("alertmanager", "0.25.0"), ("etcd", "3.4.23"));

        var hosts = testbed.Inventory.Hosts.Take(3).ToList();
        var topology = dir.Combine("topology.yaml");
        await File.WriteAllTextAsync(topology, $"""
            {TestTopology.Global}
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
            var running = await testbed.RunningVersionAsync(h.Name);
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
        // ... rolled 3.4 -> 3.5 while a client writes continuously: no acknowledged write is lost, and writes never stall
        using var stopWriting = new CancellationTokenSource();
        var writer = EtcdWriter.RunAsync([.. hosts.Select(h => $"http://{h.Address}:2379")], stopWriting.Token);
        await Task.Delay(1000, TestContext.Current.CancellationToken);
        var cluster = await tug.RunAsync("cluster", "upgrade", "field", "v3.5.16", "-y");
        await Task.Delay(1000, TestContext.Current.CancellationToken);
        await stopWriting.CancelAsync();
        var acked = await writer;
        Assert.True(cluster.ExitCode == 0, cluster.ToString());
        Assert.Contains("cluster healthy", cluster.Stdout, StringComparison.Ordinal);
        Assert.True(acked.Count > 50, $"only {acked.Count} writes were acknowledged during the upgrade");
        var longestStall = acked.Zip(acked.Skip(1), (a, b) => b.At - a.At).DefaultIfEmpty().Max();
        Assert.True(longestStall < TimeSpan.FromSeconds(10), $"no write was acknowledged for {longestStall} (quorum lost?)");
        var stored = await EtcdWriter.ReadKeysAsync($"http://{hosts[0].Address}:2379");
        var lost = acked.Select(a => a.Key).Where(k => !stored.Contains(k)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} of {acked.Count} acknowledged writes are missing, e.g. {string.Join(", ", lost.Take(5))}");
        TestContext.Current.TestOutputHelper?.WriteLine($"etcd 3.4 -> 3.5 under load: {acked.Count} acknowledged writes, 0 lost, longest stall {longestStall.TotalMilliseconds:0} ms");
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
            Assert.Contains("version 1.9.0", await testbed.RunningVersionAsync(h.Name), StringComparison.Ordinal);
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

/// <summary>A client that writes sequential keys through etcd's v3 JSON gateway, remembering which writes were acknowledged.</summary>
internal static class EtcdWriter
{
    private const string Prefix = "tug-load/";

    public static async Task<List<(string Key, DateTimeOffset At)>> RunAsync(string[] endpoints, CancellationToken stop)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var acked = new List<(string, DateTimeOffset)>();
        var endpoint = 0;
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var key = $"{Prefix}{n:D7}";
            var body = JsonSerializer.Serialize(new Dictionary<string, string> { ["key"] = B64(key), ["value"] = B64($"value-{n}") });
            try
            {
                using var response = await http.PostAsync(new Uri($"{endpoints[endpoint]}/v3/kv/put"), new StringContent(body), CancellationToken.None);
                if (response.IsSuccessStatusCode)
                {
                    acked.Add((key, TimeProvider.System.GetUtcNow()));
                }
                else
                {
                    endpoint = (endpoint + 1) % endpoints.Length;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not acknowledged: this key may or may not exist, and is not counted. Try another member.
                endpoint = (endpoint + 1) % endpoints.Length;
            }

            await Task.Delay(20, CancellationToken.None);
        }

        return acked;
    }

    public static async Task<HashSet<string>> ReadKeysAsync(string endpoint)
    {
        using var http = new HttpClient();
        var body = JsonSerializer.Serialize(new Dictionary<string, object> { ["key"] = B64(Prefix), ["range_end"] = B64("tug-load0"), ["keys_only"] = true });
        using var response = await http.PostAsync(new Uri($"{endpoint}/v3/kv/range"), new StringContent(body), TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        return json.RootElement.TryGetProperty("kvs", out var kvs)
            ? [.. kvs.EnumerateArray().Select(kv => System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(kv.GetProperty("key").GetString()!)))]
            : [];
    }

    private static string B64(string s) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(s));
}
