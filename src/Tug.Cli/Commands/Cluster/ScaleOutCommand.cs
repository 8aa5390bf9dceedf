// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Planning;

namespace Tug.Cli.Commands.Cluster;

public sealed record ScaleOutArguments(string Name, string Topology, string? User, string? Identity, bool Password, MutatingArguments Mutating, ClusterGlobals Globals);

/// <summary><c>tug cluster scale-out</c>: the topology planner's scale-out plan, run.</summary>
public sealed class ScaleOutCommand(TopologyPlanner topologies, ClusterInput input, PlanRunner runner)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<ScaleOutCommand>();
        var name = ClusterOptions.Name();
        var topology = new Argument<string>("TOPOLOGY") { Description = "A topology file with only the new instances (TiUP's scale-out format)." };
        var user = ClusterOptions.User("Login that prepares new hosts: root or a user with passwordless sudo (default: current user).");
        var identity = ClusterOptions.Identity();
        var password = ClusterOptions.Password("Log in with a password read from the first line of standard input.");
        var dryRun = ClusterOptions.DryRun();
        var force = ClusterOptions.Force();
        var command = new Command(CliConstants.ScaleOutVerb, "Add instances at the versions pinned in the cluster (monitoring agents on new hosts too); new etcd members join the running cluster; Prometheus' targets follow; everything touched is verified.")
        {
            name, topology, user, identity, password, dryRun, force,
        };
        command.SetAction((p, ct) => handler.RunAsync(
            new ScaleOutArguments(p.GetValue(name)!, p.GetValue(topology)!, p.GetValue(user), p.GetValue(identity), p.GetValue(password), options.Mutating(p, dryRun, force), options.Globals(p)), ct));
        return command;
    }

    public async Task<int> RunAsync(ScaleOutArguments args, CancellationToken cancellationToken)
    {
        var credential = input.ReadCredential(args.Password, args.Identity);
        var request = new ScaleOutRequest(args.Name, input.Resolve(args.Topology), input.PreparingUser(args.User), credential);
        var plan = await topologies.ScaleOutAsync(request, args.Globals.Reach(), cancellationToken);
        return await runner.RunAsync(plan, args.Mutating, args.Globals, $"Scale out cluster '{args.Name}'?", cancellationToken, credential);
    }
}
