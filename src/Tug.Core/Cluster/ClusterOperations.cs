// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Concurrent;
using System.Collections.Immutable;
using Tug.Core.Components;
using Tug.Core.Remote;
using Tug.Core.Topology;
using ClusterTopology = Tug.Core.Topology.Topology;

namespace Tug.Core.Cluster;

/// <summary>What <c>tug cluster deploy</c> is asked to do.</summary>
/// <param name="Name">Cluster name.</param>
/// <param name="Version">Cluster version: the version of every component that follows the cluster.</param>
/// <param name="TopologyFile">TiUP topology file.</param>
/// <param name="User">The login used to prepare hosts (<c>-u</c>): root, or a user with passwordless sudo.</param>
/// <param name="Credential">Its key (<c>-i</c>) or password.</param>
public sealed record DeployRequest(string Name, string Version, string TopologyFile, string User, Credential Credential);

/// <summary>The plan a deploy shows before it changes anything.</summary>
public sealed record DeployPlan(string Name, ClusterTopology Topology, ImmutableArray<(string Instance, string Role, string Host, string Version)> Instances);

/// <summary>One host's answer to <c>tug cluster exec</c>.</summary>
public sealed record ExecResult(string Host, int ExitCode, string Stdout, string Stderr, string? Error);

/// <summary>
/// The cluster operations: deploy, start, stop, restart, display, exec, push, pull, destroy. Each opens one
/// connection per host, sends each step to a host as one script, and reads the truth back from the hosts.
/// </summary>
public sealed partial class ClusterOperations(ClusterStore store, IPackageSource packages, HttpClient http, TimeProvider time)
{
    private const string TugVersion = "tug 0.1.0";

    /// <summary>
    /// The journal of the operation in progress, set by the caller that holds the cluster's lock. Each step is recorded
    /// in it (planned before it runs, then done or failed); when it is a resumed journal (<c>tug cluster replay</c>),
    /// steps it records as done are checked on the hosts instead of being run again.
    /// </summary>
    public OperationJournal? Journal { get; set; }

    /// <summary>Whether an earlier run of this operation recorded <paramref name="step"/> as done.</summary>
    private bool Resumed(string step) => Journal?.IsDone(step) == true;

    private void Planned(string step, string? detail = null) => Journal?.Planned(step, detail);

    private void Finish(string step, InstanceOutcome outcome)
    {
        if (outcome.Status is OutcomeStatus.Ok)
        {
            Journal?.Done(step, outcome.Message);
        }
        else if (outcome.Status is OutcomeStatus.Failed or OutcomeStatus.Unreachable)
        {
            Journal?.Failed(step, outcome.Message);
        }
    }

    /// <summary>Deploys a new cluster: hosts prepared, packages verified on the hosts, units installed, started, health-checked, verified.</summary>
    /// <exception cref="ClusterException">Bad input, a host unreachable before anything changed, or the operator declined.</exception>
    public async Task<OperationReport> DeployAsync(DeployRequest request, Reach reach, Func<DeployPlan, bool> confirm, IProgress<OperationEvent>? progress, CancellationToken cancellationToken)
    {
        ClusterName.Validate(request.Name);
        if (store.Exists(request.Name) && Resumed("install"))
        {
            // A replay after the install was recorded: start what is not started yet, health-gated and verified.
            var saved = store.Load(request.Name);
            await using var resumed = await OpenAsync(request.Name, saved, reach, progress, cancellationToken).ConfigureAwait(false);
            return new OperationReport("deploy", request.Name, await StartInstancesAsync(saved, resumed, saved.Topology.Instances, reach, progress, cancellationToken).ConfigureAwait(false));
        }

        if (store.Exists(request.Name))
        {
            throw new ClusterException(ClusterException.Exists, $"Cluster '{request.Name}' already exists.",
                $"Choose another name, or remove it first with `tug cluster destroy {request.Name}`.");
        }

        var version = NormalizeVersion(request.Version);
        var topology = TopologyLoader.Load(request.TopologyFile);
        var pins = new PinStore([]);
        var hosts = topology.Instances.GroupBy(i => i.ManageHost).Select(g => (g.Key, g.First().SshPort)).ToList();

        Dictionary<string, ResolvedPackage> packagesByInstance;

        // 1. Reach every host as the preparing user before anything changes.
        await using (var root = await HostSessions.OpenAsync(hosts, request.User, request.Credential, pins, reach, progress, cancellationToken).ConfigureAwait(false))
        {
            if (root.Failures.Count > 0)
            {
                return Unreachable("deploy", request.Name, root.Failures, "nothing was changed on any host");
            }

            // 2. Probe platforms, resolve and verify packages, show the plan.
            topology = await ProbePlatformsAsync(root, topology, cancellationToken).ConfigureAwait(false);

            packagesByInstance = await ResolvePackagesAsync(topology, version, progress, cancellationToken).ConfigureAwait(false);
            var plan = new DeployPlan(request.Name, topology, [.. topology.Instances.Select(i => (i.Id, i.Role, i.ManageHost, packagesByInstance[i.Id].Version))]);
            if (!confirm(plan))
            {
                throw new ClusterException(ClusterException.Aborted, "Deploy cancelled; nothing was changed.", "Pass -y to skip the confirmation.");
            }

            // 3. The deploy user, its sudo rule and the cluster's own key, on every host.
            var publicKey = SshKeys.EnsureKeyPair(store.SshDirectory(request.Name), $"tug-cluster-{request.Name}");
            var user = topology.Global.User;
            var group = topology.Global.Group.Length > 0 ? topology.Global.Group : user;
            var init = await root.ForEachAsync(root.Hosts.Keys, reach.Concurrency, async (host, remote, ct) =>
            {
                progress?.Report(new OperationEvent(host, null, "init", $"preparing user {user}"));
                Planned($"init {host}");
                var result = await remote.RunAsync(HostScripts.EnvInit(user, group, publicKey, createUser: request.User != user), new RunOptions(Sudo: true, Timeout: reach.WaitTimeout), ct).ConfigureAwait(false);
                var outcome = new InstanceOutcome(host, "host", host, result.Ok ? OutcomeStatus.Ok : OutcomeStatus.Failed, result.Ok ? "deploy user ready" : result.Stderr.Trim());
                Finish($"init {host}", outcome);
                return outcome;
            }, (host, e) => new InstanceOutcome(host, "host", host, OutcomeStatus.Failed, e.Message), cancellationToken).ConfigureAwait(false);
            if (init.Any(o => o.Status != OutcomeStatus.Ok))
            {
                return new OperationReport("deploy", request.Name, init);
            }
        }

        // 4. As the deploy user, with the cluster key: packages checked on the hosts, files and units installed.
        var meta = new ClusterMeta
        {
            User = topology.Global.User,
            Version = version,
            OpsVersion = TugVersion,
            Topology = topology,
            Tug = new TugState
            {
                Versions = PinnedVersions(topology, version, packagesByInstance),
                HostKeys = pins.Snapshot(),
                Instances = topology.Instances.ToImmutableSortedDictionary(i => i.Id, i => new DeployedInstance(packagesByInstance[i.Id].Version, packagesByInstance[i.Id].Entry, packagesByInstance[i.Id].EntrySha256, false), StringComparer.Ordinal),
            },
        };

        await using var sessions = await OpenAsync(request.Name, meta, reach, progress, cancellationToken).ConfigureAwait(false);
        Planned("install");
        var installed = await InstallAsync(request.Name, meta, sessions, topology.Instances, packagesByInstance, reach, progress, cancellationToken).ConfigureAwait(false);
        store.Save(request.Name, meta with { Tug = meta.Tug with { HostKeys = pins.Snapshot() } });
        if (installed.Any(o => o.Status != OutcomeStatus.Ok) || sessions.Failures.Count > 0)
        {
            Journal?.Failed("install", string.Join("; ", installed.Where(o => o.Status != OutcomeStatus.Ok).Select(o => $"{o.Id}: {o.Message}")));
            return new OperationReport("deploy", request.Name, [.. installed, .. Unreachable(sessions.Failures)]);
        }

        Journal?.Done("install", $"{installed.Length} instance(s) installed");

        // 5. Start in order, health-gated, then prove what runs.
        var started = await StartInstancesAsync(meta, sessions, topology.Instances, reach, progress, cancellationToken).ConfigureAwait(false);
        return new OperationReport("deploy", request.Name, started);
    }

    /// <summary>Starts the selected instances in start order, waits for each to be healthy, and verifies what runs.</summary>
    public async Task<OperationReport> StartAsync(string name, InstanceFilter filter, Reach reach, IProgress<OperationEvent>? progress, CancellationToken cancellationToken)
    {
        var meta = store.Load(name);
        await using var sessions = await OpenAsync(name, meta, reach, progress, cancellationToken).ConfigureAwait(false);
        var outcomes = await StartInstancesAsync(meta, sessions, Select(meta, filter), reach, progress, cancellationToken).ConfigureAwait(false);
        SavePins(name, meta);
        return new OperationReport("start", name, outcomes);
    }

    /// <summary>Stops the selected instances in reverse start order and checks that their ports closed.</summary>
    public async Task<OperationReport> StopAsync(string name, InstanceFilter filter, Reach reach, IProgress<OperationEvent>? progress, CancellationToken cancellationToken)
    {
        var meta = store.Load(name);
        await using var sessions = await OpenAsync(name, meta, reach, progress, cancellationToken).ConfigureAwait(false);
        var instances = Select(meta, filter);
        var outcomes = await StopInstancesAsync(sessions, instances, reach, progress, cancellationToken).ConfigureAwait(false);
        return new OperationReport("stop", name, await VerifyStoppedAsync(meta, sessions, instances, outcomes, reach, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Proves a stop: each stopped instance's unit is inactive, no process runs for it, its port is closed, and the
    /// deployed executable is still the signed package's (so a later start runs what Tug installed).
    /// </summary>
    private static async Task<ImmutableArray<InstanceOutcome>> VerifyStoppedAsync(ClusterMeta meta, HostSessions sessions, ImmutableArray<InstanceSpec> instances, ImmutableArray<InstanceOutcome> outcomes, Reach reach, CancellationToken cancellationToken)
    {
        var stopped = instances.Where(i => outcomes.Any(o => o.Id == i.Id && o.Status == OutcomeStatus.Ok)).ToImmutableArray();
        if (stopped.IsEmpty)
        {
            return outcomes;
        }

        var statuses = (await ProbeAsync(meta, sessions, stopped, reach, cancellationToken).ConfigureAwait(false)).ToDictionary(s => s.Id);
        return [.. outcomes.Select(o =>
        {
            if (!statuses.TryGetValue(o.Id, out var status))
            {
                return o;
            }

            // The probe's detail for a cleanly stopped instance is exactly "no running process".
            var problems = status.Detail.Split("; ").Where(p => p != "no running process").ToList();
            if (status.Status is not ("Down" or "Failed"))
            {
                problems.Insert(0, $"the unit is {status.Status}, not stopped");
            }

            return problems.Count == 0
                ? o with { Message = "stopped; verified: unit inactive, no process, port closed, deployed file = signed package" }
                : o with { Status = OutcomeStatus.Failed, Message = $"stop not verified: {string.Join("; ", problems)}" };
        })];
    }

    /// <summary>Stops then starts the selected instances.</summary>
    public async Task<OperationReport> RestartAsync(string name, InstanceFilter filter, Reach reach, IProgress<OperationEvent>? progress, CancellationToken cancellationToken)
    {
        var meta = store.Load(name);
        await using var sessions = await OpenAsync(name, meta, reach, progress, cancellationToken).ConfigureAwait(false);
        var instances = Select(meta, filter);
        var stopped = await StopInstancesAsync(sessions, instances, reach, progress, cancellationToken).ConfigureAwait(false);
        var started = await StartInstancesAsync(meta, sessions, instances, reach, progress, cancellationToken).ConfigureAwait(false);
        var failedStops = stopped.Where(o => o.Status != OutcomeStatus.Ok && !started.Any(s => s.Id == o.Id && s.Status != OutcomeStatus.Ok));
        return new OperationReport("restart", name, [.. started, .. failedStops]);
    }

    /// <summary>Reads every selected instance's state from its host: systemd state, port, running version, verified.</summary>
    public async Task<(ClusterMeta Meta, ImmutableArray<InstanceStatus> Instances)> DisplayAsync(string name, InstanceFilter filter, Reach reach, CancellationToken cancellationToken)
    {
        var meta = store.Load(name);
        await using var sessions = await OpenAsync(name, meta, reach, null, cancellationToken).ConfigureAwait(false);
        var statuses = await ProbeAsync(meta, sessions, Select(meta, filter), reach, cancellationToken).ConfigureAwait(false);
        SavePins(name, meta);
        return (meta, statuses);
    }

    /// <summary>Runs a shell command once on every selected host; output grouped by host.</summary>
    public async Task<ImmutableArray<ExecResult>> ExecAsync(string name, string command, bool sudo, InstanceFilter filter, Reach reach, CancellationToken cancellationToken)
    {
        var meta = store.Load(name);
        var hosts = Select(meta, filter).Select(i => i.ManageHost).Distinct().ToList();
        await using var sessions = await OpenAsync(name, meta, reach, null, cancellationToken, hosts).ConfigureAwait(false);
        var results = await sessions.ForEachAsync(hosts, reach.Concurrency, async (host, remote, ct) =>
        {
            var r = await remote.RunAsync(command, new RunOptions(Sudo: sudo, Timeout: reach.WaitTimeout), ct).ConfigureAwait(false);
            return new ExecResult(host, r.ExitCode, r.Stdout, r.Stderr, null);
        }, (host, e) => new ExecResult(host, -1, string.Empty, string.Empty, e.Message), cancellationToken).ConfigureAwait(false);
        var unreachable = sessions.Failures.Select(f => new ExecResult(f.Key, -1, string.Empty, string.Empty, $"{f.Value.Code}: {f.Value.Message}"));
        return [.. results.Concat(unreachable).OrderBy(r => hosts.IndexOf(r.Host))];
    }

    /// <summary>Copies a local file to <paramref name="remotePath"/> on every selected host, checking its sha256 there.</summary>
    public async Task<OperationReport> PushAsync(string name, string localPath, string remotePath, InstanceFilter filter, Reach reach, CancellationToken cancellationToken)
    {
        if (!File.Exists(localPath))
        {
            throw new ClusterException(ClusterException.BadInput, $"Local file {localPath} does not exist.");
        }

        var meta = store.Load(name);
        var hosts = Select(meta, filter).Select(i => i.ManageHost).Distinct().ToList();
        var sha = Hashes.Sha256File(localPath);
        await using var sessions = await OpenAsync(name, meta, reach, null, cancellationToken, hosts).ConfigureAwait(false);
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
        return new OperationReport("push", name, [.. outcomes, .. Unreachable(sessions.Failures)]);
    }

    /// <summary>Copies <paramref name="remotePath"/> from every selected host to <c>LOCAL/&lt;host&gt;/&lt;file name&gt;</c>.</summary>
    public async Task<OperationReport> PullAsync(string name, string remotePath, string localDirectory, InstanceFilter filter, Reach reach, CancellationToken cancellationToken)
    {
        var meta = store.Load(name);
        var hosts = Select(meta, filter).Select(i => i.ManageHost).Distinct().ToList();
        await using var sessions = await OpenAsync(name, meta, reach, null, cancellationToken, hosts).ConfigureAwait(false);
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
        return new OperationReport("pull", name, [.. outcomes, .. Unreachable(sessions.Failures)]);
    }

    /// <summary>Stops everything and removes units, directories and the cluster key from every host, then the local state.</summary>
    public async Task<OperationReport> DestroyAsync(string name, bool force, Reach reach, IProgress<OperationEvent>? progress, CancellationToken cancellationToken)
    {
        var meta = store.Load(name);
        var topology = meta.Topology;
        await using var sessions = await OpenAsync(name, meta, reach, progress, cancellationToken).ConfigureAwait(false);
        var publicKey = File.Exists(store.KeyFile(name) + ".pub") ? (await File.ReadAllTextAsync(store.KeyFile(name) + ".pub", cancellationToken).ConfigureAwait(false)).Trim() : string.Empty;
        var outcomes = await sessions.ForEachAsync(sessions.Hosts.Keys, reach.Concurrency, async (host, remote, ct) =>
        {
            var instances = topology.Instances.Where(i => i.ManageHost == host).ToList();
            progress?.Report(new OperationEvent(host, null, "destroy", $"removing {instances.Count} instance(s)"));
            var result = await remote.RunAsync(HostScripts.Destroy(instances, meta.User, publicKey), new RunOptions(Sudo: true, Timeout: reach.WaitTimeout), ct).ConfigureAwait(false);
            return new InstanceOutcome(host, "host", host, result.Ok ? OutcomeStatus.Ok : OutcomeStatus.Failed, result.Ok ? $"removed {instances.Count} instance(s); verified: no unit, process or directory left" : result.Stderr.Trim());
        }, (host, e) => new InstanceOutcome(host, "host", host, OutcomeStatus.Failed, e.Message), cancellationToken).ConfigureAwait(false);
        var report = new OperationReport("destroy", name, [.. outcomes, .. Unreachable(sessions.Failures)]);
        if (report.Ok || force)
        {
            store.Delete(name);
        }

        return report;
    }

    /// <summary>Replaces a host's pinned key, after the operator checked it.</summary>
    public void AcceptHostKey(string name, string endpointKey, string fingerprint)
    {
        var meta = store.Load(name);
        store.Save(name, meta with { Tug = meta.Tug with { HostKeys = meta.Tug.HostKeys.SetItem(endpointKey, fingerprint) } });
    }

    private readonly ConcurrentDictionary<string, PinStore> _pins = new(StringComparer.Ordinal);

    private async Task<HostSessions> OpenAsync(string name, ClusterMeta meta, Reach reach, IProgress<OperationEvent>? progress, CancellationToken cancellationToken, IReadOnlyCollection<string>? only = null)
    {
        var pins = _pins.GetOrAdd(name, _ => new PinStore(meta.Tug.HostKeys));
        var hosts = meta.Topology.Instances.GroupBy(i => i.ManageHost)
            .Where(g => only is null || only.Contains(g.Key))
            .Select(g => (g.Key, g.First().SshPort));
        return await HostSessions.OpenAsync(hosts, meta.User, new KeyFileCredential(store.KeyFile(name)), pins, reach, progress, cancellationToken).ConfigureAwait(false);
    }

    private void SavePins(string name, ClusterMeta meta)
    {
        if (_pins.TryGetValue(name, out var pins) && !pins.Snapshot().SequenceEqual(meta.Tug.HostKeys))
        {
            store.Save(name, meta with { Tug = meta.Tug with { HostKeys = pins.Snapshot() } });
        }
    }

    /// <summary>Learns each host's OS and architecture (<c>uname</c>) for the instances that do not pin theirs.</summary>
    private static async Task<ClusterTopology> ProbePlatformsAsync(HostSessions sessions, ClusterTopology topology, CancellationToken cancellationToken)
    {
        foreach (var (host, remote) in sessions.Hosts)
        {
            var probe = await remote.RunAsync(HostScripts.Platform(), new RunOptions(), cancellationToken).ConfigureAwait(false);
            var platform = HostReply.Parse(probe.Stdout).OfType<PlatformLine>().FirstOrDefault();
            topology = topology.WithPlatform(host, platform?.Os is { Length: > 0 } os ? os : "linux", platform?.Arch is { Length: > 0 } arch ? arch : "x86_64");
        }

        return topology;
    }

    private static ImmutableArray<InstanceSpec> Select(ClusterMeta meta, InstanceFilter filter)
    {
        var selected = meta.Topology.Instances.Where(filter.Matches).ToImmutableArray();
        if (selected.IsEmpty)
        {
            throw new ClusterException(ClusterException.BadInput, "No instance matches the given -R/-N filters.",
                $"Roles here: {string.Join(", ", meta.Topology.Instances.Select(i => i.Role).Distinct())}; node IDs: `tug cluster display`.");
        }

        return selected;
    }

    private async Task<Dictionary<string, ResolvedPackage>> ResolvePackagesAsync(ClusterTopology topology, string version, IProgress<OperationEvent>? progress, CancellationToken cancellationToken)
    {
        var byKey = new Dictionary<(string, string?, string), ResolvedPackage>();
        var result = new Dictionary<string, ResolvedPackage>(StringComparer.Ordinal);
        foreach (var instance in topology.Instances)
        {
            var wanted = RequestedVersion(topology, instance.Role, version);
            var platform = $"{(instance.Os.Length > 0 ? instance.Os : "linux")}/{(instance.Arch.Length > 0 ? instance.Arch : "amd64")}";
            var key = (instance.Component, wanted, platform);
            if (!byKey.TryGetValue(key, out var package))
            {
                progress?.Report(new OperationEvent("control", null, "package", $"{instance.Component} {wanted ?? "(latest)"} {platform}"));
                package = await packages.GetAsync(instance.Component, wanted, platform, cancellationToken).ConfigureAwait(false);
                byKey[key] = package;
            }

            result[instance.Id] = package;
        }

        return result;
    }

    /// <summary>The version a role gets: its pin in the topology, the cluster version for components that follow it, latest for the agents.</summary>
    private static string? RequestedVersion(ClusterTopology topology, string role, string clusterVersion)
    {
        var pinned = topology.PinnedVersion(role);
        if (!string.IsNullOrEmpty(pinned))
        {
            return NormalizeVersion(pinned);
        }

        return Roles.IsMonitoringAgent(role) ? null : clusterVersion;
    }

    private static ImmutableSortedDictionary<string, string> PinnedVersions(ClusterTopology topology, string version, Dictionary<string, ResolvedPackage> resolved) =>
        topology.Instances.GroupBy(i => i.Role).ToImmutableSortedDictionary(g => g.Key, g => resolved[g.First().Id].Version, StringComparer.Ordinal);

    private static string NormalizeVersion(string version) => version.Length > 0 && char.IsAsciiDigit(version[0]) ? "v" + version : version;

    private static async Task<ImmutableArray<InstanceOutcome>> InstallAsync(
        string name,
        ClusterMeta meta,
        HostSessions sessions,
        ImmutableArray<InstanceSpec> instances,
        Dictionary<string, ResolvedPackage> packagesByInstance,
        Reach reach,
        IProgress<OperationEvent>? progress,
        CancellationToken cancellationToken,
        HashSet<string>? joining = null)
    {
        var outcomes = await sessions.ForEachAsync(instances.Select(i => i.ManageHost), reach.Concurrency, async (host, remote, ct) =>
        {
            var onHost = instances.Where(i => i.ManageHost == host).ToList();
            var uploads = onHost.Select(i => packagesByInstance[i.Id]).DistinctBy(p => p.TarballSha256).ToList();
            foreach (var package in uploads)
            {
                progress?.Report(new OperationEvent(host, null, "transfer", $"{Path.GetFileName(package.Path)}"));
                var stream = File.OpenRead(package.Path);
                await using (stream.ConfigureAwait(false))
                {
                    await remote.UploadAsync(stream, HostScripts.PackageUploadPath(package), "0644", sudo: false, ct).ConfigureAwait(false);
                }
            }

            var install = new List<(InstanceContext Context, ResolvedPackage Package)>();
            foreach (var instance in onHost)
            {
                var package = packagesByInstance[instance.Id];
                var context = new InstanceContext(instance, meta.Topology, name, meta.User, package.Version, package.Entry) { ClusterVersion = meta.Version, JoinExisting = joining?.Contains(instance.Id) == true };
                if (!ComponentSpecs.For(instance).CanRender)
                {
                    throw new ClusterException(ClusterException.BadInput, $"Tug cannot deploy {instance.Role} yet (no run script for it).");
                }

                progress?.Report(new OperationEvent(host, instance.Id, "install", $"{instance.Role} {package.Version}"));
                install.Add((context, package));
            }

            var result = await remote.RunAsync(HostScripts.Install(install), new RunOptions(Sudo: true, Timeout: reach.WaitTimeout), ct).ConfigureAwait(false);
            return onHost.Select(i => new InstanceOutcome(i.Id, i.Role, host, result.Ok ? OutcomeStatus.Ok : OutcomeStatus.Failed,
                result.Ok ? "installed" : $"install failed (exit {result.ExitCode}): {result.Stderr.Trim()}")).ToList();
        }, (host, e) => [new InstanceOutcome(host, "host", host, OutcomeStatus.Failed, e.Message)], cancellationToken).ConfigureAwait(false);
        return [.. outcomes.SelectMany(o => o)];
    }

    private async Task<ImmutableArray<InstanceOutcome>> StartInstancesAsync(ClusterMeta meta, HostSessions sessions, ImmutableArray<InstanceSpec> instances, Reach reach, IProgress<OperationEvent>? progress, CancellationToken cancellationToken)
    {
        var outcomes = await SystemctlByRoleAsync("start", sessions, instances, reach, progress, async (members, flat) =>
        {
            // Listening is not enough: the component's own health check must pass too.
            for (var k = 0; k < flat.Count; k++)
            {
                if (flat[k].Status == OutcomeStatus.Ok)
                {
                    var instance = members.First(m => m.Id == flat[k].Id);
                    flat[k] = await HealthAsync(instance, reach, cancellationToken).ConfigureAwait(false);
                    progress?.Report(new OperationEvent(instance.ManageHost, instance.Id, "health", flat[k].Message));
                }
            }
        }, cancellationToken).ConfigureAwait(false);

        // Prove what runs: the process's executable must be the deployed, signed file.
        var healthy = instances.Where(i => outcomes.Any(o => o.Id == i.Id && o.Status == OutcomeStatus.Ok)).ToImmutableArray();
        if (!healthy.IsEmpty)
        {
            var statuses = await ProbeAsync(meta, sessions, healthy, reach, cancellationToken).ConfigureAwait(false);
            foreach (var status in statuses)
            {
                var index = outcomes.FindIndex(o => o.Id == status.Id);
                outcomes[index] = status.Verified
                    ? outcomes[index] with { Message = $"{outcomes[index].Message}; running {status.Version ?? "?"}, verified" }
                    : outcomes[index] with { Status = OutcomeStatus.Failed, Message = $"running but not verified: {status.Detail}" };
            }
        }

        return [.. outcomes];
    }

    private async Task<ImmutableArray<InstanceOutcome>> StopInstancesAsync(HostSessions sessions, ImmutableArray<InstanceSpec> instances, Reach reach, IProgress<OperationEvent>? progress, CancellationToken cancellationToken) =>
        [.. await SystemctlByRoleAsync("stop", sessions, instances, reach, progress, (_, _) => Task.CompletedTask, cancellationToken).ConfigureAwait(false)];

    /// <summary>
    /// Starts (in start order) or stops (in reverse) the instances role by role: one script per host runs systemctl and
    /// waits for the ports to open or close; <paramref name="afterRole"/> may refine the outcomes of a role before the next.
    /// </summary>
    private async Task<List<InstanceOutcome>> SystemctlByRoleAsync(
        string action,
        HostSessions sessions,
        ImmutableArray<InstanceSpec> instances,
        Reach reach,
        IProgress<OperationEvent>? progress,
        Func<List<InstanceSpec>, List<InstanceOutcome>, Task> afterRole,
        CancellationToken cancellationToken)
    {
        var starting = action == "start";
        var outcomes = new List<InstanceOutcome>(Unreachable(sessions.Failures, instances));
        var groups = instances.Where(i => sessions.Hosts.ContainsKey(i.ManageHost)).GroupBy(i => i.Role);
        foreach (var group in starting ? groups.OrderBy(g => Roles.StartIndex(g.Key)) : groups.OrderByDescending(g => Roles.StartIndex(g.Key)))
        {
            var members = group.ToList();

            // On a replay, what an earlier run did is not done again; a start done before is still health-checked and verified.
            var earlier = members.Where(m => Resumed($"{action} {m.Id}")).Select(m => new InstanceOutcome(m.Id, m.Role, m.ManageHost, OutcomeStatus.Ok, $"{(starting ? "started" : "stopped")} before the interruption; not done again")).ToList();
            var pending = members.Where(m => !earlier.Any(e => e.Id == m.Id)).ToList();
            foreach (var m in pending)
            {
                Planned($"{action} {m.Id}");
            }

            var results = await sessions.ForEachAsync(pending.Select(m => m.ManageHost), reach.Concurrency, async (host, remote, ct) =>
            {
                var onHost = pending.Where(m => m.ManageHost == host).ToList();
                progress?.Report(new OperationEvent(host, null, action, string.Join(' ', onHost.Select(i => i.UnitName))));
                var script = starting ? HostScripts.Start(onHost, reach.WaitTimeout) : HostScripts.Stop(onHost, reach.WaitTimeout);
                var result = await remote.RunAsync(script, new RunOptions(Sudo: true, Timeout: reach.WaitTimeout + TimeSpan.FromSeconds(30)), ct).ConfigureAwait(false);
                return onHost.Select(i => WaitOutcome(i, result, starting ? "listening" : "stopped")).ToList();
            }, (host, e) => [.. pending.Where(m => m.ManageHost == host).Select(i => new InstanceOutcome(i.Id, i.Role, host, OutcomeStatus.Failed, e.Message))], cancellationToken).ConfigureAwait(false);
            var flat = results.SelectMany(r => r).Concat(earlier).ToList();
            await afterRole(members, flat).ConfigureAwait(false);
            foreach (var outcome in flat.Where(o => !earlier.Any(e => e.Id == o.Id)))
            {
                Finish($"{action} {outcome.Id}", outcome);
            }

            outcomes.AddRange(flat);
        }

        return outcomes;
    }

    private static InstanceOutcome WaitOutcome(InstanceSpec instance, CommandResult result, string what)
    {
        var line = HostReply.Parse(result.Stdout).OfType<WaitLine>().FirstOrDefault(w => w.Id == instance.Id);
        if (line is null)
        {
            return new InstanceOutcome(instance.Id, instance.Role, instance.ManageHost, OutcomeStatus.Failed, $"no answer from the host (exit {result.ExitCode}): {result.Stderr.Trim()}");
        }

        return line.Ok
            ? new InstanceOutcome(instance.Id, instance.Role, instance.ManageHost, OutcomeStatus.Ok, what)
            : new InstanceOutcome(instance.Id, instance.Role, instance.ManageHost, OutcomeStatus.Failed,
                $"not {what} on port {ComponentSpecs.For(instance).Health.PortOf(instance)} (unit is {line.State}{(line.State is "activating" or "failed" ? ": its process exited" : ", wait timeout passed")}); see `journalctl -u {instance.UnitName}` on {instance.ManageHost}");
    }

    private async Task<InstanceOutcome> HealthAsync(InstanceSpec instance, Reach reach, CancellationToken cancellationToken)
    {
        var health = ComponentSpecs.For(instance).Health;
        if (health.Kind == HealthCheckKind.Tcp)
        {
            return new InstanceOutcome(instance.Id, instance.Role, instance.ManageHost, OutcomeStatus.Ok, "listening");
        }

        var url = health.UrlFor(instance);
        var deadline = time.GetUtcNow() + reach.WaitTimeout;
        var last = string.Empty;
        while (true)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                using var response = await http.GetAsync(new Uri(url), timeout.Token).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return new InstanceOutcome(instance.Id, instance.Role, instance.ManageHost, OutcomeStatus.Ok, $"healthy ({health.Path} answers)");
                }

                last = $"HTTP {(int)response.StatusCode}";
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                last = e.Message;
            }

            if (time.GetUtcNow() >= deadline)
            {
                return new InstanceOutcome(instance.Id, instance.Role, instance.ManageHost, OutcomeStatus.Failed, $"{url} did not answer healthy within the wait timeout ({last})");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(300), time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads state from the hosts: unit state, main PID, port, the running executable's path and hash, the deployed file's hash, the version it reports.</summary>
    private static async Task<ImmutableArray<InstanceStatus>> ProbeAsync(ClusterMeta meta, HostSessions sessions, ImmutableArray<InstanceSpec> instances, Reach reach, CancellationToken cancellationToken)
    {
        var results = await sessions.ForEachAsync(instances.Select(i => i.ManageHost), reach.Concurrency, async (host, remote, ct) =>
        {
            var onHost = instances.Where(i => i.ManageHost == host).ToList();
            var result = await remote.RunAsync(ProbeScript(meta, onHost), new RunOptions(Sudo: true, Timeout: reach.WaitTimeout), ct).ConfigureAwait(false);
            return onHost.Select(i => ParseProbe(meta, i, result)).ToList();
        }, (host, e) => [.. instances.Where(i => i.ManageHost == host).Select(i => Status(i, "Error", null, false, e.Message))], cancellationToken).ConfigureAwait(false);
        var unreachable = instances.Where(i => sessions.Failures.ContainsKey(i.ManageHost))
            .Select(i => Status(i, "Unreachable", null, false, sessions.Failures[i.ManageHost].Message));
        return [.. results.SelectMany(r => r).Concat(unreachable).OrderBy(s => instances.IndexOf(instances.First(i => i.Id == s.Id)))];
    }

    /// <summary>The probe of <paramref name="instances"/>, each checked against the executable <paramref name="meta"/> records for it.</summary>
    private static string ProbeScript(ClusterMeta meta, IReadOnlyList<InstanceSpec> instances) =>
        HostScripts.Probe([.. instances.Select(i => (i, meta.Tug.Instances.GetValueOrDefault(i.Id)?.Entry ?? ComponentSpecs.For(i).DefaultEntry))]);

    private static InstanceStatus ParseProbe(ClusterMeta meta, InstanceSpec instance, CommandResult result)
    {
        var line = HostReply.Parse(result.Stdout).OfType<ProbeLine>().FirstOrDefault(p => p.Id == instance.Id);
        if (line is null)
        {
            return Status(instance, "Error", null, false, $"no answer (exit {result.ExitCode}): {result.Stderr.Trim()}");
        }

        // "-" stands for a hash the host could not read, as the host printed it before HostReply.
        var (active, listening, exe, exeHash, fileHash) = (line.State, line.Listening, (line.Executable ?? string.Empty).Trim(), line.ExecutableSha256 ?? "-", line.FileSha256 ?? "-");
        var spec = ComponentSpecs.For(instance);
        var version = line.VersionOutput is { } output ? spec.VersionProbe?.Extract(output) : null;
        var expected = meta.Tug.Instances.GetValueOrDefault(instance.Id)?.Sha256;
        var status = active switch
        {
            "active" when listening => "Up",
            "active" => "Starting",
            "failed" => "Failed",
            "activating" => "Restarting",
            _ => "Down",
        };
        var problems = new List<string>();
        if (exeHash == "-")
        {
            problems.Add("no running process");
        }
        else
        {
            if (exe.EndsWith(" (deleted)", StringComparison.Ordinal))
            {
                problems.Add($"the process runs a deleted executable ({exe})");
            }

            if (exeHash != fileHash)
            {
                problems.Add($"running executable sha256 {Short(exeHash)} differs from the deployed file's {Short(fileHash)}");
            }
        }

        if (expected is not null && fileHash != expected)
        {
            problems.Add(fileHash == "-" ? "the deployed executable is missing" : $"deployed file sha256 {Short(fileHash)} differs from the signed package's {Short(expected)}");
        }

        var verified = problems.Count == 0 && expected is not null;
        return Status(instance, status, version, verified, verified ? $"{exe} sha256 {Short(exeHash)}" : string.Join("; ", problems.DefaultIfEmpty("no recorded package hash")));
    }

    private static InstanceStatus Status(InstanceSpec i, string status, string? version, bool verified, string detail) =>
        new(i.Id, i.Role, i.Host, string.Join('/', i.Ports.Select(p => p.Number)), status, version, verified, i.DeployDir, string.Join(',', i.DataDirs), detail);

    private static string Short(string hash) => hash.Length > 12 ? hash[..12] + "…" : hash;

    private static ImmutableArray<InstanceOutcome> Unreachable(IReadOnlyDictionary<string, RemoteException> failures, IEnumerable<InstanceSpec>? instances = null) =>
        instances is null
            ? [.. failures.Select(f => new InstanceOutcome(f.Key, "host", f.Key, f.Value.Code == RemoteException.HostKeyChanged ? OutcomeStatus.Failed : OutcomeStatus.Unreachable, $"{f.Value.Code}: {f.Value.Message}"))]
            : [.. instances.Where(i => failures.ContainsKey(i.ManageHost)).Select(i => new InstanceOutcome(i.Id, i.Role, i.ManageHost,
                failures[i.ManageHost].Code == RemoteException.HostKeyChanged ? OutcomeStatus.Failed : OutcomeStatus.Unreachable, $"{failures[i.ManageHost].Code}: {failures[i.ManageHost].Message}"))];

    private static OperationReport Unreachable(string operation, string name, IReadOnlyDictionary<string, RemoteException> failures, string note) =>
        new(operation, name, [.. Unreachable(failures).Select(o => o with { Message = $"{o.Message} ({note})" })]);
}

/// <summary>File hashing helpers.</summary>
public static class Hashes
{
    public static string Sha256File(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
    }
}
