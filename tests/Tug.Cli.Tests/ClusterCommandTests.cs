// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Testing;

namespace Tug.Cli.Tests;

/// <summary>Bad input to the cluster verbs is refused before any host is contacted, with the place and what to do.</summary>
public sealed class ClusterCommandTests
{
    [Fact]
    public async Task Should_Refuse_A_Topology_With_An_Unknown_Key_Naming_File_Line_And_Column()
    {
        using var dir = new TempDirectory();
        var topology = dir.Combine("topo.yaml");
        await File.WriteAllTextAsync(topology, "global:\n  user: tidb\netcd_servers:\n  - host: 10.0.0.1\n    clinet_port: 2379\n", TestContext.Current.CancellationToken);

        var result = await new CliRunner(dir.Path).RunAsync("cluster", "deploy", "c1", "v3.4.23", topology, "-y");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("topo.yaml:5:5", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("clinet_port", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "home", "clusters", "c1")));
    }

    [Theory]
    [InlineData("bad name")]
    [InlineData("x/y")]
    public async Task Should_Refuse_An_Invalid_Cluster_Name(string name)
    {
        using var dir = new TempDirectory();
        var result = await new CliRunner(dir.Path).RunAsync("cluster", "deploy", name, "v1.0.0", dir.Combine("missing.yaml"), "-y");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(name, result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("display")]
    [InlineData("start")]
    [InlineData("stop")]
    [InlineData("restart")]
    [InlineData("destroy")]
    public async Task Should_Say_How_To_Find_Clusters_When_The_Name_Is_Unknown(string verb)
    {
        using var dir = new TempDirectory();
        string[] args = verb == "display" ? ["cluster", verb, "nosuch"] : ["cluster", verb, "nosuch", "-y"];
        var result = await new CliRunner(dir.Path).RunAsync(args);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("error[E4001]: Cluster 'nosuch' does not exist", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("tug cluster list", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Ask_Before_Destroying_And_Change_Nothing_Without_An_Answer()
    {
        // Given a cluster known to this machine (its hosts do not exist: nothing may be contacted)
        using var dir = new TempDirectory();
        var tug = new CliRunner(dir.Path);
        var store = new Tug.Core.Cluster.ClusterStore(Path.Combine(tug.Home, "clusters"), TimeProvider.System);
        var topology = Tug.Core.Topology.TopologyLoader.Parse("etcd_servers:\n  - host: 192.0.2.1\n", "t.yaml");
        store.Save("c1", new Tug.Core.Topology.ClusterMeta { User = "tidb", Version = "v3.4.23", Topology = topology });

        // When destroy gets no answer on standard input
        var result = await tug.RunAsync("cluster", "destroy", "c1");

        // Then
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("pass -y", result.Stderr, StringComparison.Ordinal);
        Assert.True(store.Exists("c1"));
    }

    [Fact]
    public async Task Should_List_No_Clusters_On_A_New_Machine()
    {
        using var dir = new TempDirectory();
        var result = await new CliRunner(dir.Path).SucceedAsync("cluster", "list", "--format", "json");
        Assert.Contains("\"clusters\": []", result.Stdout, StringComparison.Ordinal);
    }
}
