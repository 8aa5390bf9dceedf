// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Spectre.Console;
using Tug.Cli.Rendering;
using Tug.Core.Cluster;
using Tug.Core.Execution;
using Tug.Core.Planning;
using Tug.Core.Remote;

namespace Tug.Cli.Commands.Cluster;

/// <summary>The command line this process was started with (recorded, redacted, in journals and the audit log).</summary>
public sealed record CommandLineArgs(ImmutableArray<string> Args);

/// <summary>Mutating verbs: a planner makes the plan, this shows it, the executor runs it (lock, journal, audit live there), this reports.</summary>
public sealed class PlanRunner(Renderer output, Executor executor, ProgressRenderer progress, IOContext io, CommandLineArgs commandLine, Tug.Mirror.MirrorClient mirrors)
{
    /// <summary>
    /// Shows a plan (stdout for <c>--dry-run</c>, stderr otherwise so stdout carries only the report), stops there on
    /// <c>--dry-run</c> or an empty plan, asks unless <c>-y</c>, then runs it through the executor and reports.
    /// </summary>
    public async Task<int> RunAsync(Plan plan, MutatingArguments m, ClusterGlobals globals, string question, CancellationToken cancellationToken, Credential? preparing = null)
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

                if (Delivers(plan))
                {
                    output.Line(Delivery(globals).Describe());
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

            if (Delivers(plan))
            {
                output.Note(Delivery(globals).Describe());
            }
        }

        if (plan.IsEmpty)
        {
            output.Note("nothing to do: every instance is already as asked");
            return ExitCodes.Success;
        }

        if (!m.Yes && !io.Ask(question))
        {
            output.Note($"{plan.Operation} cancelled; nothing was changed");
            return ExitCodes.Failure;
        }

        var options = new ExecutionOptions(globals.Reach(), commandLine.Args, m.Force) { PreparingCredential = preparing, Delivery = Delivery(globals) };
        OperationReport report;
        using (var sink = progress.For(globals.Format))
        {
            report = await executor.RunAsync(plan, options, sink, cancellationToken);
        }

        return Report(report, globals.Format);
    }

    /// <summary>
    /// How this command delivers packages: <c>--delivery</c>, from <c>--host-mirror</c>, else from the current mirror when
    /// it is an HTTP one not on this machine's loopback (which a host would take for its own), else from the package
    /// server the operation starts.
    /// </summary>
    public DeliveryOptions Delivery(ClusterGlobals globals)
    {
        var mirror = globals.HostMirror;
        if (mirror is null)
        {
            try
            {
                var current = mirrors.CurrentAddress();
                if (Uri.TryCreate(current, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && !uri.IsLoopback)
                {
                    mirror = current.TrimEnd('/');
                }
            }
            catch (Tug.Mirror.MirrorException)
            {
                // No mirror set: packages then come from the cache, served by this machine.
            }
        }

        return new DeliveryOptions(globals.Delivery, mirror);
    }

    private static bool Delivers(Plan plan) => plan.Steps.Any(s => s.Key.Kind is StepKind.Install or StepKind.Stage);

    /// <summary>Prints what an operation did on each host (a table, or JSON) and returns its exit code.</summary>
    public int Report(OperationReport report, string format)
    {
        if (format == "json")
        {
            output.Json(new { report.Operation, report.Cluster, report.Id, report.Ok, Outcomes = report.Outcomes.Select(o => new { o.Id, o.Step, o.Role, o.Host, Status = o.Status.ToString().ToLowerInvariant(), o.Message }), report.Timings });
        }
        else
        {
            var table = new Table().AddColumns("Step", "Role", "Host", "Result", "Detail");
            foreach (var o in report.Outcomes)
            {
                table.AddRow(Markup.Escape(o.Step ?? o.Id), Markup.Escape(o.Role), Markup.Escape(o.Host), o.Status.ToString(), Markup.Escape(o.Message));
            }

            output.Show(table);
            output.Line(report.Failures.IsEmpty
                ? report.Outcomes.All(o => o.Host.Length == 0)
                    ? $"{report.Operation} {report.Cluster}: {report.Outcomes.Length} ok, on this control machine (no host touched)"
                    : $"{report.Operation} {report.Cluster}: {report.Outcomes.Length} ok, verified on the hosts"
                : $"{report.Operation} {report.Cluster}: FAILED on {report.Failures.Length} of {report.Outcomes.Length}: {report.FailureList}");
        }

        return report.Ok ? ExitCodes.Success : ExitCodes.Failure;
    }
}
