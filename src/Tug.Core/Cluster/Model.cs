// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Core.Remote;

namespace Tug.Core.Cluster;

/// <summary>A package fetched from the verified mirror, in the local cache.</summary>
/// <param name="Component">Package name.</param>
/// <param name="Version">Resolved version, <c>v</c>-prefixed.</param>
/// <param name="Platform"><c>os/arch</c>.</param>
/// <param name="Path">Local tarball, verified against the signed manifest.</param>
/// <param name="Entry">Where the executable is installed, relative to <c>bin/</c>: the manifest <c>entry</c>, or TiUP's path when <see cref="Unpacked"/> is set.</param>
/// <param name="TarballSha256">The tarball's sha256 from the signed manifest; re-checked on the host after transfer.</param>
/// <param name="EntrySha256">The sha256 of the entry file inside that tarball: what the running process must be.</param>
public sealed record ResolvedPackage(string Component, string Version, string Platform, string Path, string Entry, string TarballSha256, string EntrySha256)
{
    /// <summary>The executable inside the tarball (manifest <c>entry</c>) when the host installs it elsewhere (at <see cref="Entry"/>, TiUP's layout); empty when the tarball's layout is the installed one.</summary>
    public string Unpacked { get; init; } = string.Empty;

    /// <summary>The tarball's path inside the mirror (the manifest's <c>url</c>, without its leading slash), which hosts fetch from an HTTP mirror; empty for a package no mirror holds (a patch).</summary>
    public string MirrorPath { get; init; } = string.Empty;
}

/// <summary>Where packages come from: the verified mirror and its cache.</summary>
public interface IPackageSource
{
    /// <summary>Resolves a version (null: latest stable) and returns the verified package.</summary>
    /// <exception cref="ClusterException">The component or version is not in the mirror.</exception>
    Task<ResolvedPackage> GetAsync(string component, string? version, string platform, CancellationToken cancellationToken);
}

/// <summary>How to reach hosts for one command.</summary>
/// <param name="Connector">SSH transport (built-in or system ssh).</param>
/// <param name="ConnectTimeout">TCP/SSH connect timeout (<c>--ssh-timeout</c>).</param>
/// <param name="WaitTimeout">How long to wait for a service to come up or down (<c>--wait-timeout</c>).</param>
/// <param name="Concurrency">Hosts worked on at once (<c>-c</c>).</param>
public sealed record Reach(IRemoteConnector Connector, TimeSpan ConnectTimeout, TimeSpan WaitTimeout, int Concurrency);

/// <summary>Selects instances by role (<c>-R</c>) and node ID (<c>-N</c>); empty selects all.</summary>
public sealed record InstanceFilter(ImmutableArray<string> Roles, ImmutableArray<string> Nodes)
{
    public static InstanceFilter All { get; } = new([], []);

    public bool Matches(Topology.InstanceSpec instance) =>
        (Roles.IsEmpty || Roles.Contains(instance.Role))
        && (Nodes.IsEmpty || Nodes.Contains(instance.Id) || Nodes.Contains(instance.Host) || Nodes.Contains(instance.ManageHost));
}

/// <summary>A remark from inside a step on one host or instance, as it happens (transfer, rollback, member join).</summary>
public sealed record OperationEvent(string Host, string? Instance, string Step, string Message) : Execution.ProgressEvent;

/// <summary>What happened to one instance (or host) in an operation.</summary>
public enum OutcomeStatus
{
    Ok,
    Failed,
    Unreachable,
    Skipped,
}

/// <summary>The result for one instance or host.</summary>
public sealed record InstanceOutcome(string Id, string Role, string Host, OutcomeStatus Status, string Message)
{
    /// <summary>The plan step this outcome is of (<c>switch 10.0.0.1:9100</c>), when it came from the executor.</summary>
    public string? Step { get; init; }
}

/// <summary>How long one phase of an operation took, in wall-clock seconds on the control machine.</summary>
/// <param name="Phase">What was timed, e.g. <c>connect</c>, <c>stage</c>, <c>batch</c>, <c>restart</c>, <c>health</c>, <c>verify</c>, <c>save</c>.</param>
/// <param name="Batch">The batch it belongs to (1-based, in the order the operation ran them), or null for a phase of the whole operation.</param>
/// <param name="Instance">The instance it belongs to, or null for a phase covering several.</param>
/// <param name="Seconds">Elapsed seconds.</param>
public sealed record PhaseTiming(string Phase, int? Batch, string? Instance, double Seconds);

/// <summary>The honest result of an operation: one outcome per instance or host it touched.</summary>
public sealed record OperationReport(string Operation, string Cluster, ImmutableArray<InstanceOutcome> Outcomes)
{
    public bool Ok => Outcomes.All(o => o.Status is OutcomeStatus.Ok or OutcomeStatus.Skipped);

    /// <summary>The outcomes that failed or whose host could not be reached.</summary>
    public ImmutableArray<InstanceOutcome> Failures => [.. Outcomes.Where(o => o.Status is OutcomeStatus.Failed or OutcomeStatus.Unreachable)];

    /// <summary>The failures for people: <c>10.0.0.1:9100 (Failed), 10.0.0.2:9100 (Unreachable)</c>.</summary>
    public string FailureList => string.Join(", ", Failures.Select(b => $"{b.Id} ({b.Status})"));

    /// <summary>Where the time went, phase by phase (filled by operations that measure it, such as upgrade; empty otherwise).</summary>
    public ImmutableArray<PhaseTiming> Timings { get; init; } = [];

    /// <summary>The operation's ID in the journal and the audit log, when it ran through the executor.</summary>
    public string? Id { get; init; }
}

/// <summary>What display shows for one instance, read live from its host.</summary>
/// <param name="Id">Instance ID, <c>host:port</c>.</param>
/// <param name="Role">Role.</param>
/// <param name="Host">Host address.</param>
/// <param name="Ports">Ports, slash-separated.</param>
/// <param name="Status">Up, Down, Failed, Starting, Restarting, Unreachable or Error.</param>
/// <param name="Version">The version the running executable reports; null when not running.</param>
/// <param name="Verified">The running executable's hash equals the deployed file's and the hash recorded from the signed package.</param>
/// <param name="DeployDir">Deploy directory.</param>
/// <param name="DataDir">Data directories, comma-separated.</param>
/// <param name="Detail">What was checked, or what disagrees.</param>
public sealed record InstanceStatus(
    string Id,
    string Role,
    string Host,
    string Ports,
    string Status,
    string? Version,
    bool Verified,
    string DeployDir,
    string DataDir,
    string Detail)
{
    /// <summary><see cref="VerifiedBy"/> when the running executable was hashed now.</summary>
    public const string ByHash = "hash";

    /// <summary><see cref="VerifiedBy"/> when its identity was unchanged since <see cref="VerifiedAt"/>, so it was not hashed again.</summary>
    public const string ByIdentity = "identity";

    /// <summary>How <see cref="Verified"/> was established: <see cref="ByHash"/>, <see cref="ByIdentity"/>, or null when not verified.</summary>
    public string? VerifiedBy { get; init; }

    /// <summary>When the running executable was last hashed and found verified (now, for <see cref="ByHash"/>).</summary>
    public DateTimeOffset? VerifiedAt { get; init; }

    /// <summary>The running executable's identity as the probe read it; null when unread.</summary>
    public string? Identity { get; init; }

    /// <summary>The running executable's sha256 when verified; null otherwise.</summary>
    public string? Sha256 { get; init; }

    /// <summary>What the running executable printed for its version arguments (read now or kept from its last verification).</summary>
    public string? VersionOutput { get; init; }
}
