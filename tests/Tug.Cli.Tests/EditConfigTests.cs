// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Tug.Core.Cluster;
using Tug.Core.Topology;
using Tug.Testing;

namespace Tug.Cli.Tests;

/// <summary>
/// <c>tug cluster edit-config</c> and <c>show-config</c> through the CLI (issue 12 item 1): the topology edited in
/// $EDITOR or replaced by --topology-file, strict, TiUP's editable fields only, diff, confirmation, saved through the
/// executor (journal, audit, lock) with Tug's section kept; no host is contacted (the cluster's host, 192.0.2.1, does not exist).
/// </summary>
public sealed class EditConfigTests
{
    private const string Topology = "etcd_servers:\n  - host: 192.0.2.1\nmonitoring_servers:\n  - host: 192.0.2.1\n    storage_retention_time: 30d\n";

    private static readonly TugState Recorded = new()
    {
        Versions = ImmutableSortedDictionary.CreateRange(new Dictionary<string, string> { ["etcd"] = "v3.4.23", ["prometheus"] = "v2.53.0" }),
        HostKeys = ImmutableSortedDictionary.CreateRange(new Dictionary<string, string> { ["192.0.2.1:22"] = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU" }),
        Instances = ImmutableSortedDictionary.CreateRange(new Dictionary<string, DeployedInstance> { ["192.0.2.1:2379"] = new("v3.4.23", "etcd-v3.4.23-linux-amd64/etcd", new string('a', 64), false) }),
    };

    private static (CliRunner Tug, ClusterStore Store) Cluster(TempDirectory dir)
    {
        var tug = new CliRunner(dir.Path);
        var store = new ClusterStore(Path.Combine(tug.Home, "clusters"), TimeProvider.System);
        store.Save("c1", new ClusterMeta { User = "tidb", Version = "v3.4.23", Topology = TopologyLoader.Parse(Topology, "t.yaml"), Tug = Recorded });
        return (tug, store);
    }

    private static string Edited(CliResult shown, string from, string to)
    {
        Assert.Contains(from, shown.Stdout, StringComparison.Ordinal);
        return shown.Stdout.Replace(from, to, StringComparison.Ordinal);
    }

    private static string[] Operations(ClusterStore store) => [.. OperationJournal.List(store.Directory("c1")).Select(o => o.Id)];

    [Fact]
    public async Task Should_Show_The_Topology_Without_Tugs_Section_As_Yaml_And_Json()
    {
        // Given
        using var dir = new TempDirectory();
        var (tug, _) = Cluster(dir);

        // When
        var yaml = await tug.SucceedAsync("cluster", "show-config", "c1");
        var json = await tug.SucceedAsync("cluster", "show-config", "c1", "--format", "json");

        // Then: TiUP's topology shape, defaults filled, no tug: section; the JSON holds the same fields
        Assert.StartsWith("global:\n    user: tidb\n", yaml.Stdout, StringComparison.Ordinal);
        Assert.Contains("      storage_retention_time: 30d\n", yaml.Stdout, StringComparison.Ordinal);
        Assert.Contains("      deploy_dir: /home/tidb/deploy/etcd-2379\n", yaml.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("tug:", yaml.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("host_keys", yaml.Stdout, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(json.Stdout);
        var topology = document.RootElement.GetProperty("topology");
        Assert.Equal("30d", topology.GetProperty("monitoring_servers")[0].GetProperty("storage_retention_time").GetString());
        Assert.Equal(9090, topology.GetProperty("monitoring_servers")[0].GetProperty("port").GetInt32());
        Assert.False(document.RootElement.TryGetProperty("tug", out _));
    }

    [Fact]
    public async Task Should_Save_An_Editable_Change_From_A_Topology_File_Keeping_Tugs_Section_With_An_Audit_Record()
    {
        // Given the shown topology with Prometheus' retention changed
        using var dir = new TempDirectory();
        var (tug, store) = Cluster(dir);
        var shown = await tug.SucceedAsync("cluster", "show-config", "c1");
        await File.WriteAllTextAsync(dir.Combine("new.yaml"), Edited(shown, "storage_retention_time: 30d", "storage_retention_time: 15d"), TestContext.Current.CancellationToken);

        // When
        var result = await tug.RunAsync("cluster", "edit-config", "c1", "--topology-file", "new.yaml", "-y");

        // Then: the diff is shown, meta.yaml holds the change, Tug's records as they were, one operation journaled and audited
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("-      storage_retention_time: 30d\n+      storage_retention_time: 15d\n", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("tug cluster reload c1", result.Stderr, StringComparison.Ordinal);
        var saved = store.Load("c1");
        Assert.Equal("15d", saved.Topology.Find("192.0.2.1:9090")!.Extras.GetString("storage_retention_time"));
        Assert.Equal(Recorded.Versions, saved.Tug.Versions);
        Assert.Equal(Recorded.HostKeys, saved.Tug.HostKeys);
        Assert.Equal(Recorded.Instances, saved.Tug.Instances);
        var id = Assert.Single(Operations(store));
        var audit = await tug.SucceedAsync("cluster", "audit", "--format", "json");
        Assert.Contains(id, audit.Stdout, StringComparison.Ordinal);
        Assert.Contains("edit-config c1 --topology-file new.yaml -y", audit.Stdout, StringComparison.Ordinal);
        await tug.SucceedAsync("cluster", "audit", "--verify");
        Assert.Equal("edit-config", OperationJournal.List(store.Directory("c1")).Single().Header.Operation);
    }

    [Theory]
    [InlineData("      port: 9090\n", "      port: 9091\n", "monitoring_servers[0].port (host 192.0.2.1) changed from '9090' to '9091'")]
    [InlineData("    - host: 192.0.2.1\n      ssh_port: 22\n      port: 9090", "    - host: 192.0.2.2\n      ssh_port: 22\n      port: 9090", "monitoring_servers[0].host (host 192.0.2.1) changed from '192.0.2.1' to '192.0.2.2'")]
    [InlineData("      deploy_dir: /home/tidb/deploy/etcd-2379\n", "      deploy_dir: /srv/etcd\n", "etcd_servers[0].deploy_dir (host 192.0.2.1) changed from '/home/tidb/deploy/etcd-2379' to '/srv/etcd'")]
    [InlineData("    user: tidb\n", "    user: ops\n", "global.user changed from 'tidb' to 'ops'")]
    public async Task Should_Refuse_An_Immutable_Change_Naming_The_Field_And_Leave_Meta_Byte_Identical(string from, string to, string said)
    {
        // Given
        using var dir = new TempDirectory();
        var (tug, store) = Cluster(dir);
        var before = await File.ReadAllBytesAsync(store.MetaFile("c1"), TestContext.Current.CancellationToken);
        var shown = await tug.SucceedAsync("cluster", "show-config", "c1");
        await File.WriteAllTextAsync(dir.Combine("new.yaml"), Edited(shown, from, to), TestContext.Current.CancellationToken);

        // When
        var result = await tug.RunAsync("cluster", "edit-config", "c1", "--topology-file", "new.yaml", "-y");

        // Then: exit 2, E1040 naming the field with both values at its line, nothing saved or journaled
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Matches(@"new\.yaml:\d+:\d+: error\[E1040\]: " + Regex.Escape(said), result.Stderr);
        Assert.Equal(before, await File.ReadAllBytesAsync(store.MetaFile("c1"), TestContext.Current.CancellationToken));
        Assert.Empty(Operations(store));
    }

    [Fact]
    public async Task Should_Refuse_An_Unknown_Field_With_Line_And_Column()
    {
        // Given
        using var dir = new TempDirectory();
        var (tug, store) = Cluster(dir);
        var before = await File.ReadAllBytesAsync(store.MetaFile("c1"), TestContext.Current.CancellationToken);
        var shown = await tug.SucceedAsync("cluster", "show-config", "c1");
        var text = Edited(shown, "storage_retention_time: 30d", "storage_retension_time: 15d");
        await File.WriteAllTextAsync(dir.Combine("new.yaml"), text, TestContext.Current.CancellationToken);
        var line = text.Split('\n').ToList().FindIndex(l => l.Contains("storage_retension_time", StringComparison.Ordinal)) + 1;

        // When
        var result = await tug.RunAsync("cluster", "edit-config", "c1", "--topology-file", "new.yaml", "-y");

        // Then
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains($"new.yaml:{line}:7: error[E1001]: unknown key \"storage_retension_time\"", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllBytesAsync(store.MetaFile("c1"), TestContext.Current.CancellationToken));
        Assert.Empty(Operations(store));
    }

    [Fact]
    public async Task Should_Say_Nothing_Changed_When_The_File_Is_The_Same_Topology()
    {
        // Given the shown topology, unchanged but for a comment
        using var dir = new TempDirectory();
        var (tug, store) = Cluster(dir);
        var before = await File.ReadAllBytesAsync(store.MetaFile("c1"), TestContext.Current.CancellationToken);
        var shown = await tug.SucceedAsync("cluster", "show-config", "c1");
        await File.WriteAllTextAsync(dir.Combine("same.yaml"), "# unchanged\n" + shown.Stdout, TestContext.Current.CancellationToken);

        // When
        var result = await tug.RunAsync("cluster", "edit-config", "c1", "--topology-file", "same.yaml");

        // Then: exit 0 without asking, nothing saved or journaled
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("edit-config c1: nothing changed", result.Stdout, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllBytesAsync(store.MetaFile("c1"), TestContext.Current.CancellationToken));
        Assert.Empty(Operations(store));
    }

    [Fact]
    public async Task Should_Save_What_The_Editor_In_EDITOR_Changed_In_A_Private_Temporary_File()
    {
        // Given an EDITOR that edits the file it is given, and records its path and mode
        using var dir = new TempDirectory();
        var (tug, store) = Cluster(dir);
        var seen = dir.Combine("seen");
        tug.Environment.Variables["EDITOR"] = $"stat -c '%a %n' >{seen} \"$1\" && sed -i s/30d/15d/";

        // When
        var result = await tug.RunAsync("cluster", "edit-config", "c1", "-y");

        // Then: saved; the editor got a 0600 file, which is gone afterwards
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("+      storage_retention_time: 15d\n", result.Stdout, StringComparison.Ordinal);
        Assert.Equal("15d", store.Load("c1").Topology.Find("192.0.2.1:9090")!.Extras.GetString("storage_retention_time"));
        var stat = (await File.ReadAllTextAsync(seen, TestContext.Current.CancellationToken)).Trim().Split(' ', 2);
        Assert.Equal("600", stat[0]);
        Assert.EndsWith("/c1.yaml", stat[1], StringComparison.Ordinal);
        Assert.False(File.Exists(stat[1]));
        Assert.Single(Operations(store));
    }

    [Fact]
    public async Task Should_Keep_A_Refused_Edit_From_The_Editor_And_Save_Nothing()
    {
        // Given an EDITOR that changes a port
        using var dir = new TempDirectory();
        var (tug, store) = Cluster(dir);
        var before = await File.ReadAllBytesAsync(store.MetaFile("c1"), TestContext.Current.CancellationToken);
        tug.Environment.Variables["EDITOR"] = "sed -i s/9090/9091/";

        // When (no answer on stdin to "edit again?")
        var result = await tug.RunAsync("cluster", "edit-config", "c1");

        // Then: refused, the edit kept where it was made, meta.yaml as it was
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("error[E1040]: monitoring_servers[0].port (host 192.0.2.1) changed from '9090' to '9091'", result.Stderr, StringComparison.Ordinal);
        var kept = Regex.Match(result.Stderr, @"the edited topology is kept in (\S+)").Groups[1].Value;
        Assert.Contains("port: 9091", await File.ReadAllTextAsync(kept, TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Directory.Delete(Path.GetDirectoryName(kept)!, recursive: true);
        Assert.Equal(before, await File.ReadAllBytesAsync(store.MetaFile("c1"), TestContext.Current.CancellationToken));
        Assert.Empty(Operations(store));
    }

    [Fact]
    public async Task Should_Refuse_When_The_Editor_Fails()
    {
        // Given
        using var dir = new TempDirectory();
        var (tug, store) = Cluster(dir);
        tug.Environment.Variables["EDITOR"] = "sed -i s/30d/15d/ \"$1\"; exit 3; :";

        // When
        var result = await tug.RunAsync("cluster", "edit-config", "c1", "-y");

        // Then
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("exited with status 3; nothing was saved", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("30d", store.Load("c1").Topology.Find("192.0.2.1:9090")!.Extras.GetString("storage_retention_time"));
    }

    [Fact]
    public async Task Should_Show_The_Diff_And_The_Plan_On_Dry_Run_And_Save_Nothing()
    {
        // Given
        using var dir = new TempDirectory();
        var (tug, store) = Cluster(dir);
        var before = await File.ReadAllBytesAsync(store.MetaFile("c1"), TestContext.Current.CancellationToken);
        var shown = await tug.SucceedAsync("cluster", "show-config", "c1");
        await File.WriteAllTextAsync(dir.Combine("new.yaml"), Edited(shown, "storage_retention_time: 30d", "storage_retention_time: 15d"), TestContext.Current.CancellationToken);

        // When
        var text = await tug.RunAsync("cluster", "edit-config", "c1", "--topology-file", "new.yaml", "--dry-run");
        var json = await tug.RunAsync("cluster", "edit-config", "c1", "--topology-file", "new.yaml", "--dry-run", "--format", "json");

        // Then: the diff, the one local step, and nothing saved or journaled
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains("+      storage_retention_time: 15d\n", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("save-meta", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("on control", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("dry run: nothing was changed", text.Stdout, StringComparison.Ordinal);
        Assert.True(json.ExitCode == 0, json.ToString());
        using var plan = JsonDocument.Parse(json.Stdout);
        var step = Assert.Single(plan.RootElement.GetProperty("plan").GetProperty("steps").EnumerateArray());
        Assert.Equal("save-meta", step.GetProperty("key").GetProperty("kind").GetString());
        Assert.Equal("local", step.GetProperty("login").GetString());
        Assert.Contains("storage_retention_time: 15d", plan.RootElement.GetProperty("plan").GetProperty("meta").GetString(), StringComparison.Ordinal);
        using var diff = JsonDocument.Parse(json.Stderr.Split('\n').First(l => l.Contains("\"event\":\"diff\"", StringComparison.Ordinal)));
        Assert.Contains("+      storage_retention_time: 15d\n", diff.RootElement.GetProperty("diff").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllBytesAsync(store.MetaFile("c1"), TestContext.Current.CancellationToken));
        Assert.False(Directory.Exists(Path.Combine(store.Directory("c1"), "operations")));
    }

    [Fact]
    public async Task Should_Save_Nothing_Without_Confirmation()
    {
        // Given
        using var dir = new TempDirectory();
        var (tug, store) = Cluster(dir);
        var before = await File.ReadAllBytesAsync(store.MetaFile("c1"), TestContext.Current.CancellationToken);
        var shown = await tug.SucceedAsync("cluster", "show-config", "c1");
        await File.WriteAllTextAsync(dir.Combine("new.yaml"), Edited(shown, "storage_retention_time: 30d", "storage_retention_time: 15d"), TestContext.Current.CancellationToken);

        // When no -y and nothing answers on stdin
        var result = await tug.RunAsync("cluster", "edit-config", "c1", "--topology-file", "new.yaml");

        // Then
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("edit-config cancelled; nothing was changed", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllBytesAsync(store.MetaFile("c1"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Should_Refuse_While_Another_Process_Holds_The_Clusters_Lock()
    {
        // Given another process (flock(1)) holding the cluster's lock
        using var dir = new TempDirectory();
        var (tug, store) = Cluster(dir);
        var before = await File.ReadAllBytesAsync(store.MetaFile("c1"), TestContext.Current.CancellationToken);
        var shown = await tug.SucceedAsync("cluster", "show-config", "c1");
        await File.WriteAllTextAsync(dir.Combine("new.yaml"), Edited(shown, "storage_retention_time: 30d", "storage_retention_time: 15d"), TestContext.Current.CancellationToken);
        var lockFile = Path.Combine(store.Directory("c1"), ClusterLock.LockFileName);
        await File.WriteAllTextAsync(lockFile, string.Empty, TestContext.Current.CancellationToken);
        using var holder = Process.Start(new ProcessStartInfo("/usr/bin/flock", ["-o", "-x", lockFile, "sleep", "60"]) { RedirectStandardError = true })!;
        try
        {
            for (var i = 0; i < 500 && !Held(lockFile); i++)
            {
                await Task.Delay(10, TestContext.Current.CancellationToken);
            }

            Assert.True(Held(lockFile), "flock did not take the lock");

            // When
            var result = await tug.RunAsync("cluster", "edit-config", "c1", "--topology-file", "new.yaml", "-y");

            // Then: refused at once, nothing saved
            Assert.True(result.ExitCode == 2, result.ToString());
            Assert.Contains("error[E4006]", result.Stderr, StringComparison.Ordinal);
            Assert.Equal(before, await File.ReadAllBytesAsync(store.MetaFile("c1"), TestContext.Current.CancellationToken));
        }
        finally
        {
            holder.Kill(entireProcessTree: true);
            await holder.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
    }

    private static bool Held(string file)
    {
        try
        {
            using var probe = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    [Fact]
    public async Task Should_Refuse_A_Cluster_That_Does_Not_Exist()
    {
        // Given
        using var dir = new TempDirectory();
        var tug = new CliRunner(dir.Path);

        // When
        var edit = await tug.RunAsync("cluster", "edit-config", "nope", "--topology-file", "x.yaml", "-y");
        var show = await tug.RunAsync("cluster", "show-config", "nope");

        // Then
        Assert.True(edit.ExitCode == 2, edit.ToString());
        Assert.Contains("error[E4001]", edit.Stderr, StringComparison.Ordinal);
        Assert.True(show.ExitCode == 2, show.ToString());
        Assert.Contains("error[E4001]", show.Stderr, StringComparison.Ordinal);
    }
}
