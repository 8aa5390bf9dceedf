// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text.Json;
using Tug.Core.Cluster;
using Tug.Core.Topology;
using Tug.Testing;

namespace Tug.Cli.Tests;

/// <summary>TiUP's global flags work on every <c>tug cluster</c> command; plans and progress come out as data.</summary>
public sealed class ClusterFlagTests
{
    /// <summary>Every cluster command with the arguments it needs (the cluster's only host, 192.0.2.1, does not exist).</summary>
    public static TheoryData<string[]> Commands => new()
    {
        { ["deploy", "c2", "v3.4.23", "topo.yaml", "--dry-run"] },
        { ["start", "c1", "--dry-run"] },
        { ["stop", "c1", "--dry-run"] },
        { ["restart", "c1", "--dry-run"] },
        { ["display", "c1"] },
        { ["upgrade", "c1", "--component", "etcd=v3.5.16", "--dry-run"] },
        { ["patch", "c1", "patch-file", "-R", "etcd", "--dry-run"] },
        { ["scale-out", "c1", "topo.yaml", "--dry-run"] },
        { ["scale-in", "c1", "-N", "192.0.2.1:2379", "--dry-run"] },
        { ["replay", "c1"] },
        { ["audit"] },
        { ["verify", "c1"] },
        { ["list"] },
        { ["exec", "c1", "--command", "true"] },
        { ["push", "c1", "patch-file", "/tmp/x"] },
        { ["pull", "c1", "/tmp/x", "out"] },
        { ["destroy", "c1", "--dry-run"] },
        { ["accept-host-key", "c1", "192.0.2.1", "SHA256:abc"] },
        { ["reload", "c1", "--dry-run"] },
        { ["edit-config", "c1", "--topology-file", "topo.yaml", "--dry-run"] },
        { ["show-config", "c1"] },
        { ["check", "c1", "--cluster"] },
        { ["enable", "c1", "-R", "node_exporter", "--dry-run"] },
        { ["disable", "c1", "-N", "192.0.2.1", "--dry-run"] },
        { ["clean", "c1", "--log", "--ignore-role", "etcd", "--dry-run"] },
        { ["prune", "c1"] },
        { ["destroy", "c1", "--retain-role-data", "etcd", "--retain-node-data", "192.0.2.1", "--dry-run"] },
        { ["rename", "c1", "c9", "--dry-run"] },
        { ["meta", "backup", "c1", "--file", "backup.tar.gz"] },
        { ["meta", "restore", "c1", "no-such-backup.tar.gz"] },
        { ["audit", "cleanup", "--retain-days", "30"] },
        { ["rotatessh", "c1", "--dry-run"] },
        { ["template", "--pd-servers", "10.0.0.1", "--local"] },
        { ["display", "c1", "--uptime", "--versions", "--process", "--manage-host", "--numa", "--status-timeout", "1"] },
        { ["display", "c1", "--version"] },
        { ["upgrade", "c1", "v3.5.16", "--transfer-timeout", "60", "--dry-run"] },
        { ["patch", "c1", "patch-file", "-R", "etcd", "--transfer-timeout", "60", "--dry-run"] },
        { ["reload", "c1", "--transfer-timeout", "60", "--dry-run"] },
        { ["scale-in", "c1", "-N", "192.0.2.1:2379", "--transfer-timeout", "60", "--dry-run"] },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Should_Accept_Every_Global_Flag_On_Every_Cluster_Command(string[] command)
    {
        foreach (var globals in new string[][] { ["-y"], ["--yes"], ["--format", "json"], ["-c", "2"], ["--concurrency", "2"], ["--ssh-timeout", "1"], ["--wait-timeout", "1"], ["--ssh", "builtin"], new[] { "-y", "--format", "json", "-c", "2", "--ssh-timeout", "1" } })
        {
            // Given a cluster whose host does not exist
            using var dir = new TempDirectory();
            var tug = Cluster(dir);

            // When the command runs with the global flag, after its own arguments and before them
            foreach (var args in new string[][] { ["cluster", .. command, .. globals], ["cluster", .. globals, .. command] })
            {
                var result = await tug.RunAsync(args);

                // Then the flag is neither refused nor taken for an argument
                var said = string.Join(' ', args);
                Assert.DoesNotContain("Unrecognized command or argument", result.Stderr, StringComparison.Ordinal);
                Assert.DoesNotContain("Required argument missing", result.Stderr, StringComparison.Ordinal);
                Assert.DoesNotContain("operation -y", result.Stderr, StringComparison.Ordinal);
                Assert.DoesNotContain("operation --yes", result.Stderr, StringComparison.Ordinal);
                Assert.False(result.ExitCode == 70, $"{said}: {result}");
            }
        }
    }

    [Fact]
    public async Task Should_Print_A_Dry_Run_Plan_As_Json_And_Change_Nothing()
    {
        // Given
        using var dir = new TempDirectory();
        var tug = Cluster(dir);

        // When
        var result = await tug.RunAsync("cluster", "restart", "c1", "-R", "etcd", "--dry-run", "--format", "json");

        // Then: one JSON document, the stop step before the start step, and no operation recorded
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Stdout);
        var steps = json.RootElement.GetProperty("plan").GetProperty("steps").EnumerateArray()
            .Select(s => $"{s.GetProperty("key").GetProperty("kind").GetString()} {s.GetProperty("key").GetProperty("subject").GetString()}").ToList();
        Assert.Equal(["stop 192.0.2.1:2379", "start 192.0.2.1:2379"], steps);
        Assert.True(json.RootElement.GetProperty("dryRun").GetBoolean());
        Assert.False(Directory.Exists(Path.Combine(tug.Home, "clusters", "c1", "operations")));
    }

    [Fact]
    public async Task Should_Store_The_Health_Window_In_Each_Switch_Of_The_Plan()
    {
        // Given
        using var dir = new TempDirectory();
        var tug = Cluster(dir);
        var store = new ClusterStore(Path.Combine(tug.Home, "clusters"), TimeProvider.System);
        var deployed = store.Load("c1");
        store.Save("c1", deployed with
        {
            Tug = deployed.Tug with { Instances = deployed.Tug.Instances.Add("192.0.2.1:2379", new DeployedInstance("v3.4.23", "etcd-v3.4.23-linux-amd64/etcd", new string('a', 64), false)) },
        });
        File.WriteAllText(dir.Combine("etcd"), "#!/bin/sh\necho patched\n");

        // When
        var result = await tug.RunAsync("cluster", "patch", "c1", "etcd", "-R", "etcd", "--health-window", "7", "--dry-run", "--format", "json");

        // Then every switch carries the window (so a replay holds it too)
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Stdout);
        var switches = json.RootElement.GetProperty("plan").GetProperty("steps").EnumerateArray()
            .Where(s => s.GetProperty("key").GetProperty("kind").GetString() == "switch").ToList();
        Assert.NotEmpty(switches);
        Assert.All(switches, s => Assert.Equal(7, s.GetProperty("inputs").GetProperty("healthWindow").GetInt32()));
    }

    [Fact]
    public async Task Should_Store_The_Health_Window_Only_In_The_Starts_Of_A_Restart_Plan()
    {
        // Given
        using var dir = new TempDirectory();
        var tug = Cluster(dir);

        // When
        var with = await tug.RunAsync("cluster", "restart", "c1", "--health-window", "4", "--dry-run", "--format", "json");
        var without = await tug.RunAsync("cluster", "restart", "c1", "--dry-run", "--format", "json");

        // Then: the start steps hold 4 s; stops, and a plan without the flag, do not mention it
        Assert.True(with.ExitCode == 0, with.ToString());
        using var json = JsonDocument.Parse(with.Stdout);
        var steps = json.RootElement.GetProperty("plan").GetProperty("steps").EnumerateArray().ToList();
        var window = (JsonElement s) => s.GetProperty("inputs").TryGetProperty("healthWindow", out var w) ? w.GetInt32() : 0;
        var kinds = steps.Select(s => (Kind: s.GetProperty("key").GetProperty("kind").GetString(), Window: window(s))).ToList();
        Assert.Contains(kinds, k => k.Kind == "start");
        Assert.Contains(kinds, k => k.Kind == "stop");
        Assert.All(kinds, k => Assert.Equal(k.Kind == "start" ? 4 : 0, k.Window));
        Assert.True(without.ExitCode == 0, without.ToString());
        Assert.DoesNotContain("healthWindow", without.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("upgrade", "-1")]
    [InlineData("upgrade", "3601")]
    [InlineData("patch", "-5")]
    [InlineData("restart", "-2")]
    public async Task Should_Refuse_A_Health_Window_Outside_Zero_To_An_Hour(string verb, string seconds)
    {
        // Given
        using var dir = new TempDirectory();
        var tug = Cluster(dir);
        string[] args = verb switch
        {
            "upgrade" => ["cluster", "upgrade", "c1", "--component", "etcd=v3.5.16", "--health-window", seconds, "-y"],
            "patch" => ["cluster", "patch", "c1", "patch-file", "-R", "etcd", "--health-window", seconds],
            _ => ["cluster", "restart", "c1", "--health-window", seconds],
        };

        // When
        var result = await tug.RunAsync(args);

        // Then: bad input, nothing started
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--health-window", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(tug.Home, "clusters", "c1", "operations")));
    }

    [Fact]
    public async Task Should_Write_Progress_As_Json_Lines_With_Format_Json()
    {
        // Given a cluster whose host does not answer
        using var dir = new TempDirectory();
        var tug = Cluster(dir);

        // When
        var result = await tug.RunAsync("cluster", "stop", "c1", "-R", "etcd", "-y", "--format", "json", "--ssh-timeout", "1");

        // Then every progress line on stderr is one JSON object with its kind of event, and the report on stdout is JSON
        Assert.Equal(1, result.ExitCode);
        var events = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l)).ToList();
        var kinds = events.Select(e => e.RootElement.GetProperty("event").GetString()).ToList();
        Assert.Contains("operation-started", kinds);
        Assert.Contains("step-finished", kinds);
        Assert.Equal("operation-finished", kinds[^1]);
        var step = events.First(e => e.RootElement.GetProperty("event").GetString() == "step-finished").RootElement;
        Assert.Equal("stop 192.0.2.1:2379", step.GetProperty("step").GetString());
        Assert.Equal("unreachable", step.GetProperty("status").GetString());
        Assert.True(step.GetProperty("seconds").GetDouble() >= 0);
        using var report = JsonDocument.Parse(result.Stdout);
        Assert.False(report.RootElement.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Should_Audit_Exec_And_Push_With_Their_Outcome_In_The_Hash_Chain()
    {
        // Given a cluster whose only host does not exist
        using var dir = new TempDirectory();
        var tug = Cluster(dir);

        // When an ad-hoc command and a push run against it (and fail: nothing answers)
        var exec = await tug.RunAsync("cluster", "exec", "c1", "--command", "uptime -p", "--ssh-timeout", "1");
        var push = await tug.RunAsync("cluster", "push", "c1", "patch-file", "/tmp/x", "--ssh-timeout", "1");
        Assert.True(exec.ExitCode == 1, exec.ToString());
        Assert.True(push.ExitCode == 1, push.ToString());

        // Then `tug cluster audit` lists both, failed with exit 1, the command line as typed
        var list = await tug.SucceedAsync("cluster", "audit");
        var execRow = Assert.Single(list.Stdout.Split('\n'), l => l.Contains("tug cluster exec c1 --command 'uptime -p' --ssh-timeout 1", StringComparison.Ordinal));
        Assert.Matches(@"\bfailed\b.*\b1\b", execRow);
        var pushRow = Assert.Single(list.Stdout.Split('\n'), l => l.Contains("tug cluster push c1 patch-file /tmp/x --ssh-timeout 1", StringComparison.Ordinal));
        Assert.Matches(@"\bfailed\b.*\b1\b", pushRow);

        // ... one operation shows its outcome, exit code and which host failed
        using var json = JsonDocument.Parse((await tug.SucceedAsync("cluster", "audit", "--format", "json")).Stdout);
        var id = json.RootElement.GetProperty("operations").EnumerateArray()
            .Single(o => o.GetProperty("command").GetString()!.StartsWith("tug cluster exec", StringComparison.Ordinal)).GetProperty("id").GetString()!;
        var shown = await tug.SucceedAsync("cluster", "audit", id);
        Assert.Contains($"{id}  c1  failed (exit 1)", shown.Stdout, StringComparison.Ordinal);
        Assert.Contains("result: failed on 1 of 1: 192.0.2.1", shown.Stdout, StringComparison.Ordinal);

        // ... and the chain of four records (a start and an end each) verifies
        var verify = await tug.SucceedAsync("cluster", "audit", "--verify");
        Assert.Contains("4 record(s), hash chain verified", verify.Stdout, StringComparison.Ordinal);
    }

    private static CliRunner Cluster(TempDirectory dir)
    {
        var tug = new CliRunner(dir.Path);
        var store = new ClusterStore(Path.Combine(tug.Home, "clusters"), TimeProvider.System);
        var topology = TopologyLoader.Parse("etcd_servers:\n  - host: 192.0.2.1\n", "t.yaml");
        store.Save("c1", new ClusterMeta { User = "tidb", Version = "v3.4.23", Topology = topology });
        File.WriteAllText(dir.Combine("topo.yaml"), "etcd_servers:\n  - host: 192.0.2.2\n");
        File.WriteAllText(dir.Combine("patch-file"), "#!/bin/sh\n");
        return tug;
    }
}
