// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Tug.Core.Cluster;
using Tug.Core.Topology;
using Tug.Testing;

namespace Tug.Cli.Tests;

/// <summary>
/// <c>tug cluster import</c> and <c>export</c> through the CLI (issue 14 items 1, 3 and 4): every bad SOURCE refused
/// with exit 2 and nothing left behind (no directory under clusters/, <c>cluster list</c> empty), a cluster whose host
/// cannot be reached refused with exit 1 and nothing written, and export's directory as TiUP reads it. The hosts'
/// side (nothing changed on them, the baseline, the upgrade in TiUP's layout) is proven on the testbed by ImportTests.
/// </summary>
public sealed class ImportExportCommandTests
{
    /// <summary>A TiUP cluster directory as TiUP writes it (yaml.v3, 4-space indent), its one host on a closed local port.</summary>
    private static string TiUPCluster(TempDirectory dir, string name, string? meta = null, bool key = true)
    {
        var cluster = dir.Combine(Path.Combine("tiup", "storage", "cluster", "clusters", name));
        Directory.CreateDirectory(Path.Combine(cluster, "ssh"));
        File.WriteAllText(Path.Combine(cluster, "meta.yaml"), meta ?? $"""
            user: tidb
            tidb_version: v8.5.0
            last_ops_ver: |-
                1.16.5 tiup
                Go Version: go1.25.1
            topology:
                global:
                    user: tidb
                    ssh_port: {ClosedPort()}
                    ssh_type: builtin
                    deploy_dir: /tidb-deploy
                    data_dir: /tidb-data
                    os: linux
                    systemd_mode: system
                monitored:
                    node_exporter_port: 9100
                    blackbox_exporter_port: 9115
                    deploy_dir: /tidb-deploy/monitor-9100
                    data_dir: /tidb-data/monitor-9100
                    log_dir: /tidb-deploy/monitor-9100/log
                alertmanager_servers:
                    - host: 127.0.0.1
                      ssh_port: {ClosedPort()}
                      web_port: 9093
                      cluster_port: 9094
                      deploy_dir: /tidb-deploy/alertmanager-9093
                      data_dir: /tidb-data/alertmanager-9093
                      log_dir: /tidb-deploy/alertmanager-9093/log
                      arch: amd64
                      os: linux
                tidb_servers: []
                tikv_servers: []
                pd_servers: []
            """);
        if (key)
        {
            using var rsa = RSA.Create(2048);
            File.WriteAllText(Path.Combine(cluster, "ssh", "id_rsa"), rsa.ExportRSAPrivateKeyPem() + "\n");
            File.SetUnixFileMode(Path.Combine(cluster, "ssh", "id_rsa"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return cluster;
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Nothing left in $TUG_HOME/clusters (not even a staging directory), and `cluster list` shows no cluster.</summary>
    private static async Task AssertNothingWrittenAsync(CliRunner tug)
    {
        var clusters = Path.Combine(tug.Home, "clusters");
        Assert.True(!Directory.Exists(clusters) || Directory.GetFileSystemEntries(clusters).Length == 0,
            $"left in clusters/: {(Directory.Exists(clusters) ? string.Join(", ", Directory.GetFileSystemEntries(clusters)) : string.Empty)}");
        var list = await tug.RunAsync("cluster", "list", "--format", "json");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.DoesNotContain("\"name\"", list.Stdout, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Should_Explain_Itself_In_Help()
    {
        using var dir = new TempDirectory();
        var tug = new CliRunner(dir.Path);
        var import = await tug.RunAsync("cluster", "import", "--help");
        var export = await tug.RunAsync("cluster", "export", "--help");
        Assert.True(import.ExitCode == 0, import.ToString());
        Assert.Contains("changing nothing on any host", import.Stdout, StringComparison.Ordinal);
        Assert.Contains("--name", import.Stdout, StringComparison.Ordinal);
        Assert.Contains("--ssh-timeout", import.Stdout, StringComparison.Ordinal);
        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.Contains("monitored.node_exporter_version", export.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Refuse_A_Source_That_Does_Not_Exist()
    {
        using var dir = new TempDirectory();
        var tug = new CliRunner(dir.Path);
        var result = await tug.RunAsync("cluster", "import", dir.Combine("nowhere"));
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("nowhere does not exist", result.Stderr, StringComparison.Ordinal);
        await AssertNothingWrittenAsync(tug);
    }

    [Fact]
    public async Task Should_Refuse_A_Directory_That_Is_Not_TiUPs()
    {
        using var dir = new TempDirectory();
        var tug = new CliRunner(dir.Path);
        Directory.CreateDirectory(dir.Combine("photos"));
        File.WriteAllText(dir.Combine("photos/cat.jpg"), "meow");
        var result = await tug.RunAsync("cluster", "import", dir.Combine("photos"));
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("is not a TiUP cluster: it holds no meta.yaml", result.Stderr, StringComparison.Ordinal);
        await AssertNothingWrittenAsync(tug);
    }

    [Fact]
    public async Task Should_Refuse_A_Meta_That_Does_Not_Parse_Naming_Line_And_Column()
    {
        using var dir = new TempDirectory();
        var tug = new CliRunner(dir.Path);
        var cluster = TiUPCluster(dir, "prod", "user: tidb\ntidb_version: v8.5.0\ntopology:\n    global:\n        user: [tidb\n");
        var result = await tug.RunAsync("cluster", "import", cluster);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains($"{Path.Combine(cluster, "meta.yaml")}:", result.Stderr, StringComparison.Ordinal);
        Assert.Matches(@"meta\.yaml:\d+:\d+", result.Stderr);
        Assert.Contains("E4020", result.Stderr, StringComparison.Ordinal);
        await AssertNothingWrittenAsync(tug);
    }

    [Fact]
    public async Task Should_Refuse_A_Cluster_Without_Its_Key()
    {
        using var dir = new TempDirectory();
        var tug = new CliRunner(dir.Path);
        var result = await tug.RunAsync("cluster", "import", TiUPCluster(dir, "prod", key: false));
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("holds no ssh/id_rsa", result.Stderr, StringComparison.Ordinal);
        await AssertNothingWrittenAsync(tug);
    }

    [Fact]
    public async Task Should_Ask_For_A_Name_When_TiUPs_Is_Not_A_Tug_Name()
    {
        using var dir = new TempDirectory();
        var tug = new CliRunner(dir.Path);
        var cluster = TiUPCluster(dir, "prod cluster");
        var refused = await tug.RunAsync("cluster", "import", cluster);
        Assert.True(refused.ExitCode == 2, refused.ToString());
        Assert.Contains("TiUP's cluster name 'prod cluster' is not a Tug cluster name", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("--name", refused.Stderr, StringComparison.Ordinal);
        await AssertNothingWrittenAsync(tug);

        // With --name the import goes on, to the host (which is not there: exit 1, nothing written)
        var named = await tug.RunAsync("cluster", "import", cluster, "--name", "prod", "--ssh-timeout", "2");
        Assert.True(named.ExitCode == 1, named.ToString());
        Assert.Contains("cluster prod was not imported", named.Stderr, StringComparison.Ordinal);
        await AssertNothingWrittenAsync(tug);
    }

    [Fact]
    public async Task Should_Refuse_A_Name_That_Exists()
    {
        using var dir = new TempDirectory();
        var tug = new CliRunner(dir.Path);
        var store = new ClusterStore(Path.Combine(tug.Home, "clusters"), TimeProvider.System);
        store.Save("prod", new ClusterMeta { User = "tidb", Version = "v8.5.0", Topology = TopologyLoader.Parse("alertmanager_servers:\n  - host: 192.0.2.1\n", "t.yaml") });
        var before = File.ReadAllBytes(store.MetaFile("prod"));
        var result = await tug.RunAsync("cluster", "import", TiUPCluster(dir, "prod"));
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("A cluster named 'prod' exists already", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(store.MetaFile("prod")));
        Assert.Equal(["prod"], Directory.GetFileSystemEntries(Path.Combine(tug.Home, "clusters")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Should_Write_Nothing_When_A_Host_Cannot_Be_Reached()
    {
        using var dir = new TempDirectory();
        var tug = new CliRunner(dir.Path);
        var result = await tug.RunAsync("cluster", "import", TiUPCluster(dir, "prod"), "--ssh-timeout", "2", "--format", "json");
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("\"imported\": false", result.Stdout, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("127.0.0.1", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("nothing was written here and nothing changed on the hosts", result.Stderr, StringComparison.Ordinal);
        await AssertNothingWrittenAsync(tug);
        Assert.False(File.Exists(Path.Combine(tug.Home, "audit", "audit.log")) && File.ReadAllText(Path.Combine(tug.Home, "audit", "audit.log")).Contains("prod", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Should_Take_The_Name_From_TiUPs_Meta_Backup_File_Name()
    {
        // Given: `tiup cluster meta backup prod`'s tarball: the cluster directory's members, relative to it
        using var dir = new TempDirectory();
        var tug = new CliRunner(dir.Path);
        var cluster = TiUPCluster(dir, "prod");
        var tarball = dir.Combine("tiup-cluster_prod_metabackup_2026-12-04T03-04-05+08-00.tar.gz");
        using (var file = File.Create(tarball))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            foreach (var path in new[] { "meta.yaml", "ssh/id_rsa" })
            {
                tar.WriteEntry(Path.Combine(cluster, path), path);
            }
        }

        // When
        var result = await tug.RunAsync("cluster", "import", tarball, "--ssh-timeout", "2");

        // Then: read as cluster prod, refused at the host, nothing written
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("cluster prod was not imported", result.Stderr, StringComparison.Ordinal);
        await AssertNothingWrittenAsync(tug);
    }

    [Fact]
    public async Task Should_Export_A_TiUP_Cluster_Directory_With_The_Pins_Where_TiUP_Keeps_Versions()
    {
        // Given: a cluster with pins and its key
        using var dir = new TempDirectory();
        var tug = new CliRunner(dir.Path);
        var store = new ClusterStore(Path.Combine(tug.Home, "clusters"), TimeProvider.System);
        var topology = TopologyLoader.Parse("global:\n  user: tidb\nmonitored:\n  node_exporter_version: v1.1.2\nalertmanager_servers:\n  - host: 192.0.2.1\n", "t.yaml");
        store.Save("prod", new ClusterMeta
        {
            User = "tidb", Version = "v8.5.0", Topology = topology,
            Tug = new TugState
            {
                Layout = "tiup",
                Versions = System.Collections.Immutable.ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [new KeyValuePair<string, string>("node_exporter", "v1.9.0"), new("alertmanager", "v0.21.0")]),
            },
        });
        PrivateFiles.CreateDirectory(store.SshDirectory("prod"));
        PrivateFiles.WriteAllBytes(store.KeyFile("prod"), Encoding.ASCII.GetBytes("private\n"));
        PrivateFiles.WriteAllBytes(store.KeyFile("prod") + ".pub", Encoding.ASCII.GetBytes("ssh-rsa AAAA prod\n"));
        PrivateFiles.WriteAllBytes(store.KeyFile("prod") + ".new", Encoding.ASCII.GetBytes("pending\n"));

        // When
        var result = await tug.RunAsync("cluster", "export", "prod", dir.Combine("out"));

        // Then
        Assert.True(result.ExitCode == 0, result.ToString());
        var meta = File.ReadAllText(dir.Combine("out/meta.yaml"));
        Assert.DoesNotContain("tug:", meta, StringComparison.Ordinal);
        Assert.DoesNotContain("# ", meta, StringComparison.Ordinal);
        Assert.Contains("node_exporter_version: v1.9.0", meta, StringComparison.Ordinal);
        Assert.Contains("alertmanager: v0.21.0", meta, StringComparison.Ordinal);
        var read = ClusterMetaSerializer.Deserialize(meta, "meta.yaml");
        Assert.Equal(("tidb", "v8.5.0", topology.Instances.Length), (read.User, read.Version, read.Topology.Instances.Length));
        Assert.Equal("private\n", File.ReadAllText(dir.Combine("out/ssh/id_rsa")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(dir.Combine("out/ssh/id_rsa")));
        Assert.True(File.Exists(dir.Combine("out/ssh/id_rsa.pub")));
        Assert.False(File.Exists(dir.Combine("out/ssh/id_rsa.new")), "a rotation's pending key is not exported");

        // And a directory that is not empty is refused, unchanged
        var again = await tug.RunAsync("cluster", "export", "prod", dir.Combine("out"));
        Assert.True(again.ExitCode == 2, again.ToString());
        Assert.Contains("is not an empty directory", again.Stderr, StringComparison.Ordinal);
        Assert.Equal(meta, File.ReadAllText(dir.Combine("out/meta.yaml")));
    }
}
