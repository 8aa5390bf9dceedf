// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Planning;

namespace Tug.Cli.Commands.Cluster;

/// <summary><c>tug cluster disable</c>: the lifecycle planner's disable plan (systemctl disable per host, proven by is-enabled), run without asking; stops nothing.</summary>
public sealed class DisableCommand(LifecyclePlanner planner, PlanRunner runner)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<DisableCommand>();
        return UnitBootCommand.Create(CliConstants.DisableVerb,
            "Disable the cluster's units at boot (systemctl disable on each host, checked with systemctl is-enabled); nothing is stopped. With -R/-N only those instances; the monitoring agents of a host follow when all its other instances are selected, and -R node_exporter selects them alone.",
            "Only disable specified roles (comma-separated or repeated).", "Only disable specified nodes (host:port) or hosts.", options, handler.RunAsync);
    }

    public Task<int> RunAsync(SelectArguments args, CancellationToken cancellationToken) =>
        runner.RunAsync(planner.Enable(args.Name, args.Filter, enable: false), args.Mutating with { Yes = true }, args.Globals, string.Empty, cancellationToken);
}
