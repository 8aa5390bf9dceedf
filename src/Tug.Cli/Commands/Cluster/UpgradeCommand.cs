// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Cluster;
using Tug.Core.Planning;

namespace Tug.Cli.Commands.Cluster;

public sealed record UpgradeArguments(string Name, string? Version, string[] Components, string? NodeExporterVersion, string? BlackboxExporterVersion, string Batch, MutatingArguments Mutating, ClusterGlobals Globals)
{
    /// <summary><c>--health-window</c> seconds.</summary>
    public int HealthWindow { get; init; }
}

/// <summary><c>tug cluster upgrade</c>: the upgrade planner's rolling plan, run.</summary>
public sealed class UpgradeCommand(UpgradePlanner upgrades, PlanRunner runner)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<UpgradeCommand>();
        var name = ClusterOptions.Name();
        var version = new Argument<string?>("VERSION") { Description = "New cluster version for the components that follow the cluster (optional).", Arity = ArgumentArity.ZeroOrOne };
        var component = new Option<string[]>(CliConstants.ComponentOption) { Description = "Upgrade one component: COMP=VERSION (repeatable), e.g. node_exporter=v1.9.0.", AllowMultipleArgumentsPerToken = true };
        var nodeExporter = new Option<string?>(CliConstants.NodeExporterVersionOption) { Description = "Same as --component node_exporter=VERSION." };
        var blackbox = new Option<string?>(CliConstants.BlackboxExporterVersionOption) { Description = "Same as --component blackbox_exporter=VERSION." };
        var batch = new Option<string>(CliConstants.BatchOption) { Description = "Instances per batch of a role: a count or a percentage (25%).", DefaultValueFactory = _ => "1" };
        var window = ClusterOptions.HealthWindow();
        var dryRun = ClusterOptions.DryRun();
        var force = ClusterOptions.Force();
        var command = new Command(CliConstants.UpgradeVerb, "Upgrade rolling and verified: stage new packages on every host first, switch instance by instance, health-gate each, roll back an instance that fails and stop there.")
        {
            name, version, component, nodeExporter, blackbox, batch, window, dryRun, force,
        };
        command.Options.Add(ClusterOptions.TransferTimeout());
        command.SetAction((p, ct) => handler.RunAsync(
            new UpgradeArguments(p.GetValue(name)!, p.GetValue(version), p.GetValue(component) ?? [], p.GetValue(nodeExporter), p.GetValue(blackbox), p.GetValue(batch)!, options.Mutating(p, dryRun, force), options.Globals(p)) { HealthWindow = p.GetValue(window) }, ct));
        return command;
    }

    public async Task<int> RunAsync(UpgradeArguments args, CancellationToken cancellationToken)
    {
        var components = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var pair in args.Components.SelectMany(c => c.Split(',', StringSplitOptions.RemoveEmptyEntries)))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == pair.Length - 1)
            {
                throw new ClusterException(ClusterException.BadInput, $"--component '{pair}' is not COMP=VERSION.", "For example: --component node_exporter=v1.9.0.");
            }

            components[pair[..eq]] = pair[(eq + 1)..];
        }

        if (args.NodeExporterVersion is not null)
        {
            components["node_exporter"] = args.NodeExporterVersion;
        }

        if (args.BlackboxExporterVersion is not null)
        {
            components["blackbox_exporter"] = args.BlackboxExporterVersion;
        }

        var request = new UpgradeRequest(args.Name, args.Version, components.ToImmutable(), args.Batch, args.HealthWindow);
        var plan = await upgrades.PlanAsync(request, cancellationToken);
        return await runner.RunAsync(plan, args.Mutating, args.Globals, $"Upgrade {plan.Steps.Count(s => s.Key.Kind == StepKind.Switch)} instance(s) of {args.Name}?", cancellationToken);
    }
}
