// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Runtime.InteropServices;
using System.Text;
using Tug.Core.Cluster;
using Tug.Core.Planning;
using Tug.Core.Remote;
using Tug.Core.Tests.Cluster;
using Tug.Core.Tests.Infrastructure;
using Tug.Core.Topology;

namespace Tug.Core.Tests.Safety;

/// <summary>Issue 11 item 5: state files fail safe (never an empty cluster, never a bug) and are private whatever the umask.</summary>
public sealed class StateFileTests
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode PrivateDirectory = Private | UnixFileMode.UserExecute;

    /// <summary>A meta.yaml as the store writes it (with its first and last lines).</summary>
    private static string GoodMeta()
    {
        using var dir = new TempDirectory("writer");
        var store = new ClusterStore(dir.Root, TimeProvider.System);
        store.Save("c", new ClusterMeta { User = "tidb", Version = "v3.4.23", Topology = Topologies.Etcd });
        return File.ReadAllText(store.MetaFile("c"));
    }

    private static (ClusterStore Store, string Root) Store(TempDirectory dir, string? meta)
    {
        var store = new ClusterStore(dir.Root, TimeProvider.System);
        if (meta is not null)
        {
            File.WriteAllText(store.MetaFile("prod"), meta);
        }

        return (store, dir.Root);
    }

    public static TheoryData<string, string> BrokenMetas()
    {
        var good = GoodMeta();
        return new()
        {
            { "empty", "" },
            { "whitespace", "\n\n   \n" },
            { "comment only", "# nothing here\n" },
            { "truncated before the topology", good[..good.IndexOf("topology:", StringComparison.Ordinal)] },
            { "truncated in the first instance", good[..(good.IndexOf("etcd_servers:", StringComparison.Ordinal) + 14)] },
            { "truncated mid-line", good[..(good.IndexOf("tidb_version", StringComparison.Ordinal) + 5)] },
            { "binary garbage", "\u0001\u0002\u00ff\u0000\u0010PK\u0003\u0004" },
            { "unclosed quote", "user: \"tidb\ntidb_version: v3.4.23\n" },
            { "a list, not a mapping", "- user\n- tidb\n" },
            { "no instances", "user: tidb\ntidb_version: v3.4.23\ntopology:\n    global:\n        user: tidb\n" },
            { "no user", good.Replace("user: tidb\n", "", StringComparison.Ordinal) },
            { "truncated in the middle", good[..(good.Length / 2)] },
            { "truncated by one line", good[..^ClusterStore.MetaFooter.Length] },
        };
    }

    [Theory]
    [MemberData(nameof(BrokenMetas))]
    public void Should_Refuse_A_Broken_Meta_Yaml_Naming_The_File_Never_As_An_Empty_Cluster(string why, string content)
    {
        using var dir = new TempDirectory();
        var (store, _) = Store(dir, content);

        var e = Assert.Throws<ClusterException>(() => store.Load("prod"));

        Assert.True(e.Code == ClusterException.MetaBroken, why);
        Assert.Equal(2, e.ExitCode);
        Assert.Contains(store.MetaFile("prod"), e.Message, StringComparison.Ordinal);
        Assert.Contains("destroy prod --force", e.Hint, StringComparison.Ordinal);
        Assert.Equal(content, File.ReadAllText(store.MetaFile("prod")));
    }

    [Fact]
    public void Should_Name_Line_And_Column_Of_A_Syntax_Error_In_Meta_Yaml()
    {
        using var dir = new TempDirectory();
        var (store, _) = Store(dir, "user: tidb\ntidb_version: v3.4.23\ntopology:\n    etcd_servers:\n        - host: [10.0.0.1\n");
        var e = Assert.Throws<ClusterException>(() => store.Load("prod"));
        Assert.Matches(@"meta\.yaml:\d+:\d+: error\[E1002\]", e.Message);
    }

    [Fact]
    public void Should_Still_Read_A_Good_Meta_Yaml_And_One_TiUP_Wrote()
    {
        using var dir = new TempDirectory();
        var (store, _) = Store(dir, GoodMeta());
        Assert.NotEmpty(store.Load("prod").Topology.Servers);
        File.WriteAllText(store.MetaFile("prod"), ClusterMetaSerializer.Serialize(new ClusterMeta { User = "tidb", Version = "v3.4.23", Topology = Topologies.Etcd }));
        Assert.NotEmpty(store.Load("prod").Topology.Servers);
    }

    [Fact]
    public void Should_Create_Meta_And_Its_Directories_Private_Under_Umask_000()
    {
        using var dir = new TempDirectory();
        var clusters = Path.Combine(dir.Root, "home", "clusters");
        var store = new ClusterStore(clusters, TimeProvider.System);
        var meta = new ClusterMeta { User = "tidb", Version = "v3.4.23", Topology = Topologies.Etcd };

        WithUmask000(() =>
        {
            store.Save("c1", meta);
            store.Save("c1", meta);
        });

        Assert.Equal(PrivateDirectory, File.GetUnixFileMode(Path.Combine(dir.Root, "home")));
        Assert.Equal(PrivateDirectory, File.GetUnixFileMode(clusters));
        Assert.Equal(PrivateDirectory, File.GetUnixFileMode(store.Directory("c1")));
        Assert.Equal(Private, File.GetUnixFileMode(store.MetaFile("c1")));
        var backup = Path.Combine(store.Directory("c1"), "backup");
        Assert.Equal(PrivateDirectory, File.GetUnixFileMode(backup));
        Assert.All(Directory.GetFiles(backup), f => Assert.Equal(Private, File.GetUnixFileMode(f)));
    }

    [Fact]
    public void Should_Create_Journal_Lock_And_Audit_Files_Private_Under_Umask_000()
    {
        using var dir = new TempDirectory();
        var time = TimeProvider.System;
        var audit = new AuditLog(Path.Combine(dir.Root, "audit"), time);
        var journalPath = "";
        WithUmask000(() =>
        {
            using (ClusterLock.Acquire(dir.Path, LockHolder.ForThisProcess("op-1", "tug cluster upgrade prod", time)))
            {
                Assert.Equal(Private, File.GetUnixFileMode(Path.Combine(dir.Path, ClusterLock.HolderFileName)));
            }

            using var journal = OperationJournal.Begin(dir.Path, JournalHeader.ForThisProcess(OperationId.New(time), "prod", "upgrade", ["prod"], time), time);
            journal.Planned("stage h1");
            journalPath = journal.FilePath;
            audit.Append(AuditEvent.Started(journal.Id, "prod", "tug cluster upgrade prod"));
        });

        Assert.Equal(Private, File.GetUnixFileMode(Path.Combine(dir.Path, ClusterLock.LockFileName)));
        Assert.Equal(Private, File.GetUnixFileMode(journalPath));
        Assert.Equal(PrivateDirectory, File.GetUnixFileMode(Path.GetDirectoryName(journalPath)!));
        Assert.Equal(PrivateDirectory, File.GetUnixFileMode(Path.Combine(dir.Path, OperationJournal.OperationsDirectoryName)));
        Assert.Equal(PrivateDirectory, File.GetUnixFileMode(Path.Combine(dir.Root, "audit")));
        Assert.Equal(Private, File.GetUnixFileMode(audit.FilePath));
        Assert.Equal(Private, File.GetUnixFileMode(audit.HeadPath));
    }

    [Fact]
    public void Should_Create_The_Cluster_Key_Private_Under_Umask_000()
    {
        using var dir = new TempDirectory();
        var ssh = Path.Combine(dir.Path, "ssh");
        WithUmask000(() => SshKeys.EnsureKeyPair(ssh, "tug"));
        Assert.Equal(PrivateDirectory, File.GetUnixFileMode(ssh));
        Assert.Equal(Private, File.GetUnixFileMode(Path.Combine(ssh, "id_rsa")));
        Assert.Equal(Private, File.GetUnixFileMode(Path.Combine(ssh, "id_rsa.pub")));
    }

    public static TheoryData<string, byte[]> CorruptFiles() => new()
    {
        { "binary", [0x00, 0xff, 0x10, 0x7b, 0x22, 0x0a, 0x80, 0x81] },
        { "truncated", Encoding.UTF8.GetBytes("{\"type\":\"begin\",\"id\":\"2025") },
        { "deep", Encoding.UTF8.GetBytes(new string('[', 20_000)) },
        { "wrong types", Encoding.UTF8.GetBytes("{\"type\":\"begin\",\"id\":5,\"pid\":\"x\",\"started\":[],\"args\":{}}\n{\"type\":\"step\",\"seq\":1e400,\"state\":\"done\"}\n") },
        { "huge numbers", Encoding.UTF8.GetBytes("{\"type\":\"begin\",\"id\":\"a\",\"cluster\":\"prod\",\"operation\":\"x\",\"started\":\"9999-99-99\",\"pid\":99999999999}\n") },
    };

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public void Should_Skip_A_Corrupt_Journal_Without_A_Bug(string why, byte[] content)
    {
        using var dir = new TempDirectory();
        var time = TimeProvider.System;
        var id = OperationId.New(time);
        var path = OperationJournal.PathOf(dir.Path, id);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);

        var list = OperationJournal.List(dir.Path);

        // Then a line that does not read is skipped (a journal without a readable header is no operation), never a bug
        Assert.True(list.All(o => o.Header.Cluster is not null), why);
        _ = OperationJournal.Interrupted(dir.Path);
        _ = OperationJournal.Replayable(dir.Path);
        Assert.Equal(content, File.ReadAllBytes(path));
    }

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public void Should_Treat_A_Corrupt_Lock_Holder_As_Unknown_And_Still_Lock(string why, byte[] content)
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(Path.Combine(dir.Path, ClusterLock.HolderFileName), content);
        Assert.True(ClusterLock.Peek(dir.Path) is null or { Holder: null }, why);
        using var held = ClusterLock.Acquire(dir.Path, LockHolder.ForThisProcess("op-2", "tug cluster stop prod", TimeProvider.System));
        Assert.Null(held.Stale);
    }

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public void Should_Refuse_A_Corrupt_Stored_Plan_With_A_Tug_Error(string why, byte[] content)
    {
        var e = Assert.Throws<ClusterException>(() => PlanJson.Deserialize(Encoding.UTF8.GetString(content), "plan.json"));
        Assert.True(e.Code is ClusterException.StateBroken or ClusterException.BadInput, why);
        Assert.Contains("plan.json", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"format\":1,\"plan\":{\"operation\":\"upgrade\",\"cluster\":\"prod\"}}")]
    [InlineData("{\"format\":1,\"plan\":{\"operation\":\"upgrade\",\"cluster\":\"prod\",\"steps\":[null]}}")]
    [InlineData("{\"format\":1,\"plan\":{\"operation\":\"upgrade\",\"cluster\":\"prod\",\"steps\":[{\"wave\":\"x\"}]}}")]
    [InlineData("{\"format\":1,\"plan\":{\"operation\":\"upgrade\",\"cluster\":\"prod\",\"steps\":[{}]}}")]
    public void Should_Refuse_A_Stored_Plan_Missing_Its_Parts(string json)
    {
        var e = Assert.Throws<ClusterException>(() => PlanJson.Deserialize(json, "plan.json"));
        Assert.Contains("plan.json", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public void Should_Keep_Appending_To_An_Audit_Log_Whose_Head_Is_Corrupt_Or_Refuse_Clearly(string why, byte[] content)
    {
        using var dir = new TempDirectory();
        var audit = new AuditLog(Path.Combine(dir.Root, "audit"), TimeProvider.System);
        audit.Append(AuditEvent.Started("op-1", "prod", "tug cluster stop prod"));
        File.WriteAllBytes(audit.HeadPath, content);
        File.AppendAllText(audit.FilePath, Encoding.UTF8.GetString(content) + "\n");
        try
        {
            audit.Append(AuditEvent.Started("op-2", "prod", "tug cluster stop prod"));
        }
        catch (TugException e)
        {
            Assert.False(string.IsNullOrEmpty(e.Code), why);
        }

        var verification = audit.Verify();
        Assert.NotNull(verification);
        _ = audit.Read();
        _ = audit.Operations();
    }

    private static void WithUmask000(Action action)
    {
        var previous = Umask(0);
        try
        {
            action();
        }
        finally
        {
            _ = Umask(previous);
        }
    }

#pragma warning disable SYSLIB1054 // a plain libc call; no marshalling to generate
    [DllImport("libc", EntryPoint = "umask")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern uint Umask(uint mask);
#pragma warning restore SYSLIB1054

}
