// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Planning;

namespace Tug.Cli.Commands.Cluster;

/// <summary><c>tug cluster start</c>: the service planner's start plan for the selected instances, run without asking.</summary>
public sealed class StartCommand(ServicePlanner planner, PlanRunner runner)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<StartCommand>();
        var name = ClusterOptions.Name();
        var roles = ClusterOptions.Roles();
        var nodes = ClusterOptions.Nodes();
        var dryRun = ClusterOptions.DryRun();
        var force = ClusterOptions.Force();
        var command = new Command(CliConstants.StartVerb, "Start instances in order and wait until each is healthy, then verify what runs.") { name, roles, nodes, dryRun, force };
        command.SetAction((p, ct) => handler.RunAsync(options.Select(p, name, roles, nodes) with { Mutating = options.Mutating(p, dryRun, force) }, ct));
        return command;
    }

    public Task<int> RunAsync(SelectArguments args, CancellationToken cancellationToken) =>
        runner.RunAsync(planner.Start(args.Name, args.Filter), args.Mutating with { Yes = true }, args.Globals, string.Empty, cancellationToken);
}
