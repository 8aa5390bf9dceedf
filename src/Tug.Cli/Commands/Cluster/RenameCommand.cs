// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Cluster;
using Tug.Core.Planning;

namespace Tug.Cli.Commands.Cluster;

public sealed record RenameArguments(string Old, string New, MutatingArguments Mutating, ClusterGlobals Globals);

/// <summary>
/// <c>tug cluster rename OLD NEW</c>, as TiUP's: asks (unless -y), moves the cluster's directory to the new name, then
/// rewrites the files that carry the name on the hosts (TiUP reloads Grafana and Prometheus).
/// </summary>
public sealed class RenameCommand(RenamePlanner planner, PlanRunner runner, Renderer output)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<RenameCommand>();
        var old = new Argument<string>("OLD") { Description = "The cluster's name now." };
        var @new = new Argument<string>("NEW") { Description = "Its new name: a cluster name no cluster has (letters, digits, '-', '_', '.')." };
        var dryRun = ClusterOptions.DryRun();
        var force = ClusterOptions.Force();
        var command = new Command(CliConstants.RenameVerb,
            "Rename the cluster, as TiUP's `rename`: its directory on this control machine ($TUG_HOME/clusters/OLD: meta.yaml, the cluster's key, its journals) becomes clusters/NEW in one atomic rename, then every instance whose files carry the cluster's name gets them rewritten, gated (Prometheus' `cluster` label: Prometheus restarts and is checked healthy; etcd's cluster token is rewritten for its next start). OLD must exist, not be locked and have no interrupted operation; NEW must be free. A crash leaves the cluster under exactly one of the two names; `tug cluster replay NAME` (the name it has then) finishes the operation. Asks first unless -y.")
        {
            old, @new, dryRun, force,
        };
        command.SetAction((p, ct) => handler.RunAsync(new RenameArguments(p.GetValue(old)!, p.GetValue(@new)!, options.Mutating(p, dryRun, force), options.Globals(p)), ct));
        return command;
    }

    public async Task<int> RunAsync(RenameArguments args, CancellationToken cancellationToken)
    {
        ClusterStore.RefuseBadName(args.Old);
        ClusterStore.RefuseBadName(args.New);
        var exit = await runner.RunAsync(planner.Rename(args.Old, args.New), args.Mutating, args.Globals,
            $"Will rename the cluster name from {args.Old} to {args.New}. Do you confirm this action?", cancellationToken);
        if (exit == ExitCodes.Success && !args.Mutating.DryRun && args.Globals.Format != "json")
        {
            output.Note($"Rename cluster `{args.Old}` -> `{args.New}` successfully");
        }

        return exit;
    }
}
