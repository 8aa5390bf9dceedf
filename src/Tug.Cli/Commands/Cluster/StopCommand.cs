// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Planning;

namespace Tug.Cli.Commands.Cluster;

/// <summary><c>tug cluster stop</c>: the service planner's stop plan for the selected instances, run without asking.</summary>
public sealed class StopCommand(ServicePlanner planner, PlanRunner runner)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<StopCommand>();
        var name = ClusterOptions.Name();
        var roles = ClusterOptions.Roles();
        var nodes = ClusterOptions.Nodes();
        var dryRun = ClusterOptions.DryRun();
        var force = ClusterOptions.Force();
        var command = new Command(CliConstants.StopVerb, "Stop instances in reverse order and check that their ports closed.") { name, roles, nodes, dryRun, force };
        command.SetAction((p, ct) => handler.RunAsync(options.Select(p, name, roles, nodes) with { Mutating = options.Mutating(p, dryRun, force) }, ct));
        return command;
    }

    public Task<int> RunAsync(SelectArguments args, CancellationToken cancellationToken) =>
        runner.RunAsync(planner.Stop(args.Name, args.Filter), args.Mutating with { Yes = true }, args.Globals, string.Empty, cancellationToken);
}
