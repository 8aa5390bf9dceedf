// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Planning;

namespace Tug.Cli.Commands.Cluster;

public sealed record DeployArguments(string Name, string Version, string Topology, string? User, string? Identity, bool Password, MutatingArguments Mutating, ClusterGlobals Globals);

/// <summary><c>tug cluster deploy</c>: the topology planner's deploy plan, run.</summary>
public sealed class DeployCommand(TopologyPlanner topologies, ClusterInput input, PlanRunner runner)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<DeployCommand>();
        var name = ClusterOptions.Name();
        var version = new Argument<string>("VERSION") { Description = "Cluster version: the version of the components that follow the cluster (others are pinned in the topology)." };
        var topology = new Argument<string>("TOPOLOGY") { Description = "TiUP topology file (YAML)." };
        var user = ClusterOptions.User("Login that prepares the hosts: root or a user with passwordless sudo (default: current user).");
        var identity = ClusterOptions.Identity();
        var password = ClusterOptions.Password("Log in with a password instead of a key; it is read from the first line of standard input and never logged.");
        var dryRun = ClusterOptions.DryRun();
        var force = ClusterOptions.Force();
        var command = new Command(CliConstants.DeployVerb, "Deploy a cluster: prepare hosts, verify packages on them, install units, start, health-check, and verify what runs.")
        {
            name, version, topology, user, identity, password, dryRun, force,
        };
        command.SetAction((p, ct) => handler.RunAsync(
            new DeployArguments(p.GetValue(name)!, p.GetValue(version)!, p.GetValue(topology)!, p.GetValue(user), p.GetValue(identity), p.GetValue(password), options.Mutating(p, dryRun, force), options.Globals(p)), ct));
        return command;
    }

    public async Task<int> RunAsync(DeployArguments args, CancellationToken cancellationToken)
    {
        var credential = input.ReadCredential(args.Password, args.Identity);
        var request = new DeployRequest(args.Name, args.Version, input.Resolve(args.Topology), input.PreparingUser(args.User), credential);
        var plan = await topologies.DeployAsync(request, args.Globals.Reach(), cancellationToken);
        return await runner.RunAsync(plan, args.Mutating, args.Globals, $"Deploy cluster '{args.Name}'?", cancellationToken, credential);
    }
}
