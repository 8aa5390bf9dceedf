// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Cluster;
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
    [InlineData("..")]
    [InlineData(".")]
    public async Task Should_Refuse_An_Invalid_Cluster_Name(string name)
    {
        using var dir = new TempDirectory();
        var result = await new CliRunner(dir.Path).RunAsync("cluster", "deploy", name, "v1.0.0", dir.Combine("missing.yaml"), "-y");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(name, result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("deploy_dir: /usr", "t.yaml:3:17", "E1032", "is \"/usr\", a system directory")]
    [InlineData("deploy_dir: ../../../etc", "t.yaml:3:17", "E1032", "is \"/etc\", a system directory")]
    [InlineData("numa_node: \"0\\nExecStartPre=+/bin/sh -c id\"", "t.yaml:3:16", "E1034", "numa_node")]
    public async Task Should_Refuse_A_Deploy_With_A_Bad_Value_Leaving_No_Cluster(string field, string at, string code, string message)
    {
        using var dir = new TempDirectory();
        var topology = dir.Combine("t.yaml");
        await File.WriteAllTextAsync(topology, $"etcd_servers:\n  - host: 192.0.2.1\n    {field}\n", TestContext.Current.CancellationToken);

        var tug = new CliRunner(dir.Path);
        var result = await tug.RunAsync("cluster", "deploy", "c1", "v3.4.23", topology, "-y");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"{at}: error[{code}]", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.Contains("hint:", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(tug.Home, "clusters", "c1")));
    }

    [Theory]
    [InlineData("v3.4.23;touch /tmp/x")]
    [InlineData("$(touch /tmp/x)")]
    [InlineData("v3.4.23\nnext")]
    [InlineData("")]
    public async Task Should_Refuse_A_Deploy_To_A_Version_That_Is_Not_One_Token_Leaving_No_Cluster(string version)
    {
        using var dir = new TempDirectory();
        var topology = dir.Combine("t.yaml");
        await File.WriteAllTextAsync(topology, "etcd_servers:\n  - host: 192.0.2.1\n", TestContext.Current.CancellationToken);

        var tug = new CliRunner(dir.Path);
        var result = await tug.RunAsync("cluster", "deploy", "c1", version, topology, "-y");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("is not a version", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(tug.Home, "clusters", "c1")));
    }

    [Theory]
    [InlineData("\"192.0.2.1;touch /tmp/x\"")]
    [InlineData("\"$(touch /tmp/x)\"")]
    [InlineData("\"192.0.2.1'\"")]
    public async Task Should_Refuse_A_Deploy_To_A_Hostile_Host_Leaving_No_Cluster(string host)
    {
        using var dir = new TempDirectory();
        var topology = dir.Combine("t.yaml");
        await File.WriteAllTextAsync(topology, $"etcd_servers:\n  - host: {host}\n", TestContext.Current.CancellationToken);

        var tug = new CliRunner(dir.Path);
        var result = await tug.RunAsync("cluster", "deploy", "c1", "v3.4.23", topology, "-y");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("t.yaml:2:11: error[E1030]", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(tug.Home, "clusters", "c1")));
    }

    [Theory]
    [InlineData("scale-out", "..", "more.yaml")]
    [InlineData("scale-in", "..", "-N", "192.0.2.1:2379")]
    [InlineData("start", "..")]
    [InlineData("restart", "..")]
    [InlineData("upgrade", "..", "v3.5.0")]
    [InlineData("patch", "..", "x.tar.gz", "-R", "etcd")]
    [InlineData("verify", "..")]
    [InlineData("exec", "..", "--command", "id")]
    [InlineData("push", "..", "a", "b")]
    [InlineData("pull", "..", "a", "b")]
    [InlineData("accept-host-key", "..", "192.0.2.1:22", "SHA256:x")]
    [InlineData("display", "x;id")]
    [InlineData("destroy", ".")]
    public async Task Should_Refuse_A_Bad_Name_In_Every_Verb_That_Takes_One(string verb, string name, params string[] rest)
    {
        using var dir = new TempDirectory();
        var tug = new CliRunner(dir.Path);

        var result = await tug.RunAsync(["cluster", verb, name, .. rest, "-y"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"'{name}' is not a cluster name", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(tug.Home, "clusters")));
    }

    [Theory]
    [InlineData("destroy")]
    [InlineData("stop")]
    [InlineData("replay")]
    [InlineData("display")]
    public async Task Should_Refuse_A_Name_That_Reaches_Outside_The_Clusters_Directory(string verb)
    {
        // Given a meta.yaml in $TUG_HOME itself, where a cluster named '..' would keep its state
        using var dir = new TempDirectory();
        var tug = new CliRunner(dir.Path);
        var store = new ClusterStore(Path.GetDirectoryName(tug.Home)!, TimeProvider.System);
        store.Save(Path.GetFileName(tug.Home), new Tug.Core.Topology.ClusterMeta { User = "tidb", Version = "v3.4.23", Topology = Tug.Core.Topology.TopologyLoader.Parse("etcd_servers:\n  - host: 192.0.2.1\n", "t.yaml") });
        File.WriteAllText(Path.Combine(tug.Home, "keep"), "owner key and other clusters");

        // When
        var result = await tug.RunAsync("cluster", verb, "..", "-y");

        // Then it is refused and nothing in $TUG_HOME is touched
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("'..' is not a cluster name", result.Stderr, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(tug.Home, "keep")));
        Assert.True(File.Exists(Path.Combine(tug.Home, "meta.yaml")));
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
        var store = new ClusterStore(Path.Combine(tug.Home, "clusters"), TimeProvider.System);
        var topology = Tug.Core.Topology.TopologyLoader.Parse("etcd_servers:\n  - host: 192.0.2.1\n", "t.yaml");
        store.Save("c1", new Tug.Core.Topology.ClusterMeta { User = "tidb", Version = "v3.4.23", Topology = topology });

        // When destroy gets no answer on standard input
        var result = await tug.RunAsync("cluster", "destroy", "c1");

        // Then
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("pass -y", result.Stderr, StringComparison.Ordinal);
        Assert.True(store.Exists("c1"));
    }

    private static (CliRunner Tug, ClusterStore Store) KnownCluster(TempDirectory dir)
    {
        // A cluster known to this machine whose host does not exist (TEST-NET-1): nothing can be changed on it.
        var tug = new CliRunner(dir.Path);
        var store = new ClusterStore(Path.Combine(tug.Home, "clusters"), TimeProvider.System);
        var topology = Tug.Core.Topology.TopologyLoader.Parse("etcd_servers:\n  - host: 192.0.2.1\n", "t.yaml");
        store.Save("c1", new Tug.Core.Topology.ClusterMeta { User = "tidb", Version = "v3.4.23", Topology = topology });
        return (tug, store);
    }

    [Fact]
    public async Task Should_Refuse_A_Second_Mutating_Command_At_Once_Naming_The_Holder()
    {
        // Given another command holding the cluster's lock
        using var dir = new TempDirectory();
        var (tug, store) = KnownCluster(dir);
        using var held = ClusterLock.Acquire(store.Directory("c1"), new LockHolder("fD8kUi4vSTW", "tug cluster upgrade c1 v3.5.16", 4242, TimeProvider.System.GetUtcNow(), "ops", "control-1"));

        // When
        var result = await tug.RunAsync("cluster", "start", "c1");

        // Then it is refused, naming the holder, and nothing was journaled
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("error[E4006]", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("tug cluster upgrade c1 v3.5.16", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("PID 4242", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(OperationJournal.List(store.Directory("c1")));
    }

    [Fact]
    public async Task Should_Refuse_To_Start_After_An_Interrupted_Operation_Until_Replayed_Or_Forced()
    {
        // Given an upgrade whose process died after planning a step (no end record, no live lock)
        using var dir = new TempDirectory();
        var (tug, store) = KnownCluster(dir);
        using (var journal = OperationJournal.Begin(store.Directory("c1"), JournalHeader.ForThisProcess("fD8kUi4vSTW", "c1", "upgrade", ["cluster", "upgrade", "c1", "v3.5.16", "-y"], TimeProvider.System), TimeProvider.System))
        {
            journal.Planned("switch 192.0.2.1:2379");
        }

        // When a mutating command comes, it is refused with where the operation stopped and how to resume it
        var refused = await tug.RunAsync("cluster", "stop", "c1");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("error[E4007]", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("switch 192.0.2.1:2379", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("tug cluster replay c1", refused.Stderr, StringComparison.Ordinal);

        // ... with --force it runs (and fails honestly here: the host does not exist), and the old operation is closed
        var forced = await tug.RunAsync("cluster", "stop", "c1", "--force", "--ssh-timeout", "1");
        Assert.Equal(1, forced.ExitCode);
        Assert.Contains("--force starts anyway", forced.Stderr, StringComparison.Ordinal);
        Assert.Null(OperationJournal.Interrupted(store.Directory("c1")));

        // ... and the audit log has both runs, chained
        var audit = await tug.SucceedAsync("cluster", "audit", "--format", "json");
        Assert.Contains("tug cluster stop c1 --force --ssh-timeout 1", audit.Stdout, StringComparison.Ordinal);
        var verify = await tug.SucceedAsync("cluster", "audit", "--verify");
        Assert.Contains("hash chain verified", verify.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Say_When_There_Is_Nothing_To_Replay()
    {
        using var dir = new TempDirectory();
        var (tug, _) = KnownCluster(dir);
        var result = await tug.RunAsync("cluster", "replay", "c1");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("no recorded operation", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Refuse_A_Patch_Without_A_Selection_Or_With_A_Missing_File()
    {
        using var dir = new TempDirectory();
        var (tug, _) = KnownCluster(dir);
        var unselected = await tug.RunAsync("cluster", "patch", "c1", dir.Combine("etcd"));
        Assert.Equal(2, unselected.ExitCode);
        Assert.Contains("-R ROLE or -N host:port", unselected.Stderr, StringComparison.Ordinal);
        var missing = await tug.RunAsync("cluster", "patch", "c1", dir.Combine("etcd"), "-R", "etcd");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("does not exist", missing.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Refuse_To_Scale_In_An_Unknown_Instance_Listing_The_Known_Ones()
    {
        using var dir = new TempDirectory();
        var (tug, store) = KnownCluster(dir);
        var result = await tug.RunAsync("cluster", "scale-in", "c1", "-N", "192.0.2.9:2379", "-y");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("192.0.2.1:2379", result.Stderr, StringComparison.Ordinal);
        Assert.NotNull(store.Load("c1").Topology.Find("192.0.2.1:2379"));
    }

    [Fact]
    public async Task Should_List_No_Clusters_On_A_New_Machine()
    {
        using var dir = new TempDirectory();
        var result = await new CliRunner(dir.Path).SucceedAsync("cluster", "list", "--format", "json");
        Assert.Contains("\"clusters\": []", result.Stdout, StringComparison.Ordinal);
    }
}
