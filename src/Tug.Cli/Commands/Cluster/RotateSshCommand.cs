// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Cluster;
using Tug.Core.Planning;

namespace Tug.Cli.Commands.Cluster;

/// <summary>
/// <c>tug cluster rotatessh</c>, as TiUP's: a new cluster key on every host and the old one removed, planned by
/// <see cref="RotateSshPlanner"/> so that the key this machine holds is, at every point, one every host accepts.
/// </summary>
public sealed class RotateSshCommand(RotateSshPlanner planner, PlanRunner runner, Renderer output, ClusterStore store)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<RotateSshCommand>();
        var name = ClusterOptions.Name();
        var dryRun = ClusterOptions.DryRun();
        var force = ClusterOptions.Force();
        var command = new Command(CliConstants.RotateSshVerb,
            "Rotate the cluster's SSH key: a new RSA 4096 key is made on this machine (ssh/id_rsa.new), added to the deploy user's authorized_keys on every host and proven there by a fresh login with it; only when every host passed does it become ssh/id_rsa (the old one kept as ssh/id_rsa.old), and then every line of the old key is removed from every host, logged in with the new key (other lines kept byte for byte), and ssh/id_rsa.old deleted. A host that fails before the switch stops it: the cluster keeps its old key, which every host still accepts. A host that fails after it keeps both keys; `tug cluster replay NAME` or rotatessh again finishes it. No instance is stopped or restarted.")
        {
            name, dryRun, force,
        };
        command.SetAction((p, ct) => handler.RunAsync(options.Select(p, name, null, null) with { Mutating = options.Mutating(p, dryRun, force) }, ct));
        return command;
    }

    public async Task<int> RunAsync(SelectArguments args, CancellationToken cancellationToken)
    {
        var plan = planner.RotateSsh(args.Name);
        var user = store.Load(args.Name).User;
        var exit = await runner.RunAsync(plan, args.Mutating, args.Globals,
            $"This operation will rotate the ssh keys of user '{user}' on every host of cluster '{args.Name}'. Do you want to continue?", cancellationToken);
        if (exit != ExitCodes.Success && !args.Mutating.DryRun && args.Globals.Format != "json")
        {
            var keys = ClusterKeys.Of(store, args.Name);
            if (File.Exists(keys.Pending))
            {
                output.Note($"rotatessh {args.Name}: nothing switched. This machine still logs in with the old key (ssh/id_rsa), and every host still accepts it. Once the hosts above are fixed, `tug cluster replay {args.Name}` goes on with the same new key (or run rotatessh again).");
            }
            else if (File.Exists(keys.Previous))
            {
                output.Note($"rotatessh {args.Name}: switched. This machine logs in with the new key (ssh/id_rsa), which every host accepts; the hosts above still accept the old key too (kept here as ssh/id_rsa.old). `tug cluster replay {args.Name}` (or rotatessh again) removes it from them.");
            }
        }

        return exit;
    }
}
