// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Tug.Core.Cluster;
using Tug.Core.Tests.Execution;

namespace Tug.Core.Tests.Cluster;

/// <summary><c>meta backup</c> / <c>meta restore</c>: TiUP's tarball of the cluster's directory, without locks or journals, restored atomically and only when it checks out.</summary>
public sealed class MetaBackupTests
{
    private const string Prod = ExecutorFixture.Prod;

    private static MetaBackup Backups(ExecutorFixture f) => new(f.Store, f.Audit, TimeProvider.System);

    /// <summary>The cluster's directory as a deployed one looks: a key, an earlier meta copy, a journal, a released lock.</summary>
    private static void Populate(ExecutorFixture f)
    {
        Directory.CreateDirectory(f.Store.SshDirectory(Prod));
        File.WriteAllText(f.Store.KeyFile(Prod), "PRIVATE KEY\n");
        File.WriteAllText(f.Store.KeyFile(Prod) + ".pub", "ssh-ed25519 AAAA tug-cluster-prod\n");
        f.Store.Save(Prod, f.Store.Load(Prod));
        var journal = Path.Combine(f.ClusterDirectory, "operations", "abc", "journal.jsonl");
        Directory.CreateDirectory(Path.GetDirectoryName(journal)!);
        File.WriteAllText(journal, "{}\n");
        ClusterLock.Acquire(f.ClusterDirectory, LockHolder.ForThisProcess("op", "tug test", TimeProvider.System)).Dispose();
    }

    private static List<(string Name, TarEntryType Type, UnixFileMode Mode)> Members(string tarball)
    {
        using var file = File.OpenRead(tarball);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        var result = new List<(string, TarEntryType, UnixFileMode)>();
        while (reader.GetNextEntry() is { } entry)
        {
            result.Add((entry.Name, entry.EntryType, entry.Mode));
        }

        return result;
    }

    /// <summary>A tarball as TiUP's <c>utils.Tar</c> writes one: names relative to the cluster's directory, directories without a trailing slash, no marker.</summary>
    private static string TiupTarball(string directory, params (string Name, TarEntryType Type, string Content, string? Link)[] members)
    {
        var path = Path.Combine(directory, $"tiup-{Guid.NewGuid():N}.tar.gz");
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var writer = new TarWriter(gzip, TarEntryFormat.Gnu);
        foreach (var (name, type, content, link) in members)
        {
            var entry = new GnuTarEntry(type, name) { Mode = (UnixFileMode)Convert.ToInt32("644", 8) };
            if (link is not null)
            {
                entry.LinkName = link;
            }

            if (type == TarEntryType.RegularFile)
            {
                entry.DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content));
            }

            writer.WriteEntry(entry);
        }

        return path;
    }

    [Fact]
    public void Should_Write_The_Cluster_Directory_Without_Locks_Or_Journals()
    {
        // Given
        using var f = new ExecutorFixture();
        Populate(f);
        var tarball = Path.Combine(f.Root, "b.tar.gz");

        // When
        var result = Backups(f).Backup(Prod, tarball, "tug cluster meta backup prod");

        // Then: the marker, then TiUP's layout (names relative to the cluster's directory); no lock, no journal; 0600
        var members = Members(tarball);
        Assert.Equal(MetaBackup.MarkerName, members[0].Name);
        Assert.Contains(members, m => m.Name == "meta.yaml" && m.Type == TarEntryType.RegularFile);
        Assert.Contains(members, m => m.Name == "ssh/id_rsa");
        Assert.Contains(members, m => m.Name == "ssh/" && m.Type == TarEntryType.Directory);
        Assert.Contains(members, m => m.Name.StartsWith("backup/meta-", StringComparison.Ordinal));
        Assert.DoesNotContain(members, m => m.Name.StartsWith("lock", StringComparison.Ordinal) || m.Name.StartsWith("operations", StringComparison.Ordinal));
        Assert.All(members.Where(m => m.Type == TarEntryType.RegularFile), m => Assert.Equal(PrivateFiles.FileMode, m.Mode));
        Assert.Equal(PrivateFiles.FileMode, File.GetUnixFileMode(tarball));
        Assert.Equal(result.Members, members.Where(m => m.Type == TarEntryType.RegularFile).Select(m => m.Name));

        // And: the lock it held while reading is released
        Assert.Null(ClusterLock.Peek(f.ClusterDirectory));
    }

    [Fact]
    public void Should_Refuse_To_Back_Up_While_Another_Holds_The_Lock()
    {
        // Given
        using var f = new ExecutorFixture();
        using var other = ClusterLock.Acquire(f.ClusterDirectory, LockHolder.ForThisProcess("op", "tug cluster upgrade prod", TimeProvider.System));
        var tarball = Path.Combine(f.Root, "b.tar.gz");

        // When
        var e = Assert.Throws<ClusterException>(() => Backups(f).Backup(Prod, tarball, "tug cluster meta backup prod"));

        // Then
        Assert.Equal(ClusterException.Locked, e.Code);
        Assert.False(File.Exists(tarball));
    }

    [Fact]
    public void Should_Restore_What_Was_Backed_Up_And_Audit_It()
    {
        // Given: a backup, then the cluster changes
        using var f = new ExecutorFixture();
        Populate(f);
        var tarball = Path.Combine(f.Root, "b.tar.gz");
        var backups = Backups(f);
        backups.Backup(Prod, tarball, "tug cluster meta backup prod");
        var meta = File.ReadAllBytes(f.Store.MetaFile(Prod));
        f.Store.Save(Prod, f.Store.Load(Prod) with { Version = "v9.9.9" });
        File.WriteAllText(f.Store.KeyFile(Prod), "ANOTHER KEY\n");

        // When
        var archive = MetaBackup.Read(Prod, tarball);
        var result = backups.Restore(Prod, archive, "tug cluster meta restore prod b.tar.gz");

        // Then: meta.yaml and the key as backed up; no journal; private modes; audited; no staging left
        Assert.True(result.Replaced);
        Assert.Equal(meta, File.ReadAllBytes(f.Store.MetaFile(Prod)));
        Assert.Equal("PRIVATE KEY\n", File.ReadAllText(f.Store.KeyFile(Prod)));
        Assert.Equal("v3.5.17", f.Store.Load(Prod).Version);
        Assert.False(Directory.Exists(Path.Combine(f.ClusterDirectory, "operations")));
        Assert.False(File.Exists(Path.Combine(f.ClusterDirectory, MetaBackup.MarkerName)));
        Assert.Equal(PrivateFiles.FileMode, File.GetUnixFileMode(f.Store.KeyFile(Prod)));
        Assert.Equal(PrivateFiles.DirectoryMode, File.GetUnixFileMode(f.Store.SshDirectory(Prod)));
        Assert.Equal([Prod], f.Store.ListDirectories());
        Assert.Single(Directory.GetDirectories(Path.GetDirectoryName(f.ClusterDirectory)!));
        var audited = f.Audit.Operations().Single(o => o.Id == result.OperationId);
        Assert.Equal((Prod, AuditOutcome.Succeeded), (audited.Cluster, audited.Outcome));
        Assert.True(f.Audit.Verify().Ok);
    }

    [Fact]
    public void Should_Restore_A_Cluster_That_Is_Gone()
    {
        // Given
        using var f = new ExecutorFixture();
        var tarball = Path.Combine(f.Root, "b.tar.gz");
        Backups(f).Backup(Prod, tarball, "tug cluster meta backup prod");
        f.Store.Delete(Prod);

        // When
        var result = Backups(f).Restore(Prod, MetaBackup.Read(Prod, tarball), "tug cluster meta restore prod b.tar.gz");

        // Then
        Assert.False(result.Replaced);
        Assert.Equal("v3.5.17", f.Store.Load(Prod).Version);
    }

    [Fact]
    public void Should_Refuse_The_Backup_Of_Another_Cluster()
    {
        // Given
        using var f = new ExecutorFixture();
        var tarball = Path.Combine(f.Root, "b.tar.gz");
        Backups(f).Backup(Prod, tarball, "tug cluster meta backup prod");

        // When
        var e = Assert.Throws<ClusterException>(() => MetaBackup.Read("staging", tarball));

        // Then
        Assert.Equal(ClusterException.BadInput, e.Code);
        Assert.Contains("of cluster 'prod', not of 'staging'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Refuse_A_File_That_Was_Changed_After_The_Backup()
    {
        // Given: a backup whose meta.yaml is replaced by another (valid) one
        using var f = new ExecutorFixture();
        var tarball = Path.Combine(f.Root, "b.tar.gz");
        Backups(f).Backup(Prod, tarball, "tug cluster meta backup prod");
        var members = new List<(string, byte[])>();
        using (var file = File.OpenRead(tarball))
        using (var gzip = new GZipStream(file, CompressionMode.Decompress))
        using (var reader = new TarReader(gzip))
        {
            while (reader.GetNextEntry(copyData: true) is { } entry)
            {
                using var copy = new MemoryStream();
                entry.DataStream?.CopyTo(copy);
                members.Add((entry.Name, entry.Name == "meta.yaml" ? Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(copy.ToArray()).Replace("v3.5.17", "v3.5.18", StringComparison.Ordinal)) : copy.ToArray()));
            }
        }

        var edited = Path.Combine(f.Root, "edited.tar.gz");
        using (var file = File.Create(edited))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        using (var writer = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            foreach (var (name, content) in members)
            {
                writer.WriteEntry(name.EndsWith('/') ? new PaxTarEntry(TarEntryType.Directory, name) : new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) });
            }
        }

        // When
        var e = Assert.Throws<ClusterException>(() => MetaBackup.Read(Prod, edited));

        // Then
        Assert.Contains("meta.yaml does not match the sha256", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Restore_A_Tarball_TiUP_Wrote_Under_The_Name_Given()
    {
        // Given: TiUP's layout, no marker
        using var f = new ExecutorFixture();
        var meta = File.ReadAllText(f.Store.MetaFile(Prod));
        var tarball = TiupTarball(f.Root,
            ("meta.yaml", TarEntryType.RegularFile, meta, null),
            ("ssh", TarEntryType.Directory, "", null),
            ("ssh/id_rsa", TarEntryType.RegularFile, "KEY\n", null));

        // When
        var archive = MetaBackup.Read("other", tarball);
        Backups(f).Restore("other", archive, "tug cluster meta restore other t.tar.gz");

        // Then
        Assert.Null(archive.Cluster);
        Assert.Equal(meta, File.ReadAllText(f.Store.MetaFile("other")));
        Assert.Equal("KEY\n", File.ReadAllText(f.Store.KeyFile("other")));
    }

    [Theory]
    [InlineData("../escape", TarEntryType.RegularFile, null, "'..' part")]
    [InlineData("/etc/passwd", TarEntryType.RegularFile, null, "absolute path")]
    [InlineData("dev", TarEntryType.CharacterDevice, null, "character device")]
    [InlineData("fifo", TarEntryType.Fifo, null, "FIFO")]
    [InlineData("out", TarEntryType.SymbolicLink, "../../x", "points outside")]
    [InlineData("in", TarEntryType.SymbolicLink, "meta.yaml", "symbolic link")]
    [InlineData("h", TarEntryType.HardLink, "/etc/shadow", "hard link")]
    public void Should_Refuse_A_Member_Outside_The_Rules_And_Change_Nothing(string name, TarEntryType type, string? link, string reason)
    {
        // Given
        using var f = new ExecutorFixture();
        var meta = File.ReadAllBytes(f.Store.MetaFile(Prod));
        var tarball = TiupTarball(f.Root, ("meta.yaml", TarEntryType.RegularFile, File.ReadAllText(f.Store.MetaFile(Prod)), null), (name, type, "x", link));

        // When
        var e = Assert.Throws<ClusterException>(() => MetaBackup.Read(Prod, tarball));

        // Then
        Assert.Equal(ClusterException.BadInput, e.Code);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.Equal(meta, File.ReadAllBytes(f.Store.MetaFile(Prod)));
    }

    [Fact]
    public void Should_Refuse_A_Tarball_Without_Meta_And_One_Whose_Meta_Does_Not_Load()
    {
        // Given
        using var f = new ExecutorFixture();
        var before = File.ReadAllBytes(f.Store.MetaFile(Prod));
        var none = TiupTarball(f.Root, ("ssh/id_rsa", TarEntryType.RegularFile, "KEY", null));
        var broken = TiupTarball(f.Root, ("meta.yaml", TarEntryType.RegularFile, "user: tidb\n", null));

        // When
        var e1 = Assert.Throws<ClusterException>(() => MetaBackup.Read(Prod, none));
        var e2 = Assert.Throws<ClusterException>(() => Backups(f).Restore(Prod, MetaBackup.Read(Prod, broken), "tug cluster meta restore prod x"));

        // Then: nothing changed, nothing audited, no staging directory left
        Assert.Contains("no meta.yaml", e1.Message, StringComparison.Ordinal);
        Assert.Contains("does not load", e2.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(f.Store.MetaFile(Prod)));
        Assert.Empty(f.Audit.Read());
        Assert.Single(Directory.GetDirectories(Path.GetDirectoryName(f.ClusterDirectory)!));
    }

    [Fact]
    public void Should_Refuse_To_Restore_While_Locked_Or_Interrupted()
    {
        // Given
        using var f = new ExecutorFixture();
        var tarball = Path.Combine(f.Root, "b.tar.gz");
        Backups(f).Backup(Prod, tarball, "tug cluster meta backup prod");
        var archive = MetaBackup.Read(Prod, tarball);

        // When: another process holds the lock
        ClusterException locked;
        using (ClusterLock.Acquire(f.ClusterDirectory, LockHolder.ForThisProcess("op", "tug cluster upgrade prod", TimeProvider.System)))
        {
            locked = Assert.Throws<ClusterException>(() => Backups(f).Restore(Prod, archive, "tug cluster meta restore prod b"));
        }

        // And: an operation was interrupted (its journal has no end)
        OperationJournal.Begin(f.ClusterDirectory, JournalHeader.ForThisProcess(OperationId.New(TimeProvider.System), Prod, "upgrade", ["cluster", "upgrade", Prod], TimeProvider.System), TimeProvider.System).Dispose();
        var interrupted = Assert.Throws<ClusterException>(() => Backups(f).Restore(Prod, archive, "tug cluster meta restore prod b"));

        // Then
        Assert.Equal(ClusterException.Locked, locked.Code);
        Assert.Equal(ClusterException.Interrupted, interrupted.Code);
        Assert.Single(OperationJournal.List(f.ClusterDirectory));
    }

    [Fact]
    public void Should_Name_The_File_As_TiUP_Does_With_Tug_For_Tiup()
    {
        Assert.Equal("tug-cluster_prod_metabackup_2025-01-02T03-04-05+08-00.tar.gz", MetaBackup.DefaultFileName(Prod, new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.FromHours(8))));
        Assert.Equal("tug-cluster_prod_metabackup_2025-01-02T03-04-05Z.tar.gz", MetaBackup.DefaultFileName(Prod, new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero)));
    }
}
