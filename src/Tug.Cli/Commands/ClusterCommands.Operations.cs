// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Globalization;
using Spectre.Console;
using Tug.Cli.Rendering;
using Tug.Core.Cluster;
using Tug.Core.Execution;
using Tug.Core.Planning;
using Tug.Core.Remote;

namespace Tug.Cli.Commands;

/// <summary>The command line this process was started with (recorded, redacted, in journals and the audit log).</summary>
public sealed record CommandLineArgs(ImmutableArray<string> Args);

/// <summary>Mutating verbs: a planner makes the plan, the renderer shows it, the executor runs it (lock, journal, audit live there).</summary>
public sealed partial class ClusterCommands
{
    /// <summary>
    /// Shows a plan (stdout for <c>--dry-run</c>, stderr otherwise so stdout carries only the report), stops there on
    /// <c>--dry-run</c> or an empty plan, asks unless <c>-y</c>, then runs it through the executor and reports.
    /// </summary>
    private async Task<int> RunPlanAsync(Plan plan, MutatingArguments m, ClusterGlobals globals, string question, CancellationToken cancellationToken, Credential? preparing = null)
    {
        if (m.DryRun)
        {
            if (globals.Format == "json")
            {
                output.Line(PlanRenderer.Json(plan, dryRun: true));
            }
            else
            {
                foreach (var line in PlanRenderer.Text(plan))
                {
                    output.Line(line);
                }

                output.Line("dry run: nothing was changed");
            }

            return ExitCodes.Success;
        }

        if (globals.Format == "json")
        {
            // stderr carries JSON lines only: the plan is the first.
            output.Note(PlanRenderer.JsonLine(plan));
        }
        else
        {
            foreach (var line in PlanRenderer.Text(plan))
            {
                output.Note(line);
            }
        }

        if (plan.IsEmpty)
        {
            output.Note("nothing to do: every instance is already as asked");
            return ExitCodes.Success;
        }

        if (!m.Yes && !Ask(question))
        {
            output.Note($"{plan.Operation} cancelled; nothing was changed");
            return ExitCodes.Failure;
        }

        var options = new ExecutionOptions(globals.Reach(), commandLine.Args, m.Force) { PreparingCredential = preparing };
        OperationReport report;
        using (var sink = progress.For(globals.Format))
        {
            report = await executor.RunAsync(plan, options, sink, cancellationToken);
        }

        return Report(report, globals.Format);
    }

    /// <summary>Resumes an interrupted or failed operation from its stored plan: every step an earlier run recorded is probed on its host before anything is done again.</summary>
    public async Task<int> ReplayAsync(ReplayArguments args, CancellationToken cancellationToken)
    {
        var record = executor.FindReplayable(args.Name, args.Id);
        var plan = executor.StoredPlan(args.Name, record);
        var states = record.StepStates().ToDictionary(s => s.Key, s => s.Value, StringComparer.Ordinal);
        output.Note($"replaying operation {record.Id} ({record.Status.ToString().ToLowerInvariant()}): `tug {string.Join(' ', record.Header.Args)}`");
        output.Note($"  its stored plan; {states.Count(s => s.Value == StepState.Done)} step(s) done before and every step recorded before are checked on the hosts before anything is done again; last step: {(record.LastStep is { } last ? $"'{last.Step}' ({last.State.ToString().ToLowerInvariant()})" : "none")}");
        foreach (var line in PlanRenderer.Text(plan, states))
        {
            output.Note(line);
        }

        if (args.DryRun)
        {
            return ExitCodes.Success;
        }

        var options = new ExecutionOptions(args.Globals.Reach(), commandLine.Args)
        {
            PreparingUser = args.User,
            PreparingCredential = args.User is null && args.Identity is null && !args.Password ? null : ReadCredential(args.Password, args.Identity),
        };
        OperationReport report;
        using (var sink = progress.For(args.Globals.Format))
        {
            report = await executor.ReplayAsync(args.Name, record, options, sink, cancellationToken);
        }

        return Report(report, args.Globals.Format);
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

}
