// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text.Json;
using Tug.Cli.Commands.Cluster;
using Tug.Core.Cluster;
using Tug.Core.Topology;
using Tug.Testing;

namespace Tug.Cli.Tests;

/// <summary>
/// <c>tug cluster display</c>'s TiUP flags: <c>--version</c> prints the cluster version alone without contacting a
/// host; <c>--uptime</c>, <c>--process</c>, <c>--versions</c>, <c>--manage-host</c>, <c>--numa</c> add their columns (and
/// their JSON fields are always there); <c>--status-timeout</c> is range-checked. The host-side readings are proven on the
/// testbed by <c>RunbookTests</c>.
/// </summary>
public sealed class DisplayFlagTests
{
    [Fact]
    public async Task Should_Print_Only_The_Cluster_Version_With_Version_And_Contact_No_Host()
    {
        // Given a cluster whose host does not exist
        using var dir = new TempDirectory();
        var tug = Cluster(dir);

        // When
        var text = await tug.RunAsync("cluster", "display", "c1", "--version");
        var json = await tug.RunAsync("cluster", "display", "c1", "--version", "--format", "json");

        // Then: the version alone, exit 0 (a host contacted would be unreachable: exit 1)
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Equal("v3.4.23\n", text.Stdout.ReplaceLineEndings("\n"));
        Assert.True(json.ExitCode == 0, json.ToString());
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal("v3.4.23", doc.RootElement.GetProperty("cluster_version").GetString());
        Assert.Equal("c1", doc.RootElement.GetProperty("cluster_name").GetString());
    }

    [Fact]
    public async Task Should_Add_The_Columns_Each_Flag_Asks_For()
    {
        // Given
        using var dir = new TempDirectory();
        var tug = Cluster(dir);

        // When
        var plain = await tug.RunAsync("cluster", "display", "c1", "--ssh-timeout", "1", "--status-timeout", "1");
        var all = await tug.RunAsync("cluster", "display", "c1", "--uptime", "--process", "--versions", "--manage-host", "--numa", "--ssh-timeout", "1", "--status-timeout", "1");

        // Then: the host is unreachable (exit 1), and each flag's column is there only when asked
        Assert.True(plain.ExitCode == 1, plain.ToString());
        Assert.True(all.ExitCode == 1, all.ToString());
        var plainHeader = Header(plain.Stdout);
        var allHeader = Header(all.Stdout);
        foreach (var column in new[] { "Since", "Memory", "Memory Limit", "CPU Quota", "Deployed", "Manage Host", "Numa Node", "Numa Cores" })
        {
            Assert.DoesNotContain(column, plainHeader, StringComparison.Ordinal);
            Assert.Contains(column, allHeader, StringComparison.Ordinal);
        }

        Assert.Contains("Unreachable", all.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Keep_Every_Field_In_Json()
    {
        // Given
        using var dir = new TempDirectory();
        var tug = Cluster(dir);

        // When
        var result = await tug.RunAsync("cluster", "display", "c1", "--uptime", "--process", "--format", "json", "--ssh-timeout", "1", "--status-timeout", "1");

        // Then: every field of every flag, null where nothing could be read
        Assert.True(result.ExitCode == 1, result.ToString());
        using var doc = JsonDocument.Parse(result.Stdout);
        var instances = doc.RootElement.GetProperty("instances").EnumerateArray().ToList();
        Assert.Equal(3, instances.Count);
        var instance = instances.Single(i => i.GetProperty("role").GetString() == "etcd");
        foreach (var field in new[] { "id", "role", "host", "manage_host", "ports", "os_arch", "status", "version", "deployed_version", "patched", "verified", "since", "uptime_seconds", "memory", "memory_bytes", "memory_limit", "cpu_quota", "numa_node", "numa_cores", "deploy_dir", "data_dir", "detail" })
        {
            Assert.True(instance.TryGetProperty(field, out _), $"no '{field}' in {instance}");
        }

        Assert.Equal("192.0.2.1", instance.GetProperty("manage_host").GetString());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("3601")]
    [InlineData("x")]
    public async Task Should_Refuse_A_Bad_Status_Timeout_With_Exit_2(string value)
    {
        // Given
        using var dir = new TempDirectory();
        var tug = Cluster(dir);

        // When
        var result = await tug.RunAsync("cluster", "display", "c1", "--status-timeout", value);

        // Then
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--status-timeout", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0L, "-")]
    [InlineData(null, "-")]
    [InlineData(59L, "59s")]
    [InlineData(60L, "1m")]
    [InlineData(3601L, "1h1s")]
    [InlineData(93784L, "1d2h3m4s")]
    [InlineData(172800L, "2d")]
    public void Should_Format_Since_As_TiUP(long? seconds, string expected) =>
        Assert.Equal(expected, DisplayCommand.Since(seconds));

    private static string Header(string stdout) =>
        stdout.Split('\n').First(l => l.Contains("ID", StringComparison.Ordinal) && l.Contains("Role", StringComparison.Ordinal));

    private static CliRunner Cluster(TempDirectory dir)
    {
        var tug = new CliRunner(dir.Path);
        var store = new ClusterStore(Path.Combine(tug.Home, "clusters"), TimeProvider.System);
        var topology = TopologyLoader.Parse("etcd_servers:\n  - host: 192.0.2.1\n", "t.yaml");
        store.Save("c1", new ClusterMeta { User = "tidb", Version = "v3.4.23", Topology = topology });
        return tug;
    }
}
