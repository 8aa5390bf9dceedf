// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Tug.Core.Cluster;
using Tug.Core.Remote;
using Tug.Core.Topology;

namespace Tug.Core.Inspection;

/// <summary>What <c>tug cluster check</c> does after reading: nothing more, fix what it can, or undo the fixes.</summary>
public enum CheckMode
{
    /// <summary>Read and judge only.</summary>
    Check,

    /// <summary><c>--apply</c>: fix persistently what this host lets Tug fix, recording each fix on the host.</summary>
    Apply,

    /// <summary><c>--revert</c>: undo exactly what <c>--apply</c> recorded.</summary>
    Revert,
}

/// <summary>What <c>tug cluster check</c> is asked to do.</summary>
/// <param name="Target">A topology file, or with <paramref name="ExistingCluster"/> a deployed cluster's name.</param>
/// <param name="ScaleOutFile">With <paramref name="ExistingCluster"/>: a scale-out topology whose new instances are checked.</param>
/// <param name="ExistingCluster">TiUP's <c>--cluster</c>.</param>
/// <param name="User">The login for hosts no deployed cluster reaches (<c>-u</c>).</param>
/// <param name="Credential">Its key or password.</param>
/// <param name="Filter">Only these roles and nodes (<c>-R</c>/<c>-N</c>).</param>
/// <param name="Mode">Check, apply or revert.</param>
public sealed record CheckRequest(string Target, string? ScaleOutFile, bool ExistingCluster, string User, Credential Credential, InstanceFilter Filter, CheckMode Mode);

/// <summary>One thing <c>--apply</c> or <c>--revert</c> changed on a host.</summary>
public sealed record HostChange(string Host, string What);

/// <summary>The checks (after any change), and what was changed.</summary>
public sealed record CheckReport(ImmutableArray<CheckFinding> Findings, ImmutableArray<HostChange> Changes)
{
    public bool Failed => Findings.Any(f => f.Verdict == CheckVerdict.Fail);
}

/// <summary>
/// <c>tug cluster check</c> and the preflight of deploy and scale-out: one script per host reads ports, directories,
/// disks, kernel parameters, limits, THP, swap, time sync, firewall and OS (<see cref="HostScripts.Preflight"/>);
/// <see cref="PreflightRules"/> judges. Hosts of a deployed cluster are reached as its deploy user with its key, any
/// other host as the preparing login. <c>--apply</c> writes files in /etc/sysctl.d, /etc/security/limits.d and a
/// unit in /etc/systemd/system, after recording on the host (in /etc/tug/check-applied) what each replaced;
/// <c>--revert</c> puts exactly that back.
/// </summary>
public sealed class Preflight(ClusterStore store, TimeProvider time)
{
    private const string RecordDirectory = "/etc/tug/check-applied";
    private const string SysctlFile = "/etc/sysctl.d/99-tug-check.conf";
    private const string ThpUnit = "tug-thp-never.service";
    private const string ThpUnitFile = "/etc/systemd/system/" + ThpUnit;

    private static readonly JsonSerializerOptions RecordJson = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private static readonly ImmutableArray<string> TugDirs = ["/etc/tug", RecordDirectory];

    /// <summary>Runs the checks (and <c>--apply</c> / <c>--revert</c>) on every host of the request.</summary>
    /// <exception cref="ClusterException">Bad input: no such cluster, both or neither of a file and <c>--cluster</c>, nothing matches the filter.</exception>
    /// <exception cref="TopologyException">The topology file is not valid.</exception>
    public async Task<CheckReport> CheckAsync(CheckRequest request, Reach reach, CancellationToken cancellationToken)
    {
        var scope = Resolve(request);
        var findings = new ConcurrentBag<CheckFinding>(scope.Others);
        var changes = new ConcurrentBag<HostChange>();
        await using var sessions = await OpenAsync(scope, request.User, request.Credential, new PinStore(scope.Pins), reach, cancellationToken).ConfigureAwait(false);
        foreach (var (host, e) in sessions.Failures)
        {
            findings.Add(new CheckFinding(host, PreflightRules.SshCheck, CheckVerdict.Fail, $"cannot reach the host: {e.Code}: {e.Message}"));
        }

        await Parallel.ForEachAsync(sessions.Hosts, new ParallelOptions { MaxDegreeOfParallelism = reach.Concurrency, CancellationToken = cancellationToken }, async (pair, ct) =>
        {
            var (host, remote) = pair;
            var plan = HostPlan.For(host, scope.DeployUser, scope.Checked, scope.Own);
            try
            {
                var facts = await ReadAsync(remote, plan, reach, ct).ConfigureAwait(false);
                if (request.Mode != CheckMode.Check)
                {
                    var done = request.Mode == CheckMode.Apply
                        ? await ApplyAsync(remote, scope.Cluster ?? request.Target, PreflightRules.Judge(plan, facts), reach, ct).ConfigureAwait(false)
                        : await RevertAsync(remote, host, facts, reach, ct).ConfigureAwait(false);
                    foreach (var what in done)
                    {
                        changes.Add(new HostChange(host, what));
                    }

                    facts = await ReadAsync(remote, plan, reach, ct).ConfigureAwait(false);
                }

                foreach (var f in PreflightRules.Judge(plan, facts))
                {
                    findings.Add(f);
                }
            }
            catch (Exception e) when (e is RemoteException or IOException or ClusterException)
            {
                findings.Add(new CheckFinding(host, request.Mode == CheckMode.Check ? PreflightRules.SshCheck : request.Mode.ToString().ToLowerInvariant(), CheckVerdict.Fail, e.Message));
            }
        }).ConfigureAwait(false);

        var order = scope.Checked.Select(i => i.ManageHost).Distinct().ToList();
        return new CheckReport(
            [.. findings.OrderBy(f => order.IndexOf(f.Host) is var i && i < 0 ? int.MaxValue : i).ThenBy(f => CheckOrder(f.Check)).ThenBy(f => f.Message, StringComparer.Ordinal)],
            [.. changes.OrderBy(c => order.IndexOf(c.Host)).ThenBy(c => c.What, StringComparer.Ordinal)]);
    }

    /// <summary>
    /// The preflight of deploy and scale-out: the ports and directories <paramref name="planned"/> needs, read on each of
    /// their hosts, and the other clusters of this control machine. Refuses before any step, naming each port's
    /// holder (process and PID, or the other cluster) and each directory in the way.
    /// </summary>
    /// <param name="cluster">The cluster being deployed or scaled out.</param>
    /// <param name="planned">The instances to add.</param>
    /// <param name="own">The cluster's deployed instances (scale-out): their ports and directories are no conflict, and their hosts are reached as the deploy user.</param>
    /// <param name="deployUser">The cluster's deploy user.</param>
    /// <param name="user">The preparing login for hosts the cluster does not have yet.</param>
    /// <param name="credential">Its key or password.</param>
    /// <param name="pins">Host-key pins.</param>
    /// <param name="reach">Connector and timeouts.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <exception cref="ClusterException">A conflict (<see cref="ClusterException.PreflightConflict"/>), or a host that cannot be read; nothing was changed on any host.</exception>
    public async Task RefuseConflictsAsync(string cluster, ImmutableArray<InstanceSpec> planned, ImmutableArray<InstanceSpec> own, string deployUser, string user, Credential credential, IHostKeyPins pins, Reach reach, CancellationToken cancellationToken)
    {
        var scope = new Scope(cluster, planned, own, deployUser, own.Select(i => i.ManageHost), ImmutableSortedDictionary<string, string>.Empty, OtherClusters(cluster, planned));
        var findings = new ConcurrentBag<CheckFinding>(scope.Others);
        var problems = new ConcurrentBag<string>();
        await using (var sessions = await OpenAsync(scope, user, credential, pins, reach, cancellationToken).ConfigureAwait(false))
        {
            foreach (var (host, e) in sessions.Failures)
            {
                problems.Add($"{host}: {e.Code}: {e.Message}");
            }

            await Parallel.ForEachAsync(sessions.Hosts, new ParallelOptions { MaxDegreeOfParallelism = reach.Concurrency, CancellationToken = cancellationToken }, async (pair, ct) =>
            {
                var plan = HostPlan.For(pair.Key, deployUser, planned, own);
                try
                {
                    foreach (var f in PreflightRules.Conflicts(plan, await ReadAsync(pair.Value, plan, reach, ct).ConfigureAwait(false)))
                    {
                        findings.Add(f);
                    }
                }
                catch (RemoteException e)
                {
                    problems.Add($"{pair.Key}: {e.Code}: {e.Message}");
                }
            }).ConfigureAwait(false);
        }

        var failed = findings.Where(f => f.Verdict == CheckVerdict.Fail).OrderBy(f => f.Host, StringComparer.Ordinal).ThenBy(f => f.Message, StringComparer.Ordinal).ToList();
        if (!problems.IsEmpty)
        {
            throw new ClusterException(ClusterException.BadInput, $"The preflight could not read {string.Join("; ", problems.Order(StringComparer.Ordinal))}; nothing was changed on any host.",
                "Check the host, the login (-u) and its key (-i), then run the command again.");
        }

        if (failed.Count > 0)
        {
            throw ClusterException.Conflicts([.. failed.Select(f => $"{f.Host}: {f.Message}")]);
        }
    }

    private static async Task<HostFacts> ReadAsync(IRemoteHost remote, HostPlan plan, Reach reach, CancellationToken cancellationToken)
    {
        var result = await remote.RunAsync(HostScripts.Preflight(plan.User, [.. plan.Dirs.Select(d => d.Path)]), new RunOptions(Sudo: true, Timeout: reach.WaitTimeout), cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0 && !result.Stdout.Contains("TUG|pf|user|", StringComparison.Ordinal))
        {
            throw new RemoteException($"the preflight script exited {result.ExitCode}: {result.Stderr.Trim()}");
        }

        return PreflightRules.Parse(HostReply.Parse(result.Stdout));
    }

    /// <summary>Fixes what the findings say can be fixed on this host; returns what it changed.</summary>
    private async Task<ImmutableArray<string>> ApplyAsync(IRemoteHost remote, string cluster, ImmutableArray<CheckFinding> findings, Reach reach, CancellationToken cancellationToken)
    {
        var fixes = findings.Where(f => f.Verdict == CheckVerdict.Fail && f.Fix is not null).Select(f => f.Fix!).ToList();
        if (fixes.Count == 0)
        {
            return [];
        }

        var sysctls = fixes.OfType<SysctlFix>().ToList();
        var limits = fixes.OfType<LimitFix>().ToList();
        var thp = fixes.OfType<ThpFix>().Any();
        var targets = new List<string>();
        if (sysctls.Count > 0)
        {
            targets.Add(SysctlFile);
        }

        targets.AddRange(limits.Select(l => LimitsFile(l.User)).Distinct());
        if (thp)
        {
            targets.Add(ThpUnitFile);
        }

        var read = await ReadFilesAsync(remote, [.. targets, .. targets.Select(t => Path.GetDirectoryName(t)!).Distinct(), .. TugDirs], reach, cancellationToken).ConfigureAwait(false);
        var contents = new List<string>();
        foreach (var target in targets)
        {
            var before = read[target] is { IsFile: true } f ? f.Content : string.Empty;
            contents.Add(target switch
            {
                SysctlFile => Merge(before, sysctls.Select(s => (s.Name, $"{s.Name} = {s.Value}"))),
                ThpUnitFile => ThpUnitText,
                _ => Merge(before, limits.Where(l => LimitsFile(l.User) == target).Select(l => ($"{l.User} {l.Type} {l.Item}", $"{l.User}    {l.Type}    {l.Item}    {l.Value}"))),
            });
        }

        var created = TugDirs.Concat(targets.Select(t => Path.GetDirectoryName(t)!)).Distinct().Where(d => read[d] is { Exists: false }).ToImmutableArray();
        var now = time.GetUtcNow();
        var record = new AppliedRecord(cluster, now.ToString("o", CultureInfo.InvariantCulture),
            [.. targets.Select(t => new AppliedFile(t, read[t].IsFile, read[t].IsFile ? Convert.ToBase64String(Encoding.UTF8.GetBytes(read[t].Content)) : null))],
            [.. sysctls.Select(s => new AppliedSysctl(s.Name, s.Previous, s.Value))],
            thp ? [ThpUnit] : [],
            [.. created.OrderByDescending(d => d.Length)]);
        var name = $"{now.ToString("yyyyMMdd'T'HHmmss.fffffff'Z'", CultureInfo.InvariantCulture)}.json";
        var script = HostScripts.CheckApply(name, JsonSerializer.Serialize(record, RecordJson), [.. targets.Zip(contents)], [.. sysctls.Select(s => (s.Name, s.Value))], record.Units);
        var result = await remote.RunAsync(script, new RunOptions(Sudo: true, Timeout: reach.WaitTimeout), cancellationToken).ConfigureAwait(false);
        var lines = HostReply.Parse(result.Stdout).OfType<PreflightLine>().ToList();
        var changed = new List<string>();
        foreach (var l in lines)
        {
            switch (l.Fact, l.Fields.Length)
            {
                case ("wrote", 1):
                    var path = Decode(l.Fields[0]);
                    changed.Add($"{(read[path].IsFile ? "replaced" : "created")} {path} (before: {RecordDirectory}/{name})");
                    break;
                case ("set", 2):
                    var fix = sysctls.First(s => s.Name == l.Fields[0]);
                    changed.Add(l.Fields[1].Trim() == fix.Value ? $"set {fix.Name} = {fix.Value} now (was {fix.Previous}) and at boot" : $"{fix.Name} is {l.Fields[1].Trim()} after writing {fix.Value}: set at boot only");
                    break;
                case ("enabled", 2):
                    changed.Add($"enabled {l.Fields[0]} ({l.Fields[1]}): THP off now and at boot");
                    break;
            }
        }

        if (result.ExitCode != 0)
        {
            throw new ClusterException(ClusterException.BadInput, $"--apply stopped on the host after {changed.Count} change(s): {result.Stderr.Trim()}", $"`tug cluster check ... --revert` undoes what {RecordDirectory}/{name} records.");
        }

        return [.. changed];
    }

    /// <summary>Undoes every record of <c>--apply</c> on this host (newest first); returns what it changed.</summary>
    private static async Task<ImmutableArray<string>> RevertAsync(IRemoteHost remote, string host, HostFacts facts, Reach reach, CancellationToken cancellationToken)
    {
        var names = facts.Applied.Where(n => n.EndsWith(".json", StringComparison.Ordinal) && !n.Contains('/', StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        if (names.Count == 0)
        {
            return [];
        }

        var read = await ReadFilesAsync(remote, [.. names.Select(n => $"{RecordDirectory}/{n}")], reach, cancellationToken).ConfigureAwait(false);
        var records = names.Select(n => (Name: n, Record: ParseRecord(host, n, read[$"{RecordDirectory}/{n}"].Content))).ToList();

        // Walked newest first, so the oldest record's "before" is what stays.
        var files = new Dictionary<string, AppliedFile>(StringComparer.Ordinal);
        var sysctls = new Dictionary<string, string>(StringComparer.Ordinal);
        var units = new SortedSet<string>(StringComparer.Ordinal);
        var dirs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (_, record) in Enumerable.Reverse(records))
        {
            foreach (var f in record.Files)
            {
                files[f.Path] = f;
            }

            foreach (var s in record.Sysctls)
            {
                sysctls[s.Name] = s.Previous;
            }

            units.UnionWith(record.Units);
            dirs.UnionWith(record.CreatedDirs);
        }

        var restore = files.Values.Where(f => f.Existed).OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
        var remove = files.Values.Where(f => !f.Existed).Select(f => f.Path).Order(StringComparer.Ordinal).ToList();
        var script = HostScripts.CheckRevert([.. names], [.. restore.Select(f => (f.Path, Encoding.UTF8.GetString(Convert.FromBase64String(f.Previous ?? string.Empty))))], [.. remove],
            [.. sysctls.Select(s => (s.Key, s.Value))], [.. units], [.. dirs.OrderByDescending(d => d.Length)]);
        var result = await remote.RunAsync(script, new RunOptions(Sudo: true, Timeout: reach.WaitTimeout), cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new ClusterException(ClusterException.BadInput, $"--revert stopped on the host: {result.Stderr.Trim()}", "Run it again: the records stay until everything they list is undone.");
        }

        return
        [
            .. units.Select(u => $"disabled and removed {u}"),
            .. restore.Select(f => $"put back {f.Path} as it was"),
            .. remove.Select(p => $"removed {p}"),
            .. sysctls.Select(s => $"set {s.Key} back to {s.Value}"),
            $"removed {names.Count} record(s) from {RecordDirectory}",
        ];
    }

    private static AppliedRecord ParseRecord(string host, string name, string json)
    {
        AppliedRecord? record;
        try
        {
            record = JsonSerializer.Deserialize<AppliedRecord>(json, RecordJson);
        }
        catch (JsonException e)
        {
            throw new ClusterException(ClusterException.StateBroken, $"{RecordDirectory}/{name} on {host} is not a record of check --apply: {e.Message}", "Look at it on the host; remove it by hand if it is not Tug's.");
        }

        if (record is null || record.Files.IsDefault || record.Sysctls.IsDefault || record.Units.IsDefault || record.CreatedDirs.IsDefault)
        {
            throw new ClusterException(ClusterException.StateBroken, $"{RecordDirectory}/{name} on {host} is incomplete.", "Look at it on the host; remove it by hand if it is not Tug's.");
        }

        // Only what --apply writes may be undone: anything else in a record is refused, not acted on.
        var bad = record.Files.Select(f => f.Path).Where(p => !IsTugFile(p))
            .Concat(record.Units.Where(u => u != ThpUnit))
            .Concat(record.CreatedDirs.Where(d => !TugDirs.Contains(d) && d is not ("/etc/sysctl.d" or "/etc/security/limits.d" or "/etc/systemd/system")))
            .Concat(record.Sysctls.Where(s => !s.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-') || s.Previous.Contains('\n', StringComparison.Ordinal)).Select(s => s.Name))
            .ToList();
        if (bad.Count > 0)
        {
            throw new ClusterException(ClusterException.StateBroken, $"{RecordDirectory}/{name} on {host} names {string.Join(", ", bad)}, which check --apply never writes.", "Look at it on the host; nothing was reverted.");
        }

        return record;
    }

    private static bool IsTugFile(string path) =>
        path == SysctlFile || path == ThpUnitFile || (path.StartsWith("/etc/security/limits.d/99-tug-", StringComparison.Ordinal) && path.EndsWith(".conf", StringComparison.Ordinal) && !path.Contains("..", StringComparison.Ordinal) && path.Count(c => c == '/') == 4);

    private static string LimitsFile(string user) => $"/etc/security/limits.d/99-tug-{user}.conf";

    private const string Header = "# Written by tug cluster check --apply; `tug cluster check ... --revert` puts back what was here before.";

    /// <summary>The file with a line per key: ours replace lines of the same key, others stay.</summary>
    internal static string Merge(string before, IEnumerable<(string Key, string Line)> lines)
    {
        var ours = lines.ToList();
        var kept = before.Split('\n').Where(l => l.Length > 0 && l != Header && !ours.Any(o => KeyOf(l) == o.Key));
        return string.Join('\n', kept.Prepend(Header).Concat(ours.Select(o => o.Line)).Distinct()) + "\n";
    }

    private static string KeyOf(string line)
    {
        var f = line.Split([' ', '\t', '='], StringSplitOptions.RemoveEmptyEntries);
        return f.Length >= 3 && !line.Contains('=', StringComparison.Ordinal) ? $"{f[0]} {f[1]} {f[2]}" : f.Length > 0 ? f[0] : string.Empty;
    }

    private const string ThpUnitText = """
        [Unit]
        Description=Transparent huge pages off (written by tug cluster check --apply)
        DefaultDependencies=no
        After=sysinit.target local-fs.target

        [Service]
        Type=oneshot
        RemainAfterExit=yes
        ExecStart=/bin/sh -c 'echo never > /sys/kernel/mm/transparent_hugepage/enabled && echo never > /sys/kernel/mm/transparent_hugepage/defrag'

        [Install]
        WantedBy=basic.target

        """;

    private sealed record FileState(bool Exists, bool IsFile, string Content);

    private static async Task<Dictionary<string, FileState>> ReadFilesAsync(IRemoteHost remote, ImmutableArray<string> paths, Reach reach, CancellationToken cancellationToken)
    {
        var result = await remote.RunAsync(HostScripts.CheckRead([.. paths.Distinct()]), new RunOptions(Sudo: true, Timeout: reach.WaitTimeout), cancellationToken).ConfigureAwait(false);
        var states = new Dictionary<string, FileState>(StringComparer.Ordinal);
        foreach (var line in HostReply.Parse(result.Stdout).OfType<PreflightLine>().Where(l => l.Fact == "content" && l.Fields.Length == 3))
        {
            states[Decode(line.Fields[0])] = new FileState(line.Fields[1] != "missing", line.Fields[1] == "file", line.Fields[1] == "file" ? Decode(line.Fields[2]) : string.Empty);
        }

        var missing = paths.Where(p => !states.ContainsKey(p)).ToList();
        if (result.ExitCode != 0 || missing.Count > 0)
        {
            throw new RemoteException($"could not read {string.Join(", ", missing)} (exit {result.ExitCode}): {result.Stderr.Trim()}");
        }

        return states;
    }

    private static string Decode(string b64)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(b64));
        }
        catch (FormatException)
        {
            return string.Empty;
        }
    }

    private static readonly ImmutableArray<string> Order =
    [
        PreflightRules.SshCheck, PreflightRules.PortCheck, PreflightRules.ClusterPortCheck, PreflightRules.DirCheck, PreflightRules.ClusterDirCheck, PreflightRules.DiskCheck,
        PreflightRules.OsCheck, PreflightRules.SysctlCheck, PreflightRules.LimitsCheck, PreflightRules.ThpCheck, PreflightRules.SwapCheck, PreflightRules.NtpCheck, PreflightRules.FirewallCheck,
    ];

    private static int CheckOrder(string check) => Order.IndexOf(check) is var i && i >= 0 ? i : Order.Length;

    private sealed record Scope(string? Cluster, ImmutableArray<InstanceSpec> Checked, ImmutableArray<InstanceSpec> Own, string DeployUser, ImmutableHashSet<string> DeployHosts,
        ImmutableSortedDictionary<string, string> Pins, ImmutableArray<CheckFinding> Others)
    {
        public Scope(string? cluster, ImmutableArray<InstanceSpec> @checked, ImmutableArray<InstanceSpec> own, string deployUser, IEnumerable<string> deployHosts, ImmutableSortedDictionary<string, string> pins, ImmutableArray<CheckFinding> others)
            : this(cluster, @checked, own, deployUser, deployHosts.ToImmutableHashSet(StringComparer.Ordinal), pins, others)
        {
        }
    }

    private Scope Resolve(CheckRequest request)
    {
        if (!request.ExistingCluster)
        {
            if (request.ScaleOutFile is not null)
            {
                throw new ClusterException(ClusterException.BadInput, $"A scale-out topology ({request.ScaleOutFile}) is checked against a deployed cluster: add --cluster and give the cluster's name first.",
                    "e.g. `tug cluster check NAME scale-out.yaml --cluster`.");
            }

            var topology = TopologyLoader.Load(request.Target);
            var selected = Filter(topology.Instances, request.Filter, request.Target);
            return new Scope(null, selected, [], topology.Global.User, [], ImmutableSortedDictionary<string, string>.Empty, OtherClusters(null, selected));
        }

        var meta = store.Load(request.Target);
        if (request.ScaleOutFile is null)
        {
            var selected = Filter(meta.Topology.Instances, request.Filter, request.Target);
            return new Scope(request.Target, selected, meta.Topology.Instances, meta.User, meta.Topology.ManageHosts, meta.Tug.HostKeys, OtherClusters(request.Target, selected));
        }

        var merged = TopologyLoader.LoadScaleOut(request.ScaleOutFile, meta.Topology);
        var added = Filter([.. merged.Instances.Where(i => meta.Topology.Find(i.Id) is null)], request.Filter, request.ScaleOutFile);
        return new Scope(request.Target, added, meta.Topology.Instances, meta.User, meta.Topology.ManageHosts, meta.Tug.HostKeys, OtherClusters(request.Target, added));
    }

    private static ImmutableArray<InstanceSpec> Filter(ImmutableArray<InstanceSpec> instances, InstanceFilter filter, string source)
    {
        var selected = instances.Where(filter.Matches).ToImmutableArray();
        return selected.IsEmpty
            ? throw new ClusterException(ClusterException.BadInput, $"No instance of {source} matches {string.Join(" ", filter.Roles.Select(r => "-R " + r).Concat(filter.Nodes.Select(n => "-N " + n)))}.".Replace(" matches .", " to check.", StringComparison.Ordinal),
                "Roles and node IDs as in the topology (host:port) or hosts.")
            : selected;
    }

    /// <summary>Conflicts with every other cluster on this control machine; a cluster whose meta.yaml cannot be read is skipped (list shows it broken).</summary>
    private ImmutableArray<CheckFinding> OtherClusters(string? self, ImmutableArray<InstanceSpec> planned)
    {
        var others = new List<(string, IReadOnlyList<InstanceSpec>)>();
        foreach (var name in store.List().Where(n => n != self))
        {
            try
            {
                others.Add((name, store.Load(name).Topology.Instances));
            }
            catch (ClusterException)
            {
                // A broken meta.yaml is reported by `tug cluster list`; it must not hide the other clusters' conflicts.
            }
        }

        return PreflightRules.ClusterConflicts(self, planned, others);
    }

    private async Task<MergedSessions> OpenAsync(Scope scope, string user, Credential credential, IHostKeyPins pins, Reach reach, CancellationToken cancellationToken)
    {
        var hosts = scope.Checked.GroupBy(i => i.ManageHost).Select(g => (Host: g.Key, Port: g.First().SshPort)).ToList();
        var asDeploy = hosts.Where(h => scope.DeployHosts.Contains(h.Host)).ToList();
        var asPreparing = hosts.Where(h => !scope.DeployHosts.Contains(h.Host)).ToList();
        var preparing = await HostSessions.OpenAsync(asPreparing, user, credential, pins, reach, null, cancellationToken).ConfigureAwait(false);
        var deploy = asDeploy.Count == 0 || scope.Cluster is null
            ? null
            : await HostSessions.OpenAsync(asDeploy, scope.DeployUser, new KeyFileCredential(store.KeyFile(scope.Cluster)), pins, reach, null, cancellationToken).ConfigureAwait(false);
        return new MergedSessions(preparing, deploy);
    }

    private sealed class MergedSessions(HostSessions preparing, HostSessions? deploy) : IAsyncDisposable
    {
        public IReadOnlyDictionary<string, IRemoteHost> Hosts { get; } = preparing.Hosts.Concat(deploy?.Hosts ?? new Dictionary<string, IRemoteHost>()).ToDictionary(StringComparer.Ordinal);

        public IReadOnlyDictionary<string, RemoteException> Failures { get; } = preparing.Failures.Concat(deploy?.Failures ?? new Dictionary<string, RemoteException>()).ToDictionary(StringComparer.Ordinal);

        public async ValueTask DisposeAsync()
        {
            await preparing.DisposeAsync().ConfigureAwait(false);
            if (deploy is not null)
            {
                await deploy.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}

/// <summary>What one <c>check --apply</c> changed on a host, stored there as JSON before the change.</summary>
internal sealed record AppliedRecord(string Cluster, string At, ImmutableArray<AppliedFile> Files, ImmutableArray<AppliedSysctl> Sysctls, ImmutableArray<string> Units, ImmutableArray<string> CreatedDirs);

/// <summary>A file <c>--apply</c> wrote: whether it was there, and its content then (base64).</summary>
internal sealed record AppliedFile(string Path, bool Existed, string? Previous);

/// <summary>A kernel parameter <c>--apply</c> set, and its value before.</summary>
internal sealed record AppliedSysctl(string Name, string Previous, string Value);
