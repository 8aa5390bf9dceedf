// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Planning;

namespace Tug.Cli.Commands.Cluster;

/// <summary><c>tug cluster enable</c>: the lifecycle planner's enable plan (systemctl enable per host, proven by is-enabled), run without asking; starts nothing.</summary>
public sealed class EnableCommand(LifecyclePlanner planner, PlanRunner runner)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<EnableCommand>();
        return UnitBootCommand.Create(CliConstants.EnableVerb,
            "Enable the cluster's units at boot (systemctl enable on each host, checked with systemctl is-enabled); nothing is started. With -R/-N only those instances; the monitoring agents of a host follow when all its other instances are selected, and -R node_exporter selects them alone.",
            "Only enable specified roles (comma-separated or repeated).", "Only enable specified nodes (host:port) or hosts.", options, handler.RunAsync);
    }

    public Task<int> RunAsync(SelectArguments args, CancellationToken cancellationToken) =>
        runner.RunAsync(planner.Enable(args.Name, args.Filter, enable: true), args.Mutating with { Yes = true }, args.Globals, string.Empty, cancellationToken);
}

/// <summary>The shape <c>enable</c> and <c>disable</c> share: NAME, -R, -N, --dry-run, --force.</summary>
internal static class UnitBootCommand
{
    public static Command Create(string verb, string description, string rolesHelp, string nodesHelp, ClusterOptions options, Func<SelectArguments, CancellationToken, Task<int>> run)
    {
        var name = ClusterOptions.Name();
        var roles = ClusterOptions.Roles();
        roles.Description = rolesHelp;
        var nodes = ClusterOptions.Nodes();
        nodes.Description = nodesHelp;
        var dryRun = ClusterOptions.DryRun();
        var force = ClusterOptions.Force();
        var command = new Command(verb, description) { name, roles, nodes, dryRun, force };
        command.SetAction((p, ct) => run(options.Select(p, name, roles, nodes) with { Mutating = options.Mutating(p, dryRun, force) }, ct));
        return command;
    }
}
