// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;

namespace Tug.Core.Cluster;

/// <summary>What <see cref="MetaBackup.Backup"/> wrote.</summary>
/// <param name="File">The tarball.</param>
/// <param name="Members">The files it holds, relative to the cluster's directory (the marker first).</param>
/// <param name="Bytes">Its size.</param>
/// <param name="Interrupted">An interrupted operation of the cluster when the backup was taken (its journal is not in the backup), or null.</param>
public sealed record MetaBackupResult(string File, ImmutableArray<string> Members, long Bytes, string? Interrupted);

/// <summary>A meta backup read and checked, ready to restore.</summary>
/// <param name="File">The tarball.</param>
/// <param name="Cluster">The cluster name its marker records; null for a tarball TiUP wrote (TiUP's format records no name).</param>
/// <param name="Created">When it was taken, from its marker (null without one).</param>
/// <param name="Files">Its files, relative to the cluster's directory, with their content.</param>
/// <param name="Directories">Its directories, relative to the cluster's directory.</param>
/// <param name="Skipped">Members it holds that a restore leaves out (a lock, journals), with why.</param>
public sealed record MetaArchive(string File, string? Cluster, DateTimeOffset? Created, ImmutableSortedDictionary<string, byte[]> Files, ImmutableArray<string> Directories, ImmutableArray<string> Skipped);

/// <summary>What <see cref="MetaBackup.Restore"/> did.</summary>
/// <param name="OperationId">The restore's operation in the audit log.</param>
/// <param name="Replaced">Whether a cluster directory was there before (and was replaced).</param>
/// <param name="Files">How many files were restored.</param>
public sealed record MetaRestoreResult(string OperationId, bool Replaced, int Files);

/// <summary>
/// <c>tug cluster meta backup</c> and <c>meta restore</c>, as TiUP's: a gzip-compressed tar of the cluster's directory
/// with member names relative to it (<c>meta.yaml</c>, <c>ssh/id_rsa</c>, ...), which TiUP's <c>meta restore</c> unpacks
/// as it is, and which this restores from a TiUP backup too.
/// </summary>
/// <remarks>
/// <para>
/// <b>What goes in.</b> Everything in the cluster's directory (meta.yaml, <c>ssh/</c> with the cluster's key,
/// <c>backup/</c> with the earlier meta.yaml copies, anything else there) except: <c>lock</c> and <c>lock.json</c> (a
/// lock is about a live process, never state to restore; the backup itself holds the lock while it reads, so
/// <c>lock.json</c> names it), <c>operations/</c> (journals and stored plans of earlier runs: replaying a plan made
/// against other metadata would be wrong, and the audit log keeps the history) and temporary files of an
/// interrupted write (<c>*.tmp-*</c>, dot files). Tug adds one member first, <c>tug-meta-backup.json</c>: the
/// cluster's name, the time, and every file's sha256, so a restore can refuse another cluster's backup or a damaged
/// one. TiUP's restore unpacks it as one more file, which does no harm.
/// </para>
/// <para>
/// <b>Restore.</b> The tarball is read whole (at most 64 MiB unpacked) and refused, changing nothing, when a member
/// breaks the package rules (<see cref="PackageMembers"/>: <c>..</c>, absolute names, devices, FIFOs, setuid bits,
/// links leading out) or is a symbolic link, when it has no meta.yaml, when its marker names another cluster or a
/// file does not match its hash, or when its meta.yaml does not load. The new directory is written beside
/// <c>clusters/</c>'s entries as <c>clusters/.restore-NAME-…/NAME</c>, flushed, loaded with
/// <see cref="ClusterStore.Load"/>, and only then swapped with the cluster's directory in one
/// <c>renameat2(RENAME_EXCHANGE)</c> under the cluster's lock; the old directory is removed after the swap. A crash
/// at any point leaves the old directory or the new one in place. Where the file system cannot swap, the old
/// directory is first renamed into the staging directory, then the new one into place (a crash between the two
/// renames leaves the old one there, the error names it).
/// </para>
/// </remarks>
public sealed class MetaBackup(ClusterStore store, AuditLog audit, TimeProvider time)
{
    /// <summary>The member Tug adds to a meta backup: which cluster, when, and every file's sha256.</summary>
    public const string MarkerName = "tug-meta-backup.json";

    /// <summary>The most a meta backup may hold unpacked.</summary>
    public const long MaxBytes = 64L * 1024 * 1024;

    private const string MarkerFormat = "tug-meta-backup/1";

    /// <summary>
    /// The default file name, as TiUP forms it with <c>tiup</c> replaced by <c>tug</c>:
    /// <c>tug-cluster_NAME_metabackup_2025-01-02T03-04-05+08-00.tar.gz</c> (RFC 3339 local time, colons as dashes).
    /// </summary>
    public static string DefaultFileName(string cluster, DateTimeOffset now)
    {
        var stamp = now.Offset == TimeSpan.Zero
            ? now.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture) + "Z"
            : now.ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture);
        return $"tug-cluster_{cluster}_metabackup_{stamp.Replace(':', '-')}.tar.gz";
    }

    /// <summary>Writes the cluster's directory as a meta backup to <paramref name="file"/> (0600, replaced atomically), holding the cluster's lock while it reads.</summary>
    /// <exception cref="ClusterException">Unknown cluster, a bad name, or another process holds the cluster's lock.</exception>
    /// <exception cref="IOException">The directory cannot be read or the file written.</exception>
    public MetaBackupResult Backup(string cluster, string file, string command)
    {
        ClusterStore.RefuseBadName(cluster);
        if (!store.Exists(cluster))
        {
            throw ClusterException.ClusterNotFound(cluster);
        }

        var directory = store.Directory(cluster);
        using var held = ClusterLock.Acquire(directory, LockHolder.ForThisProcess(OperationId.New(time), command, time));
        var interrupted = OperationJournal.Interrupted(directory);
        var directories = new List<string>();
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        Collect(directory, string.Empty, directories, files);
        var marker = DurableFile.Json(w =>
        {
            w.WriteString("format", MarkerFormat);
            w.WriteString("cluster", cluster);
            w.WriteString("created", DurableFile.FormatTime(time.GetUtcNow()));
            w.WriteStartObject("files");
            foreach (var (name, content) in files)
            {
                w.WriteString(name, Convert.ToHexStringLower(SHA256.HashData(content)));
            }

            w.WriteEndObject();
        }, newline: true);

        var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            var mtime = time.GetUtcNow();
            tar.WriteEntry(FileEntry(MarkerName, marker, mtime));
            foreach (var name in directories)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, name + "/") { Mode = PrivateFiles.DirectoryMode, ModificationTime = mtime });
            }

            foreach (var (name, content) in files)
            {
                tar.WriteEntry(FileEntry(name, content, mtime));
            }
        }

        var target = Path.GetFullPath(file);
        var temporary = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using (var stream = PrivateFiles.Open(temporary, FileMode.CreateNew, FileShare.None, bufferSize: 0))
            {
                stream.Write(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, target, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }

        return new MetaBackupResult(target, [MarkerName, .. files.Keys], buffer.Length, interrupted?.Id);
    }

    /// <summary>Reads and checks a meta backup for cluster <paramref name="cluster"/>; changes nothing.</summary>
    /// <exception cref="ClusterException"><see cref="ClusterException.BadInput"/>: not a readable meta backup of that cluster, naming the problem.</exception>
    public static MetaArchive Read(string cluster, string file)
    {
        ClusterStore.RefuseBadName(cluster);
        byte[] tar;
        try
        {
            using var input = File.OpenRead(file);
            using var gzip = new GZipStream(input, CompressionMode.Decompress);
            using var unpacked = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = gzip.Read(chunk)) > 0)
            {
                if (unpacked.Length + read > MaxBytes)
                {
                    throw Refused(file, $"it holds more than {MaxBytes / (1024 * 1024)} MiB unpacked; a cluster's metadata is far smaller");
                }

                unpacked.Write(chunk, 0, read);
            }

            tar = unpacked.ToArray();
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ClusterException(ClusterException.BadInput, $"{file} does not exist.", "Give the tarball `tug cluster meta backup` (or `tiup cluster meta backup`) wrote.", e);
        }
        catch (Exception e) when (e is InvalidDataException or IOException and not FileNotFoundException and not DirectoryNotFoundException or UnauthorizedAccessException)
        {
            throw Refused(file, $"it is not a readable .tar.gz ({e.Message})", e);
        }

        BadMember? bad;
        try
        {
            using var check = new MemoryStream(tar, writable: false);
            bad = PackageMembers.FindBad(check);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw Refused(file, $"it is not a readable tar archive ({e.Message})", e);
        }

        if (bad is not null)
        {
            throw Refused(file, $"{bad}: a meta backup holds only the files and directories of a cluster's directory");
        }

        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        var directories = new SortedSet<string>(StringComparer.Ordinal);
        var skipped = new List<string>();
        byte[]? marker = null;
        using (var stream = new MemoryStream(tar, writable: false))
        using (var reader = new TarReader(stream))
        {
            while (reader.GetNextEntry(copyData: true) is { } entry)
            {
                var name = Normal(entry.Name);
                if (name.Length == 0)
                {
                    continue;
                }

                var top = name.Split('/')[0];
                if (entry.EntryType is TarEntryType.SymbolicLink)
                {
                    throw Refused(file, $"member '{entry.Name}' is a symbolic link; a cluster's directory holds none");
                }

                if (name == MarkerName)
                {
                    marker = Content(entry);
                    continue;
                }

                if (Excluded(top, name) is { } why)
                {
                    if (!skipped.Any(s => s.StartsWith(top + ":", StringComparison.Ordinal)))
                    {
                        skipped.Add($"{top}: {why}");
                    }

                    continue;
                }

                if (entry.EntryType is TarEntryType.Directory)
                {
                    directories.Add(name);
                }
                else if (entry.EntryType is TarEntryType.HardLink)
                {
                    files[name] = files[Normal(entry.LinkName)];
                }
                else
                {
                    files[name] = Content(entry);
                }

                // Parents a tar writer did not list are made too.
                for (var parent = Path.GetDirectoryName(name)?.Replace('\\', '/'); !string.IsNullOrEmpty(parent); parent = Path.GetDirectoryName(parent)?.Replace('\\', '/'))
                {
                    directories.Add(parent);
                }
            }
        }

        if (!files.ContainsKey("meta.yaml"))
        {
            throw Refused(file, "it has no meta.yaml at its top, so it is not a meta backup (TiUP's and Tug's hold the cluster's directory: meta.yaml, ssh/, ...)");
        }

        string? recorded = null;
        DateTimeOffset? created = null;
        if (marker is not null)
        {
            try
            {
                using var document = JsonDocument.Parse(marker);
                var root = document.RootElement;
                if (DurableFile.String(root, "format") != MarkerFormat)
                {
                    throw new FormatException($"unknown format '{DurableFile.String(root, "format")}'");
                }

                recorded = DurableFile.String(root, "cluster");
                created = DurableFile.ParseTime(DurableFile.String(root, "created"));
                var hashes = root.GetProperty("files").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? string.Empty, StringComparer.Ordinal);
                foreach (var (name, hash) in hashes)
                {
                    if (!files.TryGetValue(name, out var content))
                    {
                        throw Refused(file, $"{MarkerName} lists {name}, which the tarball does not hold: it is incomplete");
                    }

                    if (Convert.ToHexStringLower(SHA256.HashData(content)) != hash)
                    {
                        throw Refused(file, $"{name} does not match the sha256 {MarkerName} recorded for it: the tarball was changed or damaged");
                    }
                }

                if (files.Keys.FirstOrDefault(f => !hashes.ContainsKey(f)) is { } extra)
                {
                    throw Refused(file, $"it holds {extra}, which {MarkerName} does not list: a file was added after the backup");
                }
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw Refused(file, $"its {MarkerName} cannot be read ({e.Message})", e);
            }

            if (recorded != cluster)
            {
                throw new ClusterException(ClusterException.BadInput,
                    $"{file} is a meta backup of cluster '{recorded}', not of '{cluster}'; nothing was changed.",
                    $"Restore it under its own name (`tug cluster meta restore {recorded} {file}`), then `tug cluster rename {recorded} {cluster}` if that is what you want. (TiUP's own tarballs record no name and are restored under the name given, as TiUP does.)");
            }
        }

        return new MetaArchive(file, recorded, created, files.ToImmutableSortedDictionary(StringComparer.Ordinal), [.. directories], [.. skipped]);
    }

    /// <summary>
    /// Replaces cluster <paramref name="cluster"/>'s directory with the archive's content (or creates it), atomically,
    /// under the cluster's lock, after checking that the restored meta.yaml loads; audited as one operation.
    /// </summary>
    /// <exception cref="ClusterException">The cluster is locked or has an interrupted operation, or the archive's meta.yaml does not load; nothing was changed.</exception>
    /// <exception cref="IOException">The new directory cannot be written (nothing was changed) or put in place (the error says where the old one is).</exception>
    public MetaRestoreResult Restore(string cluster, MetaArchive archive, string command)
    {
        var target = store.Directory(cluster);
        var clusters = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(target)))!;
        if (Path.GetDirectoryName(clusters) is { Length: > 0 } home)
        {
            PrivateFiles.CreateDirectory(home);
        }

        PrivateFiles.CreateDirectory(clusters);
        var staging = Path.Combine(clusters, $".restore-{cluster}-{Guid.NewGuid():N}");
        var staged = Path.Combine(staging, cluster);
        var id = OperationId.New(time);
        ClusterLock? held = null;
        var started = false;
        try
        {
            Write(staged, archive);
            try
            {
                new ClusterStore(staging, time).Load(cluster);
            }
            catch (ClusterException e)
            {
                throw new ClusterException(ClusterException.BadInput, $"{archive.File}: its meta.yaml does not load, so nothing was restored: {e.Message}",
                    "Restore another backup; the cluster was not changed.", e);
            }

            var replaced = Directory.Exists(target);
            if (replaced)
            {
                held = ClusterLock.Acquire(target, LockHolder.ForThisProcess(id, command, time));
                if (OperationJournal.Interrupted(target) is { } interrupted)
                {
                    throw new ClusterException(ClusterException.Interrupted,
                        $"Cluster '{cluster}' has an interrupted `{interrupted.Header.Operation}` (operation {interrupted.Id}); restoring its metadata now would lose what that operation did to the hosts. Nothing was changed.",
                        $"Finish it with `tug cluster replay {cluster}` first (or close it with --force on the next command), then restore.");
                }
            }

            audit.Append(AuditEvent.Started(id, cluster, command));
            started = true;
            if (!replaced)
            {
                Posix.RenameNoReplace(staged, target);
            }
            else if (!Posix.TryExchange(staged, target))
            {
                var old = Path.Combine(staging, cluster + ".old");
                Directory.Move(target, old);
                try
                {
                    Posix.RenameNoReplace(staged, target);
                }
                catch (IOException e)
                {
                    throw new IOException($"the restored directory could not be put in place ({e.Message}); the cluster's previous directory is {old}: move it back to {target}.", e);
                }
            }

            Posix.SyncDirectory(clusters);
            audit.Append(AuditEvent.Ended(id, cluster, command, JournalOutcome.Succeeded, ExitCodes.Success,
                $"meta restored from {archive.File} ({archive.Files.Count} file(s)){(replaced ? "; the previous directory was replaced" : string.Empty)}"));
            return new MetaRestoreResult(id, replaced, archive.Files.Count);
        }
        catch (Exception e) when (started)
        {
            audit.Append(AuditEvent.Ended(id, cluster, command, JournalOutcome.Failed, e is TugException t ? t.ExitCode : ExitCodes.Unexpected, e.Message));
            throw;
        }
        finally
        {
            held?.Dispose();
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    private static void Write(string staged, MetaArchive archive)
    {
        PrivateFiles.CreateDirectory(Path.GetDirectoryName(staged)!);
        PrivateFiles.CreateDirectory(staged);
        foreach (var directory in archive.Directories)
        {
            PrivateFiles.CreateDirectory(Path.Combine(staged, directory));
        }

        foreach (var (name, content) in archive.Files)
        {
            var path = Path.Combine(staged, name);
            using var stream = PrivateFiles.Open(path, FileMode.CreateNew, FileShare.None, bufferSize: 0);
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        foreach (var directory in archive.Directories.Reverse())
        {
            Posix.SyncDirectory(Path.Combine(staged, directory));
        }

        Posix.SyncDirectory(staged);
    }

    private static void Collect(string root, string relative, List<string> directories, SortedDictionary<string, byte[]> files)
    {
        var here = relative.Length == 0 ? root : Path.Combine(root, relative);
        foreach (var entry in new DirectoryInfo(here).EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            var name = relative.Length == 0 ? entry.Name : $"{relative}/{entry.Name}";
            if (Excluded(name.Split('/')[0], name) is not null)
            {
                continue;
            }

            if (entry.LinkTarget is not null)
            {
                throw new ClusterException(ClusterException.StateBroken, $"{entry.FullName} is a symbolic link; a cluster's directory holds none, so it is not backed up.",
                    "Replace the link with the file it points to, then back up again. Nothing was written.");
            }

            if (entry is DirectoryInfo)
            {
                directories.Add(name);
                Collect(root, name, directories, files);
            }
            else if (entry is FileInfo { } fileInfo && (fileInfo.Attributes & FileAttributes.Device) == 0)
            {
                files[name] = File.ReadAllBytes(entry.FullName);
            }
        }
    }

    /// <summary>Why a member of the cluster's directory stays out of a backup (and a restore), or null.</summary>
    private static string? Excluded(string top, string name) => top switch
    {
        ClusterLock.LockFileName or ClusterLock.HolderFileName => "a lock, never restored",
        OperationJournal.OperationsDirectoryName => "journals of earlier runs, never restored",
        _ when name.Split('/')[^1].StartsWith('.') || name.Contains(".tmp-", StringComparison.Ordinal) => "a temporary file",
        _ => null,
    };

    private static string Normal(string name) => string.Join('/', name.Split('/').Where(p => p is not ("" or ".")));

    private static byte[] Content(TarEntry entry)
    {
        if (entry.DataStream is null)
        {
            return [];
        }

        using var copy = new MemoryStream();
        entry.DataStream.CopyTo(copy);
        return copy.ToArray();
    }

    private static PaxTarEntry FileEntry(string name, byte[] content, DateTimeOffset mtime) =>
        new(TarEntryType.RegularFile, name) { Mode = PrivateFiles.FileMode, ModificationTime = mtime, DataStream = new MemoryStream(content, writable: false) };

    private static ClusterException Refused(string file, string why, Exception? inner = null) =>
        new(ClusterException.BadInput, $"{file} cannot be restored: {why}; nothing was changed.",
            "Give the tarball `tug cluster meta backup` (or `tiup cluster meta backup`) wrote for this cluster.", inner);
}
