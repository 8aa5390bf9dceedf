// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Core.Cluster;
using Tug.Core.Planning;
using Tug.Core.Remote;
using Tug.Core.Topology;

namespace Tug.Core.Execution;

/// <summary>What a step's action, gate, rollback or probe found.</summary>
/// <param name="Status">Ok, Failed, Unreachable or Skipped.</param>
/// <param name="Message">What was done or found, for people.</param>
public sealed record StepResult(OutcomeStatus Status, string Message)
{
    /// <summary>The step's own phases (restart, switch, health, verify), measured by its handler.</summary>
    public ImmutableArray<PhaseTiming> Phases { get; init; } = [];

    public bool Ok => Status == OutcomeStatus.Ok;

    public static StepResult Done(string message) => new(OutcomeStatus.Ok, message);

    public static StepResult Fail(string message) => new(OutcomeStatus.Failed, message);
}

/// <summary>
/// How one kind of step is carried out. The executor calls, in order: <see cref="ActAsync"/>, then
/// <see cref="GateAsync"/> when the action succeeded, then <see cref="RollbackAsync"/> when either failed. On a resume,
/// <see cref="ProbeAsync"/> says whether the step's effect is already on the host, so it is not done again.
/// </summary>
public abstract class StepHandler
{
    /// <summary>The kind of step handled.</summary>
    public abstract StepKind Kind { get; }

    /// <summary>
    /// Whether a step recorded done is probed again on a resume: true when its effect must still hold at the plan's
    /// end (a switch); false when a later step may undo it by design (a restart's stop).
    /// </summary>
    public virtual bool ReprobeWhenDone => false;

    /// <summary>What a step that was not run leaves as it is, for people (<c>still v1.9.0</c>); empty by default.</summary>
    public virtual string Untouched(Step step) => string.Empty;

    /// <summary>The action: what changes the host.</summary>
    public abstract Task<StepResult> ActAsync(StepContext context, Step step, CancellationToken cancellationToken);

    /// <summary>The check after a successful action (health, verification, quorum); the action's result by default.</summary>
    public virtual Task<StepResult> GateAsync(StepContext context, Step step, StepResult acted, CancellationToken cancellationToken) => Task.FromResult(acted);

    /// <summary>Undoes a failed step where it can (a switch puts the previous build back); the failure as it is by default.</summary>
    public virtual Task<StepResult> RollbackAsync(StepContext context, Step step, StepResult failed, CancellationToken cancellationToken) => Task.FromResult(failed);

    /// <summary>An Ok result when the step's effect is already on the host (it is then recorded done and not run); null when it must run.</summary>
    public abstract Task<StepResult?> ProbeAsync(StepContext context, Step step, CancellationToken cancellationToken);
}

/// <summary>Everything a step handler may use while the executor runs one plan.</summary>
public sealed class StepContext
{
    private readonly Func<string, StepLogin, CancellationToken, Task<IRemoteHost>> _host;

    private readonly PinStore _pins;

    internal StepContext(Plan plan, ClusterMeta? planned, string operationId, string operationDirectory, ClusterState state, Reach reach, ClusterStore store, IProgress<ProgressEvent>? progress, Func<string, StepLogin, CancellationToken, Task<IRemoteHost>> host, PinStore pins)
    {
        PlannedMeta = planned;
        _pins = pins;
        Plan = plan;
        OperationId = operationId;
        OperationDirectory = operationDirectory;
        State = state;
        Reach = reach;
        Store = store;
        Progress = progress;
        _host = host;
    }

    /// <summary>The plan being run.</summary>
    public Plan Plan { get; }

    /// <summary>The operation's ID.</summary>
    public string OperationId { get; }

    /// <summary>The operation's directory (journal, plan, artifacts such as a patch's executable).</summary>
    public string OperationDirectory { get; }

    /// <summary>The cluster's metadata as it stands, and the one way to change it.</summary>
    public ClusterState State { get; }

    /// <summary>The current metadata.</summary>
    public ClusterMeta Meta => State.Meta;

    /// <summary>Timeouts, concurrency, transport.</summary>
    public Reach Reach { get; }

    /// <summary>Where the cluster's files live on the control machine (its key).</summary>
    public ClusterStore Store { get; }

    /// <summary>Where remarks go.</summary>
    public IProgress<ProgressEvent>? Progress { get; }

    /// <summary>How packages reach the hosts in this operation.</summary>
    public PackageDelivery Delivery { get; init; } = null!;

    /// <summary>The metadata the plan works toward (deploy, scale), or null when it only updates records.</summary>
    public ClusterMeta? PlannedMeta { get; }

    /// <summary>The metadata to render new instances with: the planned one when there is one, else the current one.</summary>
    public ClusterMeta TargetMeta => PlannedMeta ?? Meta;

    /// <summary>The host keys pinned so far in this operation for hosts of <paramref name="meta"/> that it does not know yet.</summary>
    public ImmutableSortedDictionary<string, string> LearnedHostKeys(ClusterMeta meta) => _pins.LearnedFor(meta);

    /// <summary>The instance with this ID in the current metadata, or else in the planned one.</summary>
    /// <exception cref="ClusterException">The plan names an instance the cluster does not have (a stored plan replayed against changed metadata).</exception>
    public InstanceSpec Instance(string id) => Meta.Topology.Find(id) ?? PlannedMeta?.Topology.Find(id)
        ?? throw new ClusterException(ClusterException.BadInput, $"The plan names instance {id}, which cluster '{Plan.Cluster}' does not have.");

    /// <summary>The open connection to a step's host, as the step's login (opened on first use, reused after).</summary>
    /// <exception cref="RemoteException">The host cannot be reached.</exception>
    public Task<IRemoteHost> HostAsync(Step step, CancellationToken cancellationToken) => _host(step.Host, step.Login, cancellationToken);

    /// <summary>The open connection to another host of the cluster, as the deploy user (membership changes go through a staying member).</summary>
    /// <exception cref="RemoteException">The host cannot be reached.</exception>
    public Task<IRemoteHost> HostAsync(string host, CancellationToken cancellationToken) => _host(host, StepLogin.Deploy, cancellationToken);

    /// <summary>
    /// A new connection to <paramref name="host"/> as the deploy user with <paramref name="credential"/>, outside the
    /// operation's pool, its host key checked against the cluster's pins; the caller disposes it. It proves that a key
    /// logs in (a key rotation), which a pooled connection opened with another key cannot.
    /// </summary>
    /// <exception cref="RemoteException">The host cannot be reached or refuses the login.</exception>
    public Task<IRemoteHost> ConnectAsync(string host, Credential credential, CancellationToken cancellationToken) =>
        Reach.Connector.ConnectAsync(new RemoteEndpoint(host, Meta.Topology.Instances.FirstOrDefault(i => i.ManageHost == host)?.SshPort ?? 22, Meta.User), credential, _pins, Reach.ConnectTimeout, cancellationToken);

    /// <summary>Reports a remark from inside a step.</summary>
    public void Note(string host, string? instance, string what, string message) => Progress?.Report(new OperationEvent(host, instance, what, message));
}

/// <summary>The cluster's metadata during one operation: read once, changed only through <see cref="Update"/>, saved at once.</summary>
public sealed class ClusterState
{
    private readonly ClusterStore _store;
    private readonly Lock _gate = new();
    private ClusterMeta _meta;
    private string _name;

    internal ClusterState(ClusterStore store, string name, ClusterMeta meta, bool saved)
    {
        _store = store;
        _name = name;
        _meta = meta;
        Saved = saved;
    }

    /// <summary>The cluster's name (the new one once a rename step moved its directory).</summary>
    public string Name
    {
        get
        {
            lock (_gate)
            {
                return _name;
            }
        }
    }

    /// <summary>Called with the new name after <see cref="Renamed"/> (the executor moves its lock's record with it).</summary>
    internal Action<string>? OnRenamed { get; init; }

    /// <summary>Whether the metadata is on disk (false for a deploy before its save-meta step).</summary>
    public bool Saved { get; private set; }

    /// <summary>The metadata as it stands.</summary>
    public ClusterMeta Meta
    {
        get
        {
            lock (_gate)
            {
                return _meta;
            }
        }
    }

    /// <summary>Changes the metadata and saves it at once (when it is on disk, or <paramref name="create"/>).</summary>
    public ClusterMeta Update(Func<ClusterMeta, ClusterMeta> change, bool create = false)
    {
        lock (_gate)
        {
            _meta = change(_meta);
            if (Saved || create)
            {
                _store.Save(_name, _meta);
                Saved = true;
            }

            return _meta;
        }
    }

    /// <summary>Records that the cluster's directory now has another name (a rename step moved it): later saves go there.</summary>
    public void Renamed(string name)
    {
        lock (_gate)
        {
            _name = name;
        }

        OnRenamed?.Invoke(name);
    }

    /// <summary>Forgets that the metadata is on disk (after the forget step removed it).</summary>
    public void Forgotten()
    {
        lock (_gate)
        {
            Saved = false;
        }
    }
}
