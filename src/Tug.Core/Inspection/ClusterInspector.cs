// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Concurrent;
using System.Collections.Immutable;
using Tug.Core.Cluster;
using Tug.Core.Execution.Steps;
using Tug.Core.Planning;
using Tug.Core.Remote;
using Tug.Core.Topology;

namespace Tug.Core.Inspection;

/// <summary>One host's answer to <c>tug cluster exec</c>.</summary>
public sealed record ExecResult(string Host, int ExitCode, string Stdout, string Stderr, string? Error);

/// <summary>How display reads the hosts: the time each instance's status may take, and whether to read how each process runs.</summary>
/// <param name="StatusTimeout">Per instance on a host (TiUP's <c>--status-timeout</c>, default 10 s).</param>
/// <param name="Process">Read each process's run time, memory and the unit's limits (<c>--uptime</c>, <c>--process</c>).</param>
public sealed record DisplayReading(TimeSpan StatusTimeout, bool Process);

/// <summary>What display read: the cluster, each selected instance's status, and (when asked) how each process runs, by instance ID.</summary>
public sealed record DisplayReport(ClusterMeta Meta, ImmutableArray<InstanceStatus> Instances, ImmutableDictionary<string, ProcLine> Processes);

/// <summary>What <c>tug cluster verify</c> found for one instance.</summary>
public sealed record InstanceVerification(string Id, string Role, string Host, bool Ok, ImmutableArray<string> Problems, string? Version);

/// <summary>
/// The verbs that read the hosts or act on them outside any plan: display and verify (the truth read from each host:
/// running executable = deployed file = signed package, files as Tug renders them), exec, push, pull, and
/// accepting a changed host key. One connection per host, one round trip per host for each read. exec, push and pull
/// act on the hosts, so (as TiUP audits exec) each appends a start and an end record to the audit log; they take no
/// lock and keep no journal: there is nothing to resume.
/// </summary>
public sealed class ClusterInspector(ClusterStore store, AuditLog audit, TimeProvider time) : IHostFileReader, IMemberReader
{
    /// <summary>Reads, through a member that is not leaving, whether each leaving etcd instance is still a member of the running cluster (for <c>prune</c>); changes nothing.</summary>
    /// <exception cref="ClusterException">No member to ask through, its host cannot be reached, or the member list cannot be read.</exception>
    public async Task<ImmutableDictionary<string, bool>> AreMembersAsync(string cluster, ClusterMeta meta, IReadOnlyList<InstanceSpec> leaving, Reach reach, CancellationToken cancellationToken)
    {
        var result = ImmutableDictionary.CreateBuilder<string, bool>(StringComparer.Ordinal);
        foreach (var role in leaving.GroupBy(i => i.Role))
        {
            var staying = meta.Topology.OfRole(role.Key).Where(i => !leaving.Any(l => l.Id == i.Id)).ToList();
            var through = staying.FirstOrDefault() ?? throw new ClusterException(ClusterException.BadInput,
                $"Every {role.Key} member of cluster '{cluster}' is marked offline; there is no member left to ask.", "Unmark one in meta.yaml (offline: false), or remove the cluster with `tug cluster destroy`.");
            var pins = new PinStore(meta.Tug.HostKeys);
            await using var sessions = await OpenAsync(cluster, meta, pins, reach, [through.ManageHost], cancellationToken).ConfigureAwait(false);
            if (sessions.Failures.FirstOrDefault() is { Key: { } down, Value: { } why })
            {
                throw new ClusterException(ClusterException.BadInput, $"Cannot ask {through.Id} about the {role.Key} members: {down}: {why.Code}: {why.Message}; nothing was changed.", "Bring the host back, then run the command again.");
            }

            var remote = sessions.Hosts[through.ManageHost];
            var entry = meta.Tug.Instances.GetValueOrDefault(through.Id)?.Entry ?? Components.ComponentSpecs.For(through).DefaultEntry;
            foreach (var member in role)
            {
                var run = await remote.RunAsync(HostScripts.MembershipCheck(member, through, entry, staying), new RunOptions(Sudo: true, Timeout: reach.WaitTimeout), cancellationToken).ConfigureAwait(false);
                var line = HostReply.Parse(run.Stdout).OfType<MemberLine>().FirstOrDefault();
                if (!run.Ok || line is null)
                {
                    throw new ClusterException(ClusterException.BadInput, $"Cannot read the {role.Key} members through {through.Id} (exit {run.ExitCode}): {run.Stderr.Trim()}; nothing was changed.", $"Check the {role.Key} cluster with `tug cluster display {cluster}`.");
                }

                result[member.Id] = line.Change == "present";
            }

            SavePins(cluster, meta, pins);
        }

        return result.ToImmutable();
    }

    /// <summary>Reads files whole on the given hosts as the deploy user (sudo), with their modification times and the start of each instance's process; the planner of <c>reload</c> compares them with what Tug renders.</summary>
    /// <exception cref="ClusterException">A host cannot be reached, or its files cannot be read.</exception>
    public async Task<ImmutableDictionary<string, HostFiles>> ReadFilesAsync(string cluster, ClusterMeta meta, IReadOnlyList<InstanceSpec> instances, IReadOnlyDictionary<string, ImmutableArray<string>> pathsByHost, Reach reach, CancellationToken cancellationToken)
    {
        var pins = new PinStore(meta.Tug.HostKeys);
        await using var sessions = await OpenAsync(cluster, meta, pins, reach, [.. pathsByHost.Keys], cancellationToken).ConfigureAwait(false);
        if (sessions.Failures.FirstOrDefault() is { Key: { } down, Value: { } why })
        {
            throw new ClusterException(ClusterException.BadInput, $"Cannot read the files on {down}: {why.Code}: {why.Message}", "Every selected host must be reachable to compare its files; bring it back or leave it out with -N/-R.");
        }

        var read = await sessions.ForEachAsync(pathsByHost.Keys, reach.Concurrency, async (host, remote, ct) =>
        {
            var paths = pathsByHost[host];
            var onHost = instances.Where(i => i.ManageHost == host).ToList();
            var script = HostScripts.FileRead(paths) + string.Concat(onHost.Select(i => HostScripts.RestartProof(i, paths)));
            var result = await remote.RunAsync(script, new RunOptions(Sudo: true, Timeout: reach.WaitTimeout), ct).ConfigureAwait(false);
            var reply = HostReply.Parse(result.Stdout);
            var contents = reply.OfType<ContentLine>().ToList();
            var starts = reply.OfType<StartedLine>().ToList();
            if (!result.Ok || contents.Count != paths.Length || starts.Count != onHost.Count)
            {
                return (host, Files: (HostFiles?)null, Error: $"exit {result.ExitCode}: {result.Stderr.Trim()}");
            }

            return (host, Files: new HostFiles(
                contents.ToImmutableDictionary(l => l.Path, l => l.Content, StringComparer.Ordinal),
                reply.OfType<MtimeLine>().GroupBy(m => m.Path).ToImmutableDictionary(g => g.Key, g => g.First().Ms, StringComparer.Ordinal),
                starts.ToImmutableDictionary(s => s.Id, s => s is { State: "active", Pid: > 0 } ? s.StartedMs : null, StringComparer.Ordinal)), Error: string.Empty);
        }, (host, e) => (host, null, e.Message), cancellationToken).ConfigureAwait(false);
        if (read.FirstOrDefault(r => r.Files is null) is { host: { } failedHost } failed)
        {
            throw new ClusterException(ClusterException.BadInput, $"Cannot read the files on {failedHost}: {failed.Error}", "Check the host with `tug cluster display`; nothing was changed.");
        }

        SavePins(cluster, meta, pins);
        return read.ToImmutableDictionary(r => r.host, r => r.Files!, StringComparer.Ordinal);
    }

    /// <summary>Reads every selected instance's state from its host: systemd state, port, running version, verified.</summary>
    /// <exception cref="ClusterException">The cluster does not exist, or nothing matches the filter.</exception>
    public async Task<(ClusterMeta Meta, ImmutableArray<InstanceStatus> Instances)> DisplayAsync(string name, InstanceFilter filter, Reach reach, CancellationToken cancellationToken)
    {
        var report = await DisplayAsync(name, filter, reach, new DisplayReading(reach.WaitTimeout, Process: false), cancellationToken).ConfigureAwait(false);
        return (report.Meta, report.Instances);
    }

    /// <summary>
    /// Reads every selected instance's state as <see cref="DisplayAsync(string, InstanceFilter, Reach, CancellationToken)"/>
    /// does, each host's reading given <see cref="DisplayReading.StatusTimeout"/> per instance on it (a host slower than
    /// that shows its instances as <c>Error</c>, the timeout named); with <see cref="DisplayReading.Process"/> also how
    /// each process runs (seconds since it started, memory, the unit's limits), read on its host.
    /// </summary>
    /// <exception cref="ClusterException">The cluster does not exist, or nothing matches the filter.</exception>
    public async Task<DisplayReport> DisplayAsync(string name, InstanceFilter filter, Reach reach, DisplayReading reading, CancellationToken cancellationToken)
    {
        var meta = store.Load(name);
        var instances = PlanningRules.Select(meta, filter);
        var pins = new PinStore(meta.Tug.HostKeys);
        await using var sessions = await OpenAsync(name, meta, pins, reach, [.. instances.Select(i => i.ManageHost)], cancellationToken).ConfigureAwait(false);
        var perHost = instances.GroupBy(i => i.ManageHost).Max(g => g.Count());
        var statusReach = reach with { WaitTimeout = reading.StatusTimeout * perHost };
        var known = store.LoadVerified(name);
        var (probed, processes) = await ProbeAsync(meta, sessions, instances, known, reading.Process ? HostScripts.ProcessInfo : null, statusReach, cancellationToken).ConfigureAwait(false);
        var statuses = Remember(name, known, probed);
        if (statuses.Any(s => s.Status == "Error" && s.Detail.Contains("did not finish within", StringComparison.Ordinal)))
        {
            statuses = [.. statuses.Select(s => s.Status == "Error" && s.Detail.Contains("did not finish within", StringComparison.Ordinal)
                ? s with { Detail = $"no status within --status-timeout {reading.StatusTimeout.TotalSeconds:0} s per instance: {s.Detail}" }
                : s)];
        }

        SavePins(name, meta, pins);
        return new DisplayReport(meta, statuses, processes);
    }

    /// <summary>Checks every selected instance: process executable = deployed file = signed package, no deleted executable, unit and configs as Tug renders them.</summary>
    /// <exception cref="ClusterException">The cluster does not exist, or nothing matches the filter.</exception>
    public async Task<ImmutableArray<InstanceVerification>> VerifyAsync(string name, InstanceFilter filter, Reach reach, CancellationToken cancellationToken)
    {
        var meta = store.Load(name);
        var instances = PlanningRules.Select(meta, filter);
        var pins = new PinStore(meta.Tug.HostKeys);
        await using var sessions = await OpenAsync(name, meta, pins, reach, [.. instances.Select(i => i.ManageHost)], cancellationToken).ConfigureAwait(false);
        var statuses = Remember(name, store.LoadVerified(name), await ProbeAsync(meta, sessions, instances, reach, cancellationToken).ConfigureAwait(false));
        var drift = new ConcurrentDictionary<string, ImmutableArray<string>>(StringComparer.Ordinal);
        await sessions.ForEachAsync(instances.Select(i => i.ManageHost), reach.Concurrency, async (host, remote, ct) =>
        {
            var onHost = instances.Where(i => i.ManageHost == host).ToList();
            var found = await InstanceChecks.FileDriftAsync(remote, name, meta, onHost, reach, ct).ConfigureAwait(false);
            foreach (var i in onHost)
            {
                drift[i.Id] = [.. found[i.Id]];
            }

            return true;
        }, (host, e) =>
        {
            foreach (var i in instances.Where(i => i.ManageHost == host))
            {
                drift[i.Id] = [$"files not checked: {e.Message}"];
            }

            return false;
        }, cancellationToken).ConfigureAwait(false);
        SavePins(name, meta, pins);
        return [.. statuses.Select(s =>
        {
            var problems = (s.Verified ? [] : new[] { $"{s.Status}: {s.Detail}" }).Concat(drift.GetValueOrDefault(s.Id, [])).ToImmutableArray();
            return new InstanceVerification(s.Id, s.Role, s.Host, problems.IsEmpty, problems, s.Version);
        })];
    }

    /// <summary>Runs a shell command once on every selected host; output grouped by host. Audited with <c>commandLine</c> (redacted).</summary>
    /// <exception cref="ClusterException">The cluster does not exist, or nothing matches the filter.</exception>
    public async Task<ImmutableArray<ExecResult>> ExecAsync(string name, string command, bool sudo, InstanceFilter filter, Reach reach, ImmutableArray<string> commandLine, CancellationToken cancellationToken)
    {
        var meta = store.Load(name);
        return await AuditedAsync(name, commandLine, async () =>
        {
            var hosts = PlanningRules.Select(meta, filter).Select(i => i.ManageHost).Distinct().ToList();
            var pins = new PinStore(meta.Tug.HostKeys);
            await using var sessions = await OpenAsync(name, meta, pins, reach, hosts, cancellationToken).ConfigureAwait(false);
            var results = await sessions.ForEachAsync(hosts, reach.Concurrency, async (host, remote, ct) =>
            {
                var r = await remote.RunAsync(command, new RunOptions(Sudo: sudo, Timeout: reach.WaitTimeout), ct).ConfigureAwait(false);
                return new ExecResult(host, r.ExitCode, r.Stdout, r.Stderr, null);
            }, (host, e) => new ExecResult(host, -1, string.Empty, string.Empty, e.Message), cancellationToken).ConfigureAwait(false);
            SavePins(name, meta, pins);
            var unreachable = sessions.Failures.Select(f => new ExecResult(f.Key, -1, string.Empty, string.Empty, $"{f.Value.Code}: {f.Value.Message}"));
            return results.Concat(unreachable).OrderBy(r => hosts.IndexOf(r.Host)).ToImmutableArray();
        }, results => Judge(results.Length, [.. results.Where(r => r.ExitCode != 0).Select(r => r.Error is null ? $"{r.Host} (exit {r.ExitCode})" : $"{r.Host} ({r.Error})")])).ConfigureAwait(false);
    }

    /// <summary>Copies a local file to <paramref name="remotePath"/> on every selected host, checking its sha256 there. Audited with <c>commandLine</c> (redacted).</summary>
    /// <exception cref="ClusterException">The file or the cluster does not exist, or nothing matches the filter.</exception>
    public async Task<OperationReport> PushAsync(string name, string localPath, string remotePath, InstanceFilter filter, Reach reach, ImmutableArray<string> commandLine, CancellationToken cancellationToken)
    {
        if (!File.Exists(localPath))
        {
            throw new ClusterException(ClusterException.BadInput, $"Local file {localPath} does not exist.");
        }

        var meta = store.Load(name);
        return await AuditedAsync(name, commandLine, async () =>
        {
            var hosts = PlanningRules.Select(meta, filter).Select(i => i.ManageHost).Distinct().ToList();
            var sha = Hashes.Sha256File(localPath);
            var pins = new PinStore(meta.Tug.HostKeys);
            await using var sessions = await OpenAsync(name, meta, pins, reach, hosts, cancellationToken).ConfigureAwait(false);
            var outcomes = await sessions.ForEachAsync(hosts, reach.Concurrency, async (host, remote, ct) =>
            {
                var stream = File.OpenRead(localPath);
                await using (stream.ConfigureAwait(false))
                {
                    await remote.UploadAsync(stream, remotePath, "0644", sudo: false, ct).ConfigureAwait(false);
                }

                var check = await remote.RunAsync(HostScripts.FileHashes([remotePath]), new RunOptions(), ct).ConfigureAwait(false);
                var onHost = HostReply.Parse(check.Stdout).OfType<FileLine>().FirstOrDefault(f => f.Path == remotePath)?.Sha256 ?? string.Empty;
                var ok = onHost == sha;
                return new InstanceOutcome(host, "host", host, ok ? OutcomeStatus.Ok : OutcomeStatus.Failed, ok ? $"{remotePath} (sha256 {sha[..12]}… checked)" : $"sha256 on the host is {onHost}");
            }, (host, e) => new InstanceOutcome(host, "host", host, OutcomeStatus.Failed, e.Message), cancellationToken).ConfigureAwait(false);
            SavePins(name, meta, pins);
            return new OperationReport("push", name, [.. outcomes, .. Unreachable(sessions.Failures)]);
        }, Judge).ConfigureAwait(false);
    }

    /// <summary>Copies <paramref name="remotePath"/> from every selected host to <c>LOCAL/&lt;host&gt;/&lt;file name&gt;</c>. Audited with <c>commandLine</c> (redacted).</summary>
    /// <exception cref="ClusterException">The cluster does not exist, or nothing matches the filter.</exception>
    public async Task<OperationReport> PullAsync(string name, string remotePath, string localDirectory, InstanceFilter filter, Reach reach, ImmutableArray<string> commandLine, CancellationToken cancellationToken)
    {
        var meta = store.Load(name);
        return await AuditedAsync(name, commandLine, async () =>
        {
            var hosts = PlanningRules.Select(meta, filter).Select(i => i.ManageHost).Distinct().ToList();
            var pins = new PinStore(meta.Tug.HostKeys);
            await using var sessions = await OpenAsync(name, meta, pins, reach, hosts, cancellationToken).ConfigureAwait(false);
            var outcomes = await sessions.ForEachAsync(hosts, reach.Concurrency, async (host, remote, ct) =>
            {
                var target = Path.Combine(localDirectory, host, Path.GetFileName(remotePath.TrimEnd('/')));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                var stream = File.Create(target);
                await using (stream.ConfigureAwait(false))
                {
                    await remote.DownloadAsync(remotePath, stream, sudo: false, ct).ConfigureAwait(false);
                }

                return new InstanceOutcome(host, "host", host, OutcomeStatus.Ok, target);
            }, (host, e) => new InstanceOutcome(host, "host", host, OutcomeStatus.Failed, e.Message), cancellationToken).ConfigureAwait(false);
            SavePins(name, meta, pins);
            return new OperationReport("pull", name, [.. outcomes, .. Unreachable(sessions.Failures)]);
        }, Judge).ConfigureAwait(false);
    }

    /// <summary>Replaces a host's pinned key, after the operator checked it.</summary>
    /// <exception cref="ClusterException">The cluster does not exist.</exception>
    public void AcceptHostKey(string name, string endpointKey, string fingerprint)
    {
        var meta = store.Load(name);
        store.Save(name, meta with { Tug = meta.Tug with { HostKeys = meta.Tug.HostKeys.SetItem(endpointKey, fingerprint) } });
    }

    /// <summary>
    /// Runs an ad-hoc verb between a start and an end audit record: succeeded (exit 0) or failed (exit 1) as
    /// <paramref name="judge"/> says, failed with the error's exit code when it throws, cancelled on cancellation.
    /// </summary>
    private async Task<T> AuditedAsync<T>(string cluster, ImmutableArray<string> commandLine, Func<Task<T>> run, Func<T, (bool Ok, string Summary)> judge)
    {
        var command = AuditLog.CommandText(AuditLog.Redact(commandLine, AuditLog.TugSwitches));
        var id = OperationId.New(time);
        audit.Append(AuditEvent.Started(id, cluster, command));
        try
        {
            var result = await run().ConfigureAwait(false);
            var (ok, summary) = judge(result);
            audit.Append(AuditEvent.Ended(id, cluster, command, ok ? JournalOutcome.Succeeded : JournalOutcome.Failed, ok ? ExitCodes.Success : ExitCodes.Failure, summary));
            return result;
        }
        catch (OperationCanceledException)
        {
            audit.Append(AuditEvent.Ended(id, cluster, command, JournalOutcome.Cancelled, ExitCodes.Cancelled, "cancelled"));
            throw;
        }
        catch (Exception e)
        {
            audit.Append(AuditEvent.Ended(id, cluster, command, JournalOutcome.Failed, e is TugException t ? t.ExitCode : ExitCodes.Unexpected, e.Message));
            throw;
        }
    }

    private static (bool Ok, string Summary) Judge(OperationReport report) =>
        Judge(report.Outcomes.Length, [.. report.Failures.Select(o => $"{o.Id} ({o.Status})")]);

    private static (bool Ok, string Summary) Judge(int hosts, ImmutableArray<string> failed) =>
        failed.IsEmpty ? (true, $"{hosts} ok") : (false, $"failed on {failed.Length} of {hosts}: {string.Join(", ", failed)}");

    /// <summary>Probes instances host by host (one round trip per host); unreachable hosts give Unreachable statuses.</summary>
    private static async Task<ImmutableArray<InstanceStatus>> ProbeAsync(ClusterMeta meta, HostSessions sessions, ImmutableArray<InstanceSpec> instances, Reach reach, CancellationToken cancellationToken) =>
        (await ProbeAsync(meta, sessions, instances, ImmutableDictionary<string, VerifiedIdentity>.Empty, null, reach, cancellationToken).ConfigureAwait(false)).Statuses;

    /// <summary>
    /// Probes instances host by host (one round trip per host, holding the process reading too when
    /// <paramref name="process"/> is given); unreachable hosts give Unreachable statuses. An instance whose identity
    /// equals its <paramref name="known"/> one is not hashed again.
    /// </summary>
    private static async Task<(ImmutableArray<InstanceStatus> Statuses, ImmutableDictionary<string, ProcLine> Processes)> ProbeAsync(ClusterMeta meta, HostSessions sessions, ImmutableArray<InstanceSpec> instances, IReadOnlyDictionary<string, VerifiedIdentity> known, Func<IReadOnlyList<InstanceSpec>, string>? process, Reach reach, CancellationToken cancellationToken)
    {
        var results = await sessions.ForEachAsync(instances.Select(i => i.ManageHost), reach.Concurrency,
            async (host, remote, ct) =>
            {
                var onHost = instances.Where(i => i.ManageHost == host).ToList();
                var result = await InstanceChecks.ProbeRunAsync(remote, meta, onHost, known, reach, process?.Invoke(onHost) ?? string.Empty, ct).ConfigureAwait(false);
                return (Statuses: onHost.Select(i => InstanceChecks.ParseProbe(meta, i, result, known)).ToList(), Processes: HostReply.Parse(result.Stdout).OfType<ProcLine>().ToList());
            },
            (host, e) => (Statuses: instances.Where(i => i.ManageHost == host).Select(i => InstanceChecks.Status(i, "Error", null, false, e.Message)).ToList(), Processes: new List<ProcLine>()), cancellationToken).ConfigureAwait(false);
        var unreachable = instances.Where(i => sessions.Failures.ContainsKey(i.ManageHost))
            .Select(i => InstanceChecks.Status(i, "Unreachable", null, false, sessions.Failures[i.ManageHost].Message));
        return ([.. results.SelectMany(r => r.Statuses).Concat(unreachable).OrderBy(s => instances.IndexOf(instances.First(i => i.Id == s.Id)))],
            results.SelectMany(r => r.Processes).GroupBy(p => p.Id).ToImmutableDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal));
    }

    /// <summary>
    /// Stamps the instances verified by hash now with the current time and keeps what was verified in the cluster's
    /// <c>verified.tsv</c> (through the store); an instance found not verified loses its entry.
    /// </summary>
    private ImmutableArray<InstanceStatus> Remember(string name, ImmutableDictionary<string, VerifiedIdentity> known, ImmutableArray<InstanceStatus> statuses)
    {
        var now = time.GetUtcNow();
        var stamped = statuses.Select(s => s.VerifiedBy == InstanceStatus.ByHash ? s with { VerifiedAt = now } : s).ToImmutableArray();
        var updated = VerifiedIdentities.Update(known, stamped, now);
        if (!updated.SequenceEqual(known))
        {
            store.SaveVerified(name, updated);
        }

        return stamped;
    }

    private Task<HostSessions> OpenAsync(string name, ClusterMeta meta, PinStore pins, Reach reach, IReadOnlyCollection<string> only, CancellationToken cancellationToken) =>
        HostSessions.OpenAsync(meta.Topology.Instances.GroupBy(i => i.ManageHost).Where(g => only.Contains(g.Key)).Select(g => (g.Key, g.First().SshPort)),
            meta.User, new KeyFileCredential(store.KeyFile(name)), pins, reach, null, cancellationToken);

    /// <summary>Host keys seen on first contact are kept with the cluster.</summary>
    private void SavePins(string name, ClusterMeta meta, PinStore pins)
    {
        var learned = pins.LearnedFor(meta);
        if (!learned.IsEmpty)
        {
            store.Save(name, meta with { Tug = meta.Tug with { HostKeys = meta.Tug.HostKeys.SetItems(learned) } });
        }
    }

    private static ImmutableArray<InstanceOutcome> Unreachable(IReadOnlyDictionary<string, RemoteException> failures) =>
        [.. failures.Select(f => new InstanceOutcome(f.Key, "host", f.Key, f.Value.Code == RemoteException.HostKeyChanged ? OutcomeStatus.Failed : OutcomeStatus.Unreachable, $"{f.Value.Code}: {f.Value.Message}"))];
}
