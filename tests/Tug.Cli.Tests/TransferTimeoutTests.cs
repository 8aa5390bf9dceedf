// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Cluster;
using Tug.Core.Topology;
using Tug.Testing;

namespace Tug.Cli.Tests;

/// <summary>TiUP's <c>--transfer-timeout</c> on upgrade, patch, reload and scale-in: accepted (a dry run plans as without it), range-checked, and its help says it changes nothing here.</summary>
public sealed class TransferTimeoutTests
{
    public static TheoryData<string[]> Verbs => new()
    {
        { ["upgrade", "c1", "v3.5.16", "--dry-run"] },
        { ["patch", "c1", "patch-file", "-R", "etcd", "--dry-run"] },
        { ["reload", "c1", "--dry-run"] },
        { ["scale-in", "c1", "-N", "192.0.2.1:2379", "--dry-run"] },
    };

    [Theory]
    [MemberData(nameof(Verbs))]
    public async Task Should_Accept_It_And_Plan_The_Same(string[] command)
    {
        // Given
        using var dir = new TempDirectory();
        var tug = Cluster(dir);

        // When
        var without = await tug.RunAsync(["cluster", .. command, "--format", "json"]);
        var with = await tug.RunAsync(["cluster", .. command, "--transfer-timeout", "60", "--format", "json"]);
        var zero = await tug.RunAsync(["cluster", .. command, "--transfer-timeout", "0"]);
        var help = await tug.RunAsync("cluster", command[0], "--help");

        // Then
        Assert.Equal(without.ExitCode, with.ExitCode);
        Assert.Equal(Scrub(without.Stdout), Scrub(with.Stdout));
        Assert.True(zero.ExitCode == 2, zero.ToString());
        Assert.Contains("--transfer-timeout 0 is out of range", zero.Stderr, StringComparison.Ordinal);
        Assert.Contains("--transfer-timeout", help.Stdout, StringComparison.Ordinal);
        Assert.Contains("changes nothing", help.Stdout, StringComparison.Ordinal);
    }

    // Plans carry their creation time and ID; the rest must be identical.
    private static string Scrub(string json) =>
        System.Text.RegularExpressions.Regex.Replace(json, "\"(created|id|operation_id|createdAt)\":\\s*\"[^\"]*\"", "\"$1\":\"-\"");

    private static CliRunner Cluster(TempDirectory dir)
    {
        var tug = new CliRunner(dir.Path);
        var store = new ClusterStore(Path.Combine(tug.Home, "clusters"), TimeProvider.System);
        var topology = TopologyLoader.Parse("etcd_servers:\n  - host: 192.0.2.1\n", "t.yaml");
        store.Save("c1", new ClusterMeta { User = "tidb", Version = "v3.4.23", Topology = topology });
        File.WriteAllText(dir.Combine("patch-file"), "#!/bin/sh\n");
        return tug;
    }
}
