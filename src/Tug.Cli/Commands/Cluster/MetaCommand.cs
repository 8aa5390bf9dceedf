// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Cluster;

namespace Tug.Cli.Commands.Cluster;

public sealed record MetaBackupArguments(string Name, string? File, string Format);

public sealed record MetaRestoreArguments(string Name, string File, bool Yes, string Format);

/// <summary><c>tug cluster meta backup|restore</c>, as TiUP's: a tarball of the cluster's directory on this control machine.</summary>
public sealed class MetaCommand(MetaBackup backups, ClusterStore store, Renderer output, IOContext io, TimeProvider time, CommandLineArgs commandLine, ClusterInput input)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<MetaCommand>();
        var meta = new Command(CliConstants.MetaVerb, "Back up or restore the cluster's metadata on this control machine (TiUP's `meta backup` / `meta restore`).");

        {
            var name = ClusterOptions.Name();
            var file = new Option<string?>(CliConstants.FileOption) { Description = "The tarball to write (default: tug-cluster_NAME_metabackup_<RFC 3339 local time, ':' as '-'>.tar.gz here, TiUP's name with tiup as tug). An existing file is replaced." };
            var backup = new Command(CliConstants.MetaBackupVerb,
                "Write the cluster's directory ($TUG_HOME/clusters/NAME) as a .tar.gz in TiUP's layout (members relative to it: meta.yaml, ssh/id_rsa, backup/...), which `tiup cluster meta restore` also reads. Left out: the lock files (lock, lock.json: a lock is never state), operations/ (journals and stored plans: a replay must not run a plan made against other metadata; the audit log keeps the history) and temporary files. Tug adds tug-meta-backup.json (the cluster's name, the time, every file's sha256) so a restore refuses another cluster's or a damaged backup. The file holds the cluster's private key: it is written 0600. The cluster's lock is held while it reads, so a command changing the cluster is waited for never (refused at once) and no half-written state is captured.")
            {
                name, file,
            };
            backup.SetAction(p => handler.Backup(new MetaBackupArguments(p.GetValue(name)!, p.GetValue(file), p.GetValue(options.Format)!)));
            meta.Subcommands.Add(backup);
        }

        {
            var name = ClusterOptions.Name();
            var file = new Argument<string>("FILE") { Description = "A tarball `meta backup` wrote (Tug's or TiUP's)." };
            var restore = new Command(CliConstants.MetaRestoreVerb,
                "Replace the cluster's directory on this control machine with a meta backup (or create it), as TiUP's `meta restore`; nothing on the hosts changes. Refused, changing nothing: a backup Tug wrote for another cluster (TiUP's tarballs record no name and are restored under NAME, as TiUP does), a member outside the package rules (.., absolute names, devices, FIFOs, setuid bits, links), a file that does not match its recorded sha256, a meta.yaml that does not load, a cluster that is locked or has an interrupted operation. The new directory is written beside the old one, flushed, loaded, then swapped in with one atomic rename; operations/ of the replaced directory is not kept. Asks first unless -y. Audited.")
            {
                name, file,
            };
            restore.SetAction(p => handler.Restore(new MetaRestoreArguments(p.GetValue(name)!, p.GetValue(file)!, p.GetValue(options.Yes), p.GetValue(options.Format)!)));
            meta.Subcommands.Add(restore);
        }

        return meta;
    }

    public int Backup(MetaBackupArguments args)
    {
        ClusterStore.RefuseBadName(args.Name);
        var file = input.Resolve(args.File ?? MetaBackup.DefaultFileName(args.Name, time.GetLocalNow()));
        var result = backups.Backup(args.Name, file, AuditLog.CommandText(AuditLog.Redact(commandLine.Args, AuditLog.TugSwitches)));
        if (args.Format == "json")
        {
            output.Json(new { Cluster = args.Name, result.File, result.Bytes, result.Members, result.Interrupted });
            return ExitCodes.Success;
        }

        if (result.Interrupted is { } interrupted)
        {
            output.Warning($"cluster '{args.Name}' has an interrupted operation ({interrupted}); the backup holds the metadata as that operation left it, not its journal");
        }

        output.Line($"successfully backup meta of cluster {args.Name} on {result.File} ({result.Members.Length} file(s), {result.Bytes.ToString(CultureInfo.InvariantCulture)} bytes)");
        return ExitCodes.Success;
    }

    public int Restore(MetaRestoreArguments args)
    {
        ClusterStore.RefuseBadName(args.Name);
        var archive = MetaBackup.Read(args.Name, input.Resolve(args.File));
        var directory = store.Directory(args.Name);
        var exists = Directory.Exists(directory);
        output.Note(exists
            ? store.Exists(args.Name)
                ? $"the existing meta.yaml of cluster {args.Name} was last modified at {File.GetLastWriteTimeUtc(store.MetaFile(args.Name)).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}"
                : $"the meta.yaml of cluster {args.Name} does not exist"
            : $"meta of cluster {args.Name} didn't exist before restore");
        output.Note(archive.Created is { } created
            ? $"the backup of cluster '{archive.Cluster}' was taken at {created.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)} ({archive.Files.Count} file(s))"
            : $"the tarball records no cluster name (TiUP's format): it is restored as '{args.Name}'; it was last modified at {File.GetLastWriteTimeUtc(archive.File).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}");
        foreach (var skipped in archive.Skipped)
        {
            output.Note($"left out: {skipped}");
        }

        if (exists && !args.Yes && !io.Ask($"This operation will override topology file and other meta file of cluster {args.Name}. Are you sure to continue?"))
        {
            output.Note("restore cancelled; nothing was changed");
            return ExitCodes.Failure;
        }

        var result = backups.Restore(args.Name, archive, AuditLog.CommandText(AuditLog.Redact(commandLine.Args, AuditLog.TugSwitches)));
        if (args.Format == "json")
        {
            output.Json(new { Cluster = args.Name, archive.File, result.OperationId, result.Replaced, result.Files, Skipped = archive.Skipped });
        }
        else
        {
            output.Line($"restore meta of cluster {args.Name} successfully ({result.Files} file(s){(result.Replaced ? ", the previous directory replaced" : string.Empty)}; operation {result.OperationId})");
        }

        return ExitCodes.Success;
    }
}
