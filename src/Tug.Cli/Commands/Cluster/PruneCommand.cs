// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Planning;

namespace Tug.Cli.Commands.Cluster;

/// <summary>
/// <c>tug cluster prune</c>: the lifecycle planner's prune plan (the instances marked offline that are done leaving,
/// removed with scale-in's steps), run after a confirmation naming them (unless <c>-y</c>); with none, says so and exits 0.
/// </summary>
public sealed class PruneCommand(LifecyclePlanner planner, PlanRunner runner, Renderer output)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<PruneCommand>();
        var name = ClusterOptions.Name();
        var dryRun = ClusterOptions.DryRun();
        var force = new Option<bool>(CliConstants.ForceOption) { Description = "Ignore errors when deleting the instances from their hosts (later steps still run; also starts even though an earlier operation was interrupted)." };
        var command = new Command(CliConstants.PruneVerb,
            "Destroy and remove the instances marked offline (TiUP's pending-offline mark after a scale-in) once they are done leaving: an etcd member once it is no longer a member. Each is stopped and removed from its host (checked gone), forgotten in the metadata, and Prometheus' targets follow. With none: says so and exits 0.")
        {
            name, dryRun, force,
        };
        command.SetAction((p, ct) => handler.RunAsync(options.Select(p, name, null, null) with { Mutating = options.Mutating(p, dryRun, force) }, ct));
        return command;
    }

    public async Task<int> RunAsync(SelectArguments args, CancellationToken cancellationToken)
    {
        var plan = await planner.PruneAsync(args.Name, args.Globals.Reach(), cancellationToken);
        if (plan.IsEmpty)
        {
            if (args.Globals.Format == "json")
            {
                output.Json(new { Operation = "prune", Cluster = args.Name, Pruned = Array.Empty<string>(), plan.Notes });
            }
            else
            {
                foreach (var note in plan.Notes)
                {
                    output.Line(note);
                }
            }

            return ExitCodes.Success;
        }

        var nodes = plan.Steps.Where(s => s.Inputs is HostInputs).SelectMany(s => ((HostInputs)s.Inputs).Instances);
        plan = plan with { ContinueOnFailure = plan.ContinueOnFailure || args.Mutating.Force };
        return await runner.RunAsync(plan, args.Mutating, args.Globals, $"Will destroy these nodes: [{string.Join(" ", nodes)}]\nDo you confirm this action?", cancellationToken);
    }
}
