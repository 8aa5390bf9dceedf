// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Cluster;

namespace Tug.Cli.Commands.Cluster;

public sealed record AuditCleanupArguments(int RetainDays, bool Yes, string Format);

/// <summary><c>tug cluster audit cleanup --retain-days N</c>, as TiUP's (int, default 60, negative refused), on Tug's hash-chained log.</summary>
public sealed class AuditCleanupCommand(AuditLog audit, Renderer output, IOContext io, TimeProvider time, CommandLineArgs commandLine)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<AuditCleanupCommand>();
        var days = new Option<int>(CliConstants.RetainDaysOption) { Description = "Number of days to keep audit logs for deletion (TiUP's flag; default 60, 0 removes every ended operation).", DefaultValueFactory = _ => 60 };
        days.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && int.TryParse(result.Tokens[^1].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value < 0)
            {
                result.AddError("retain-days cannot be less than 0");
            }
        });
        var command = new Command(CliConstants.AuditCleanupVerb,
            "Remove audit records older than --retain-days from $TUG_HOME/audit/audit.jsonl, as TiUP's `audit cleanup`. Whole operations only, from the front: removal stops at the first operation that is still running or interrupted (no end record) or that has a record newer than the cutoff, and keeps it and everything after. The removed records are replaced by one checkpoint record on the first line holding the seq and hash of the last removed one, so `tug cluster audit --verify` still passes and still finds an edit of any kept record, of the checkpoint, or a removed record put back. A log that does not verify is refused (a cleanup must not hide damage). The new log is written beside the old one, flushed and renamed over it under the audit lock. The cleanup records itself (a start and an end record). Asks first unless -y.")
        {
            days,
        };
        command.SetAction(p => handler.Run(new AuditCleanupArguments(p.GetValue(days), p.GetValue(options.Yes), p.GetValue(options.Format)!)));
        return command;
    }

    public int Run(AuditCleanupArguments args)
    {
        var cutoff = time.GetUtcNow().AddDays(-args.RetainDays);
        var planned = audit.PlanCleanup(cutoff);
        var json = args.Format == "json";
        if (!json)
        {
            output.Note($"Audit logs before {cutoff.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)} will be deleted: {planned.Removed} record(s) of {planned.Operations} operation(s){(planned.Removed > 0 ? $" (seq {planned.FirstSeq}-{planned.LastSeq})" : string.Empty)}; {planned.Kept} kept");
            if (planned.StoppedAt is { } why)
            {
                output.Note($"kept: {why}");
            }
        }

        if (!json && !args.Yes && planned.Removed > 0 && !io.Ask("Do you want to continue?"))
        {
            output.Note("audit cleanup cancelled; nothing was changed");
            return ExitCodes.Failure;
        }

        var command = AuditLog.CommandText(AuditLog.Redact(commandLine.Args, AuditLog.TugSwitches));
        var id = OperationId.New(time);
        audit.Append(AuditEvent.Started(id, string.Empty, command));
        AuditCleanup result;
        try
        {
            result = audit.Cleanup(cutoff, id, command);
        }
        catch (Exception e) when (e is TugException or IOException or UnauthorizedAccessException)
        {
            audit.Append(AuditEvent.Ended(id, string.Empty, command, JournalOutcome.Failed, e is TugException t ? t.ExitCode : ExitCodes.Failure, e.Message));
            throw;
        }

        var summary = $"removed {result.Removed} record(s) of {result.Operations} operation(s) older than {cutoff.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)}; {result.Kept} kept";
        audit.Append(AuditEvent.Ended(id, string.Empty, command, JournalOutcome.Succeeded, ExitCodes.Success, summary));
        if (json)
        {
            output.Json(new { DeletedLogs = new { DeleteBeforeTime = cutoff, Count = result.Removed, result.Operations, result.FirstSeq, result.LastSeq, result.Kept, Size = result.BytesBefore - result.BytesAfter, result.StoppedAt, Files = new[] { audit.FilePath } } });
        }
        else
        {
            output.Line($"clean audit log successfully: {summary} ({audit.FilePath})");
        }

        return ExitCodes.Success;
    }
}
