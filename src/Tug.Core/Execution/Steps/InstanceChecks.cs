// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Tug.Core.Cluster;
using Tug.Core.Components;
using Tug.Core.Planning;
using Tug.Core.Remote;
using Tug.Core.Topology;

namespace Tug.Core.Execution.Steps;

/// <summary>
/// The checks every step handler, <c>display</c> and <c>verify</c> share, read from the host's side: the probe
/// (unit, process, port, running executable = deployed file = signed package, version), the health check, the wait
/// result of a start or stop, and the drift of rendered files.
/// </summary>
public sealed class InstanceChecks(HttpClient http, TimeProvider time, IPackageSource packages)
{
    /// <summary>Probes instances on one host against what <paramref name="meta"/> records for them.</summary>
    public static Task<ImmutableArray<InstanceStatus>> ProbeAsync(IRemoteHost remote, ClusterMeta meta, IReadOnlyList<InstanceSpec> instances, Reach reach, CancellationToken cancellationToken) =>
        ProbeAsync(remote, meta, instances, ImmutableDictionary<string, VerifiedIdentity>.Empty, reach, cancellationToken);

    /// <summary>
    /// Probes instances on one host, as <see cref="ProbeAsync(IRemoteHost, ClusterMeta, IReadOnlyList{InstanceSpec}, Reach, CancellationToken)"/>,
    /// but an instance whose running executable still has the identity it was last verified with (<paramref name="known"/>,
    /// while meta.yaml records the same sha256) is not hashed again: it reads as verified by identity.
    /// </summary>
    public static async Task<ImmutableArray<InstanceStatus>> ProbeAsync(IRemoteHost remote, ClusterMeta meta, IReadOnlyList<InstanceSpec> instances, IReadOnlyDictionary<string, VerifiedIdentity> known, Reach reach, CancellationToken cancellationToken, string extraScript = "")
    {
        var result = await ProbeRunAsync(remote, meta, instances, known, reach, extraScript, cancellationToken).ConfigureAwait(false);
        return [.. instances.Select(i => ParseProbe(meta, i, result, known))];
    }

    /// <summary>Runs the probe for <paramref name="instances"/> (and <paramref name="extraScript"/>, in the same round trip); the raw result.</summary>
    public static Task<CommandResult> ProbeRunAsync(IRemoteHost remote, ClusterMeta meta, IReadOnlyList<InstanceSpec> instances, IReadOnlyDictionary<string, VerifiedIdentity> known, Reach reach, string extraScript, CancellationToken cancellationToken)
    {
        var script = HostScripts.Probe([.. instances.Select(i => (i, meta.Tug.Instances.GetValueOrDefault(i.Id)?.Entry ?? ComponentSpecs.For(i).DefaultEntry, Trusted(meta, i, known)?.Identity))]) + extraScript;
        return remote.RunAsync(script, new RunOptions(Sudo: true, Timeout: reach.WaitTimeout), cancellationToken);
    }

    /// <summary>The entry of <paramref name="known"/> the probe may trust for an instance: only one whose sha256 is the one meta.yaml records now.</summary>
    public static VerifiedIdentity? Trusted(ClusterMeta meta, InstanceSpec instance, IReadOnlyDictionary<string, VerifiedIdentity> known) =>
        known.GetValueOrDefault(instance.Id) is { } entry && meta.Tug.Instances.GetValueOrDefault(instance.Id)?.Sha256 == entry.Sha256 ? entry : null;

    /// <summary>
    /// Probes one instance against <paramref name="record"/>: <c>Runs</c> when the running executable is the recorded
    /// build's file (verified) and, unless patched, reports the recorded version.
    /// </summary>
    public static async Task<(InstanceStatus Status, bool Runs)> ProbeAsRecordedAsync(IRemoteHost remote, ClusterMeta meta, InstanceSpec instance, DeployedInstance record, Reach reach, CancellationToken cancellationToken)
    {
        var recorded = meta with { Tug = meta.Tug with { Instances = meta.Tug.Instances.SetItem(instance.Id, record) } };
        var status = (await ProbeAsync(remote, recorded, [instance], reach, cancellationToken).ConfigureAwait(false))[0];
        return (status, status.Verified && (record.Patched || status.Version == record.Version));
    }

    /// <summary>Reads one probe line into a status: Up/Starting/Failed/Restarting/Down, the version, whether it is verified and why not.</summary>
    public static InstanceStatus ParseProbe(ClusterMeta meta, InstanceSpec instance, CommandResult result) => ParseProbe(meta, instance, result, ImmutableDictionary<string, VerifiedIdentity>.Empty);

    /// <summary>
    /// Reads one probe line into a status as <see cref="ParseProbe(ClusterMeta, InstanceSpec, CommandResult)"/>; a line
    /// the host answered without hashing (its identity equalled the known one) takes the hashes and version from
    /// <paramref name="known"/>'s entry and reads as verified by identity at the entry's time.
    /// </summary>
    public static InstanceStatus ParseProbe(ClusterMeta meta, InstanceSpec instance, CommandResult result, IReadOnlyDictionary<string, VerifiedIdentity> known)
    {
        var line = HostReply.Parse(result.Stdout).OfType<ProbeLine>().FirstOrDefault(p => p.Id == instance.Id);
        if (line is null)
        {
            return Status(instance, "Error", null, false, $"no answer (exit {result.ExitCode}): {result.Stderr.Trim()}");
        }

        var trusted = Trusted(meta, instance, known);
        if (!line.Hashed && (trusted is null || trusted.Identity != line.Identity))
        {
            return Status(instance, "Error", null, false, "the host skipped hashing for an identity Tug did not send; run `tug cluster verify`");
        }

        var cached = line.Hashed ? null : trusted;
        var (exe, exeHash, fileHash) = ((line.Executable ?? string.Empty).Trim(), cached?.Sha256 ?? line.ExecutableSha256 ?? "-", cached?.Sha256 ?? line.FileSha256 ?? "-");
        var versionOutput = cached?.VersionOutput ?? line.VersionOutput;
        var version = versionOutput is { } output ? ComponentSpecs.For(instance).VersionProbe?.Extract(output) : null;
        var expected = meta.Tug.Instances.GetValueOrDefault(instance.Id)?.Sha256;
        var status = StatusOf(line);
        var problems = new List<string>();
        if (exeHash == "-")
        {
            problems.Add(NoProcess);
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
        var detail = !verified ? string.Join("; ", problems.DefaultIfEmpty("no recorded package hash"))
            : cached is not null ? $"{exe} sha256 {Short(exeHash)}, verified at {cached.VerifiedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture)}Z, unchanged since"
            : $"{exe} sha256 {Short(exeHash)}, verified, hashed now";
        return Status(instance, status, version, verified, detail) with
        {
            VerifiedBy = !verified ? null : cached is not null ? InstanceStatus.ByIdentity : InstanceStatus.ByHash,
            VerifiedAt = !verified ? null : cached?.VerifiedAt,
            Identity = line.Identity,
            Sha256 = verified ? exeHash : null,
            VersionOutput = versionOutput,
        };
    }

    /// <summary>The status display shows for a probe line: Up (active and listening), Starting, Failed, Restarting or Down.</summary>
    public static string StatusOf(ProbeLine line) => line.State switch
    {
        "active" when line.Listening => "Up",
        "active" => "Starting",
        "failed" => "Failed",
        "activating" => "Restarting",
        _ => "Down",
    };

    /// <summary>What the probe says of an instance with no process.</summary>
    public const string NoProcess = "no running process";

    /// <summary>A status line for an instance.</summary>
    public static InstanceStatus Status(InstanceSpec i, string status, string? version, bool verified, string detail) =>
        new(i.Id, i.Role, i.Host, string.Join('/', i.Ports.Select(p => p.Number)), status, version, verified, i.DeployDir, string.Join(',', i.DataDirs), detail);

    /// <summary>Problems with a stopped instance: none when the unit is inactive and no process runs, the deployed file still the signed one.</summary>
    public static ImmutableArray<string> StopProblems(InstanceStatus status)
    {
        var problems = status.Verified ? [] : status.Detail.Split("; ").Where(p => p != NoProcess).ToList();
        if (status.Status is not ("Down" or "Failed"))
        {
            problems.Insert(0, $"the unit is {status.Status}, not stopped");
        }

        return [.. problems];
    }

    /// <summary>The first 12 characters of a hash, for people.</summary>
    public static string Short(string hash) => hash.Length > 12 ? hash[..12] + "…" : hash;

    /// <summary>The result of a start or stop script for one instance (its <c>TUG|wait</c> line).</summary>
    public static StepResult Waited(InstanceSpec instance, CommandResult result, string what)
    {
        var line = HostReply.Parse(result.Stdout).OfType<WaitLine>().FirstOrDefault(w => w.Id == instance.Id);
        if (line is null)
        {
            return StepResult.Fail($"no answer from the host (exit {result.ExitCode}): {result.Stderr.Trim()}");
        }

        return line.Ok
            ? StepResult.Done(what)
            : StepResult.Fail($"not {what} on port {ComponentSpecs.For(instance).Health.PortOf(instance)} (unit is {line.State}{(line.State is "activating" or "failed" ? ": its process exited" : ", wait timeout passed")}); see `journalctl -u {instance.UnitName}` on {instance.ManageHost}");
    }

    /// <summary>Waits until the instance answers its component's health check (TCP: listening is enough), up to <paramref name="wait"/>.</summary>
    public async Task<StepResult> HealthAsync(InstanceSpec instance, TimeSpan wait, CancellationToken cancellationToken)
    {
        var health = ComponentSpecs.For(instance).Health;
        if (health.Kind == HealthCheckKind.Tcp)
        {
            return StepResult.Done("listening");
        }

        var url = health.UrlFor(instance);
        var deadline = time.GetUtcNow() + wait;
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
                    return StepResult.Done($"healthy ({health.Path} answers)");
                }

                last = $"HTTP {(int)response.StatusCode}";
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                last = e.Message;
            }

            if (time.GetUtcNow() >= deadline)
            {
                return StepResult.Fail($"{url} did not answer healthy within the wait timeout ({last})");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(300), time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Holds the health window (<see cref="HealthWindow"/>): once a second, the unit stays active with the same PID and
    /// no systemd restart, and the health check answers, for <paramref name="window"/>.
    /// </summary>
    public Task<StepResult> HoldAsync(IRemoteHost remote, InstanceSpec instance, TimeSpan window, CancellationToken cancellationToken) =>
        HealthWindow.HoldAsync(window, HealthWindow.Interval, time, async ct =>
        {
            var state = await remote.RunAsync(HostScripts.UnitState(instance), new RunOptions(Sudo: true, Timeout: TimeSpan.FromSeconds(30)), ct).ConfigureAwait(false);
            var unit = HostReply.Parse(state.Stdout).OfType<UnitLine>().FirstOrDefault(u => u.Id == instance.Id);
            var health = await HealthAsync(instance, TimeSpan.Zero, ct).ConfigureAwait(false);
            return unit is null
                ? new WindowSample($"unreadable (exit {state.ExitCode}: {state.Stderr.Trim()})", 0, 0, health.Ok, health.Message)
                : new WindowSample(unit.State, unit.Pid, unit.Restarts, health.Ok, health.Message);
        }, cancellationToken);

    /// <summary>Per instance on one host, the files that differ from what Tug renders for <paramref name="meta"/>, or are missing.</summary>
    public static async Task<ILookup<string, string>> FileDriftAsync(IRemoteHost remote, string cluster, ClusterMeta meta, IReadOnlyList<InstanceSpec> instances, Reach reach, CancellationToken cancellationToken, Func<InstanceSpec, bool>? joining = null)
    {
        var expected = instances.SelectMany(i => InstanceFiles.Render(cluster, meta, i, joining?.Invoke(i) == true).Select(f => (Instance: i, f.Path, Sha: Sha(f.Content)))).ToList();
        var actual = await HashesAsync(remote, expected.Select(e => e.Path), reach, cancellationToken).ConfigureAwait(false);
        return expected.Where(e => actual.GetValueOrDefault(e.Path) != e.Sha)
            .ToLookup(e => e.Instance.Id, e => actual.GetValueOrDefault(e.Path) is { Length: > 0 } ? $"{e.Path} differs from what Tug renders" : $"{e.Path} is missing");
    }

    /// <summary>The sha256 of each path on the host (empty when it cannot be read).</summary>
    public static async Task<IReadOnlyDictionary<string, string>> HashesAsync(IRemoteHost remote, IEnumerable<string> paths, Reach reach, CancellationToken cancellationToken)
    {
        var result = await remote.RunAsync(HostScripts.FileHashes(paths), new RunOptions(Sudo: true, Timeout: reach.WaitTimeout), cancellationToken).ConfigureAwait(false);
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in HostReply.Parse(result.Stdout).OfType<FileLine>())
        {
            hashes[file.Path] = file.Sha256;
        }

        return hashes;
    }

    /// <summary>
    /// The local file of a planned package, checked to be the one the plan pinned: a mirror package from the verified
    /// cache (the mirror must still hold the same bytes), or a patch kept with the operation.
    /// </summary>
    /// <exception cref="ClusterException">The package changed since the plan was made, or a patch's file is gone.</exception>
    public async Task<ResolvedPackage> ResolveAsync(StepContext context, PackageRef package, CancellationToken cancellationToken)
    {
        if (package.Patch)
        {
            var path = Executor.ArtifactPath(context.OperationDirectory, package.TarballSha256);
            if (!File.Exists(path) || Hashes.Sha256File(path) != package.TarballSha256)
            {
                throw new ClusterException(ClusterException.PackageMissing, $"The patch executable kept with operation {context.OperationId} ({path}) is missing or changed.", "Run the patch command again.");
            }

            return new ResolvedPackage(package.Component, package.Version, package.Platform, path, package.Entry, package.TarballSha256, package.EntrySha256);
        }

        var resolved = await packages.GetAsync(package.Component, package.Version, package.Platform, cancellationToken).ConfigureAwait(false);
        if (resolved.TarballSha256 != package.TarballSha256 || resolved.EntrySha256 != package.EntrySha256)
        {
            throw new ClusterException(ClusterException.PackageMissing,
                $"{package.Component} {package.Version} ({package.Platform}) in the mirror is not the package this plan pinned (sha256 {Short(resolved.TarballSha256)}, planned {Short(package.TarballSha256)}).",
                "The mirror changed after the plan was made; run the command again to plan with the mirror as it is.");
        }

        return package.Unpacked.Length > 0 ? resolved with { Entry = package.Entry, Unpacked = package.Unpacked } : resolved;
    }

    /// <summary>The package as the scripts take it, without a local file (for rollbacks and probes).</summary>
    public static ResolvedPackage Unfetched(PackageRef package) =>
        new(package.Component, package.Version, package.Platform, string.Empty, package.Entry, package.TarballSha256, package.EntrySha256) { Unpacked = package.Unpacked };

    private static string Sha(string content) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)));
}
