// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Planning;

namespace Tug.Cli.Commands.Cluster;

/// <summary><c>tug cluster scale-in</c>: the topology planner's scale-in plan for the instances given with <c>-N</c>, run.</summary>
public sealed class ScaleInCommand(TopologyPlanner topologies, PlanRunner runner)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<ScaleInCommand>();
        var name = ClusterOptions.Name();
        var nodes = ClusterOptions.Nodes();
        nodes.Description = "Instances to remove (host:port), comma-separated or repeated.";
        nodes.Required = true;
        var dryRun = ClusterOptions.DryRun();
        var force = ClusterOptions.Force();
        var command = new Command(CliConstants.ScaleInVerb, "Remove instances: etcd members leave the cluster first, units and directories are removed and checked gone, agents leave with a host's last instance, Prometheus' targets follow.")
        {
            name, nodes, dryRun, force,
        };
        command.Options.Add(ClusterOptions.TransferTimeout());
        command.SetAction((p, ct) => handler.RunAsync(options.Select(p, name, null, nodes) with { Mutating = options.Mutating(p, dryRun, force) }, ct));
        return command;
    }

    public Task<int> RunAsync(SelectArguments args, CancellationToken cancellationToken) =>
        runner.RunAsync(topologies.ScaleIn(args.Name, args.Filter.Nodes), args.Mutating, args.Globals, $"Scale in cluster '{args.Name}'?", cancellationToken);
}
