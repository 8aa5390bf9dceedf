// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Tug.Core.Remote;
using Tug.Core.Topology;

namespace Tug.Core.Cluster;

/// <summary>What <c>tug cluster patch</c> is asked to do.</summary>
/// <param name="Name">Cluster name.</param>
/// <param name="PackagePath">A tarball holding the component's executable, or the executable itself.</param>
/// <param name="Filter">The instances to patch (<c>-R</c>/<c>-N</c>): all of one component.</param>
/// <param name="Batch">Instances per batch: a count or a percentage.</param>
public sealed record PatchRequest(string Name, string PackagePath, InstanceFilter Filter, string Batch);

public sealed partial class ClusterOperations
{
    /// <summary>
    /// Replaces the executable of the selected instances with a hot-fix build, rolling like an upgrade: staged and
    /// checked on every host first, then instance by instance, health-gated and verified (running executable = the
    /// patch), rolled back on failure. The previous build is kept on the host and in the metadata for
    /// <see cref="UnpatchAsync"/>.
    /// </summary>
    /// <exception cref="ClusterException">Bad input: no such file, no executable for the component in it, several components selected.</exception>
    public async Task<OperationReport> PatchAsync(PatchRequest request, Reach reach, IProgress<OperationEvent>? progress, CancellationToken cancellationToken)
    {
        var meta = store.Load(request.Name);
        var instances = Select(meta, request.Filter);
        var roles = instances.Select(i => i.Role).Distinct().ToList();
        if (roles.Count != 1)
        {
            throw new ClusterException(ClusterException.BadInput, $"A patch replaces one component's executable, but the selection holds {string.Join(", ", roles)}.", "Select the instances of one role with -R ROLE or -N host:port.");
        }

        var records = instances.ToDictionary(i => i.Id, i => meta.Tug.Instances.GetValueOrDefault(i.Id)
            ?? throw new ClusterException(ClusterException.BadInput, $"{i.Id} has no recorded deployment to patch.", "Deploy it with Tug first."));
        var names = records.Values.Select(r => Path.GetFileName(r.Entry)).Distinct().ToList();
        var binary = ReadPatch(request.PackagePath, names);
        var sha = Convert.ToHexStringLower(SHA256.HashData(binary));
        var local = Path.Combine(Path.GetTempPath(), $"tug-patch-{sha[..16]}-{Environment.ProcessId}");
        await File.WriteAllBytesAsync(local, binary, cancellationToken).ConfigureAwait(false);
        try
        {
            var moving = instances.Where(i => records[i.Id].Sha256 != sha).ToImmutableArray();
            if (moving.IsEmpty)
            {
                return new OperationReport("patch", request.Name, [.. instances.Select(i => new InstanceOutcome(i.Id, i.Role, i.ManageHost, OutcomeStatus.Skipped, $"already runs this patch (sha256 {Short(sha)})"))]);
            }

            var next = moving.ToDictionary(i => i.Id, i => new DeployedInstance(records[i.Id].Version, records[i.Id].Entry, sha, true) { Previous = records[i.Id].Patched ? records[i.Id].Previous : records[i.Id] });
            var targets = moving.ToDictionary(i => i.Id, i => new ResolvedPackage(i.Component, next[i.Id].Label, $"{OsOf(i)}/{ArchOf(i)}", local, records[i.Id].Entry, sha, sha));
            await using var sessions = await OpenAsync(request.Name, meta, reach, progress, cancellationToken, [.. moving.Select(i => i.ManageHost)]).ConfigureAwait(false);
            if (sessions.Failures.Count > 0)
            {
                return new OperationReport("patch", request.Name, [.. Unreachable(sessions.Failures, moving), .. moving.Where(i => !sessions.Failures.ContainsKey(i.ManageHost))
                    .Select(i => new InstanceOutcome(i.Id, i.Role, i.ManageHost, OutcomeStatus.Skipped, "not touched: a host of this patch is unreachable"))]);
            }

            // 1. The patch, checked by sha256 on every host, staged beside each running build before anything is touched.
            var remotePatch = $"/tmp/tug-patch-{sha[..16]}";
            var staged = await sessions.ForEachAsync(moving.Select(i => i.ManageHost), reach.Concurrency, async (host, remote, ct) =>
            {
                progress?.Report(new OperationEvent(host, null, "stage", $"patch {Short(sha)}"));
                var stream = File.OpenRead(local);
                await using (stream.ConfigureAwait(false))
                {
                    await remote.UploadAsync(stream, remotePatch, "0755", sudo: false, ct).ConfigureAwait(false);
                }

                var script = HostScripts.StagePatch(meta.User, remotePatch, sha, [.. moving.Where(i => i.ManageHost == host).Select(i => (i, targets[i.Id]))]);
                var result = await remote.RunAsync(script, new RunOptions(Sudo: true, Timeout: reach.WaitTimeout), ct).ConfigureAwait(false);
                return new InstanceOutcome(host, "host", host, result.Ok ? OutcomeStatus.Ok : OutcomeStatus.Failed, result.Ok ? "staged" : $"staging failed: {result.Stderr.Trim()}");
            }, (host, e) => new InstanceOutcome(host, "host", host, OutcomeStatus.Failed, e.Message), cancellationToken).ConfigureAwait(false);
            if (staged.Any(s => s.Status != OutcomeStatus.Ok))
            {
                return new OperationReport("patch", request.Name, [.. staged, .. moving.Select(i => new InstanceOutcome(i.Id, i.Role, i.ManageHost, OutcomeStatus.Skipped, "not touched: staging failed"))]);
            }

            // 2. Rolling, batch by batch, each instance gated; the first failure is rolled back and stops the patch.
            var size = BatchSize(request.Batch, moving.Length);
            var outcomes = new List<InstanceOutcome>();
            var current = meta;
            foreach (var batch in moving.Select((instance, k) => (instance, k)).GroupBy(x => x.k / size, x => x.instance))
            {
                if (outcomes.Any(o => o.Status != OutcomeStatus.Ok))
                {
                    outcomes.AddRange(batch.Select(i => new InstanceOutcome(i.Id, i.Role, i.ManageHost, OutcomeStatus.Skipped, $"not touched, still {records[i.Id].Label}: the patch stopped earlier")));
                    continue;
                }

                var members = batch.ToList();
                var results = await sessions.ForEachAsync(members.Select(i => i.ManageHost), reach.Concurrency, async (host, remote, ct) =>
                {
                    var list = new List<InstanceOutcome>();
                    foreach (var i in members.Where(i => i.ManageHost == host))
                    {
                        var step = $"switch {i.Id}";
                        if (Resumed(step) && await AlreadySwitchedAsync(current, i, targets[i.Id], next[i.Id], remote, reach, ct).ConfigureAwait(false) is { } done)
                        {
                            list.Add(done);
                            continue;
                        }

                        Planned(step, $"{records[i.Id].Label} -> {next[i.Id].Label}");
                        var outcome = await SwitchInstanceAsync(request.Name, current, i, targets[i.Id], next[i.Id], remote, reach, progress, ct).ConfigureAwait(false);
                        Finish(step, outcome);
                        list.Add(outcome);
                    }

                    return list;
                }, (host, e) => [.. members.Where(i => i.ManageHost == host).Select(i => new InstanceOutcome(i.Id, i.Role, host, OutcomeStatus.Failed, e.Message))], cancellationToken).ConfigureAwait(false);
                var flat = results.SelectMany(r => r).ToList();
                outcomes.AddRange(flat);
                current = current with { Tug = current.Tug with { Instances = current.Tug.Instances.SetItems(flat.Where(o => o.Status == OutcomeStatus.Ok).Select(o => KeyValuePair.Create(o.Id, next[o.Id]))) } };
                store.Save(request.Name, current);
            }

            return new OperationReport("patch", request.Name, [.. outcomes, .. instances.Except(moving).Select(i => new InstanceOutcome(i.Id, i.Role, i.ManageHost, OutcomeStatus.Skipped, "already runs this patch"))]);
        }
        finally
        {
            File.Delete(local);
        }
    }

    /// <summary>Puts back the build an instance ran before its patch (<c>tug cluster patch --rollback</c>), health-gated and verified.</summary>
    /// <exception cref="ClusterException">A selected instance is not patched.</exception>
    public async Task<OperationReport> UnpatchAsync(string name, InstanceFilter filter, Reach reach, IProgress<OperationEvent>? progress, CancellationToken cancellationToken)
    {
        var meta = store.Load(name);
        var instances = Select(meta, filter);
        var notPatched = instances.Where(i => meta.Tug.Instances.GetValueOrDefault(i.Id) is not { Patched: true, Previous: not null }).ToList();
        if (notPatched.Count > 0)
        {
            throw new ClusterException(ClusterException.BadInput, $"Not patched, nothing to roll back: {string.Join(", ", notPatched.Select(i => i.Id))}.", "`tug cluster display` marks patched instances.");
        }

        await using var sessions = await OpenAsync(name, meta, reach, progress, cancellationToken, [.. instances.Select(i => i.ManageHost)]).ConfigureAwait(false);
        var outcomes = new List<InstanceOutcome>(Unreachable(sessions.Failures, instances));
        var current = meta;
        foreach (var i in instances.Where(i => sessions.Hosts.ContainsKey(i.ManageHost)))
        {
            var patched = current.Tug.Instances[i.Id];
            var previous = patched.Previous!;
            var package = new ResolvedPackage(i.Component, patched.Label, $"{OsOf(i)}/{ArchOf(i)}", string.Empty, patched.Entry, patched.Sha256, patched.Sha256);
            progress?.Report(new OperationEvent(i.ManageHost, i.Id, "unpatch", $"{patched.Label} -> {previous.Label}"));
            var (restored, message) = await RestoreAsync(name, current, i, package, previous, sessions.Hosts[i.ManageHost], reach, cancellationToken).ConfigureAwait(false);
            outcomes.Add(new InstanceOutcome(i.Id, i.Role, i.ManageHost, restored ? OutcomeStatus.Ok : OutcomeStatus.Failed, restored ? $"patch rolled back: {message}" : $"patch rollback FAILED: {message}"));
            if (restored)
            {
                current = current with { Tug = current.Tug with { Instances = current.Tug.Instances.SetItem(i.Id, previous) } };
                store.Save(name, current);
            }
        }

        return new OperationReport("patch-rollback", name, [.. outcomes]);
    }

    /// <summary>The executable in a patch: a gzip tarball's file named like the component's entry, or the file itself.</summary>
    private static byte[] ReadPatch(string path, IReadOnlyList<string> names)
    {
        if (!File.Exists(path))
        {
            throw new ClusterException(ClusterException.BadInput, $"Patch file {path} does not exist.");
        }

        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b)
        {
            if (bytes.Length == 0)
            {
                throw new ClusterException(ClusterException.BadInput, $"Patch file {path} is empty.");
            }

            return bytes;
        }

        var seen = new List<string>();
        try
        {
            using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
            using var reader = new TarReader(gzip);
            while (reader.GetNextEntry() is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null)
                {
                    continue;
                }

                seen.Add(entry.Name);
                if (names.Contains(Path.GetFileName(entry.Name)))
                {
                    using var data = new MemoryStream();
                    entry.DataStream.CopyTo(data);
                    return data.ToArray();
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw new ClusterException(ClusterException.BadInput, $"Patch file {path} looks like a gzip file but is not a readable tarball: {e.Message}", inner: e);
        }

        throw new ClusterException(ClusterException.BadInput, $"Patch tarball {path} has no file named {string.Join(" or ", names)}; it holds: {string.Join(", ", seen.Take(10))}.",
            "Put the component's executable in the tarball under its own name, or pass the executable itself.");
    }
}
