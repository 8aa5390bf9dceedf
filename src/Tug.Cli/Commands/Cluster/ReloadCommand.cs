// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Cli.Rendering;
using Tug.Core.Planning;

namespace Tug.Cli.Commands.Cluster;

/// <summary><c>tug cluster reload</c>: the reload planner's plan (only instances whose files differ on their hosts), run.</summary>
public sealed class ReloadCommand(ReloadPlanner planner, PlanRunner runner, Renderer output)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<ReloadCommand>();
        var name = ClusterOptions.Name();
        var roles = ClusterOptions.Roles();
        var nodes = ClusterOptions.Nodes();
        var skipRestart = new Option<bool>(CliConstants.SkipRestartOption) { Description = "Only write the files that differ; restart nothing (the processes read them at their next start)." };
        var window = ClusterOptions.HealthWindow();
        var dryRun = new Option<bool>(CliConstants.DryRunOption) { Description = "Print the plan (which instances restart, which files differ) and each differing file's unified diff, host's file to rendered; change nothing. With --format json, the plan as JSON, each file's diff in it." };
        var force = ClusterOptions.Force();
        var command = new Command(CliConstants.ReloadVerb,
            "Render every selected instance's files (configs, run script, systemd unit) from the cluster's metadata, compare them with the files on each host (read now, not from a cache), "
            + "write the ones that differ and restart only the instances whose files changed, one at a time in role order, each gated on health and verification; "
            + "an instance that fails its gate gets its previous files back, is restarted and proven healthy (rolled back), and the reload stops there (exit 1). "
            + "Instances whose files are already as rendered are not touched.")
        {
            name, roles, nodes, skipRestart, window, dryRun, force,
        };
        command.Options.Add(ClusterOptions.TransferTimeout());
        command.SetAction((p, ct) => handler.RunAsync(options.Select(p, name, roles, nodes) with { Mutating = options.Mutating(p, dryRun, force) }, p.GetValue(skipRestart), p.GetValue(window), ct));
        return command;
    }

    public async Task<int> RunAsync(SelectArguments args, bool skipRestart, int healthWindow, CancellationToken cancellationToken)
    {
        var plan = await planner.PlanAsync(new ReloadRequest(args.Name, args.Filter, skipRestart, healthWindow), args.Globals.Reach(), cancellationToken);
        if (args.Mutating.DryRun && args.Globals.Format != "json")
        {
            foreach (var line in PlanRenderer.Text(plan))
            {
                output.Line(line);
            }

            foreach (var line in Diffs(plan))
            {
                output.Line(line);
            }

            output.Line("dry run: nothing was changed");
            return ExitCodes.Success;
        }

        var restarts = plan.Steps.Count(s => s.Inputs is ReloadInputs { Restart: true });
        var exit = await runner.RunAsync(plan, args.Mutating, args.Globals,
            skipRestart ? $"Write the changed files of {plan.Steps.Length} instance(s) of {args.Name}, restarting none?" : $"Reload {args.Name}: write the changed files and restart {restarts} instance(s)?",
            cancellationToken);
        if (!args.Mutating.DryRun && args.Globals.Format != "json" && !plan.IsEmpty && !plan.Notes.IsEmpty)
        {
            output.Line($"not restarted, files as on the host: {string.Join(", ", plan.Notes.Select(n => n.Split(' ') is [var role, var id, ..] ? $"{role} {id.TrimEnd(':')}" : n))}");
        }

        return exit;
    }

    /// <summary>Per step, the unified diff of each file that differs (host's file to rendered).</summary>
    public static IEnumerable<string> Diffs(Plan plan)
    {
        foreach (var step in plan.Steps)
        {
            if (step.Inputs is not ReloadInputs inputs)
            {
                continue;
            }

            yield return string.Empty;
            yield return inputs.Files.All(f => f.Diff.Length == 0)
                ? $"{step.Role} {inputs.Instance} on {step.Host}: its files are as rendered but {string.Join(", ", inputs.Files.Select(f => f.Path))} were written after its process started; will restart to read them"
                : $"{step.Role} {inputs.Instance} on {step.Host}: {inputs.Files.Count(f => f.Diff.Length > 0)} file(s) differ{(inputs.Restart ? ", will restart" : ", not restarted (--skip-restart)")}";
            foreach (var file in inputs.Files)
            {
                foreach (var line in file.Diff.TrimEnd('\n').Split('\n'))
                {
                    yield return line;
                }
            }
        }
    }
}
