// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text.Json;
using Tug.Core.Cluster;
using Tug.Core.Topology;
using Tug.Testing;

namespace Tug.Cli.Tests;

/// <summary>
/// <c>enable</c>, <c>disable</c>, <c>clean</c>, <c>prune</c> and <c>destroy --retain-*-data</c> on the command line: help,
/// bad input (exit 2, nothing contacted), plans as JSON, the confirmation naming what is deleted. The cluster's only
/// host, 192.0.2.1, does not exist: any contact would fail the test.
/// </summary>
public sealed class LifecycleCommandTests
{
    private static CliRunner Cluster(TempDirectory dir, string extra = "")
    {
        var tug = new CliRunner(dir.Path);
        var store = new ClusterStore(Path.Combine(tug.Home, "clusters"), TimeProvider.System);
        var topology = TopologyLoader.Parse("global:\n  deploy_dir: /tidb-deploy\n  data_dir: /tidb-data\netcd_servers:\n  - host: 192.0.2.1\n" + extra, "t.yaml");
        store.Save("c1", new ClusterMeta { User = "tidb", Version = "v3.4.23", Topology = topology });
        return tug;
    }

    private static List<string> Steps(CliResult result)
    {
        using var json = JsonDocument.Parse(result.Stdout);
        return [.. json.RootElement.GetProperty("plan").GetProperty("steps").EnumerateArray()
            .Select(s => $"{s.GetProperty("key").GetProperty("kind").GetString()} {s.GetProperty("key").GetProperty("subject").GetString()}")];
    }

    [Theory]
    [InlineData("enable", "--role", "--node", "systemctl enable")]
    [InlineData("disable", "--role", "--node", "nothing is stopped")]
    [InlineData("clean", "--ignore-node", "--audit-log", "stays stopped")]
    [InlineData("prune", "--force", "--dry-run", "marked offline")]
    [InlineData("destroy", "--retain-node-data", "--retain-role-data", "data directories stay")]
    public async Task Should_Explain_Each_Verb_In_Its_Help(string verb, string option, string other, string phrase)
    {
        using var dir = new TempDirectory();
        var result = await new CliRunner(dir.Path).RunAsync("cluster", verb, "--help");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(option, result.Stdout, StringComparison.Ordinal);
        Assert.Contains(other, result.Stdout, StringComparison.Ordinal);
        Assert.Contains(phrase, result.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Say what to clean", "clean", "c1")]
    [InlineData("role name `etcdd` invalid", "clean", "c1", "--data", "--ignore-role", "etcdd")]
    [InlineData("no instance or host 192.0.2.9", "clean", "c1", "--all", "--ignore-node", "192.0.2.9")]
    [InlineData("role name `pdd` invalid", "destroy", "c1", "--retain-role-data", "pdd")]
    [InlineData("no instance or host 192.0.2.9:2379", "destroy", "c1", "--retain-node-data", "192.0.2.9:2379")]
    [InlineData("No instance matches", "enable", "c1", "-R", "tikv")]
    [InlineData("No instance matches", "disable", "c1", "-N", "192.0.2.9")]
    [InlineData("does not exist", "prune", "nosuch")]
    [InlineData("'..' is not a cluster name", "clean", "..", "--log")]
    [InlineData("'x;y' is not a cluster name", "prune", "x;y")]
    public async Task Should_Refuse_Bad_Input_With_Exit_2_Changing_Nothing(string message, params string[] args)
    {
        // Given
        using var dir = new TempDirectory();
        var tug = Cluster(dir);

        // When
        var result = await tug.RunAsync(["cluster", .. args, "-y"]);

        // Then
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.True(new ClusterStore(Path.Combine(tug.Home, "clusters"), TimeProvider.System).Exists("c1"));
        Assert.False(Directory.Exists(Path.Combine(tug.Home, "clusters", "c1", "operations")) && Directory.EnumerateFileSystemEntries(Path.Combine(tug.Home, "clusters", "c1", "operations")).Any());
    }

    [Fact]
    public async Task Should_Print_A_Disable_Plan_Of_The_Agents_As_Json()
    {
        using var dir = new TempDirectory();
        var result = await Cluster(dir).RunAsync("cluster", "disable", "c1", "-R", "node_exporter", "--dry-run", "--format", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(["disable 192.0.2.1"], Steps(result));
        Assert.Contains("node_exporter-9100.service", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("etcd-2379.service", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Print_A_Clean_Plan_That_Stops_Everything_First_As_Json()
    {
        using var dir = new TempDirectory();
        var result = await Cluster(dir).RunAsync("cluster", "clean", "c1", "--all", "--dry-run", "--format", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var steps = Steps(result);
        Assert.Equal("clean 192.0.2.1", steps[^1]);
        Assert.Equal(["stop 192.0.2.1:2379", "stop 192.0.2.1:9100", "stop 192.0.2.1:9115"], steps[..^1].Order());
        Assert.Contains("/tidb-data/etcd-2379", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("*.log", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Ask_Before_Cleaning_Naming_Every_Path_And_Change_Nothing_Without_An_Answer()
    {
        using var dir = new TempDirectory();
        var result = await Cluster(dir).RunAsync("cluster", "clean", "c1", "--data", "--ignore-role", "node_exporter", "--ignore-role", "blackbox_exporter");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("will STOP cluster 'c1'", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("192.0.2.1: /tidb-data/etcd-2379/*", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("Roles ignored: [node_exporter blackbox_exporter]", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("pass -y", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Print_A_Destroy_Plan_That_Keeps_The_Retained_Data_As_Json()
    {
        using var dir = new TempDirectory();
        var result = await Cluster(dir).RunAsync("cluster", "destroy", "c1", "--retain-role-data", "etcd", "--dry-run", "--format", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Stdout);
        var plan = json.RootElement.GetProperty("plan");
        var destroy = plan.GetProperty("steps").EnumerateArray().First();
        Assert.Equal(["/tidb-data/etcd-2379"], destroy.GetProperty("inputs").GetProperty("retained").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains(plan.GetProperty("notes").EnumerateArray(), n => n.GetString() == "kept on 192.0.2.1: /tidb-data/etcd-2379 (data of etcd 192.0.2.1:2379)");
    }

    [Theory]
    [InlineData("text")]
    [InlineData("json")]
    public async Task Should_Say_There_Is_Nothing_To_Prune_And_Exit_0(string format)
    {
        using var dir = new TempDirectory();
        var result = await Cluster(dir).RunAsync("cluster", "prune", "c1", "--format", format);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("nothing to prune: no instance of cluster 'c1' is marked offline", result.Stdout, StringComparison.Ordinal);
        if (format == "json")
        {
            using var json = JsonDocument.Parse(result.Stdout);
            Assert.Equal(0, json.RootElement.GetProperty("pruned").GetArrayLength());
        }
    }
}
