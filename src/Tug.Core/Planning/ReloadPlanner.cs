// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Tug.Core.Cluster;
using Tug.Core.Components;
using Tug.Core.Execution;
using Tug.Core.Topology;

namespace Tug.Core.Planning;

/// <summary>What <c>tug cluster reload</c> is asked to do.</summary>
/// <param name="Name">Cluster name.</param>
/// <param name="Filter">The instances to reload (<c>-R</c>/<c>-N</c>).</param>
/// <param name="SkipRestart">Write the files only; restart nothing (<c>--skip-restart</c>).</param>
/// <param name="HealthWindow">Seconds each restarted instance must stay healthy after its first healthy check; 0: none.</param>
public sealed record ReloadRequest(string Name, InstanceFilter Filter, bool SkipRestart = false, int HealthWindow = 0);

/// <summary>What a host holds for a reload's plan: each file's content and modification time, each running instance's start.</summary>
/// <param name="Contents">Path → content; null when the file is missing.</param>
/// <param name="Modified">Path → modification time (ms since the epoch, the host's clock); null when missing.</param>
/// <param name="Started">Instance ID → when systemd started its running process (ms since the epoch); null when it does not run.</param>
public sealed record HostFiles(ImmutableDictionary<string, string?> Contents, ImmutableDictionary<string, long?> Modified, ImmutableDictionary<string, long?> Started)
{
    /// <summary>Nothing read.</summary>
    public static HostFiles Empty { get; } = new(ImmutableDictionary<string, string?>.Empty, ImmutableDictionary<string, long?>.Empty, ImmutableDictionary<string, long?>.Empty);
}

/// <summary>Reads files whole on a cluster's hosts, with their modification times and the start of each instance's process, as its deploy user (the planner's one look at the hosts).</summary>
public interface IHostFileReader
{
    /// <summary>Per host, what it holds of <paramref name="instances"/>' files (<paramref name="pathsByHost"/>) and when each instance's process started.</summary>
    /// <exception cref="ClusterException">A host cannot be reached or read.</exception>
    Task<ImmutableDictionary<string, HostFiles>> ReadFilesAsync(string cluster, ClusterMeta meta, IReadOnlyList<InstanceSpec> instances, IReadOnlyDictionary<string, ImmutableArray<string>> pathsByHost, Reach reach, CancellationToken cancellationToken);
}

/// <summary>
/// Plans <c>reload</c>: renders every selected instance's files (configs, run script, unit) from the metadata, compares
/// them with what is on its host (read now, not from a cache), and plans one reload step for each instance whose files
/// differ: write them, restart it once (systemd reloaded first when its unit changed), gated on health and
/// verification, rolled back to the host's previous files when the gate fails. Instances whose files are as rendered
/// get no step and are named in the plan's notes. Restarts roll one instance at a time in role order (TiUP's reload
/// restarts role by role, one instance after another); with <c>--skip-restart</c> every write runs in one wave.
/// </summary>
public sealed class ReloadPlanner(ClusterStore store, IHostFileReader hosts)
{
    /// <exception cref="ClusterException">The cluster does not exist, nothing matches the filter, a bad health window, or a host cannot be read.</exception>
    public async Task<Plan> PlanAsync(ReloadRequest request, Reach reach, CancellationToken cancellationToken)
    {
        PlanningRules.CheckHealthWindow(request.HealthWindow);
        var meta = store.Load(request.Name);
        var selected = PlanningRules.Select(meta, request.Filter);
        var rendered = selected.ToImmutableDictionary(i => i.Id, i => InstanceFiles.Render(request.Name, meta, i));
        var paths = selected.GroupBy(i => i.ManageHost).ToImmutableDictionary(g => g.Key, g => g.SelectMany(i => rendered[i.Id].Select(f => f.Path)).Distinct().ToImmutableArray());
        var onHosts = await hosts.ReadFilesAsync(request.Name, meta, selected, paths, reach, cancellationToken).ConfigureAwait(false);
        return Build(request, meta, selected, rendered, onHosts, Executor.MetaRevision(store, request.Name));
    }

    /// <summary>
    /// The plan from what the hosts hold: an instance reloads when a file differs from what is rendered, or (unless
    /// restarts are skipped) when its files are as rendered but were written after its running process started, so it
    /// has not read them (a reload with <c>--skip-restart</c> before, or a refresh that did not restart it).
    /// </summary>
    public static Plan Build(ReloadRequest request, ClusterMeta meta, ImmutableArray<InstanceSpec> selected, IReadOnlyDictionary<string, ImmutableArray<RenderedFile>> rendered,
        IReadOnlyDictionary<string, HostFiles> onHosts, string basedOn)
    {
        var steps = ImmutableArray.CreateBuilder<Step>();
        var notes = ImmutableArray.CreateBuilder<string>();
        var wave = 0;
        foreach (var role in PlanningRules.ByRole(selected))
        {
            foreach (var instance in role)
            {
                var found = onHosts.GetValueOrDefault(instance.ManageHost) ?? HostFiles.Empty;
                var changes = rendered[instance.Id]
                    .Select(f => (File: f, Before: found.Contents.GetValueOrDefault(f.Path)))
                    .Where(f => f.Before != f.File.Content)
                    .Select(f => Change(instance, f.File, f.Before))
                    .ToImmutableArray();
                var started = found.Started.GetValueOrDefault(instance.Id);
                var unread = changes.IsEmpty && !request.SkipRestart && started is { } start
                    ? rendered[instance.Id].Where(f => found.Modified.GetValueOrDefault(f.Path) > start).ToImmutableArray()
                    : [];
                if (changes.IsEmpty && unread.IsEmpty)
                {
                    notes.Add($"{instance.Role} {instance.Id}: its files on {instance.ManageHost} are as rendered{(started is null ? string.Empty : " and its process started after they were written")}; not restarted");
                    continue;
                }

                if (changes.IsEmpty)
                {
                    changes = [.. unread.Select(f => Change(instance, f, f.Content))];
                }

                wave = request.SkipRestart ? 1 : wave + 1;
                var inputs = new ReloadInputs(instance.Id, changes, !request.SkipRestart, request.SkipRestart ? 0 : request.HealthWindow);
                var gate = request.SkipRestart ? StepGate.None : ComponentSpecs.For(instance).ClusterCheck is null ? StepGate.Healthy : StepGate.ClusterHealthy;
                var what = string.Join(", ", changes.Select(c => Path.GetFileName(c.Path)));
                var summary = request.SkipRestart
                    ? $"write {changes.Length} file(s) ({what}); not restarted (--skip-restart)"
                    : unread.IsEmpty
                        ? $"write {changes.Length} file(s) ({what}); {(inputs.UnitChanged ? "daemon-reload, " : string.Empty)}restart {instance.UnitName}"
                        : $"files as rendered, but {what} written after its process started; {(inputs.UnitChanged ? "daemon-reload, " : string.Empty)}restart {instance.UnitName} to read them";
                steps.Add(new Step(new StepKey(StepKind.Reload, instance.Id), instance.ManageHost, instance.Role, wave, gate, StepLogin.Deploy, summary, inputs));
            }
        }

        return new Plan("reload", request.Name, steps.ToImmutable())
        {
            Notes = notes.ToImmutable(),
            BasedOn = basedOn,
            RequireAllHosts = true,
            ContinueOnFailure = false,
        };
    }

    private static FileChange Change(InstanceSpec instance, RenderedFile file, string? before) =>
        new(file.Path, before, before is null ? string.Empty : Sha256(before), Sha256(file.Content),
            UnifiedDiff.Compute(before, file.Content, $"{instance.ManageHost}:{file.Path} (on the host)", $"{file.Path} (rendered from meta)"));

    /// <summary>The sha256 of a text as the host stores it (UTF-8).</summary>
    public static string Sha256(string content) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)));
}
