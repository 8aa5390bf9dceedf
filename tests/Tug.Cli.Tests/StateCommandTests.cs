// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Tug.Core.Cluster;
using Tug.Core.Topology;
using Tug.Testing;

namespace Tug.Cli.Tests;

/// <summary>
/// <c>tug cluster rename</c>, <c>meta backup|restore</c> and <c>audit cleanup</c> through the CLI (issue 13 items 1, 2
/// and 5): refusals with exit 2, plans, local effects, the audit log still verifying. No host is contacted.
/// </summary>
public sealed class StateCommandTests
{
    private const string EtcdTopology = "etcd_servers:\n  - host: 192.0.2.1\nmonitoring_servers:\n  - host: 192.0.2.1\n";

    /// <summary>Alertmanager alone: none of its files carry the cluster's name, so a rename touches no host.</summary>
    private const string LocalTopology = "alertmanager_servers:\n  - host: 192.0.2.1\n";

    private static (CliRunner Tug, ClusterStore Store) Cluster(TempDirectory dir, string topology = EtcdTopology, string name = "c1")
    {
        var tug = new CliRunner(dir.Path);
        var store = new ClusterStore(Path.Combine(tug.Home, "clusters"), TimeProvider.System);
        store.Save(name, new ClusterMeta { User = "tidb", Version = "v3.4.23", Topology = TopologyLoader.Parse(topology, "t.yaml") });
        return (tug, store);
    }

    [Fact]
    public async Task Should_Plan_A_Rename_As_A_Local_Step_And_Refreshes_Of_The_Files_That_Carry_The_Name()
    {
        // Given
        using var dir = new TempDirectory();
        var (tug, store) = Cluster(dir);

        // When
        var result = await tug.RunAsync("cluster", "rename", "c1", "c9", "--dry-run", "--format", "json");

        // Then: rename first, then etcd (token) and Prometheus (label) refreshed; nothing changed
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Stdout);
        var plan = json.RootElement.GetProperty("plan");
        Assert.Equal(("c9", "c1"), (plan.GetProperty("cluster").GetString(), plan.GetProperty("renamedFrom").GetString()));
        var steps = plan.GetProperty("steps").EnumerateArray().Select(s => $"{s.GetProperty("key").GetProperty("kind").GetString()} {s.GetProperty("key").GetProperty("subject").GetString()}").ToList();
        Assert.Equal("rename c1", steps[0]);
        Assert.Contains("refresh 192.0.2.1:2379", steps);
        Assert.Contains("refresh 192.0.2.1:9090", steps);
        Assert.Equal(["c1"], store.ListDirectories());
    }

    [Fact]
    public async Task Should_Rename_A_Cluster_Whose_Files_Do_Not_Carry_Its_Name_On_This_Machine_Only()
    {
        // Given
        using var dir = new TempDirectory();
        var (tug, store) = Cluster(dir, LocalTopology);
        var meta = File.ReadAllBytes(store.MetaFile("c1"));

        // When
        var result = await tug.RunAsync("cluster", "rename", "c1", "c9", "-y");

        // Then
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(["c9"], store.ListDirectories());
        Assert.Equal(meta, File.ReadAllBytes(store.MetaFile("c9")));
        Assert.Contains("Rename cluster `c1` -> `c9` successfully", result.Stderr, StringComparison.Ordinal);
        var audit = await tug.RunAsync("cluster", "audit", "--format", "json");
        Assert.Contains("tug cluster rename c1 c9 -y", audit.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, (await tug.RunAsync("cluster", "audit", "--verify")).ExitCode);
        var display = await tug.RunAsync("cluster", "show-config", "c1");
        Assert.Equal(2, display.ExitCode);
        Assert.Contains("E4001", display.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("c1", "taken", "E4002")]
    [InlineData("nope", "c9", "E4001")]
    [InlineData("c1", "../x", "E4003")]
    [InlineData("c1", "c1", "E4003")]
    public async Task Should_Refuse_A_Rename_With_Exit_2_And_Change_Nothing(string from, string to, string code)
    {
        // Given
        using var dir = new TempDirectory();
        var (tug, store) = Cluster(dir, LocalTopology);
        Cluster(dir, LocalTopology, "taken");

        // When
        var result = await tug.RunAsync("cluster", "rename", from, to, "-y");

        // Then
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(code, result.Stderr, StringComparison.Ordinal);
        Assert.Equal(["c1", "taken"], store.ListDirectories());
    }

    [Fact]
    public async Task Should_Not_Rename_Without_A_Yes()
    {
        // Given: no answer on standard input
        using var dir = new TempDirectory();
        var (tug, store) = Cluster(dir, LocalTopology);

        // When
        var result = await tug.RunAsync("cluster", "rename", "c1", "c9");

        // Then
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Will rename the cluster name from c1 to c9", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(["c1"], store.ListDirectories());
    }

    [Fact]
    public async Task Should_Back_Up_To_TiUPs_Name_And_Restore_It()
    {
        // Given
        using var dir = new TempDirectory();
        var (tug, store) = Cluster(dir);
        var meta = File.ReadAllBytes(store.MetaFile("c1"));

        // When: backed up under the default name, then the cluster changes, then restored
        var backup = await tug.RunAsync("cluster", "meta", "backup", "c1");
        var file = Assert.Single(Directory.GetFiles(dir.Path, "tug-cluster_c1_metabackup_*.tar.gz"));
        store.Save("c1", store.Load("c1") with { Version = "v9.9.9" });
        var refused = await tug.RunAsync("cluster", "meta", "restore", "c1", Path.GetFileName(file));
        var untouched = store.Load("c1").Version;
        var restore = await tug.RunAsync("cluster", "meta", "restore", "c1", Path.GetFileName(file), "-y", "--format", "json");

        // Then
        Assert.True(backup.ExitCode == 0, backup.ToString());
        Assert.Contains("successfully backup meta of cluster c1", backup.Stdout, StringComparison.Ordinal);
        Assert.Equal(PrivateFiles.FileMode, File.GetUnixFileMode(file));
        Assert.Equal(1, refused.ExitCode);
        Assert.Equal("v9.9.9", untouched);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        using var json = JsonDocument.Parse(restore.Stdout);
        Assert.True(json.RootElement.GetProperty("replaced").GetBoolean());
        Assert.Equal(meta, File.ReadAllBytes(store.MetaFile("c1")));
        var audit = await tug.RunAsync("cluster", "audit");
        Assert.Contains("meta restore c1", audit.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Refuse_To_Restore_Another_Clusters_Backup_With_Exit_2()
    {
        // Given
        using var dir = new TempDirectory();
        var (tug, _) = Cluster(dir);
        Cluster(dir, EtcdTopology, "c2");
        Assert.Equal(0, (await tug.RunAsync("cluster", "meta", "backup", "c1", "--file", "c1.tar.gz")).ExitCode);

        // When
        var result = await tug.RunAsync("cluster", "meta", "restore", "c2", "c1.tar.gz", "-y");

        // Then
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("is a meta backup of cluster 'c1', not of 'c2'", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Refuse_A_Negative_Retain_Days_With_Exit_2()
    {
        using var dir = new TempDirectory();
        var (tug, _) = Cluster(dir);

        var result = await tug.RunAsync("cluster", "audit", "cleanup", "--retain-days", "-1", "-y");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("retain-days cannot be less than 0", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Clean_Up_Old_Records_And_Still_Verify_And_Audit_Itself()
    {
        // Given: two operations 90 days ago, one today
        using var dir = new TempDirectory();
        var (tug, _) = Cluster(dir, LocalTopology);
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
        tug.Time = time;
        Assert.Equal(0, (await tug.RunAsync("cluster", "rename", "c1", "c2", "-y")).ExitCode);
        Assert.Equal(0, (await tug.RunAsync("cluster", "rename", "c2", "c3", "-y")).ExitCode);
        time.Advance(TimeSpan.FromDays(90));
        Assert.Equal(0, (await tug.RunAsync("cluster", "rename", "c3", "c4", "-y")).ExitCode);

        // When
        var result = await tug.RunAsync("cluster", "audit", "cleanup", "-y");
        var verify = await tug.RunAsync("cluster", "audit", "--verify");
        var list = await tug.RunAsync("cluster", "audit", "--format", "json");

        // Then: the two old operations are gone, the recent one and the cleanup's own records stay, the chain verifies
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("removed 4 record(s) of 2 operation(s)", result.Stdout, StringComparison.Ordinal);
        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.DoesNotContain("rename c1 c2", list.Stdout, StringComparison.Ordinal);
        Assert.Contains("rename c3 c4", list.Stdout, StringComparison.Ordinal);
        Assert.Contains("audit cleanup -y", list.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"event\":\"checkpoint\"", File.ReadLines(Path.Combine(tug.Home, "audit", "audit.jsonl")).First(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rename", "atomic rename")]
    [InlineData("meta backup", "operations/")]
    [InlineData("meta restore", "renamed|swapped in")]
    [InlineData("audit cleanup", "checkpoint")]
    public async Task Should_Explain_Itself_In_Help(string verb, string words)
    {
        using var dir = new TempDirectory();
        var tug = new CliRunner(dir.Path);

        var result = await tug.RunAsync(["cluster", .. verb.Split(' '), "--help"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Matches(words, result.Stdout);
    }
}
