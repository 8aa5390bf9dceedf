// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Planning;

namespace Tug.Cli.Commands.Cluster;

/// <summary><c>tug cluster restart</c>: the service planner's restart plan for the selected instances, run without asking.</summary>
public sealed class RestartCommand(ServicePlanner planner, PlanRunner runner)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<RestartCommand>();
        var name = ClusterOptions.Name();
        var roles = ClusterOptions.Roles();
        var nodes = ClusterOptions.Nodes();
        var dryRun = ClusterOptions.DryRun();
        var force = ClusterOptions.Force();
        var window = ClusterOptions.HealthWindow();
        var command = new Command(CliConstants.RestartVerb, "Stop, then start and verify, the selected instances.") { name, roles, nodes, window, dryRun, force };
        command.SetAction((p, ct) => handler.RunAsync(options.Select(p, name, roles, nodes) with { Mutating = options.Mutating(p, dryRun, force) }, p.GetValue(window), ct));
        return command;
    }

    public Task<int> RunAsync(SelectArguments args, CancellationToken cancellationToken) => RunAsync(args, 0, cancellationToken);

    public Task<int> RunAsync(SelectArguments args, int healthWindow, CancellationToken cancellationToken) =>
        runner.RunAsync(planner.Restart(args.Name, args.Filter, healthWindow), args.Mutating with { Yes = true }, args.Globals, string.Empty, cancellationToken);
}
