// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Cluster;
using Tug.Core.Planning;

namespace Tug.Cli.Commands.Cluster;

public sealed record PatchArguments(SelectArguments Select, string? Package, string Batch, bool Rollback)
{
    /// <summary><c>--health-window</c> seconds.</summary>
    public int HealthWindow { get; init; }
}

/// <summary><c>tug cluster patch</c>: the patch planner's hot-fix (or <c>--rollback</c>) plan for the selected instances, run without asking.</summary>
public sealed class PatchCommand(PatchPlanner patches, ClusterInput input, PlanRunner runner)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<PatchCommand>();
        var name = ClusterOptions.Name();
        var package = new Argument<string?>("PACKAGE") { Description = "A tarball holding the component's executable (found by its name), or the executable itself.", Arity = ArgumentArity.ZeroOrOne };
        var roles = ClusterOptions.Roles();
        var nodes = ClusterOptions.Nodes();
        var batch = new Option<string>(CliConstants.BatchOption) { Description = "Instances per batch: a count or a percentage (25%).", DefaultValueFactory = _ => "1" };
        var rollback = new Option<bool>(CliConstants.RollbackOption) { Description = "Restore the build the selected instances ran before their patch." };
        var window = ClusterOptions.HealthWindow();
        var force = ClusterOptions.Force();
        var dryRun = ClusterOptions.DryRun();
        var command = new Command(CliConstants.PatchVerb, "Replace a component's executable with a hot-fix build, rolling, health-gated, verified and rolled back on failure; `--rollback` restores the previous build. Display marks patched instances.")
        {
            name, package, roles, nodes, batch, window, rollback, dryRun, force,
        };
        command.Options.Add(ClusterOptions.TransferTimeout());
        command.SetAction((p, ct) => handler.RunAsync(
            new PatchArguments(options.Select(p, name, roles, nodes) with { Mutating = options.Mutating(p, dryRun, force) }, p.GetValue(package), p.GetValue(batch)!, p.GetValue(rollback)) { HealthWindow = p.GetValue(window) }, ct));
        return command;
    }

    public async Task<int> RunAsync(PatchArguments args, CancellationToken cancellationToken)
    {
        var select = args.Select;
        if (select.Filter.Roles.IsEmpty && select.Filter.Nodes.IsEmpty)
        {
            throw new ClusterException(ClusterException.BadInput, "Select what to patch with -R ROLE or -N host:port.", "For example: `tug cluster patch NAME ./node_exporter -R node_exporter`.");
        }

        if (args.Rollback)
        {
            if (args.Package is not null)
            {
                throw new ClusterException(ClusterException.BadInput, "--rollback restores the build that ran before the patch; give no PACKAGE with it.");
            }

            return await runner.RunAsync(patches.Unpatch(select.Name, select.Filter), select.Mutating with { Yes = true }, select.Globals, string.Empty, cancellationToken);
        }

        if (args.Package is null)
        {
            throw new ClusterException(ClusterException.BadInput, "Give the PACKAGE to patch with: a tarball holding the executable, or the executable itself.", "Or pass --rollback to restore the build before the last patch.");
        }

        if (!File.Exists(input.Resolve(args.Package)))
        {
            throw ClusterException.PatchFileMissing(input.Resolve(args.Package));
        }

        var request = new PatchRequest(select.Name, input.Resolve(args.Package), select.Filter, args.Batch, args.HealthWindow);
        return await runner.RunAsync(patches.Patch(request), select.Mutating with { Yes = true }, select.Globals, string.Empty, cancellationToken);
    }
}
