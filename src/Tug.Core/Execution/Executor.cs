// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Tug.Core.Cluster;
using Tug.Core.Planning;
using Tug.Core.Remote;
using Tug.Core.Topology;

namespace Tug.Core.Execution;

/// <summary>How one run of a plan reaches hosts, and what it records about itself.</summary>
/// <param name="Reach">Transport, timeouts, concurrency.</param>
/// <param name="CommandLine">The command line as typed (redacted before it is recorded).</param>
/// <param name="Force">Start even though an earlier operation was interrupted (it is closed as failed).</param>
public sealed record ExecutionOptions(Reach Reach, ImmutableArray<string> CommandLine, bool Force = false)
{
    /// <summary>The preparing login's credential, for <see cref="StepLogin.Preparing"/> steps; never stored.</summary>
    public Credential? PreparingCredential { get; init; }

    /// <summary>The preparing login's user, overriding the plan's on a replay.</summary>
    public string? PreparingUser { get; init; }

    /// <summary>How packages reach the hosts (<c>--delivery</c>, <c>--host-mirror</c>).</summary>
    public DeliveryOptions Delivery { get; init; } = DeliveryOptions.Default;
}

/// <summary>
/// The one executor: takes the cluster's lock, refuses to start over an interrupted operation, stores the plan and
/// journals every step durably (planned before it acts, then done or failed), runs waves (in parallel across hosts, in
/// order on a host), gates each step and rolls it back when the gate fails, stops at a failed wave, records start and
/// end in the audit chain, and resumes a stored plan by probing every step an earlier run recorded before acting again.
/// </summary>
public sealed class Executor(ClusterStore store, AuditLog audit, IEnumerable<StepHandler> handlers, TimeProvider time, Failpoints failpoints, IPackageServer? packageServer = null)
{
    private readonly ImmutableDictionary<StepKind, StepHandler> _handlers = handlers.ToImmutableDictionary(h => h.Kind);

    /// <summary>Where an operation keeps its artifacts, inside its directory.</summary>
    public const string ArtifactsDirectory = "artifacts";

    /// <summary>An artifact's file, by sha256, in an operation's directory.</summary>
    public static string ArtifactPath(string operationDirectory, string sha256) => Path.Combine(operationDirectory, ArtifactsDirectory, sha256);

    /// <summary>The sha256 of a cluster's meta.yaml as it is now (empty when there is none): what a plan is based on.</summary>
    public static string MetaRevision(ClusterStore store, string cluster) =>
        File.Exists(store.MetaFile(cluster)) ? Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(store.MetaFile(cluster)))) : string.Empty;

    /// <summary>Runs a new plan.</summary>
    /// <exception cref="ClusterException">The cluster is locked, an earlier operation was interrupted, or the cluster changed since the plan was made.</exception>
    /// <exception cref="OperationCanceledException">The operator cancelled; the journal records it and replay resumes it.</exception>
    public Task<OperationReport> RunAsync(Plan plan, ExecutionOptions options, IProgress<ProgressEvent>? progress, CancellationToken cancellationToken) =>
        ExecuteAsync(plan, resume: null, options, progress, cancellationToken);

    /// <summary>
    /// <c>tug cluster destroy --force</c> of a cluster whose meta.yaml cannot be read: its hosts are unknown, so nothing
    /// on them is touched; only the local state is forgotten, under the cluster's lock, and recorded in the audit log
    /// when that can be written. Returns why the audit record could not be written, or null.
    /// </summary>
    /// <exception cref="ClusterException">Another process holds the cluster's lock.</exception>
    public string? ForgetLocally(string cluster, ExecutionOptions options)
    {
        var directory = store.Directory(cluster);
        var command = AuditLog.CommandText(AuditLog.Redact(options.CommandLine, AuditLog.TugSwitches));
        var id = OperationId.New(time);
        using var held = new LockRelease(ClusterLock.Acquire(directory, LockHolder.ForThisProcess(id, command, time)));
        var problem = TryAudit(AuditEvent.Started(id, cluster, command));
        store.Delete(cluster);
        return TryAudit(AuditEvent.Ended(id, cluster, command, JournalOutcome.Succeeded, ExitCodes.Success,
            "forgot the local state only (meta.yaml unreadable); nothing on the hosts was removed")) ?? problem;
    }

    private string? TryAudit(AuditEvent record)
    {
        try
        {
            audit.Append(record);
            return null;
        }
        catch (Exception e) when (e is TugException or IOException or UnauthorizedAccessException)
        {
            return e.Message;
        }
    }

    /// <summary>The operation <c>tug cluster replay</c> would resume: by ID, or the cluster's last interrupted or failed one.</summary>
    /// <exception cref="ClusterException">Nothing to replay, an unknown ID, one that succeeded, or one still running.</exception>
    public OperationRecord FindReplayable(string cluster, string? id)
    {
        var directory = store.Directory(cluster);
        if (!Directory.Exists(Path.Combine(directory, OperationJournal.OperationsDirectoryName)))
        {
            throw new ClusterException(ClusterException.NotFound, $"Cluster '{cluster}' has no recorded operation on this control machine.", "See the clusters with `tug cluster list`.");
        }

        var record = id is null
            ? OperationJournal.Replayable(directory) ?? throw new ClusterException(ClusterException.BadInput, $"Nothing to replay on cluster '{cluster}': no operation was interrupted or failed.", "See its operations with `tug cluster audit`.")
            : OperationJournal.Read(directory, id) ?? throw new ClusterException(ClusterException.BadInput, $"Cluster '{cluster}' has no operation {id}.", "See its operations with `tug cluster audit`.");
        return record.Status switch
        {
            OperationStatus.Succeeded => throw new ClusterException(ClusterException.BadInput, $"Operation {record.Id} (`{record.Header.Operation}`) already succeeded; nothing to replay."),
            OperationStatus.Running => throw ClusterLock.LockedError(directory, ClusterLock.Peek(directory)?.Holder),
            _ => record,
        };
    }

    /// <summary>
    /// What <c>tug cluster replay X [ID]</c> resumes. With an ID, X is the cluster. Alone, X is read as TiUP's
    /// <c>replay AUDIT_ID</c> reads it when no cluster is called X: cluster X's last interrupted or failed operation if a
    /// cluster X exists, else operation X of whichever cluster has it; when both exist it refuses and names both.
    /// </summary>
    /// <exception cref="ClusterException">Neither a cluster nor an operation is called X, X is both, or <see cref="FindReplayable"/> refuses.</exception>
    public (string Cluster, OperationRecord Record) FindReplayTarget(string target, string? id)
    {
        if (id is not null)
        {
            return (target, FindReplayable(target, id));
        }

        var isCluster = store.Exists(target) || Directory.Exists(Path.Combine(store.Directory(target), OperationJournal.OperationsDirectoryName));
        var owners = OperationId.IsValid(target)
            ? store.ListDirectories().Where(c => Directory.Exists(Path.GetDirectoryName(OperationJournal.PathOf(store.Directory(c), target)))).ToList()
            : [];
        switch (isCluster, owners)
        {
            case (true, []):
                return (target, FindReplayable(target, null));
            case (false, [var owner]):
                return (owner, FindReplayable(owner, target));
            case (false, []):
                throw new ClusterException(ClusterException.NotFound, $"No cluster and no operation is called '{target}' on this control machine.",
                    "See the clusters with `tug cluster list` and their operations with `tug cluster audit`.");
            case (true, _):
                throw new ClusterException(ClusterException.BadInput,
                    $"'{target}' names both cluster '{target}' and operation {target} of cluster '{owners[0]}'.",
                    $"Say which: `tug cluster replay {owners[0]} {target}` resumes that operation; `tug cluster replay {target} ID` resumes one of cluster '{target}' (`tug cluster audit` lists them).");
            default:
                throw new ClusterException(ClusterException.BadInput,
                    $"Operation {target} is recorded under more than one cluster: {string.Join(", ", owners)}.",
                    $"Say which: `tug cluster replay CLUSTER {target}`.");
        }
    }

    /// <summary>The plan an operation stored when it began.</summary>
    /// <exception cref="ClusterException">The operation has no stored plan (recorded by an older tug) or it is unreadable.</exception>
    public Plan StoredPlan(string cluster, OperationRecord record)
    {
        var path = PlanJson.PathOf(store.Directory(cluster), record.Id);
        if (!File.Exists(path))
        {
            throw new ClusterException(ClusterException.BadInput, $"Operation {record.Id} (`{record.Header.Operation}`) has no stored plan ({path}): it was recorded by an older version of tug and cannot be resumed step by step.",
                $"Run the command again (`tug {string.Join(' ', record.Header.Args)}`), or close it with --force on the next command.");
        }

        try
        {
            return PlanJson.Deserialize(File.ReadAllText(path), path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ClusterException(ClusterException.StateBroken, $"The stored plan {path} cannot be read: {e.Message}", "Check the file's permissions; nothing was changed.", e);
        }
    }

    /// <summary>Resumes an interrupted or failed operation from its stored plan.</summary>
    /// <exception cref="ClusterException">Nothing to replay, or the cluster is locked.</exception>
    public Task<OperationReport> ReplayAsync(string cluster, OperationRecord record, ExecutionOptions options, IProgress<ProgressEvent>? progress, CancellationToken cancellationToken) =>
        ExecuteAsync(StoredPlan(cluster, record), record, options, progress, cancellationToken);

    /// <summary>
    /// The name of the cluster directory an operation of <paramref name="plan"/> lives in now: the plan's cluster, but
    /// for a rename the old name until its rename step moved the directory (journal and lock inside) to the new one.
    /// </summary>
    private string Home(Plan plan, string id, bool started) =>
        plan.RenamedFrom is not { } from ? plan.Cluster
        : !started || Directory.Exists(Path.GetDirectoryName(OperationJournal.PathOf(store.Directory(from), id))) ? from
        : plan.Cluster;

    private async Task<OperationReport> ExecuteAsync(Plan plan, OperationRecord? resume, ExecutionOptions options, IProgress<ProgressEvent>? progress, CancellationToken cancellationToken)
    {
        var args = AuditLog.Redact(resume?.Header.Args ?? options.CommandLine, AuditLog.TugSwitches);
        var command = AuditLog.CommandText(args);
        var id = resume?.Id ?? OperationId.New(time);
        var home = Home(plan, id, resume is not null);
        var directory = store.Directory(home);
        store.CreateDirectories(home);
        using var held = new LockRelease(ClusterLock.Acquire(directory, LockHolder.ForThisProcess(id, command, time)));
        if (held.Lock.Stale is { } stale)
        {
            progress?.Report(new Warning($"a stale lock from `{stale.Command}` (PID {stale.Pid} on {stale.Machine}, started {stale.StartedAt.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}) was left by a process that is gone; taking it over"));
        }

        if (resume is null)
        {
            // Refuse a stale plan before --force closes an interrupted operation: a refused run changes nothing.
            if (MetaRevision(store, home) != plan.BasedOn)
            {
                throw new ClusterException(ClusterException.BadInput, $"Cluster '{home}' changed after this {plan.Operation} was planned.", "Run the command again: it plans from the cluster as it is now.");
            }

            if (OperationJournal.Interrupted(directory) is { } interrupted)
            {
                if (!options.Force)
                {
                    throw OperationJournal.InterruptedError(interrupted);
                }

                using (var abandoned = OperationJournal.Resume(directory, interrupted.Id, time))
                {
                    abandoned.End(JournalOutcome.Failed, $"abandoned: `{command}` ran with --force as operation {id}");
                }

                progress?.Report(new Warning($"operation {interrupted.Id} (`{interrupted.Header.Operation}`) was interrupted; --force starts anyway and marks it failed (`tug cluster replay {home} {interrupted.Id}` can still resume it)"));
            }
        }

        var planPath = PlanJson.PathOf(directory, id);
        if (resume is null)
        {
            PrivateFiles.CreateDirectory(Path.Combine(directory, OperationJournal.OperationsDirectoryName));
            PrivateFiles.CreateDirectory(Path.GetDirectoryName(planPath)!);
            foreach (var artifact in plan.Artifacts)
            {
                PrivateFiles.CreateDirectory(Path.Combine(Path.GetDirectoryName(planPath)!, ArtifactsDirectory));
                DurableFile.WriteAtomically(ArtifactPath(Path.GetDirectoryName(planPath)!, artifact.Sha256), artifact.Content);
            }

            DurableFile.WriteAtomically(planPath, Encoding.UTF8.GetBytes(PlanJson.Serialize(plan)));
        }

        using var journal = resume is null
            ? OperationJournal.Begin(directory, JournalHeader.ForThisProcess(id, home, plan.Operation, args, time), time)
            : OperationJournal.Resume(directory, id, time);
        audit.Append(AuditEvent.Started(id, home, command));
        var began = time.GetTimestamp();
        progress?.Report(new OperationStarted(id, plan.Operation, plan.Cluster, plan.Steps.Length, resume is not null));
        try
        {
            var report = await RunStepsAsync(plan, home, held.Lock, id, Path.GetDirectoryName(planPath)!, journal, options, progress, cancellationToken).ConfigureAwait(false);
            var seconds = time.GetElapsedTime(began).TotalSeconds;
            report = report with { Id = id, Timings = [.. report.Timings, new PhaseTiming("total", null, null, Math.Round(seconds, 4))] };
            var outcome = report.Ok ? JournalOutcome.Succeeded : JournalOutcome.Failed;
            var summary = Summary(report);
            journal.End(outcome, summary);
            audit.Append(AuditEvent.Ended(id, Home(plan, id, started: true), command, outcome, report.Ok ? ExitCodes.Success : ExitCodes.Failure, summary));
            progress?.Report(new PhaseFinished("total", seconds));
            progress?.Report(new OperationFinished(id, outcome, seconds, summary));
            return report;
        }
        catch (OperationCanceledException)
        {
            journal.End(JournalOutcome.Cancelled, "cancelled by the operator");
            audit.Append(AuditEvent.Ended(id, Home(plan, id, started: true), command, JournalOutcome.Cancelled, ExitCodes.Cancelled, "cancelled"));
            progress?.Report(new OperationFinished(id, JournalOutcome.Cancelled, time.GetElapsedTime(began).TotalSeconds, $"cancelled; resume it with `tug cluster replay {Home(plan, id, started: true)}`"));
            throw;
        }
        catch (Exception e)
        {
            var code = e is TugException t ? t.ExitCode : ExitCodes.Unexpected;
            journal.End(JournalOutcome.Failed, e.Message);
            audit.Append(AuditEvent.Ended(id, Home(plan, id, started: true), command, JournalOutcome.Failed, code, e.Message));
            throw;
        }
    }

    private static string Summary(OperationReport report) =>
        report.Failures.IsEmpty
            ? $"{report.Outcomes.Length} ok, verified"
            : $"failed on {report.Failures.Length} of {report.Outcomes.Length}: {report.FailureList}";

    private async Task<OperationReport> RunStepsAsync(Plan plan, string home, ClusterLock held, string id, string operationDirectory, OperationJournal journal, ExecutionOptions options, IProgress<ProgressEvent>? progress, CancellationToken cancellationToken)
    {
        var exists = store.Exists(home);
        var planned = plan.Meta is { } yaml ? ClusterMetaSerializer.Deserialize(yaml, PlanJson.FileName) : null;
        var meta = exists ? store.Load(home) : planned;
        if (meta is null)
        {
            throw ClusterException.ClusterNotFound(home);
        }

        var state = new ClusterState(store, home, meta, exists) { OnRenamed = name => held.Moved(store.Directory(name)) };
        var pins = new PinStore(meta.Tug.HostKeys);
        var timings = new ConcurrentQueue<PhaseTiming>();
        await using var sessions = new SessionPool(options.Reach, pins, progress, meta.User, new KeyFileCredential(store.KeyFile(home)),
            options.PreparingUser ?? plan.PreparingUser, options.PreparingCredential, host => SshPort(host, state.Meta, planned));
        await using var delivery = new PackageDelivery(options.Delivery, packageServer, options.Reach);
        var context = new StepContext(plan, planned, id, operationDirectory, state, options.Reach, store, progress, sessions.GetAsync, pins) { Delivery = delivery };
        var outcomes = new ConcurrentDictionary<StepKey, InstanceOutcome>();

        // Connect to every host the plan will act on, in parallel, as the login of its first step to run.
        var connectStarted = time.GetTimestamp();
        var firstLogins = plan.Steps.Where(s => s.Login != StepLogin.Local && !Trusted(s, journal))
            .GroupBy(s => s.Host).Select(g => (Host: g.Key, g.First().Login)).ToList();
        var failures = await sessions.OpenAsync(firstLogins, cancellationToken).ConfigureAwait(false);
        Phase("connect", connectStarted);

        // Keep the keys pinned on first contact at once: steps are about to trust them, and a run that is cancelled
        // or dies would otherwise leave them unpinned, so its replay would accept any key again.
        KeepPins();
        if (failures.Count > 0 && plan.RequireAllHosts)
        {
            return new OperationReport(plan.Operation, plan.Cluster, [.. plan.Steps.Select(s => failures.TryGetValue(s.Host, out var e)
                ? Outcome(s, Unreachable(e))
                : Outcome(s, new StepResult(OutcomeStatus.Skipped, $"not run: {string.Join(", ", failures.Keys)} unreachable, so nothing was changed")))]) { Timings = [.. timings] };
        }

        var stopped = false;
        foreach (var wave in plan.Steps.GroupBy(s => s.Wave).OrderBy(g => g.Key))
        {
            if (stopped)
            {
                foreach (var step in wave)
                {
                    outcomes[step.Key] = Outcome(step, NotRun(step, "the operation stopped at an earlier failure"));
                }

                continue;
            }

            var waveStarted = time.GetTimestamp();
            var byHost = wave.GroupBy(s => s.Host).ToList();
            await Parallel.ForEachAsync(byHost, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Reach.Concurrency), CancellationToken = cancellationToken }, async (group, ct) =>
            {
                var failed = false;
                foreach (var step in group)
                {
                    if (failed)
                    {
                        outcomes[step.Key] = Outcome(step, NotRun(step, "an earlier step on this host failed"));
                        continue;
                    }

                    var result = await RunStepAsync(context, step, journal, progress, ct).ConfigureAwait(false);
                    foreach (var phase in result.Phases)
                    {
                        timings.Enqueue(phase);
                    }

                    outcomes[step.Key] = Outcome(step, result);
                    failed = result.Status is OutcomeStatus.Failed or OutcomeStatus.Unreachable;
                }
            }).ConfigureAwait(false);
            var failedSteps = wave.Count(s => outcomes[s.Key].Status is OutcomeStatus.Failed or OutcomeStatus.Unreachable);
            var seconds = time.GetElapsedTime(waveStarted).TotalSeconds;
            timings.Enqueue(new PhaseTiming("batch", wave.Key, null, Math.Round(seconds, 4)));
            progress?.Report(new WaveFinished(wave.Key, seconds, failedSteps));
            stopped = failedSteps > 0 && !plan.ContinueOnFailure;
        }

        // Host keys seen on first contact later in the run (another login) are kept with the cluster too.
        KeepPins();
        return new OperationReport(plan.Operation, plan.Cluster, [.. plan.Steps.Select(s => outcomes[s.Key])]) { Timings = [.. timings] };

        void KeepPins()
        {
            // Only keys of hosts the cluster still has and does not know yet: a scale-in's removed hosts stay forgotten.
            var learned = pins.LearnedFor(state.Meta);
            if (state.Saved && !learned.IsEmpty)
            {
                state.Update(m => m with { Tug = m.Tug with { HostKeys = m.Tug.HostKeys.SetItems(learned) } });
            }
        }

        void Phase(string name, long started)
        {
            var seconds = time.GetElapsedTime(started).TotalSeconds;
            timings.Enqueue(new PhaseTiming(name, null, null, Math.Round(seconds, 4)));
            progress?.Report(new PhaseFinished(name, seconds));
        }
    }

    /// <summary>A step skipped because of <paramref name="why"/>, saying what it leaves as it is.</summary>
    private StepResult NotRun(Step step, string why) =>
        new(OutcomeStatus.Skipped, $"not touched{(Handler(step).Untouched(step) is { Length: > 0 } left ? ", " + left : string.Empty)}: {why}");

    /// <summary>A step an earlier run recorded done whose effect may be undone by a later step by design: trusted, not probed.</summary>
    private bool Trusted(Step step, OperationJournal journal) =>
        journal.StateOf(step.Key.ToString()) == StepState.Done && !Handler(step).ReprobeWhenDone;

    private StepHandler Handler(Step step) =>
        _handlers.TryGetValue(step.Key.Kind, out var handler) ? handler : throw new InvalidOperationException($"No handler for step kind {step.Key.Kind}.");

    private async Task<StepResult> RunStepAsync(StepContext context, Step step, OperationJournal journal, IProgress<ProgressEvent>? progress, CancellationToken cancellationToken)
    {
        var key = step.Key.ToString();
        var handler = Handler(step);
        var started = time.GetTimestamp();
        progress?.Report(new StepStarted(key, step.Host, step.Wave));
        var result = await RunStepCoreAsync(context, step, key, handler, journal, cancellationToken).ConfigureAwait(false);
        progress?.Report(new StepFinished(key, step.Host, step.Wave, result.Result.Status, result.Result.Message, time.GetElapsedTime(started).TotalSeconds, result.AlreadyDone, result.Result.Phases));
        return result.Result;
    }

    private async Task<(StepResult Result, bool AlreadyDone)> RunStepCoreAsync(StepContext context, Step step, string key, StepHandler handler, OperationJournal journal, CancellationToken cancellationToken)
    {
        try
        {
            // "Planned but not recorded done" means "may or may not have happened": look before acting.
            var prior = journal.StateOf(key);
            if (Trusted(step, journal))
            {
                return (StepResult.Done("done before the interruption; not run again"), true);
            }

            if (prior is not null && await handler.ProbeAsync(context, step, cancellationToken).ConfigureAwait(false) is { Ok: true } found)
            {
                if (prior != StepState.Done)
                {
                    journal.Done(key, $"found done on the host: {found.Message}");
                }

                return (found with { Message = $"{found.Message}; found done on the host, not run again" }, true);
            }

            journal.Planned(key, step.Summary);
            failpoints.Check(step.Key.Kind, FailpointSite.BeforeAction);
            var result = await handler.ActAsync(context, step, cancellationToken).ConfigureAwait(false);
            failpoints.Check(step.Key.Kind, FailpointSite.AfterAction);
            if (result.Ok)
            {
                result = Then(result, await handler.GateAsync(context, step, result, cancellationToken).ConfigureAwait(false));
            }

            if (!result.Ok)
            {
                result = Then(result, await handler.RollbackAsync(context, step, result, cancellationToken).ConfigureAwait(false));
            }

            Record(journal, key, result);
            failpoints.Check(step.Key.Kind, FailpointSite.AfterRecord);
            return (result, false);
        }
        catch (RemoteException e)
        {
            var result = Unreachable(e);
            Record(journal, key, result);
            return (result, false);
        }
        catch (Exception e) when (e is ClusterException or IOException)
        {
            var result = StepResult.Fail(e.Message);
            Record(journal, key, result);
            return (result, false);
        }
    }

    /// <summary>The later result, carrying the phases measured before it.</summary>
    private static StepResult Then(StepResult before, StepResult after) =>
        ReferenceEquals(before, after) ? after : after with { Phases = before.Phases.AddRange(after.Phases) };

    private static void Record(OperationJournal journal, string key, StepResult result)
    {
        if (result.Ok)
        {
            journal.Done(key, result.Message);
        }
        else if (result.Status is OutcomeStatus.Failed or OutcomeStatus.Unreachable)
        {
            if (journal.StateOf(key) is not null)
            {
                journal.Failed(key, result.Message);
            }
        }
    }

    private static StepResult Unreachable(RemoteException e) =>
        new(e.Code == RemoteException.HostKeyChanged ? OutcomeStatus.Failed : OutcomeStatus.Unreachable, $"{e.Code}: {e.Message}");

    private static InstanceOutcome Outcome(Step step, StepResult result) =>
        new(step.Key.Subject, step.Role, step.Host, result.Status, result.Message) { Step = step.Key.ToString() };

    private static int SshPort(string host, ClusterMeta current, ClusterMeta? planned) =>
        current.Topology.Instances.FirstOrDefault(i => i.ManageHost == host)?.SshPort
        ?? planned?.Topology.Instances.FirstOrDefault(i => i.ManageHost == host)?.SshPort
        ?? 22;

    /// <summary>Releases the cluster's lock; destroy's forget step may have removed its directory already.</summary>
    private sealed class LockRelease(ClusterLock held) : IDisposable
    {
        public ClusterLock Lock => held;

        public void Dispose()
        {
            try
            {
                held.Dispose();
            }
            catch (DirectoryNotFoundException)
            {
                // The forget step removed the cluster's directory, lock files included.
            }
        }
    }
}
