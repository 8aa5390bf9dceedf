// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Cluster;
using Tug.Core.Execution;
using Tug.Core.Planning;

namespace Tug.Cli.Commands.Cluster;

/// <summary><c>tug cluster destroy</c>: the topology planner's destroy plan, run; <c>--force</c> also forgets the cluster when some hosts could not be cleaned.</summary>
/// <remarks>
/// A cluster whose meta.yaml cannot be read is refused (its hosts are unknown, so nothing could be removed from them);
/// with <c>--force</c> only its local state is forgotten, and the command says that nothing on the hosts was removed.
/// </remarks>
public sealed class DestroyCommand(TopologyPlanner topologies, PlanRunner runner, Executor executor, Renderer output, IOContext io, CommandLineArgs commandLine)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<DestroyCommand>();
        var name = ClusterOptions.Name();
        var dryRun = ClusterOptions.DryRun();
        var force = new Option<bool>(CliConstants.ForceOption) { Description = "Forget the cluster locally even if some hosts could not be cleaned (and start even though an earlier operation was interrupted)." };
        var retainNode = new Option<string[]>(CliConstants.RetainNodeDataOption) { Description = "Specify the nodes (host:port) or hosts whose data will be retained: their data directories stay on the host (repeat for several)." };
        var retainRole = new Option<string[]>(CliConstants.RetainRoleDataOption) { Description = "Specify the roles whose data will be retained: their data directories stay on the host (repeat for several)." };
        var command = new Command(CliConstants.DestroyVerb, "Stop everything and remove units, directories and the cluster key from every host, then the cluster's local state. With --retain-node-data/--retain-role-data those instances' data directories stay (a deploy directory holding one keeps only it); the command names what it kept.")
        {
            name, dryRun, force, retainNode, retainRole,
        };
        command.SetAction((p, ct) => handler.RunAsync(options.Select(p, name, null, null) with { Mutating = options.Mutating(p, dryRun, force) }, [.. p.GetValue(retainNode) ?? []], [.. p.GetValue(retainRole) ?? []], ct));
        return command;
    }

    public Task<int> RunAsync(SelectArguments args, CancellationToken cancellationToken) => RunAsync(args, [], [], cancellationToken);

    public async Task<int> RunAsync(SelectArguments args, ImmutableArray<string> retainNodes, ImmutableArray<string> retainRoles, CancellationToken cancellationToken)
    {
        Plan plan;
        try
        {
            plan = topologies.Destroy(args.Name, args.Mutating.Force, retainNodes, retainRoles);
        }
        catch (ClusterException e) when (e.Code == ClusterException.MetaBroken && args.Mutating.Force)
        {
            return ForgetLocally(args, e);
        }

        var kept = plan.Notes.Where(n => n.StartsWith("kept on ", StringComparison.Ordinal)).ToList();
        var question = kept.Count == 0
            ? $"Destroy cluster '{args.Name}': stop every instance and delete its units, deploy, data and log directories on every host?"
            : $"Destroy cluster '{args.Name}': stop every instance and delete its units, deploy, data and log directories on every host, except {string.Join("; ", kept)}?";
        var exit = await runner.RunAsync(plan, args.Mutating, args.Globals, question, cancellationToken);
        if (!args.Mutating.DryRun && args.Globals.Format != "json")
        {
            foreach (var line in kept)
            {
                output.Line(line);
            }
        }

        return exit;
    }

    private int ForgetLocally(SelectArguments args, ClusterException broken)
    {
        output.Warning(broken.Message);
        if (args.Mutating.DryRun)
        {
            output.Line($"would forget cluster '{args.Name}' on this control machine only; nothing on its hosts would be removed");
            output.Line("dry run: nothing was changed");
            return ExitCodes.Success;
        }

        if (!args.Mutating.Yes)
        {
            io.Error.Write($"Forget cluster '{args.Name}' on this control machine only (its meta.yaml, key and journals)? Nothing on its hosts will be removed. [y/N] ");
            var answer = io.In.ReadLine()?.Trim();
            if (!string.Equals(answer, "y", StringComparison.OrdinalIgnoreCase) && !string.Equals(answer, "yes", StringComparison.OrdinalIgnoreCase))
            {
                output.Note("destroy cancelled; nothing was changed");
                return ExitCodes.Failure;
            }
        }

        var auditProblem = executor.ForgetLocally(args.Name, new ExecutionOptions(args.Globals.Reach(), commandLine.Args, Force: true));
        if (auditProblem is not null)
        {
            output.Warning($"the audit log could not record this: {auditProblem}");
        }

        output.Line($"destroy {args.Name}: forgot the cluster on this control machine only; NOTHING on its hosts was removed (its meta.yaml could not be read, so its hosts are unknown).");
        output.Line("Its instances may still run there: stop and remove them by hand (units tug-managed under /etc/systemd/system, the deploy and data directories).");
        return ExitCodes.Success;
    }
}
