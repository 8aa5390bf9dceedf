// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text.Json;
using Tug.Core.Topology;
using Tug.Testing;

namespace Tug.IntegrationTests;

/// <summary>
/// <c>tug cluster reload</c> on the testbed, every claim read on the hosts: a 3-host cluster (etcd ×3, Prometheus,
/// Alertmanager, node_exporter and blackbox_exporter on every host) has one Prometheus setting changed in its
/// metadata; <c>reload --dry-run</c> shows that diff and changes nothing (every unit's MainPID and the run script on
/// the host unchanged); <c>reload</c> restarts that Prometheus only (every other MainPID unchanged) and its run script
/// on the host has the change; a second reload does nothing; a setting Prometheus cannot start with is rolled back
/// (the old run script back, Prometheus healthy, exit 1); and tug SIGKILLed at every point of the reload step
/// (before the action, after the files are written, after the action, after the record) is finished by
/// <c>replay</c> with Prometheus running the new files, started exactly once after the write.
/// </summary>
public sealed class ReloadTests(TestbedFixture testbed, PackagesFixture packages)
{
    private const string Cluster = "reload";
    private const string PrometheusUnit = "prometheus-9090";
    private const string RunScript = "/tidb-deploy/prometheus-9090/scripts/run_prometheus.sh";

    private static readonly (string Component, string Version)[] Published =
        [("node_exporter", "1.5.0"), ("blackbox_exporter", "0.23.0"), ("prometheus", "2.53.3"), ("alertmanager", "0.25.0"), ("etcd", "3.4.23")];

    [Fact]
    public async Task Should_Restart_Only_The_Changed_Prometheus_And_Roll_Back_A_Bad_Setting_And_Survive_A_Kill_At_Every_Point()
    {
        using var dir = new TempDirectory();
        var tug = await packages.MirrorAsync(dir, Published);
        var hosts = testbed.Inventory.Hosts.Take(3).ToList();
        var topology = dir.Combine("topology.yaml");
        await File.WriteAllTextAsync(topology, $"""
            {TestTopology.EtcdWithAgents(hosts)}
            component_versions:
              prometheus: v2.53.3
              alertmanager: v0.25.0
            monitoring_servers:
              - host: {hosts[0].Address}
            alertmanager_servers:
              - host: {hosts[1].Address}
            """, TestContext.Current.CancellationToken);
        var deploy = await tug.RunAsync("cluster", "deploy", Cluster, "v3.4.23", topology, "-u", "root", "-i", testbed.Inventory.Key, "-y");
        try
        {
            Assert.True(deploy.ExitCode == 0, deploy.ToString());
            await ReloadAsync(tug, hosts);
        }
        finally
        {
            await tug.RunAsync("cluster", "destroy", Cluster, "-y", "--force");
        }
    }

    private async Task ReloadAsync(CliRunner tug, List<TestbedHost> hosts)
    {
        var prometheusHost = hosts[0];
        var pids = await PidsAsync(hosts);
        Assert.Equal(11, pids.Count);
        Assert.DoesNotContain(pids, p => p.Value is "" or "0");
        var script = await testbed.MustRunAsync(prometheusHost.Name, $"cat {RunScript}");
        Assert.Contains("--storage.tsdb.retention.time=\"30d\"", script, StringComparison.Ordinal);

        // Nothing changed yet: nothing to reload, nothing restarted.
        var idle = await tug.RunAsync("cluster", "reload", Cluster, "-y");
        Assert.True(idle.ExitCode == 0, idle.ToString());
        Assert.Contains("nothing to do", idle.Stderr, StringComparison.Ordinal);
        Assert.Equal(pids, await PidsAsync(hosts));

        // One Prometheus setting changes in the metadata.
        await ChangePrometheus(tug, "storage_retention", "31d");

        // --dry-run shows exactly that diff and changes nothing.
        var dry = await tug.RunAsync("cluster", "reload", Cluster, "--dry-run");
        Assert.True(dry.ExitCode == 0, dry.ToString());
        Assert.Contains($"-    --storage.tsdb.retention.time=\"30d\"", dry.Stdout, StringComparison.Ordinal);
        Assert.Contains($"+    --storage.tsdb.retention.time=\"31d\"", dry.Stdout, StringComparison.Ordinal);
        Assert.Contains($"{prometheusHost.Address}:{RunScript} (on the host)", dry.Stdout, StringComparison.Ordinal);
        Assert.Single(dry.Stdout.Split('\n'), l => l.Contains("batch ", StringComparison.Ordinal) && l.Contains("reload", StringComparison.Ordinal));
        Assert.Equal(10, dry.Stdout.Split('\n').Count(l => l.Contains("unchanged:", StringComparison.Ordinal) && l.Contains("not restarted", StringComparison.Ordinal)));
        Assert.Contains("dry run: nothing was changed", dry.Stdout, StringComparison.Ordinal);
        Evidence("reload --dry-run", dry.Stdout);
        var dryJson = await tug.RunAsync("cluster", "reload", Cluster, "--dry-run", "--format", "json");
        Assert.True(dryJson.ExitCode == 0, dryJson.ToString());
        using (var json = JsonDocument.Parse(dryJson.Stdout))
        {
            var steps = json.RootElement.GetProperty("plan").GetProperty("steps").EnumerateArray().ToList();
            var step = Assert.Single(steps);
            Assert.Equal("reload", step.GetProperty("key").GetProperty("kind").GetString());
            Assert.Equal($"{prometheusHost.Address}:9090", step.GetProperty("key").GetProperty("subject").GetString());
            var file = Assert.Single(step.GetProperty("inputs").GetProperty("files").EnumerateArray());
            Assert.Equal(RunScript, file.GetProperty("path").GetString());
            Assert.Contains("+    --storage.tsdb.retention.time=\"31d\"", file.GetProperty("diff").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(pids, await PidsAsync(hosts));
        Assert.Equal(script, await testbed.MustRunAsync(prometheusHost.Name, $"cat {RunScript}"));

        // reload restarts that Prometheus only, and the host has the change.
        var reload = await tug.RunAsync("cluster", "reload", Cluster, "-y");
        Assert.True(reload.ExitCode == 0, reload.ToString());
        Evidence("reload", reload.Stdout + reload.Stderr);
        var notRestarted = Assert.Single(reload.Stdout.Split('\n'), l => l.StartsWith("not restarted, files as on the host:", StringComparison.Ordinal));
        Assert.Equal(10, notRestarted["not restarted, files as on the host: ".Length..].Split(", ").Length);
        Assert.DoesNotContain("prometheus", notRestarted, StringComparison.Ordinal);
        var after = await PidsAsync(hosts);
        Assert.NotEqual(pids[Key(prometheusHost, PrometheusUnit)], after[Key(prometheusHost, PrometheusUnit)]);
        Assert.Equal(pids.Where(p => p.Key != Key(prometheusHost, PrometheusUnit)), after.Where(p => p.Key != Key(prometheusHost, PrometheusUnit)));
        var changed = await testbed.MustRunAsync(prometheusHost.Name, $"cat {RunScript}");
        Assert.Contains("--storage.tsdb.retention.time=\"31d\"", changed, StringComparison.Ordinal);
        Assert.Contains("--storage.tsdb.retention.time=31d", await testbed.MustRunAsync(prometheusHost.Name, $"tr '\\0' ' ' < /proc/$(systemctl show -p MainPID --value {PrometheusUnit})/cmdline"), StringComparison.Ordinal);
        Assert.Equal(0, (await tug.RunAsync("cluster", "verify", Cluster)).ExitCode);

        // A second reload finds nothing to do and restarts nothing.
        var again = await tug.RunAsync("cluster", "reload", Cluster, "-y");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("nothing to do", again.Stderr, StringComparison.Ordinal);
        Assert.Equal(after, await PidsAsync(hosts));

        // --skip-restart writes the file and restarts nothing; the next reload restarts Prometheus to read it.
        await ChangePrometheus(tug, "storage_retention", "32d");
        var skip = await tug.RunAsync("cluster", "reload", Cluster, "--skip-restart", "-y");
        Assert.True(skip.ExitCode == 0, skip.ToString());
        Assert.Equal(after, await PidsAsync(hosts));
        Assert.Contains("--storage.tsdb.retention.time=\"32d\"", await testbed.MustRunAsync(prometheusHost.Name, $"cat {RunScript}"), StringComparison.Ordinal);
        var unread = await tug.RunAsync("cluster", "reload", Cluster, "--dry-run");
        Assert.True(unread.ExitCode == 0, unread.ToString());
        Assert.Single(unread.Stdout.Split('\n'), l => l.Contains("batch ", StringComparison.Ordinal) && l.Contains("written after its process started", StringComparison.Ordinal));
        Evidence("reload --dry-run after --skip-restart", unread.Stdout);
        var read = await tug.RunAsync("cluster", "reload", Cluster, "-y");
        Assert.True(read.ExitCode == 0, read.ToString());
        var afterRead = await PidsAsync(hosts);
        Assert.NotEqual(after[Key(prometheusHost, PrometheusUnit)], afterRead[Key(prometheusHost, PrometheusUnit)]);
        Assert.Equal(after.Where(p => p.Key != Key(prometheusHost, PrometheusUnit)), afterRead.Where(p => p.Key != Key(prometheusHost, PrometheusUnit)));
        Assert.Contains("--storage.tsdb.retention.time=32d", await testbed.MustRunAsync(prometheusHost.Name, $"tr '\\0' ' ' < /proc/$(systemctl show -p MainPID --value {PrometheusUnit})/cmdline"), StringComparison.Ordinal);
        after = afterRead;
        changed = await testbed.MustRunAsync(prometheusHost.Name, $"cat {RunScript}");

        // A setting Prometheus cannot start with fails the gate and is rolled back: the old run script, healthy, exit 1.
        await ChangePrometheus(tug, "additional_args", System.Collections.Immutable.ImmutableArray.Create<object?>("--no-such-flag"));
        var bad = await tug.RunAsync("cluster", "reload", Cluster, "-y");
        Assert.True(bad.ExitCode == 1, bad.ToString());
        Evidence("reload of a bad setting", bad.Stdout);
        Assert.Contains("rolled back", bad.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("ROLLBACK ALSO FAILED", bad.Stdout, StringComparison.Ordinal);
        Assert.Equal(changed, await testbed.MustRunAsync(prometheusHost.Name, $"cat {RunScript}"));
        Assert.Equal("active\n", (await testbed.SshAsync(prometheusHost.Name, $"systemctl is-active {PrometheusUnit}")).Output);
        using (var http = new HttpClient())
        {
            var ready = await http.GetAsync(new Uri($"http://{prometheusHost.Address}:9090/-/ready"), TestContext.Current.CancellationToken);
            Assert.True(ready.IsSuccessStatusCode, $"Prometheus not ready after the rollback: {(int)ready.StatusCode}");
        }

        var rolled = await PidsAsync(hosts);
        Assert.Equal(after.Where(p => p.Key != Key(prometheusHost, PrometheusUnit)), rolled.Where(p => p.Key != Key(prometheusHost, PrometheusUnit)));
        await ChangePrometheus(tug, "additional_args", null);

        // Killed at every point of the reload step, then replayed: Prometheus runs the new files, started exactly once
        // after they were written, and nothing else restarted.
        var failures = new List<string>();
        var retention = 40;
        foreach (var site in new[] { "before-action", "after-write", "after-action", "after-record" })
        {
            retention++;
            if (await KillThenReplayAsync(tug, hosts, site, $"{retention}d") is { } failure)
            {
                failures.Add(failure);
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
        var end = await PidsAsync(hosts);
        Assert.Equal(rolled.Where(p => p.Key != Key(prometheusHost, PrometheusUnit)), end.Where(p => p.Key != Key(prometheusHost, PrometheusUnit)));
    }

    /// <summary>One kill at <paramref name="site"/> and its replay; the failure, or null when every property held.</summary>
    private async Task<string?> KillThenReplayAsync(CliRunner tug, List<TestbedHost> hosts, string site, string retention)
    {
        var host = hosts[0];
        await ChangePrometheus(tug, "storage_retention", retention);
        var before = await PidsAsync(hosts);
        var since = (await testbed.MustRunAsync(host.Name, "date +%s")).Trim();
        await Task.Delay(1100, TestContext.Current.CancellationToken);
        using var killed = TugProcess.Start(tug, new Dictionary<string, string> { ["TUG_FAILPOINTS"] = $"reload:{site}=kill" }, "cluster", "reload", Cluster, "-y");
        var exit = await killed.WaitAsync(TimeSpan.FromMinutes(3));
        if (exit != 137 && exit != -1 && exit != 9)
        {
            return $"{site}: the reload was not killed (exit {exit}):\n{killed.Stdout}\n{killed.Stderr}";
        }

        var written = (await testbed.MustRunAsync(host.Name, $"cat {RunScript}")).Contains($"retention.time=\"{retention}\"", StringComparison.Ordinal);
        var pidAfterKill = (await PidsAsync(hosts))[Key(host, PrometheusUnit)];
        var restartedByKilled = pidAfterKill != before[Key(host, PrometheusUnit)];
        var expected = site switch
        {
            "before-action" => (Written: false, Restarted: false),
            "after-write" => (Written: true, Restarted: false),
            _ => (Written: true, Restarted: true),
        };
        if ((written, restartedByKilled) != expected)
        {
            return $"{site}: after the kill the run script {(written ? "had" : "lacked")} the change and Prometheus {(restartedByKilled ? "was" : "was not")} restarted; expected {expected}";
        }

        var replay = await tug.RunAsync("cluster", "replay", Cluster);
        if (replay.ExitCode != 0)
        {
            return $"{site}: replay failed: {replay}";
        }

        Evidence($"replay after a kill at {site}", replay.Stdout);
        var afterReplay = await PidsAsync(hosts);
        if (!(await testbed.MustRunAsync(host.Name, $"cat {RunScript}")).Contains($"retention.time=\"{retention}\"", StringComparison.Ordinal))
        {
            return $"{site}: the run script on the host lacks {retention} after the replay";
        }

        if (!(await testbed.MustRunAsync(host.Name, $"tr '\\0' ' ' < /proc/$(systemctl show -p MainPID --value {PrometheusUnit})/cmdline")).Contains($"retention.time={retention}", StringComparison.Ordinal))
        {
            return $"{site}: the running Prometheus does not run with {retention} after the replay";
        }

        if (restartedByKilled && afterReplay[Key(host, PrometheusUnit)] != pidAfterKill)
        {
            return $"{site}: Prometheus already ran the new files (PID {pidAfterKill}) but the replay restarted it (PID {afterReplay[Key(host, PrometheusUnit)]}):\n{replay}";
        }

        // Exactly one start since the case began, read from the host's journal.
        var starts = await testbed.MustRunAsync(host.Name, $"journalctl -u {PrometheusUnit} --since @{since} -o cat --no-pager | grep -c '^Started' || true");
        if (starts.Trim() != "1")
        {
            return $"{site}: Prometheus was started {starts.Trim()} time(s) since the case began, not once:\n{replay}";
        }

        var others = before.Where(p => p.Key != Key(host, PrometheusUnit)).ToList();
        if (!others.SequenceEqual(afterReplay.Where(p => p.Key != Key(host, PrometheusUnit))))
        {
            return $"{site}: another unit restarted: before {string.Join(", ", others)}; after {string.Join(", ", afterReplay)}";
        }

        var verify = await tug.RunAsync("cluster", "verify", Cluster);
        return verify.ExitCode == 0 ? null : $"{site}: verify after the replay: {verify}";
    }

    /// <summary>
    /// Changes one setting of the Prometheus instance in the cluster's metadata (null removes it), through Tug.Core's
    /// store: the one place to swap for <c>tug cluster edit-config NAME --topology-file F -y</c> once it exists.
    /// </summary>
    /// <summary>
    /// Changes one setting of the Prometheus instance as a DBA does: `tug cluster show-config`, the setting changed in
    /// that text, `tug cluster edit-config NAME --topology-file F -y` (strict decode, TiUP's editable rules, saved
    /// through the executor). Touches no host.
    /// </summary>
    private static async Task ChangePrometheus(CliRunner tug, string key, object? value)
    {
        var shown = await tug.SucceedAsync("cluster", "show-config", Cluster);
        var topology = TopologyEdit.Parse(shown.Stdout, "show-config");
        var instances = topology.Instances.Select(i => i.Role != Roles.Prometheus ? i
            : i with { Extras = value is null ? i.Extras.Without(key) : i.Extras.Without(key).With(key, value) });
        var file = Path.Combine(tug.Home, $"edited-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, TopologyEdit.Render(topology with { Instances = [.. instances] }), TestContext.Current.CancellationToken);
        var edit = await tug.RunAsync("cluster", "edit-config", Cluster, "--topology-file", file, "-y");
        Assert.True(edit.ExitCode == 0, edit.ToString());
        Assert.Contains(key, edit.Stdout + edit.Stderr, StringComparison.Ordinal);
    }

    /// <summary>host/unit → MainPID of every cluster unit on every host, read on the hosts.</summary>
    private async Task<SortedDictionary<string, string>> PidsAsync(List<TestbedHost> hosts)
    {
        var pids = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var h in hosts)
        {
            var output = await testbed.MustRunAsync(h.Name,
                "for u in $(systemctl list-units --type=service --all --no-legend --plain 'etcd-*' 'node_exporter-*' 'blackbox_exporter-*' 'prometheus-*' 'alertmanager-*' | awk '{print $1}'); do echo \"${u%.service} $(systemctl show -p MainPID --value \"$u\")\"; done");
            foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = line.Split(' ');
                pids[Key(h, parts[0])] = parts.Length > 1 ? parts[1] : string.Empty;
            }
        }

        return pids;
    }

    private static string Key(TestbedHost host, string unit) => $"{host.Name}/{unit}";

    /// <summary>Appends what a command printed to the file <c>TUG_TEST_EVIDENCE</c> names, when it is set (for reports; no assertion depends on it).</summary>
    private static void Evidence(string what, string text)
    {
        if (Environment.GetEnvironmentVariable("TUG_TEST_EVIDENCE") is { Length: > 0 } path)
        {
            File.AppendAllText(path, $"===== {what}\n{text}\n");
        }
    }
}
