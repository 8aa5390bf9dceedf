// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Cli.Rendering;
using Tug.Core.Cluster;
using Tug.Core.Execution;

namespace Tug.Cli.Commands.Cluster;

public sealed record ReplayArguments(string Name, string? Id, string? User, string? Identity, bool Password, bool DryRun, ClusterGlobals Globals);

/// <summary><c>tug cluster replay</c>: resumes an interrupted or failed operation from its stored plan through the executor.</summary>
public sealed class ReplayCommand(Executor executor, ProgressRenderer progress, ClusterInput input, PlanRunner runner, Renderer output, CommandLineArgs commandLine)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<ReplayCommand>();
        var name = new Argument<string>("NAME")
        {
            Description = "The cluster, or alone (TiUP's `replay AUDIT_ID`) an operation ID; when a cluster and an operation both have that name, nothing runs and both are named.",
        };
        var id = new Argument<string?>("ID") { Description = "The operation of cluster NAME to resume (see `tug cluster audit`); default: the cluster's last interrupted or failed one.", Arity = ArgumentArity.ZeroOrOne };
        var user = ClusterOptions.User("Login that prepares hosts, needed only when a host-preparing step of a deploy or scale-out is still to run.");
        var identity = ClusterOptions.Identity();
        var password = ClusterOptions.Password("Log in with a password read from the first line of standard input.");
        var dryRun = ClusterOptions.DryRun();
        var command = new Command(CliConstants.ReplayVerb, "Resume an interrupted or failed operation from the plan it stored: every step an earlier run recorded is probed on its host first, and a step whose effect is already there is recorded done, not run again. `replay NAME` resumes the cluster's last interrupted or failed operation, `replay NAME ID` that one, and `replay ID` (TiUP's form) operation ID of whichever cluster has it.")
        {
            name, id, user, identity, password, dryRun,
        };
        command.SetAction((p, ct) => handler.RunAsync(
            new ReplayArguments(p.GetValue(name)!, p.GetValue(id), p.GetValue(user), p.GetValue(identity), p.GetValue(password), p.GetValue(dryRun), options.Globals(p)), ct));
        return command;
    }

    /// <summary>Resumes an interrupted or failed operation from its stored plan: every step an earlier run recorded is probed on its host before anything is done again.</summary>
    public async Task<int> RunAsync(ReplayArguments args, CancellationToken cancellationToken)
    {
        var (cluster, record) = executor.FindReplayTarget(args.Name, args.Id);
        var plan = executor.StoredPlan(cluster, record);
        var states = record.StepStates().ToDictionary(s => s.Key, s => s.Value, StringComparer.Ordinal);
        output.Note($"replaying operation {record.Id} of cluster '{cluster}' ({record.Status.ToString().ToLowerInvariant()}): `tug {string.Join(' ', record.Header.Args)}`");
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
            Delivery = runner.Delivery(args.Globals),
            PreparingCredential = args.User is null && args.Identity is null && !args.Password ? null : input.ReadCredential(args.Password, args.Identity),
        };
        OperationReport report;
        using (var sink = progress.For(args.Globals.Format))
        {
            report = await executor.ReplayAsync(cluster, record, options, sink, cancellationToken);
        }

        return runner.Report(report, args.Globals.Format);
    }
}
