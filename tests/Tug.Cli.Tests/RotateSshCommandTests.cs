// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Security.Cryptography;
using System.Text.Json;
using Tug.Core.Cluster;
using Tug.Core.Remote;
using Tug.Core.Topology;
using Tug.Testing;

namespace Tug.Cli.Tests;

/// <summary>
/// <c>tug cluster rotatessh</c> through the CLI (issue 13 item 3), against a cluster whose hosts (192.0.2.1, .2) do not
/// exist: the plan, bad input, and what a rotation that cannot reach its hosts leaves (the old key, in use, accepted
/// everywhere). The hosts' side is proven on the testbed by RotateSshTests.
/// </summary>
public sealed class RotateSshCommandTests
{
    private static (CliRunner Tug, ClusterKeys Keys, string Old) Cluster(TempDirectory dir, bool withKey = true)
    {
        var tug = new CliRunner(dir.Path);
        var store = new ClusterStore(Path.Combine(tug.Home, "clusters"), TimeProvider.System);
        store.Save("c1", new ClusterMeta { User = "tidb", Version = "v3.4.23", Topology = TopologyLoader.Parse("etcd_servers:\n  - host: 192.0.2.1\n  - host: 192.0.2.2\n", "t.yaml") });
        var keys = ClusterKeys.Of(store, "c1");
        var old = string.Empty;
        if (withKey)
        {
            using var rsa = RSA.Create(2048);
            PrivateFiles.CreateDirectory(store.SshDirectory("c1"));
            PrivateFiles.WriteAllBytes(keys.Current, System.Text.Encoding.ASCII.GetBytes(rsa.ExportRSAPrivateKeyPem() + "\n"));
            old = SshKeys.PublicKeyLine(rsa, ClusterKeys.CommentFor("c1"));
            PrivateFiles.WriteAllBytes(keys.Current + ".pub", System.Text.Encoding.ASCII.GetBytes(old + "\n"));
        }

        return (tug, keys, old);
    }

    [Fact]
    public async Task Should_Explain_Itself_In_Help()
    {
        using var dir = new TempDirectory();
        var (tug, _, _) = Cluster(dir);
        var help = await tug.RunAsync("cluster", "rotatessh", "--help");
        Assert.True(help.ExitCode == 0, help.ToString());
        Assert.Contains("id_rsa.new", help.Stdout, StringComparison.Ordinal);
        Assert.Contains("--dry-run", help.Stdout, StringComparison.Ordinal);
        Assert.Contains("replay", help.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Print_The_Plan_As_Json_With_Public_Keys_Only_And_Change_Nothing()
    {
        // Given
        using var dir = new TempDirectory();
        var (tug, keys, old) = Cluster(dir);
        var before = File.ReadAllBytes(keys.Current);

        // When
        var result = await tug.RunAsync("cluster", "rotatessh", "c1", "--dry-run", "--format", "json");

        // Then
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Stdout);
        var steps = json.RootElement.GetProperty("plan").GetProperty("steps").EnumerateArray()
            .Select(s => $"{s.GetProperty("key").GetProperty("kind").GetString()} {s.GetProperty("key").GetProperty("subject").GetString()}").ToList();
        Assert.Equal(["ssh-keygen c1", "ssh-authorize 192.0.2.1", "ssh-authorize 192.0.2.2", "ssh-switch c1", "ssh-retire 192.0.2.1", "ssh-retire 192.0.2.2", "ssh-cleanup c1"], steps);
        Assert.Contains(old.Split(' ')[1], result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", result.Stdout, StringComparison.Ordinal);
        Assert.False(File.Exists(keys.Pending));
        Assert.Equal(before, File.ReadAllBytes(keys.Current));
        Assert.False(Directory.Exists(Path.Combine(tug.Home, "clusters", "c1", "operations")));
    }

    [Fact]
    public async Task Should_Refuse_A_Cluster_Without_A_Key_With_Exit_2()
    {
        using var dir = new TempDirectory();
        var (tug, keys, _) = Cluster(dir, withKey: false);
        var result = await tug.RunAsync("cluster", "rotatessh", "c1", "-y");
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("E4003", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("hint:", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(keys.Pending));
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("../c1")]
    public async Task Should_Refuse_An_Unknown_Or_Bad_Name_With_Exit_2(string name)
    {
        using var dir = new TempDirectory();
        var (tug, _, _) = Cluster(dir);
        var result = await tug.RunAsync("cluster", "rotatessh", name, "-y");
        Assert.True(result.ExitCode == 2, result.ToString());
    }

    [Fact]
    public async Task Should_Ask_First_And_Change_Nothing_On_No()
    {
        using var dir = new TempDirectory();
        var (tug, keys, _) = Cluster(dir);
        var result = await tug.RunAsync("cluster", "rotatessh", "c1");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("rotate the ssh keys of user 'tidb'", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(keys.Pending));
    }

    [Fact]
    public async Task Should_Keep_The_Old_Key_In_Use_And_Say_So_When_No_Host_Can_Be_Reached()
    {
        // Given
        using var dir = new TempDirectory();
        var (tug, keys, old) = Cluster(dir);
        var before = File.ReadAllBytes(keys.Current);

        // When
        var result = (await tug.RunAsync("cluster", "rotatessh", "c1", "-y", "--ssh-timeout", "1")).WithoutAnsi();

        // Then: exit 1, each host named, nothing switched, the old key still the cluster's, the new one kept for a replay
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("192.0.2.1 (Unreachable)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("192.0.2.2 (Unreachable)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("nothing switched", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("every host still accepts it", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(keys.Current));
        Assert.Equal(old, keys.PublicLine(keys.Current));
        Assert.True(File.Exists(keys.Pending));
        Assert.False(File.Exists(keys.Previous));

        // And a replay goes on with the same new key
        var pending = keys.PublicLine(keys.Pending);
        var replay = await tug.RunAsync("cluster", "replay", "c1", "--ssh-timeout", "1");
        Assert.Equal(1, replay.ExitCode);
        Assert.Equal(pending, keys.PublicLine(keys.Pending));
        Assert.Equal(before, File.ReadAllBytes(keys.Current));
    }
}
