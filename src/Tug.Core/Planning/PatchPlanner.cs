// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Tug.Core.Cluster;
using Tug.Core.Components;
using Tug.Core.Execution;
using Tug.Core.Topology;

namespace Tug.Core.Planning;

/// <summary>
/// Plans <c>tug cluster patch</c>: the hot-fix executable kept with the operation (so a replay has it), staged and
/// checked beside each running build first (wave 0), then each instance switched batch by batch like an upgrade;
/// and <c>patch --rollback</c>: the build before the patch restored instance by instance.
/// </summary>
public sealed class PatchPlanner(ClusterStore store)
{
    /// <exception cref="ClusterException">No such file, no executable for the component in it, several components selected.</exception>
    public Plan Patch(PatchRequest request)
    {
        PlanningRules.CheckHealthWindow(request.HealthWindow);
        var meta = store.Load(request.Name);
        var instances = PlanningRules.Select(meta, request.Filter);
        var roles = instances.Select(i => i.Role).Distinct().ToList();
        if (roles.Count != 1)
        {
            throw new ClusterException(ClusterException.BadInput, $"A patch replaces one component's executable, but the selection holds {string.Join(", ", roles)}.", "Select the instances of one role with -R ROLE or -N host:port.");
        }

        var records = instances.ToDictionary(i => i.Id, i => meta.Tug.Instances.GetValueOrDefault(i.Id)
            ?? throw new ClusterException(ClusterException.BadInput, $"{i.Id} has no recorded deployment to patch.", "Deploy it with Tug first."));
        var binary = ReadPatch(request.PackagePath, [.. records.Values.Select(r => Path.GetFileName(r.Entry)).Distinct()]);
        var sha = Convert.ToHexStringLower(SHA256.HashData(binary));
        var moving = instances.Where(i => records[i.Id].Sha256 != sha).ToImmutableArray();
        var steps = ImmutableArray.CreateBuilder<Step>();
        DeployedInstance Next(string id) => new(records[id].Version, records[id].Entry, sha, true) { Previous = records[id].Patched ? records[id].Previous : records[id] };
        PackageRef Package(string id) => new(ComponentSpecs.For(roles[0]).Name, Next(id).Label, PlanningRules.Platform(meta.Topology.Find(id)!), records[id].Entry, sha, sha, Patch: true);
        foreach (var host in moving.GroupBy(i => i.ManageHost))
        {
            steps.Add(new Step(new StepKey(StepKind.Stage, host.Key), host.Key, "host", 0, StepGate.None, StepLogin.Deploy, $"patch sha256 {sha[..12]}…",
                new PackagesInputs([.. host.Select(i => new InstancePackage(i.Id, Package(i.Id)))])));
        }

        var size = PlanningRules.BatchSize(request.Batch, Math.Max(1, moving.Length));
        for (var k = 0; k < moving.Length; k++)
        {
            var i = moving[k];
            steps.Add(new Step(new StepKey(StepKind.Switch, i.Id), i.ManageHost, i.Role, (k / size) + 1,
                ComponentSpecs.For(i).ClusterCheck is null ? StepGate.Healthy : StepGate.ClusterHealthy, StepLogin.Deploy,
                $"{i.Role} {records[i.Id].Label} -> {Next(i.Id).Label}", new SwitchInputs(i.Id, Package(i.Id), Next(i.Id), records[i.Id].Label, request.HealthWindow)));
        }

        var notes = instances.Except(moving).Select(i => $"{i.Id} already runs this patch (sha256 {sha[..12]}…)");
        return new Plan("patch", request.Name, steps.ToImmutable())
        {
            Notes = [.. notes],
            BasedOn = Executor.MetaRevision(store, request.Name),
            Artifacts = moving.IsEmpty ? [] : [new PlanArtifact(sha, binary)],
        };
    }

    /// <summary>Plans <c>patch --rollback</c>: each selected (patched) instance back on the build it ran before its patch.</summary>
    /// <exception cref="ClusterException">A selected instance is not patched.</exception>
    public Plan Unpatch(string name, InstanceFilter filter)
    {
        var meta = store.Load(name);
        var instances = PlanningRules.Select(meta, filter);
        var notPatched = instances.Where(i => meta.Tug.Instances.GetValueOrDefault(i.Id) is not { Patched: true, Previous: not null }).ToList();
        if (notPatched.Count > 0)
        {
            throw new ClusterException(ClusterException.BadInput, $"Not patched, nothing to roll back: {string.Join(", ", notPatched.Select(i => i.Id))}.", "`tug cluster display` marks patched instances.");
        }

        var steps = instances.Select((i, k) =>
        {
            var record = meta.Tug.Instances[i.Id];
            return new Step(new StepKey(StepKind.Restore, i.Id), i.ManageHost, i.Role, k + 1, StepGate.Healthy, StepLogin.Deploy, $"{i.Role} {record.Label} -> {record.Previous!.Label}", new InstanceInputs(i.Id));
        });
        return new Plan("patch-rollback", name, [.. steps]) { BasedOn = Executor.MetaRevision(store, name) };
    }

    /// <summary>The executable in a patch: a gzip tarball's file named like the component's entry, or the file itself.</summary>
    private static byte[] ReadPatch(string path, IReadOnlyList<string> names)
    {
        if (!File.Exists(path))
        {
            throw ClusterException.PatchFileMissing(path);
        }

        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b)
        {
            return bytes.Length == 0 ? throw new ClusterException(ClusterException.BadInput, $"Patch file {path} is empty.") : bytes;
        }

        var seen = new List<string>();
        try
        {
            using (var check = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress))
            {
                if (PackageMembers.FindBad(check) is { } bad)
                {
                    throw new ClusterException(ClusterException.BadInput, $"Patch tarball {path}: {bad}; nothing was patched.",
                        "A package may hold only regular files, directories and links that stay inside it, without setuid or setgid bits; repack it without that member.");
                }
            }

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
