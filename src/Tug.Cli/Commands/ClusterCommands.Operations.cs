// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Globalization;
using Spectre.Console;
using Tug.Core.Cluster;
using Tug.Core.Remote;

namespace Tug.Cli.Commands;

/// <summary>The command line this process was started with (recorded, redacted, in journals and the audit log).</summary>
public sealed record CommandLineArgs(ImmutableArray<string> Args);

/// <summary>Operations that survive a crash: every mutating verb runs under the cluster's lock, with a journal and audit records.</summary>
public sealed partial class ClusterCommands
{
    private OperationRecord? _resume;
    private string? _summary;

    /// <summary>
    /// Runs a mutating verb: takes the cluster's lock (refused at once, naming the holder, when another command holds
    /// it; a stale lock of a dead process is reported and taken over), refuses to start when an earlier operation was
    /// interrupted (unless <paramref name="force"/>), and journals every step durably while <paramref name="body"/> runs;
    /// start and end go to the hash-chained audit log.
    /// </summary>
    private async Task<int> GuardedAsync(string cluster, string operation, bool force, Func<Task<int>> body)
    {
        var directory = store.Directory(cluster);
        Directory.CreateDirectory(directory);
        var args = AuditLog.Redact(commandLine.Args, switches: ["--password"]);
        var command = "tug " + string.Join(' ', args.Select(a => a.Length == 0 || a.Any(char.IsWhiteSpace) ? $"'{a}'" : a));
        var resume = _resume;
        _resume = null;
        if (resume is not null && resume.Header.Operation != operation)
        {
            throw new ClusterException(ClusterException.BadInput, $"Operation {resume.Id} is a {resume.Header.Operation}, not a {operation}.");
        }

        var id = resume?.Id ?? OperationId.New(time);
        var held = ClusterLock.Acquire(directory, LockHolder.ForThisProcess(id, command, time));
        try
        {
            if (held.Stale is { } stale)
            {
                output.Warning($"a stale lock from `{stale.Command}` (PID {stale.Pid} on {stale.Machine}, started {Time(stale.StartedAt)}) was left by a process that is gone; taking it over");
            }

            if (resume is null && OperationJournal.Interrupted(directory) is { } interrupted)
            {
                if (!force)
                {
                    throw OperationJournal.InterruptedError(interrupted);
                }

                using (var abandoned = OperationJournal.Resume(directory, interrupted.Id, time))
                {
                    abandoned.End(JournalOutcome.Failed, $"abandoned: `{command}` ran with --force as operation {id}");
                }

                output.Warning($"operation {interrupted.Id} (`{interrupted.Header.Operation}`) was interrupted; --force starts anyway and marks it failed (`tug cluster replay {cluster} {interrupted.Id}` can still resume it)");
            }

            using var journal = resume is null
                ? OperationJournal.Begin(directory, JournalHeader.ForThisProcess(id, cluster, operation, args, time), time)
                : OperationJournal.Resume(directory, resume.Id, time);
            audit.Append(AuditEvent.Started(id, cluster, command));
            operations.Journal = journal;
            _summary = null;
            try
            {
                var code = await body();
                var outcome = code == ExitCodes.Success ? JournalOutcome.Succeeded : JournalOutcome.Failed;
                journal.End(outcome, _summary ?? $"exit {code}");
                audit.Append(AuditEvent.Ended(id, cluster, command, outcome, code, _summary));
                output.Note($"operation {id}: {JournalOutcomeName(outcome)}; journal {journal.FilePath}");
                return code;
            }
            catch (OperationCanceledException)
            {
                journal.End(JournalOutcome.Cancelled, "cancelled by the operator");
                audit.Append(AuditEvent.Ended(id, cluster, command, JournalOutcome.Cancelled, ExitCodes.Cancelled, "cancelled"));
                output.Note($"operation {id} cancelled; resume it with `tug cluster replay {cluster}`");
                throw;
            }
            catch (Exception e)
            {
                var code = e switch { ClusterException => ExitCodes.BadInput, RemoteException => ExitCodes.Failure, _ => ExitCodes.Unexpected };
                journal.End(JournalOutcome.Failed, e.Message);
                audit.Append(AuditEvent.Ended(id, cluster, command, JournalOutcome.Failed, code, e.Message));
                throw;
            }
            finally
            {
                operations.Journal = null;
            }
        }
        finally
        {
            try
            {
                held.Dispose();
            }
            catch (DirectoryNotFoundException)
            {
                // destroy removed the cluster's directory, lock files included.
            }
        }
    }

    /// <summary>Resumes an interrupted or failed operation: its own command line again, with the steps its journal records as done checked, not rerun.</summary>
    public async Task<int> ReplayAsync(string name, string? id, Func<string[], Task<int>> rerun)
    {
        var directory = store.Directory(name);
        if (!Directory.Exists(Path.Combine(directory, OperationJournal.OperationsDirectoryName)))
        {
            throw new ClusterException(ClusterException.NotFound, $"Cluster '{name}' has no recorded operation on this control machine.", "See the clusters with `tug cluster list`.");
        }

        var record = id is null
            ? OperationJournal.Replayable(directory) ?? throw new ClusterException(ClusterException.BadInput, $"Nothing to replay on cluster '{name}': no operation was interrupted or failed.", $"See its operations with `tug cluster audit`.")
            : OperationJournal.Read(directory, id) ?? throw new ClusterException(ClusterException.BadInput, $"Cluster '{name}' has no operation {id}.", $"See its operations with `tug cluster audit`.");
        switch (record.Status)
        {
            case OperationStatus.Succeeded:
                throw new ClusterException(ClusterException.BadInput, $"Operation {record.Id} (`{record.Header.Operation}`) already succeeded; nothing to replay.");
            case OperationStatus.Running:
                throw ClusterLock.LockedError(directory, ClusterLock.Peek(directory)?.Holder);
        }

        var done = record.StepStates().Count(s => s.Value == StepState.Done);
        output.Note($"replaying operation {record.Id} ({record.Status.ToString().ToLowerInvariant()}): `tug {string.Join(' ', record.Header.Args)}`");
        output.Note($"  {done} step(s) done before are checked on the hosts, not run again; last step: {(record.LastStep is { } last ? $"'{last.Step}' ({last.State.ToString().ToLowerInvariant()})" : "none")}");
        _resume = record;
        try
        {
            return await rerun([.. record.Header.Args]);
        }
        finally
        {
            _resume = null;
        }
    }

    /// <summary>Lists audited operations, shows one, or verifies the hash chain.</summary>
    public int Audit(string? id, bool verify, string format)
    {
        if (verify)
        {
            var result = audit.Verify();
            if (format == "json")
            {
                output.Json(new { result.Ok, result.Records, Problems = result.Problems.Select(p => new { Kind = p.Kind.ToString(), p.Line, p.Seq, p.Message }) });
            }
            else if (result.Ok)
            {
                output.Line($"audit log intact: {result.Records} record(s), hash chain verified ({audit.FilePath})");
            }
            else
            {
                foreach (var problem in result.Problems)
                {
                    output.Line($"line {problem.Line}{(problem.Seq is { } seq ? $" (record {seq})" : string.Empty)}: {problem.Kind}: {problem.Message}");
                }

                output.Error(ClusterException.AuditBroken, $"The audit log was altered: {result.Problems.Length} problem(s) in {result.Records} record(s).", audit.FilePath, "Records were edited, removed or reordered after they were written; keep the file as evidence.");
            }

            return result.Ok ? ExitCodes.Success : ExitCodes.Failure;
        }

        var operationsList = audit.Operations(store);
        if (id is not null)
        {
            var op = operationsList.FirstOrDefault(o => o.Id == id) ?? throw new ClusterException(ClusterException.BadInput, $"No audited operation {id}.", "List them with `tug cluster audit`.");
            var journal = OperationJournal.Read(store.Directory(op.Cluster), op.Id);
            if (format == "json")
            {
                output.Json(new { Operation = op, Steps = journal?.Steps.Select(s => new { s.Seq, s.At, s.Step, State = s.State.ToString().ToLowerInvariant(), s.Detail }) });
                return ExitCodes.Success;
            }

            output.Line($"{op.Id}  {op.Cluster}  {op.Outcome.ToString().ToLowerInvariant()}{(op.ExitCode is { } code ? $" (exit {code})" : string.Empty)}");
            output.Line($"  command: {op.Command}");
            output.Line($"  by {op.User}, started {Time(op.Started)}{(op.Ended is { } ended ? $", ended {Time(ended)}" : string.Empty)}");
            if (op.Summary is { Length: > 0 })
            {
                output.Line($"  result: {op.Summary}");
            }

            foreach (var step in journal?.Steps ?? [])
            {
                output.Line($"  {Time(step.At)}  {step.State.ToString().ToLowerInvariant(),-8} {step.Step}{(step.Detail is { Length: > 0 } d ? $": {d}" : string.Empty)}");
            }

            return ExitCodes.Success;
        }

        if (format == "json")
        {
            output.Json(new { Operations = operationsList });
            return ExitCodes.Success;
        }

        var table = new Table().AddColumns("ID", "Cluster", "Started", "Outcome", "Exit", "Command");
        foreach (var op in operationsList)
        {
            table.AddRow(op.Id, Markup.Escape(op.Cluster), Time(op.Started), op.Outcome.ToString().ToLowerInvariant(), op.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "-", Markup.Escape(op.Command));
        }

        output.Show(table);
        return ExitCodes.Success;
    }

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private static string JournalOutcomeName(JournalOutcome outcome) => outcome.ToString().ToLowerInvariant();
}
