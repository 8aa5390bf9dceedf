// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Text;
using System.Text.RegularExpressions;
using Tug.Core.Components;
using Tug.Core.Execution.Steps;
using Tug.Core.Planning;
using Tug.Core.Remote;
using Tug.Core.Topology;

namespace Tug.Core.Cluster;

/// <summary>A TiUP cluster's state read from a cluster directory or a meta backup tarball, checked, not yet imported.</summary>
/// <param name="Source">The directory or tarball given.</param>
/// <param name="Name">The name the cluster gets here.</param>
/// <param name="Meta">Its meta.yaml, read as TiUP writes it.</param>
/// <param name="Files">Every file to keep, relative to the cluster's directory (<c>meta.yaml</c>, <c>ssh/id_rsa</c>, <c>tls/...</c>, <c>backup/...</c>), with its bytes.</param>
public sealed record ImportSource(string Source, string Name, ClusterMeta Meta, ImmutableSortedDictionary<string, byte[]> Files);

/// <summary>What import found for one instance.</summary>
/// <param name="Id">Instance ID (<c>host:port</c>).</param>
/// <param name="Role">Its role.</param>
/// <param name="Host">Its host.</param>
/// <param name="Status">Up, Down, Failed, ... as display says it, or Unreachable.</param>
/// <param name="Version">The version the running process reports (<c>--version</c> through <c>/proc/PID/exe</c>), or null.</param>
/// <param name="Build"><c>known</c> (a signed package of that version holds this executable), <c>unknown</c> (none does), or <c>-</c> (nothing running to match).</param>
/// <param name="Executable">The running executable's path, or empty.</param>
/// <param name="Sha256">Its sha256, or empty.</param>
/// <param name="Notes">Files that differ from what Tug renders (TiUP's shapes), what is missing, why a build is unknown.</param>
public sealed record ImportedInstance(string Id, string Role, string Host, string Status, string? Version, string Build, string Executable, string Sha256, ImmutableArray<string> Notes);

/// <summary>What <see cref="ClusterImporter.ImportAsync"/> did.</summary>
/// <param name="Cluster">The cluster's name here.</param>
/// <param name="Source">The directory or tarball it came from.</param>
/// <param name="Instances">Each instance as found.</param>
/// <param name="Pinned">The versions pinned: each role whose instances all run one version.</param>
/// <param name="Mixed">Roles whose instances run different versions (left unpinned), with the versions seen.</param>
/// <param name="Blocking">What keeps the cluster from being managed (an unreachable host, a refused key); empty when it was imported.</param>
/// <param name="Imported">Whether the cluster's state was written here (only when nothing blocks).</param>
public sealed record ImportReport(string Cluster, string Source, ImmutableArray<ImportedInstance> Instances, ImmutableSortedDictionary<string, string> Pinned,
    ImmutableSortedDictionary<string, ImmutableArray<string>> Mixed, ImmutableArray<string> Blocking, bool Imported);

/// <summary>
/// <c>tug cluster import</c>: adopts a cluster TiUP deployed, changing nothing on any host. It reads TiUP's cluster
/// directory (<c>$TIUP_HOME/storage/cluster/clusters/NAME</c>) or a <c>tiup cluster meta backup</c> tarball, logs in
/// to every host as the deploy user with the cluster's key (host keys pinned on first contact), and reads per
/// instance, as the deploy user (sudo, as TiUP itself does), only: the unit's state and main PID, whether the port
/// listens, the running executable (<c>/proc/PID/exe</c>) with its sha256 and <c>--version</c>, the file at TiUP's
/// path, and the sha256 of each file TiUP renders (unit, run script, configs). What runs becomes the baseline:
/// each instance's observed version and build (its executable's sha256, compared with the signed package of that
/// version in the mirror: known or unknown, never hidden), a version pin for each role whose instances all run one
/// version; a role with mixed versions stays unpinned. The cluster keeps TiUP's layout on its hosts
/// (<see cref="PackageLayouts.TiUP"/>). The state is written beside <c>clusters/</c> first and renamed into place
/// only when nothing blocks, so a refused import leaves nothing behind.
/// </summary>
public sealed partial class ClusterImporter(ClusterStore store, IPackageSource packages, AuditLog audit, TimeProvider time)
{
    /// <summary>The most a TiUP cluster directory may hold (its meta.yaml, key, TLS files and meta backups).</summary>
    public const long MaxBytes = MetaBackup.MaxBytes;

    /// <summary>
    /// Reads and checks <paramref name="source"/>: a TiUP cluster directory or a meta backup tarball holding
    /// <c>meta.yaml</c> and <c>ssh/id_rsa</c>. The name is <paramref name="name"/>, else TiUP's (the directory's name,
    /// or the one in TiUP's default tarball name <c>tiup-cluster_NAME_metabackup_...</c>).
    /// </summary>
    /// <exception cref="ClusterException">The source is missing or not TiUP's, its meta.yaml does not load (file:line:col), the name is refused or taken.</exception>
    public ImportSource ReadSource(string source, string? name)
    {
        var full = Path.GetFullPath(source);
        ImmutableSortedDictionary<string, byte[]> files;
        string? tiupName;
        string metaName;
        if (System.IO.Directory.Exists(full))
        {
            files = ReadDirectory(full);
            tiupName = Path.GetFileName(Path.TrimEndingDirectorySeparator(full));
            metaName = Path.Combine(full, "meta.yaml");
        }
        else if (File.Exists(full))
        {
            tiupName = TarballName().Match(Path.GetFileName(full)) is { Success: true } m ? m.Groups["name"].Value : null;
            var archive = MetaBackup.Read(name ?? (tiupName is not null && ClusterName.IsValid(tiupName) ? tiupName : "import"), full);
            files = archive.Files.Where(f => f.Key != MetaBackup.MarkerName).ToImmutableSortedDictionary(StringComparer.Ordinal);
            tiupName ??= archive.Cluster;
            metaName = $"{full}:meta.yaml";
        }
        else
        {
            throw new ClusterException(ClusterException.BadInput, $"{source} does not exist.",
                "Give TiUP's cluster directory ($TIUP_HOME/storage/cluster/clusters/NAME, by default ~/.tiup/storage/cluster/clusters/NAME) or a tarball `tiup cluster meta backup` wrote.");
        }

        if (!files.TryGetValue("meta.yaml", out var metaBytes))
        {
            throw new ClusterException(ClusterException.BadInput, $"{source} is not a TiUP cluster: it holds no meta.yaml.",
                "Give TiUP's cluster directory ($TIUP_HOME/storage/cluster/clusters/NAME, holding meta.yaml and ssh/id_rsa) or a tarball `tiup cluster meta backup` wrote.");
        }

        if (!files.ContainsKey("ssh/id_rsa"))
        {
            throw new ClusterException(ClusterException.BadInput, $"{source} holds no ssh/id_rsa: TiUP keeps the cluster's key there, and Tug logs in to the hosts with it.",
                "Copy the cluster's whole directory from the TiUP control machine (or take `tiup cluster meta backup` there), then import that.");
        }

        var chosen = name ?? tiupName ?? throw new ClusterException(ClusterException.BadInput, $"{source} does not say the cluster's name (it is not TiUP's default backup name tiup-cluster_NAME_metabackup_...).", "Give the name with --name NAME.");
        if (!ClusterName.IsValid(chosen))
        {
            throw new ClusterException(ClusterException.BadInput, name is null
                    ? $"TiUP's cluster name '{chosen}' is not a Tug cluster name (names start with a letter or digit and use only letters, digits, '-', '_' and '.')."
                    : $"'{chosen}' is not a cluster name: names start with a letter or digit and use only letters, digits, '-', '_' and '.'.",
                "Import it under another name with --name NAME; nothing was written.");
        }

        if (System.IO.Directory.Exists(store.Directory(chosen)))
        {
            throw new ClusterException(ClusterException.Exists, $"A cluster named '{chosen}' exists already ({store.Directory(chosen)}); nothing was written.",
                $"Import it under another name with --name NAME, or see it with `tug cluster display {chosen}`.");
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(metaBytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new ClusterException(ClusterException.MetaBroken, $"{metaName} is not UTF-8 text.", "Give the meta.yaml TiUP wrote.", e);
        }

        ClusterMeta meta;
        try
        {
            meta = ClusterMetaSerializer.Deserialize(text, metaName);
        }
        catch (TopologyException e)
        {
            throw new ClusterException(ClusterException.MetaBroken, $"{metaName} cannot be read: {e.Message}", "Fix meta.yaml where it says (or copy it again from the TiUP control machine); nothing was written.", e);
        }

        if (meta.User.Length == 0 || meta.Version.Length == 0 || meta.Topology.Instances.IsEmpty)
        {
            throw new ClusterException(ClusterException.MetaBroken, $"{metaName} is not a TiUP cluster's meta.yaml: it needs user, tidb_version and at least one instance.", "Give the meta.yaml TiUP wrote; nothing was written.");
        }

        return new ImportSource(source, chosen, meta with { Tug = TugState.Empty with { Layout = PackageLayouts.TiUP } }, files);
    }

    /// <summary>Reads the hosts and, unless something blocks, writes the cluster's state here with what runs as its baseline.</summary>
    public async Task<ImportReport> ImportAsync(ImportSource source, Reach reach, string command, IProgress<OperationEvent>? progress, CancellationToken cancellationToken)
    {
        var staging = store.StagingDirectory("import-" + source.Name);
        var stagedStore = new ClusterStore(staging, time);
        var id = OperationId.New(time);
        try
        {
            stagedStore.CreateDirectories(source.Name);
            foreach (var (path, bytes) in source.Files.Where(f => f.Key != "meta.yaml"))
            {
                var target = Path.Combine(stagedStore.Directory(source.Name), path);
                PrivateFiles.CreateDirectory(Path.GetDirectoryName(target)!);
                PrivateFiles.WriteAllBytes(target, bytes);
            }

            var meta = source.Meta;
            var pins = new PinStore([]);
            var instances = meta.Topology.Instances;
            await using var sessions = await HostSessions.OpenAsync(instances.GroupBy(i => i.ManageHost).Select(g => (g.Key, g.First().SshPort)),
                meta.User, new KeyFileCredential(stagedStore.KeyFile(source.Name)), pins, reach, progress, cancellationToken).ConfigureAwait(false);
            var blocking = sessions.Failures.OrderBy(f => f.Key, StringComparer.Ordinal)
                .Select(f => $"{f.Key}: {f.Value.Code}: {f.Value.Message}").ToImmutableArray();

            var probes = await sessions.ForEachAsync(instances.Select(i => i.ManageHost), reach.Concurrency, async (host, remote, ct) =>
            {
                var onHost = instances.Where(i => i.ManageHost == host).ToList();
                var script = HostScripts.Probe([.. onHost.Select(i => (i, ComponentSpecs.For(i).DefaultEntry))]);
                var result = await remote.RunAsync(script, new RunOptions(Sudo: true, Timeout: reach.WaitTimeout * Math.Max(1, onHost.Count)), ct).ConfigureAwait(false);
                return (host, Lines: HostReply.Parse(result.Stdout).OfType<ProbeLine>().ToList(), Error: result.Ok ? string.Empty : $"exit {result.ExitCode}: {result.Stderr.Trim()}");
            }, (host, e) => (host, Lines: new List<ProbeLine>(), Error: e.Message), cancellationToken).ConfigureAwait(false);
            var lines = probes.SelectMany(p => p.Lines).ToDictionary(l => l.Id, StringComparer.Ordinal);
            blocking = blocking.AddRange(probes.Where(p => p.Lines.Count == 0 && p.Error.Length > 0).Select(p => $"{p.host}: cannot read the instances as {meta.User} (sudo): {p.Error}"));

            var found = new List<(InstanceSpec Instance, ProbeLine? Line, string? Version, string Build, DeployedInstance? Record, List<string> Notes)>();
            var signed = new Dictionary<(string, string, string), string?>();
            foreach (var instance in instances)
            {
                var notes = new List<string>();
                var line = lines.GetValueOrDefault(instance.Id);
                if (line is null)
                {
                    found.Add((instance, null, null, "-", null, notes));
                    continue;
                }

                var spec = ComponentSpecs.For(instance);
                var exe = (line.Executable ?? string.Empty).Trim();
                var running = line.ExecutableSha256 is { Length: > 1 } ? line.ExecutableSha256 : null;
                var version = line.VersionOutput is { } output ? spec.VersionProbe?.Extract(output) : null;
                if (running is null)
                {
                    notes.Add(line.FileSha256 is { Length: > 1 } ? "no running process; its version is not read" : $"no running process, and {instance.DeployDir}/bin/{spec.DefaultEntry} is missing");
                    found.Add((instance, line, null, "-", null, notes));
                    continue;
                }

                var bin = $"{instance.DeployDir}/bin/";
                var entry = exe.StartsWith(bin, StringComparison.Ordinal) && !exe.EndsWith(" (deleted)", StringComparison.Ordinal) ? exe[bin.Length..] : spec.DefaultEntry;
                if (exe.EndsWith(" (deleted)", StringComparison.Ordinal))
                {
                    notes.Add($"the process runs a deleted executable ({exe})");
                }
                else if (!exe.StartsWith(bin, StringComparison.Ordinal))
                {
                    notes.Add($"the process runs {exe}, not a file in {bin}");
                }

                if (version is null)
                {
                    notes.Add($"`{exe} {string.Join(' ', spec.VersionProbe?.Arguments ?? [])}` printed no version");
                }

                var build = "unknown";
                if (version is not null)
                {
                    var key = (spec.Name, version, PlanningRules.Platform(instance));
                    if (!signed.TryGetValue(key, out var entrySha))
                    {
                        try
                        {
                            entrySha = signed[key] = (await packages.GetAsync(key.Item1, key.Item2, key.Item3, cancellationToken).ConfigureAwait(false)).EntrySha256;
                        }
                        catch (ClusterException)
                        {
                            entrySha = signed[key] = null;
                        }
                    }

                    if (entrySha == running)
                    {
                        build = "known";
                    }
                    else
                    {
                        notes.Add(entrySha is null
                            ? $"no signed package of {spec.Name} {version} ({key.Item3}) in the mirror to match the build against"
                            : $"the build (sha256 {InstanceChecks.Short(running)}) is not the signed package's of {spec.Name} {version} ({InstanceChecks.Short(entrySha)})");
                    }
                }

                // TiUP marks an instance it patched (`patched: true`); its build is then a hot fix, shown as patched.
                var patched = instance.Extras.GetBool("patched");
                if (patched)
                {
                    notes.Add("TiUP's meta.yaml marks it patched");
                }

                var record = new DeployedInstance(version ?? "unknown", entry, running, patched) { Build = build == "known" ? string.Empty : DeployedInstance.UnknownBuild };
                found.Add((instance, line, version, build, record, notes));
            }

            var baseline = meta with
            {
                Tug = meta.Tug with
                {
                    HostKeys = pins.Snapshot(),
                    Instances = found.Where(f => f.Record is not null).ToImmutableSortedDictionary(f => f.Instance.Id, f => f.Record!, StringComparer.Ordinal),
                },
            };

            // Files as Tug renders them (TiUP's shapes: run scripts, units, configs), compared by hash; differences are shown, never changed.
            var drift = await sessions.ForEachAsync(instances.Select(i => i.ManageHost), reach.Concurrency, async (host, remote, ct) =>
            {
                var onHost = instances.Where(i => i.ManageHost == host && ComponentSpecs.For(i).CanRender).ToList();
                return (await InstanceChecks.FileDriftAsync(remote, source.Name, baseline, onHost, reach, ct).ConfigureAwait(false))
                    .SelectMany(g => g.Select(p => (Id: g.Key, Problem: p.Replace("differs from what Tug renders", "differs from what Tug renders (its next reload, upgrade or scale-out of the instance rewrites it)", StringComparison.Ordinal)))).ToList();
            }, (host, e) => [], cancellationToken).ConfigureAwait(false);
            foreach (var (instanceId, problem) in drift.SelectMany(d => d))
            {
                found.First(f => f.Instance.Id == instanceId).Notes.Add(problem);
            }

            var versions = found.GroupBy(f => f.Instance.Role, StringComparer.Ordinal).ToList();
            var pinned = versions.Where(g => g.All(f => f.Version is not null) && g.Select(f => f.Version).Distinct().Count() == 1)
                .ToImmutableSortedDictionary(g => g.Key, g => g.First().Version!, StringComparer.Ordinal);
            var mixed = versions.Where(g => g.Select(f => f.Version).OfType<string>().Distinct().Count() > 1)
                .ToImmutableSortedDictionary(g => g.Key, g => g.Select(f => f.Version).OfType<string>().Distinct().Order(StringComparer.Ordinal).ToImmutableArray(), StringComparer.Ordinal);
            var report = found.Select(f => new ImportedInstance(f.Instance.Id, f.Instance.Role, f.Instance.Host,
                f.Line is null ? (sessions.Failures.ContainsKey(f.Instance.ManageHost) ? "Unreachable" : "Error") : InstanceChecks.StatusOf(f.Line),
                f.Version, f.Build, (f.Line?.Executable ?? string.Empty).Trim(), f.Line?.ExecutableSha256 is { Length: > 1 } sha ? sha : string.Empty, [.. f.Notes])).ToImmutableArray();
            if (!blocking.IsEmpty)
            {
                return new ImportReport(source.Name, source.Source, report, pinned, mixed, blocking, Imported: false);
            }

            stagedStore.Save(source.Name, baseline with { Tug = baseline.Tug with { Versions = pinned } });
            Posix.SyncDirectory(stagedStore.Directory(source.Name));
            try
            {
                Posix.RenameNoReplace(stagedStore.Directory(source.Name), store.Directory(source.Name));
            }
            catch (IOException e)
            {
                throw new ClusterException(ClusterException.BadInput, $"A cluster named '{source.Name}' appeared while importing; nothing was written.", "Import it under another name with --name NAME.", e);
            }

            audit.Append(AuditEvent.Started(id, source.Name, command));
            audit.Append(AuditEvent.Ended(id, source.Name, command, JournalOutcome.Succeeded, ExitCodes.Success,
                $"imported {report.Length} instance(s) from {source.Source}; nothing changed on the hosts"));
            return new ImportReport(source.Name, source.Source, report, pinned, mixed, [], Imported: true);
        }
        finally
        {
            if (System.IO.Directory.Exists(staging))
            {
                System.IO.Directory.Delete(staging, recursive: true);
            }
        }
    }

    /// <summary>Every regular file under a TiUP cluster directory, relative to it; symbolic links and special files are refused, lock files left out.</summary>
    private static ImmutableSortedDictionary<string, byte[]> ReadDirectory(string directory)
    {
        var files = ImmutableSortedDictionary.CreateBuilder<string, byte[]>(StringComparer.Ordinal);
        long total = 0;
        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            var relative = Path.GetRelativePath(directory, entry.FullName).Replace(Path.DirectorySeparatorChar, '/');
            if (entry.LinkTarget is not null)
            {
                throw new ClusterException(ClusterException.BadInput, $"{entry.FullName} is a symbolic link; a TiUP cluster directory holds only files and directories.", "Copy the directory with the link's target as a file, then import the copy; nothing was written.");
            }

            if (entry is DirectoryInfo || relative is "lock" || relative.StartsWith("lock.", StringComparison.Ordinal))
            {
                continue;
            }

            if ((entry.Attributes & (FileAttributes.Device | FileAttributes.ReparsePoint)) != 0 || entry is not FileInfo file)
            {
                throw new ClusterException(ClusterException.BadInput, $"{entry.FullName} is not a regular file.", "Remove it from a copy of the directory, then import the copy; nothing was written.");
            }

            total += file.Length;
            if (total > MaxBytes)
            {
                throw new ClusterException(ClusterException.BadInput, $"{directory} holds more than {MaxBytes / (1024 * 1024)} MiB; a TiUP cluster directory is far smaller.", "Give the cluster's own directory ($TIUP_HOME/storage/cluster/clusters/NAME).");
            }

            try
            {
                files[relative] = File.ReadAllBytes(file.FullName);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ClusterException(ClusterException.BadInput, $"{file.FullName} cannot be read: {e.Message}", "Import as a user who can read TiUP's cluster directory; nothing was written.", e);
            }
        }

        return files.ToImmutable();
    }

    [GeneratedRegex(@"^(?:tiup|tug)-cluster_(?<name>.+)_metabackup_.*\.tar\.gz\z", RegexOptions.CultureInvariant)]
    private static partial Regex TarballName();
}
