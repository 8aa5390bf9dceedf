// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Tug.Core.Cluster;
using Tug.Core.Topology;
using Tug.Testing;

namespace Tug.Cli.Tests;

/// <summary>
/// Issue 11 items 4 and 5 through the CLI: bounded YAML in topologies and meta.yaml, state files that fail safe
/// (list, display, destroy of a broken cluster), private modes whatever the umask, and no exit 70 for any file or flag.
/// </summary>
public sealed class StateSafetyTests
{
    private static string Bomb(string indent)
    {
        var text = new StringBuilder();
        text.Append(indent).Append("a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
        for (var c = 'b'; c <= 'i'; c++)
        {
            text.Append(indent).Append(c).Append(": &").Append(c).Append(" [").Append(string.Join(",", Enumerable.Repeat("*" + (char)(c - 1), 9))).Append("]\n");
        }

        return text.ToString();
    }

    /// <summary>A runner with clusters 'good' (one host, 192.0.2.1, which does not exist) and, when given, 'bad' with that meta.yaml.</summary>
    private static (CliRunner Tug, ClusterStore Store) Clusters(TempDirectory dir, string? badMeta = null)
    {
        var tug = new CliRunner(dir.Path);
        var store = new ClusterStore(Path.Combine(tug.Home, "clusters"), TimeProvider.System);
        store.Save("good", new ClusterMeta { User = "tidb", Version = "v3.4.23", Topology = TopologyLoader.Parse("etcd_servers:\n  - host: 192.0.2.1\n", "t.yaml") });
        if (badMeta is not null)
        {
            Directory.CreateDirectory(store.Directory("bad"));
            File.WriteAllText(store.MetaFile("bad"), badMeta);
            Directory.CreateDirectory(store.SshDirectory("bad"));
            File.WriteAllText(store.KeyFile("bad"), "key");
        }

        return (tug, store);
    }

    private static string Snapshot(string root) => string.Join("\n", Directory.GetFileSystemEntries(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
        .Select(p => File.Exists(p) ? $"{p} {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(p)))}" : p));

    public static TheoryData<string, string, string> HostileTopologies() => new()
    {
        { "alias bomb", "global:\n  user: tidb\nserver_configs:\n  pd:\n" + Bomb("    ") + "etcd_servers:\n  - host: 10.0.0.1\n", "E1082" },
        { "20,000 nested [", "global:\n  user: tidb\nserver_configs:\n  pd:\n    a: " + new string('[', 20_000) + new string(']', 20_000) + "\netcd_servers:\n  - host: 10.0.0.1\n", "E1081" },
        { "20,000 nested {", "etcd_servers:\n  - host: 10.0.0.1\n    config: " + new string('{', 20_000) + "\n", "E1081" },
        { "an unclosed bracket", "etcd_servers:\n  - host: [10.0.0.1\n", "E1002" },
    };

    [Theory]
    [MemberData(nameof(HostileTopologies))]
    public async Task Should_Refuse_A_Hostile_Topology_With_File_Line_And_Column_And_Write_Nothing(string why, string yaml, string code)
    {
        using var dir = new TempDirectory();
        var topology = dir.Combine("t.yaml");
        await File.WriteAllTextAsync(topology, yaml, TestContext.Current.CancellationToken);
        var clock = Stopwatch.StartNew();

        var result = await new CliRunner(dir.Path).RunAsync("cluster", "deploy", "c1", "v3.4.23", topology, "-y");

        Assert.True(result.ExitCode == 2, $"{why}: {result}");
        Assert.Contains($"error[{code}]", result.Stderr, StringComparison.Ordinal);
        Assert.Matches(@"t\.yaml:\d+:\d+: error", result.Stderr);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"{why} took {clock.Elapsed}");
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "home", "clusters", "c1")));
    }

    [Fact]
    public async Task Should_Refuse_A_Topology_File_Over_4_MiB()
    {
        using var dir = new TempDirectory();
        var topology = dir.Combine("big.yaml");
        await File.WriteAllTextAsync(topology, "etcd_servers:\n  - host: 10.0.0.1\n#" + new string('x', 5 * 1024 * 1024) + "\n", TestContext.Current.CancellationToken);
        var result = await new CliRunner(dir.Path).RunAsync("cluster", "deploy", "c1", "v3.4.23", topology, "-y");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("error[E1080]", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("4,194,304 bytes", result.Stderr, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> BrokenMetas() => new()
    {
        { "empty", "" },
        { "truncated", "user: tidb\ntidb_ver" },
        { "garbage", "\u0001\u0002PK\u0003\u0004\u00ff{[" },
        { "no instances", "user: tidb\ntidb_version: v3.4.23\ntopology:\n    global:\n        user: tidb\n" },
        { "alias bomb", "user: tidb\ntidb_version: v3.4.23\ntopology:\n    server_configs:\n        pd:\n" + Bomb("            ") + "    etcd_servers:\n        - host: 10.0.0.1\n" },
        { "deep", "user: tidb\ntidb_version: v3.4.23\ntopology:\n    server_configs:\n        pd: " + new string('[', 20_000) + "\n" },
    };

    [Theory]
    [MemberData(nameof(BrokenMetas))]
    public async Task Should_List_The_Good_Clusters_And_Name_The_Broken_One(string why, string meta)
    {
        using var dir = new TempDirectory();
        var (tug, store) = Clusters(dir, meta);

        var table = await tug.RunAsync("cluster", "list");

        Assert.True(table.ExitCode == 1, $"{why}: {table}");
        Assert.Contains("good", table.Stdout, StringComparison.Ordinal);
        Assert.Contains("v3.4.23", table.Stdout, StringComparison.Ordinal);
        Assert.Contains("BROKEN (E4020)", table.Stdout, StringComparison.Ordinal);
        Assert.Contains("warning: cluster 'bad' is broken: [E4020]", table.Stderr, StringComparison.Ordinal);
        Assert.Contains(store.MetaFile("bad"), table.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_List_The_Broken_Cluster_Apart_In_Json()
    {
        using var dir = new TempDirectory();
        var (tug, store) = Clusters(dir, "user: tidb\n");

        var result = await tug.RunAsync("cluster", "list", "--format", "json");

        Assert.Equal(1, result.ExitCode);
        using var json = JsonDocument.Parse(result.Stdout);
        var good = Assert.Single(json.RootElement.GetProperty("clusters").EnumerateArray());
        Assert.Equal("good", good.GetProperty("name").GetString());
        var bad = Assert.Single(json.RootElement.GetProperty("broken").EnumerateArray());
        Assert.Equal("bad", bad.GetProperty("name").GetString());
        Assert.Equal("E4020", bad.GetProperty("code").GetString());
        Assert.Equal(store.MetaFile("bad"), bad.GetProperty("path").GetString());
    }

    [Theory]
    [MemberData(nameof(BrokenMetas))]
    public async Task Should_Refuse_To_Destroy_A_Cluster_Whose_Meta_It_Cannot_Read_Changing_Nothing(string why, string meta)
    {
        using var dir = new TempDirectory();
        var (tug, _) = Clusters(dir, meta);
        var before = Snapshot(tug.Home);

        var result = await tug.RunAsync("cluster", "destroy", "bad", "-y");

        Assert.True(result.ExitCode == 2, $"{why}: {result}");
        Assert.Contains("error[E4020]: Cluster 'bad' has a broken meta.yaml", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("--force", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(tug.Home));
    }

    [Theory]
    [InlineData("display")]
    [InlineData("verify")]
    [InlineData("stop")]
    [InlineData("upgrade")]
    [InlineData("scale-in")]
    public async Task Should_Refuse_Every_Verb_On_A_Broken_Meta_With_Exit_2(string verb)
    {
        using var dir = new TempDirectory();
        var (tug, _) = Clusters(dir, "");
        var before = Snapshot(tug.Home);
        string[] args = verb switch
        {
            "upgrade" => ["cluster", verb, "bad", "v3.5.0", "-y"],
            "scale-in" => ["cluster", verb, "bad", "-N", "10.0.0.1:2379", "-y"],
            _ => ["cluster", verb, "bad", "-y"],
        };

        var result = await tug.RunAsync(args);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("E4020", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(tug.Home));
    }

    [Fact]
    public async Task Should_Forget_Only_The_Local_State_With_Force_Saying_Nothing_On_The_Hosts_Was_Removed()
    {
        using var dir = new TempDirectory();
        var (tug, store) = Clusters(dir, "user: tidb\ntidb_version: v3.4.23\n");

        var result = await tug.RunAsync("cluster", "destroy", "bad", "--force", "-y");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("NOTHING on its hosts was removed", result.Stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(store.Directory("bad")));
        Assert.True(store.Exists("good"));
        var audit = await tug.RunAsync("cluster", "audit", "--verify");
        Assert.True(audit.ExitCode == 0, audit.ToString());
        var log = await File.ReadAllTextAsync(Path.Combine(tug.Home, "audit", "audit.jsonl"), TestContext.Current.CancellationToken);
        Assert.Contains("nothing on the hosts was removed", log, StringComparison.Ordinal);
        Assert.Contains("\"cluster\":\"bad\"", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Ask_Before_Forgetting_A_Broken_Cluster_And_Keep_It_Without_An_Answer()
    {
        using var dir = new TempDirectory();
        var (tug, store) = Clusters(dir, "");
        var before = Snapshot(tug.Home);

        var result = await tug.RunAsync("cluster", "destroy", "bad", "--force");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Nothing on its hosts will be removed", result.Stderr, StringComparison.Ordinal);
        Assert.True(File.Exists(store.MetaFile("bad")));
        Assert.Equal(before, Snapshot(tug.Home));
    }

    [Fact]
    public async Task Should_Only_Show_What_Force_Would_Forget_On_A_Dry_Run()
    {
        using var dir = new TempDirectory();
        var (tug, _) = Clusters(dir, "");
        var before = Snapshot(tug.Home);
        var result = await tug.RunAsync("cluster", "destroy", "bad", "--force", "--dry-run");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("nothing on its hosts would be removed", result.Stdout, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(tug.Home));
    }

    public static TheoryData<string[]> BadFlags() => new()
    {
        { ["display", "good", "--wait-timeout", "-1"] },
        { ["display", "good", "--ssh-timeout", "0"] },
        { ["display", "good", "--ssh-timeout", "99999999"] },
        { ["display", "good", "-c", "0"] },
        { ["display", "good", "--format", "bogus"] },
        { ["display", "good", "--wait-timeout", "abc"] },
        { ["display", "good", "--ssh-timeout", "99999999999999999999"] },
        { ["exec", "good", "--command", "true", "--ssh-timeout", "-5"] },
        { ["upgrade", "good", "--component", "etcd=v3.5.0", "--batch", "0", "--dry-run"] },
        { ["upgrade", "good", "--component", "etcd=v3.5.0", "--batch", "x%", "--dry-run"] },
        { ["upgrade", "good", "--component", "etcd", "--dry-run"] },
        { ["restart", "good", "-N", "nosuch:1", "--dry-run"] },
        { ["restart", "good", "-R", "nosuch", "--dry-run"] },
        { ["list", "--nosuch-flag"] },
    };

    [Theory]
    [MemberData(nameof(BadFlags))]
    public async Task Should_Refuse_A_Bad_Flag_Value_With_Exit_2_Never_70(string[] args)
    {
        using var dir = new TempDirectory();
        var (tug, _) = Clusters(dir);
        var before = Snapshot(tug.Home);

        var result = await tug.RunAsync(["cluster", .. args]);

        Assert.True(result.ExitCode == 2, $"{string.Join(' ', args)}: {result}");
        Assert.DoesNotContain("E0070", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(tug.Home));
    }

    public static TheoryData<string, string> CorruptOperationFiles() => new()
    {
        { "plan.json", "\u0000\u00ff garbage" },
        { "plan.json", "{\"format\":1,\"plan\":{\"operation\":\"upgrade\",\"cluster\":\"good\"}}" },
        { "plan.json", new string('[', 10_000) },
        { "plan.json", "" },
        { "journal.jsonl", "\u0000\u00ff garbage\n{\"type\":\"begin\"" },
    };

    [Theory]
    [MemberData(nameof(CorruptOperationFiles))]
    public async Task Should_Refuse_To_Replay_A_Corrupt_Operation_With_A_Clear_Error(string file, string content)
    {
        using var dir = new TempDirectory();
        var (tug, store) = Clusters(dir);
        var id = "20250102T030405Z-abcdef";
        Assert.True(OperationId.IsValid(id));
        var operation = Path.Combine(store.Directory("good"), OperationJournal.OperationsDirectoryName, id);
        Directory.CreateDirectory(operation);
        await File.WriteAllTextAsync(Path.Combine(operation, "journal.jsonl"),
            file == "journal.jsonl" ? content : $"{{\"type\":\"begin\",\"id\":\"{id}\",\"cluster\":\"good\",\"operation\":\"upgrade\",\"args\":[\"cluster\",\"upgrade\",\"good\"],\"started\":\"2025-01-02T03:04:05Z\",\"pid\":1,\"user\":\"x\"}}\n",
            TestContext.Current.CancellationToken);
        if (file == "plan.json")
        {
            await File.WriteAllTextAsync(Path.Combine(operation, "plan.json"), content, TestContext.Current.CancellationToken);
        }

        var result = await tug.RunAsync("cluster", "replay", "good", "-y");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.DoesNotContain("E0070", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"type\":5}")]
    [InlineData("{\"type\":\"rsa\",\"keyval\":{\"public\":\"x\",\"private\":\"-----BEGIN RSA PRIVATE KEY-----\\nAAAA\\n-----END RSA PRIVATE KEY-----\\n\"}}")]
    [InlineData("[1,2,3]")]
    [InlineData("\u0000\u00ff")]
    public async Task Should_Refuse_A_Corrupt_Owner_Key_With_A_Clear_Error(string content)
    {
        using var dir = new TempDirectory();
        var tug = new CliRunner(dir.Path);
        Directory.CreateDirectory(Path.Combine(tug.Home, "keys"));
        await File.WriteAllTextAsync(Path.Combine(tug.Home, "keys", "private.json"), content, TestContext.Current.CancellationToken);

        var result = await tug.RunAsync("mirror", "genkey", "--public");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("private.json", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("E0070", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Create_Keys_And_State_Private_Under_Umask_000()
    {
        // Given the real tug run by bash with umask 000
        using var dir = new TempDirectory();
        var (tug, store) = Clusters(dir, "");

        // When it writes the owner key and (destroy --force) the audit log
        await Run(tug, "mirror", "genkey");
        await Run(tug, "cluster", "destroy", "bad", "--force", "-y");

        // Then every file is 0600 and every directory 0700
        const UnixFileMode file = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        const UnixFileMode directory = file | UnixFileMode.UserExecute;
        Assert.Equal(directory, File.GetUnixFileMode(Path.Combine(tug.Home, "keys")));
        Assert.Equal(file, File.GetUnixFileMode(Path.Combine(tug.Home, "keys", "private.json")));
        Assert.Equal(directory, File.GetUnixFileMode(Path.Combine(tug.Home, "audit")));
        Assert.All(Directory.GetFiles(Path.Combine(tug.Home, "audit")), f => Assert.Equal(file, File.GetUnixFileMode(f)));
        Assert.False(Directory.Exists(store.Directory("bad")));
    }

    private static async Task Run(CliRunner tug, params string[] args)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = tug.WorkDirectory };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("umask 000 && exec \"$0\" \"$@\"");
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "tug"));
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["TUG_HOME"] = tug.Home;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == 0, $"tug {string.Join(' ', args)}: exit {process.ExitCode}\n{await stdout}\n{await stderr}");
    }
}
