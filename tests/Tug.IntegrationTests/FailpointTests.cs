// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Testing;

namespace Tug.IntegrationTests;

/// <summary>
/// Crash consistency proven at every point, as etcd's gofail and TiKV's fail-rs prove it: a 3-host rolling upgrade of
/// node_exporter is killed (SIGKILL, through <c>TUG_FAILPOINTS</c>) before the action, after the action (the host
/// changed, the journal not yet) and after the record, of every step (three stages, three switches). After each kill,
/// <c>tug cluster replay</c> must finish it without restarting any instance that already ran the target (same PID),
/// leave every host on the target, and <c>verify</c> must exit 0.
/// </summary>
public sealed class FailpointTests(TestbedFixture testbed, PackagesFixture packages)
{
    private const string Cluster = "failpoints";

    [Fact]
    public async Task Should_Never_Restart_An_Instance_Already_On_The_Target_When_Killed_At_Any_Point_Of_Any_Step()
    {
        using var dir = new TempDirectory();
        var tug = await packages.MirrorAsync(dir, ("node_exporter", "1.5.0"), ("node_exporter", "1.9.0"), ("blackbox_exporter", "0.23.0"), ("etcd", "3.4.23"));
        var hosts = testbed.Inventory.Hosts.Take(3).ToList();
        var topology = dir.Combine("topology.yaml");
        await File.WriteAllTextAsync(topology, TestTopology.EtcdWithAgents(hosts), TestContext.Current.CancellationToken);
        string[] deployArgs = ["cluster", "deploy", Cluster, "v3.4.23", topology, "-u", "root", "-i", testbed.Inventory.Key, "-y"];
        var deployPlan = await DryRunStepsAsync(tug, deployArgs);
        var deploy = await tug.RunAsync(deployArgs);
        var failures = new List<string>();
        var cases = 0;
        try
        {
            Assert.True(deploy.ExitCode == 0, deploy.ToString());

            // --dry-run prints the steps the journal then records, for each mutating verb (hosts of one batch run in parallel, so their order may differ)
            Assert.Equal(deployPlan.Order(StringComparer.Ordinal), JournalSteps(tug).Order(StringComparer.Ordinal));
            foreach (var args in new[]
            {
                new[] { "cluster", "upgrade", Cluster, "--node-exporter-version", "v1.9.0", "-y" },
                ["cluster", "restart", Cluster, "-R", "node_exporter", "-y"],
                ["cluster", "stop", Cluster, "-N", hosts[1].Address, "-y"],
                ["cluster", "start", Cluster, "-N", hosts[1].Address, "-y"],
            })
            {
                var planned = await DryRunStepsAsync(tug, args);
                var run = await tug.RunAsync(args);
                Assert.True(run.ExitCode == 0, run.ToString());
                Assert.Equal(planned.Order(StringComparer.Ordinal), JournalSteps(tug).Order(StringComparer.Ordinal));
            }

            var target = "1.5.0";
            foreach (var kind in new[] { "stage", "switch" })
            {
                foreach (var site in new[] { "before-action", "after-action", "after-record" })
                {
                    for (var hit = 1; hit <= hosts.Count; hit++)
                    {
                        // Each case moves every host to the version the first host does not run.
                        cases++;
                        target = (await testbed.RunningVersionAsync(hosts[0].Name)).Contains("version 1.9.0", StringComparison.Ordinal) ? "1.5.0" : "1.9.0";
                        if (await KillThenReplayAsync(tug, hosts, $"{kind}:{site}=kill@{hit}", target) is { } failure)
                        {
                            failures.Add(failure);
                        }
                    }
                }
            }
        }
        finally
        {
            await tug.RunAsync("cluster", "destroy", Cluster, "-y", "--force");
        }

        Assert.True(cases == 18, $"{cases} cases ran");
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    /// <summary>One kill and its replay; the failure, or null when every property held.</summary>
    private async Task<string?> KillThenReplayAsync(CliRunner tug, List<TestbedHost> hosts, string failpoint, string target)
    {
        using var upgrade = TugProcess.Start(tug, new Dictionary<string, string> { ["TUG_FAILPOINTS"] = failpoint },
            "cluster", "upgrade", Cluster, "--node-exporter-version", $"v{target}", "-y");
        var exit = await upgrade.WaitAsync(TimeSpan.FromMinutes(3));
        if (exit != 137 && exit != -1 && exit != 9)
        {
            return $"{failpoint}: the upgrade was not killed (exit {exit}):\n{upgrade.Stdout}\n{upgrade.Stderr}";
        }

        // Which hosts already run the target, and with which process, before the replay.
        var onTarget = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var h in hosts)
        {
            if ((await testbed.RunningVersionAsync(h.Name)).Contains($"version {target}", StringComparison.Ordinal))
            {
                onTarget[h.Name] = await Pid(h);
            }
        }

        var replay = await tug.RunAsync("cluster", "replay", Cluster);
        if (replay.ExitCode != 0)
        {
            return $"{failpoint}: replay failed: {replay}";
        }

        foreach (var h in hosts)
        {
            var running = await testbed.RunningVersionAsync(h.Name);
            if (!running.Contains($"version {target}", StringComparison.Ordinal))
            {
                return $"{failpoint}: {h.Name} runs {running}, not {target}, after the replay";
            }

            if (onTarget.TryGetValue(h.Name, out var pid) && pid != await Pid(h))
            {
                return $"{failpoint}: {h.Name} already ran {target} (PID {pid}) but the replay restarted it (PID {await Pid(h)}):\n{replay.Stderr}";
            }
        }

        var verify = await tug.RunAsync("cluster", "verify", Cluster);
        return verify.ExitCode == 0 ? null : $"{failpoint}: verify after the replay: {verify}";
    }

    /// <summary>The step keys a command's <c>--dry-run --format json</c> prints, in order.</summary>
    private static async Task<List<string>> DryRunStepsAsync(CliRunner tug, string[] args)
    {
        var dry = await tug.RunAsync([.. args, "--dry-run", "--format", "json"]);
        Assert.True(dry.ExitCode == 0, dry.ToString());
        using var json = System.Text.Json.JsonDocument.Parse(dry.Stdout);
        return [.. json.RootElement.GetProperty("plan").GetProperty("steps").EnumerateArray()
            .Select(s => $"{s.GetProperty("key").GetProperty("kind").GetString()} {s.GetProperty("key").GetProperty("subject").GetString()}")];
    }

    /// <summary>The steps the newest journal recorded as planned, in the order they were first recorded.</summary>
    private static List<string> JournalSteps(CliRunner tug)
    {
        var root = Path.Combine(tug.Home, "clusters", Cluster, "operations");
        var newest = Directory.GetDirectories(root).Order(StringComparer.Ordinal).Last();
        return [.. File.ReadAllLines(Path.Combine(newest, "journal.jsonl"))
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("type").GetString() == "step")
            .Select(e => e.GetProperty("step").GetString()!)
            .Distinct()];
    }

    private Task<string> Pid(TestbedHost host) => testbed.MustRunAsync(host.Name, "systemctl show -p MainPID --value node_exporter-9100");
}
