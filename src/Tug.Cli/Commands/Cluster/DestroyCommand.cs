// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Planning;

namespace Tug.Cli.Commands.Cluster;

/// <summary><c>tug cluster destroy</c>: the topology planner's destroy plan, run; <c>--force</c> also forgets the cluster when some hosts could not be cleaned.</summary>
public sealed class DestroyCommand(TopologyPlanner topologies, PlanRunner runner)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<DestroyCommand>();
        var name = ClusterOptions.Name();
        var dryRun = ClusterOptions.DryRun();
        var force = new Option<bool>(CliConstants.ForceOption) { Description = "Forget the cluster locally even if some hosts could not be cleaned (and start even though an earlier operation was interrupted)." };
        var command = new Command(CliConstants.DestroyVerb, "Stop everything and remove units, directories and the cluster key from every host, then the cluster's local state.") { name, dryRun, force };
        command.SetAction((p, ct) => handler.RunAsync(options.Select(p, name, null, null) with { Mutating = options.Mutating(p, dryRun, force) }, ct));
        return command;
    }

    public Task<int> RunAsync(SelectArguments args, CancellationToken cancellationToken) =>
        runner.RunAsync(topologies.Destroy(args.Name, args.Mutating.Force), args.Mutating, args.Globals,
            $"Destroy cluster '{args.Name}': stop every instance and delete its units, deploy, data and log directories on every host?", cancellationToken);
}
