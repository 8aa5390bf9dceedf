// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using Tug.Core.Cluster;

namespace Tug.Cli.Commands.Cluster;

public sealed record AuditArguments(string? Id, bool Verify, string Format);

/// <summary>
/// <c>tug cluster audit</c>: lists audited operations, shows one, or verifies the hash chain. It reads local files only,
/// so it runs synchronously, as before (no cancellation token to honour).
/// </summary>
public sealed class AuditCommand(AuditLog audit, ClusterStore store, Renderer output)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<AuditCommand>();
        var id = new Argument<string?>("ID") { Description = "Show one operation with its journal's steps.", Arity = ArgumentArity.ZeroOrOne };
        var verify = new Option<bool>(CliConstants.VerifyOption) { Description = "Check the hash chain: exit 1, naming each record, when a record was edited, removed or reordered." };
        var command = new Command(CliConstants.AuditVerb, "List the operations run on this control machine with their outcome (hash-chained log under $TUG_HOME/audit; secrets are never recorded).") { id, verify };
        command.Subcommands.Add(AuditCleanupCommand.Create(services, options));
        command.SetAction(p => handler.Run(new AuditArguments(p.GetValue(id), p.GetValue(verify), p.GetValue(options.Format)!)));
        return command;
    }

    public int Run(AuditArguments args)
    {
        var format = args.Format;
        if (args.Verify)
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
        if (args.Id is { } id)
        {
            var op = operationsList.FirstOrDefault(o => o.Id == id) ?? throw new ClusterException(ClusterException.BadInput, $"No audited operation {id}.", "List them with `tug cluster audit`.");
            var journal = Tug.Core.Topology.ClusterName.IsValid(op.Cluster) ? OperationJournal.Read(store.Directory(op.Cluster), op.Id) : null;
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
