// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Text.Json.Serialization;
using Tug.Core.Topology;

namespace Tug.Core.Planning;

/// <summary>What a step does; each kind has one handler in <c>Execution/Steps</c> that acts, gates and probes it.</summary>
[JsonConverter(typeof(StepKindJsonConverter))]
public enum StepKind
{
    /// <summary>Prepare a host as the preparing login: the deploy user, its sudo rule, the cluster's key.</summary>
    InitHost,

    /// <summary>Deliver packages to a host, check them there, install files and units of its new instances.</summary>
    Install,

    /// <summary>Write the cluster's metadata (the topology the plan works toward) on the control machine.</summary>
    SaveMeta,

    /// <summary>Deliver new builds to a host and unpack them beside the running ones, checked by hash.</summary>
    Stage,

    /// <summary>Move one instance to its staged build: stop, switch files, start; gated on health and verification.</summary>
    Switch,

    /// <summary>Put back the build an instance ran before its patch, gated on health and verification.</summary>
    Restore,

    /// <summary>Start one instance; gated on health and verification.</summary>
    Start,

    /// <summary>Stop one instance; gated on the stop being proven (no process, port closed).</summary>
    Stop,

    /// <summary>Announce a new member to the running cluster of its component (membership components only).</summary>
    MemberJoin,

    /// <summary>Make a member leave the running cluster of its component before it is removed.</summary>
    MemberLeave,

    /// <summary>Stop and remove instances from a host: units, directories, and the cluster key when the host is emptied.</summary>
    Remove,

    /// <summary>Rewrite an instance's files that follow the topology; restart or reload it as its component says.</summary>
    Refresh,

    /// <summary>Remove everything of the cluster from one host and prove nothing is left.</summary>
    DestroyHost,

    /// <summary>Forget the cluster on the control machine (its metadata and key).</summary>
    Forget,

    /// <summary>Write an instance's files that differ from what Tug renders, then restart it once to read them; gated on health and verification, rolled back to the previous files when the gate fails.</summary>
    Reload,

    /// <summary>Enable the units of a host's instances at boot (<c>systemctl enable</c>); starts nothing; proven by <c>systemctl is-enabled</c>.</summary>
    Enable,

    /// <summary>Disable the units of a host's instances at boot (<c>systemctl disable</c>); stops nothing; proven by <c>systemctl is-enabled</c>.</summary>
    Disable,

    /// <summary>Delete the contents of instances' data or log directories on one host (never the directories), as the deploy user; proven empty.</summary>
    Clean,

    /// <summary>Rename the cluster on the control machine: its directory (metadata, key, the operation's own journal and lock) moves to the new name in one rename(2).</summary>
    Rename,
    /// <summary>Make the cluster's next SSH key on the control machine (<c>ssh/id_rsa.new</c>), before any host is touched (rotatessh).</summary>
    SshKeygen,

    /// <summary>Add the next key to a host's authorized_keys (logged in with the current key), then prove it logs in there (rotatessh).</summary>
    SshAuthorize,

    /// <summary>Make the next key the cluster's on the control machine, keeping the old one as <c>ssh/id_rsa.old</c> (rotatessh).</summary>
    SshSwitch,

    /// <summary>Remove the old keys from a host's authorized_keys, logged in with the new key (rotatessh).</summary>
    SshRetire,

    /// <summary>Remove the old key from the control machine once no host accepts it (rotatessh).</summary>
    SshCleanup,

    /// <summary>Record the cluster's new version (<c>tidb_version</c>) on the control machine once every switch of a cluster upgrade is done, as TiUP does; the subject is the version.</summary>
    ClusterVersion,
}

/// <summary>Names of step kinds as journals, plans and JSON write them (<c>switch</c>, <c>member-join</c>).</summary>
public static class StepKinds
{
    private static readonly ImmutableDictionary<StepKind, string> Names = new Dictionary<StepKind, string>
    {
        [StepKind.InitHost] = "init",
        [StepKind.Install] = "install",
        [StepKind.SaveMeta] = "save-meta",
        [StepKind.Stage] = "stage",
        [StepKind.Switch] = "switch",
        [StepKind.Restore] = "restore",
        [StepKind.Start] = "start",
        [StepKind.Stop] = "stop",
        [StepKind.MemberJoin] = "member-join",
        [StepKind.MemberLeave] = "member-leave",
        [StepKind.Remove] = "remove",
        [StepKind.Refresh] = "refresh",
        [StepKind.DestroyHost] = "destroy",
        [StepKind.Forget] = "forget",
        [StepKind.Reload] = "reload",
        [StepKind.Enable] = "enable",
        [StepKind.Disable] = "disable",
        [StepKind.Clean] = "clean",
        [StepKind.Rename] = "rename",
        [StepKind.SshKeygen] = "ssh-keygen",
        [StepKind.SshAuthorize] = "ssh-authorize",
        [StepKind.SshSwitch] = "ssh-switch",
        [StepKind.SshRetire] = "ssh-retire",
        [StepKind.SshCleanup] = "ssh-cleanup",
        [StepKind.ClusterVersion] = "cluster-version",
    }.ToImmutableDictionary();

    /// <summary>Every kind, in declaration order.</summary>
    public static ImmutableArray<StepKind> All { get; } = [.. Enum.GetValues<StepKind>()];

    /// <summary>The kind's stable name.</summary>
    public static string Name(StepKind kind) => Names[kind];

    /// <summary>The kind named <paramref name="name"/>, or null.</summary>
    public static StepKind? Parse(string name) => Names.FirstOrDefault(p => p.Value == name) is { Value: not null } found ? found.Key : null;
}

/// <summary>Writes a step kind by its journal name (<c>init</c>, <c>member-join</c>), so plan.json, --dry-run and the journal agree.</summary>
public sealed class StepKindJsonConverter : JsonConverter<StepKind>
{
    public override StepKind Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) =>
        StepKinds.Parse(reader.GetString() ?? string.Empty) ?? throw new System.Text.Json.JsonException($"'{reader.GetString()}' is not a step kind.");

    public override void Write(System.Text.Json.Utf8JsonWriter writer, StepKind value, System.Text.Json.JsonSerializerOptions options) =>
        writer.WriteStringValue(StepKinds.Name(value));
}

/// <summary>A step's stable identity within its plan: its kind and its subject (an instance ID or a host).</summary>
public sealed record StepKey(StepKind Kind, string Subject)
{
    /// <summary>The journal's key: <c>switch 10.0.0.1:9100</c>.</summary>
    public override string ToString() => $"{StepKinds.Name(Kind)} {Subject}";
}

/// <summary>How a step's result is checked before the plan goes on.</summary>
public enum StepGate
{
    /// <summary>The action's own result is the check.</summary>
    None,

    /// <summary>The instance is proven stopped: unit inactive, no process, port closed, deployed file = signed package.</summary>
    Stopped,

    /// <summary>The instance listens, answers its health check, and runs the deployed, signed executable.</summary>
    Healthy,

    /// <summary>As <see cref="Healthy"/>, then the whole cluster of its component is healthy (quorum) before the next member moves.</summary>
    ClusterHealthy,
}

/// <summary>Which login a step runs as.</summary>
public enum StepLogin
{
    /// <summary>The cluster's deploy user with the cluster's key.</summary>
    Deploy,

    /// <summary>The login that prepares hosts (<c>-u</c>/<c>-i</c>/<c>-p</c>); needed only until the deploy user exists.</summary>
    Preparing,

    /// <summary>No host: the step acts on the control machine.</summary>
    Local,
}

/// <summary>A package as the plan pins it: what it is and the hashes the host must find.</summary>
/// <param name="Component">Package name in the mirror.</param>
/// <param name="Version">Exact version (<c>v1.9.0</c>), or a patch's label.</param>
/// <param name="Platform"><c>os/arch</c>.</param>
/// <param name="Entry">Where the executable is installed, relative to <c>bin/</c>: the package's entry, or TiUP's path when <see cref="Unpacked"/> is set.</param>
/// <param name="TarballSha256">The tarball's sha256 (signed manifest); for a patch, the executable's.</param>
/// <param name="EntrySha256">The entry's sha256: what the running process must be.</param>
/// <param name="Patch">Whether this is a hot-fix executable kept with the operation, not a mirror package.</param>
public sealed record PackageRef(string Component, string Version, string Platform, string Entry, string TarballSha256, string EntrySha256, bool Patch = false)
{
    /// <summary>The executable inside the tarball (manifest <c>entry</c>) when it is installed at <see cref="Entry"/> instead (a cluster in TiUP's layout); empty otherwise.</summary>
    public string Unpacked { get; init; } = string.Empty;
}

/// <summary>What a step's action needs besides its key and host.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(InstanceInputs), "instance")]
[JsonDerivedType(typeof(HostInputs), "host")]
[JsonDerivedType(typeof(PackagesInputs), "packages")]
[JsonDerivedType(typeof(SwitchInputs), "switch")]
[JsonDerivedType(typeof(NoInputs), "none")]
[JsonDerivedType(typeof(ReloadInputs), "reload")]
[JsonDerivedType(typeof(CleanInputs), "clean")]
[JsonDerivedType(typeof(KeyRotationInputs), "keys")]
public abstract record StepInputs;

/// <summary>No inputs beyond the key.</summary>
public sealed record NoInputs : StepInputs;

/// <summary>One instance, by ID; <paramref name="HealthWindow"/>: for a gated start (restart), the seconds it must stay healthy after its first healthy check (0: none; not written then).</summary>
public sealed record InstanceInputs(string Instance, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int HealthWindow = 0) : StepInputs;

/// <summary>Instances on one host, by ID (remove, destroy, enable, disable); <paramref name="EmptiesHost"/>: the cluster keeps nothing there after.</summary>
public sealed record HostInputs(ImmutableArray<string> Instances, bool EmptiesHost) : StepInputs
{
    /// <summary>Directories a destroy leaves on the host (<c>--retain-node-data</c>, <c>--retain-role-data</c>): data directories and the deploy directories that hold them; empty (not written) for none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public ImmutableArray<string> Retained { get; init; }

    /// <summary><see cref="Retained"/>, empty when the plan names none.</summary>
    [JsonIgnore]
    public ImmutableArray<string> RetainedDirs => Retained.IsDefault ? [] : Retained;
}

/// <summary>What a clean deletes on one host: in each directory, the entries whose names match its pattern.</summary>
public sealed record CleanInputs(ImmutableArray<CleanTarget> Targets) : StepInputs;

/// <summary>One directory of an instance and the names a clean deletes in it (<c>*</c>: everything; <c>*.log</c>: log files).</summary>
/// <param name="Instance">The instance whose directory it is.</param>
/// <param name="Kind"><c>data</c>, <c>log</c> or <c>audit-log</c>.</param>
/// <param name="Dir">The absolute directory; it stays.</param>
/// <param name="Pattern">A shell glob matched against the names of its direct entries (<c>find -name</c>, dot files included).</param>
public sealed record CleanTarget(string Instance, string Kind, string Dir, string Pattern);

/// <summary>Instances on one host with the package each gets (install, stage).</summary>
public sealed record PackagesInputs(ImmutableArray<InstancePackage> Instances) : StepInputs;

/// <summary>An instance and its package; <paramref name="Join"/>: it joins the running cluster of its component (rendered to join, not to bootstrap).</summary>
public sealed record InstancePackage(string Instance, PackageRef Package, bool Join = false);

/// <summary>A switch: the build an instance moves to, and what the metadata records once it is verified.</summary>
/// <param name="Instance">The instance ID.</param>
/// <param name="Target">The build it moves to.</param>
/// <param name="Next">What the metadata records once it is verified.</param>
/// <param name="From">The build it runs before (its label).</param>
/// <param name="HealthWindow">Seconds the instance must stay healthy after its first healthy check (same PID, no restart, health answering); 0: none.</param>
public sealed record SwitchInputs(string Instance, PackageRef Target, DeployedInstance Next, string From, int HealthWindow = 0) : StepInputs;

/// <summary>A reload of one instance: the files that differ on its host from what Tug renders, and whether it restarts to read them.</summary>
/// <param name="Instance">The instance ID.</param>
/// <param name="Files">The files that differ, as the plan found them on the host.</param>
/// <param name="Restart">Whether the instance restarts after the files are written (false: <c>--skip-restart</c>).</param>
/// <param name="HealthWindow">Seconds it must stay healthy after its first healthy check after the restart; 0: none.</param>
public sealed record ReloadInputs(string Instance, ImmutableArray<FileChange> Files, bool Restart, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int HealthWindow = 0) : StepInputs
{
    /// <summary>Whether the systemd unit is among the changed files (systemd then reloads its units before the restart).</summary>
    [JsonIgnore]
    public bool UnitChanged => Files.Any(f => f.Path.StartsWith("/etc/systemd/system/", StringComparison.Ordinal));
}

/// <summary>One file of an instance that differs on its host from what Tug renders.</summary>
/// <param name="Path">Absolute path on the host.</param>
/// <param name="Before">Its content on the host when the plan was made (put back by a rollback); null when it was missing.</param>
/// <param name="BeforeSha256">The sha256 of <paramref name="Before"/> (empty when missing).</param>
/// <param name="AfterSha256">The sha256 of what Tug renders for it: what the host must hold after the step.</param>
/// <param name="Diff">The unified diff, host's file to rendered, for people.</param>
public sealed record FileChange(string Path, string? Before, string BeforeSha256, string AfterSha256, string Diff);

/// <summary>A file a plan brings along, named by its sha256.</summary>
public sealed record PlanArtifact(string Sha256, byte[] Content);

/// <summary>One step of a plan.</summary>
/// <param name="Key">Kind and subject: the journal's key.</param>
/// <param name="Host">The host it acts on (empty for <see cref="StepLogin.Local"/> steps).</param>
/// <param name="Role">The role of its instance, or <c>host</c> / <c>cluster</c>.</param>
/// <param name="Wave">Steps of one wave run together (in parallel across hosts, in order on one host); waves run in order. Batches of a rolling change are waves.</param>
/// <param name="Gate">How its result is checked.</param>
/// <param name="Login">Which login it runs as.</param>
/// <param name="Summary">One line for people: <c>node_exporter v1.1.2 -> v1.9.0</c>.</param>
/// <param name="Inputs">What its action needs.</param>
public sealed record Step(StepKey Key, string Host, string Role, int Wave, StepGate Gate, StepLogin Login, string Summary, StepInputs Inputs);

/// <summary>
/// An operation as data: the steps a verb's planner decided, in order. It changes nothing by existing; the executor
/// runs it, journals it (the plan itself is stored first), and resumes it after a crash.
/// </summary>
/// <param name="Operation">The verb: <c>upgrade</c>, <c>deploy</c>, ...</param>
/// <param name="Cluster">The cluster's name.</param>
/// <param name="Steps">The steps, in order.</param>
public sealed record Plan(string Operation, string Cluster, ImmutableArray<Step> Steps)
{
    /// <summary>Lines for people about what the plan leaves alone (<c>node_exporter stays at v1.9.0 (pinned on its own)</c>).</summary>
    public ImmutableArray<string> Notes { get; init; } = [];

    /// <summary>The metadata (meta.yaml text) the plan works toward, written by its <see cref="StepKind.SaveMeta"/> step; null when it only updates records.</summary>
    public string? Meta { get; init; }

    /// <summary>The sha256 of meta.yaml the plan was made from (empty for a new cluster): the executor refuses a plan whose cluster changed since.</summary>
    public string BasedOn { get; init; } = string.Empty;

    /// <summary>The login that prepares hosts, for <see cref="StepLogin.Preparing"/> steps (its credential is never stored).</summary>
    public string? PreparingUser { get; init; }

    /// <summary>Whether every host must be reachable before anything runs (rolling changes); false: unreachable hosts fail their steps and the rest go on.</summary>
    public bool RequireAllHosts { get; init; } = true;

    /// <summary>Whether later waves still run after a step failed (start, stop, destroy); false: the plan stops at the failed wave.</summary>
    public bool ContinueOnFailure { get; init; }

    /// <summary>Whether the local state goes even when some hosts failed (<c>destroy --force</c>).</summary>
    public bool Force { get; init; }

    /// <summary>
    /// For <c>rename</c>: the cluster's name before the plan (<see cref="Cluster"/> is the new one). The operation
    /// lives in the cluster's directory, which its rename step moves: under this name until then, under the new one after.
    /// </summary>
    public string? RenamedFrom { get; init; }

    /// <summary>Files the plan brings from the control machine (a patch's executable), kept with the operation by sha256 so a replay has them.</summary>
    [JsonIgnore]
    public ImmutableArray<PlanArtifact> Artifacts { get; init; } = [];

    /// <summary>The hosts the plan touches, in first-use order.</summary>
    [JsonIgnore]
    public ImmutableArray<string> Hosts => [.. Steps.Where(s => s.Login != StepLogin.Local).Select(s => s.Host).Distinct()];

    /// <summary>Whether the plan has nothing to do.</summary>
    [JsonIgnore]
    public bool IsEmpty => Steps.IsEmpty;
}
