// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Planning;

namespace Tug.Cli.Commands.Cluster;

/// <summary>What <c>tug cluster clean</c> was given.</summary>
public sealed record CleanArguments(SelectArguments Select, CleanRequest Request);

/// <summary>
/// <c>tug cluster clean</c>: the lifecycle planner's clean plan (stop everything, proven; then per host delete the
/// asked contents as the deploy user, proven gone; the cluster stays stopped), run after a confirmation naming every
/// path deleted (unless <c>-y</c>).
/// </summary>
public sealed class CleanCommand(LifecyclePlanner planner, PlanRunner runner)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<CleanCommand>();
        var name = ClusterOptions.Name();
        var data = new Option<bool>(CliConstants.DataOption) { Description = "Cleanup data: everything inside each data directory." };
        var log = new Option<bool>(CliConstants.LogOption) { Description = "Cleanup log: the *.log files in each log directory (tidb's audit log stays)." };
        var all = new Option<bool>(CliConstants.AllOption) { Description = "Cleanup both log and data (not include audit log)." };
        var audit = new Option<bool>(CliConstants.AuditLogOption) { Description = "Cleanup TiDB-server audit log (tidb-audit*.log)." };
        var ignoreNode = new Option<string[]>(CliConstants.IgnoreNodeOption) { Description = "Specify the nodes (host:port) or hosts whose data and logs will be retained (repeat for several)." };
        var ignoreRole = new Option<string[]>(CliConstants.IgnoreRoleOption) { Description = "Specify the roles whose data and logs will be retained (repeat for several)." };
        var dryRun = ClusterOptions.DryRun();
        var force = ClusterOptions.Force();
        var command = new Command(CliConstants.CleanVerb,
            "Cleanup a cluster without destroying it: stop every instance (checked), then delete the contents of the data and/or log directories (the directories stay; checked empty), as the deploy user. The cluster stays stopped. Give at least one of --data, --log, --all, --audit-log.")
        {
            name, data, log, all, audit, ignoreNode, ignoreRole, dryRun, force,
        };
        command.SetAction((p, ct) =>
        {
            var select = options.Select(p, name, null, null) with { Mutating = options.Mutating(p, dryRun, force) };
            var request = new CleanRequest(select.Name, p.GetValue(data) || p.GetValue(all), p.GetValue(log) || p.GetValue(all), p.GetValue(audit),
                [.. p.GetValue(ignoreNode) ?? []], [.. p.GetValue(ignoreRole) ?? []]);
            return handler.RunAsync(new CleanArguments(select, request), ct);
        });
        return command;
    }

    public Task<int> RunAsync(CleanArguments args, CancellationToken cancellationToken)
    {
        var plan = planner.Clean(args.Request);
        return runner.RunAsync(plan, args.Select.Mutating, args.Select.Globals, Question(plan, args.Request), cancellationToken);
    }

    /// <summary>TiUP's confirmation: the cluster is stopped, these files on these hosts are deleted, these nodes and roles are ignored.</summary>
    private static string Question(Plan plan, CleanRequest request)
    {
        var what = string.Join(" and ", new[] { request.Data ? "data" : null, request.Log ? "log" : null, request.AuditLog ? "audit-log" : null }.OfType<string>());
        var files = plan.Steps.Where(s => s.Inputs is CleanInputs).Select(s => $"\n  {s.Host}: {string.Join(" ", ((CleanInputs)s.Inputs).Targets.Select(t => $"{t.Dir}/{t.Pattern}"))}");
        return $"The clean operation will STOP cluster '{plan.Cluster}' and delete its {what}.\nNodes ignored: [{string.Join(" ", request.IgnoreNodes)}]\nRoles ignored: [{string.Join(" ", request.IgnoreRoles)}]\nFiles to be deleted:{string.Concat(files)}\nDo you want to continue?";
    }
}
