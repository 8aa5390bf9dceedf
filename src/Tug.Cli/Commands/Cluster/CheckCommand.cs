// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Cli.Rendering;
using Tug.Core.Cluster;
using Tug.Core.Inspection;

namespace Tug.Cli.Commands.Cluster;

public sealed record CheckArguments(string Target, string? ScaleOut, bool Cluster, bool Apply, bool Revert, string? User, string? Identity, bool Password, SelectArguments Select);

/// <summary><c>tug cluster check</c>: the preflight checks read on every host, judged, optionally fixed (<c>--apply</c>) or unfixed (<c>--revert</c>).</summary>
public sealed class CheckCommand(Preflight preflight, ClusterInput input, Renderer output)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<CheckCommand>();
        var target = new Argument<string>("TOPOLOGY|NAME") { Description = "A topology file to check before a deploy, or with --cluster a deployed cluster's name." };
        var scaleOut = new Argument<string?>("SCALE_OUT_TOPOLOGY") { Description = "With --cluster: a scale-out topology; only its new instances are checked.", Arity = ArgumentArity.ZeroOrOne };
        var cluster = new Option<bool>(CliConstants.ClusterOption) { Description = "The first argument is a deployed cluster's name: its hosts are reached as its deploy user, and its own instances' ports and directories are no conflict." };
        var apply = new Option<bool>(CliConstants.ApplyOption) { Description = "Fix what this host lets Tug fix, persistently (files in /etc/sysctl.d and /etc/security/limits.d, a unit for THP), recording on each host what each fix replaced (/etc/tug/check-applied); then check again." };
        var revert = new Option<bool>(CliConstants.RevertOption) { Description = "Undo exactly what --apply recorded on each host; then check again." };
        var user = ClusterOptions.User("Login for hosts that no deployed cluster reaches: root or a user with passwordless sudo (default: current user).");
        var identity = ClusterOptions.Identity();
        var password = ClusterOptions.Password("Log in with a password read from the first line of standard input.");
        var roles = ClusterOptions.Roles();
        var nodes = ClusterOptions.Nodes();
        var command = new Command(CliConstants.CheckVerb, "Preflight checks on every host (TiUP's check): ports in use (the monitoring agents' too, naming the process and PID), directories in use or of another cluster, disk space, kernel parameters, the deploy user's limits, THP, swap, time sync, firewall and OS. A table, or JSON with --format json; exit 1 when a check fails. Settings a host cannot change (kernel-wide ones in a container) are reported as such, never as fixed.")
        {
            target, scaleOut, cluster, apply, revert, user, identity, password, roles, nodes,
        };
        command.SetAction((p, ct) => handler.RunAsync(
            new CheckArguments(p.GetValue(target)!, p.GetValue(scaleOut), p.GetValue(cluster), p.GetValue(apply), p.GetValue(revert), p.GetValue(user), p.GetValue(identity), p.GetValue(password),
                new SelectArguments(p.GetValue(target)!, p.GetValue(roles) ?? [], p.GetValue(nodes) ?? [], options.Globals(p))), ct));
        return command;
    }

    public async Task<int> RunAsync(CheckArguments args, CancellationToken cancellationToken)
    {
        if (args.Apply && args.Revert)
        {
            throw new ClusterException(ClusterException.BadInput, "--apply and --revert undo each other; give one of them.", "`--apply` fixes, `--revert` undoes what `--apply` recorded.");
        }

        var credential = input.ReadCredential(args.Password, args.Identity);
        var mode = args.Apply ? CheckMode.Apply : args.Revert ? CheckMode.Revert : CheckMode.Check;
        var target = args.Cluster ? args.Target : input.Resolve(args.Target);
        var request = new CheckRequest(target, args.ScaleOut is null ? null : input.Resolve(args.ScaleOut), args.Cluster, input.PreparingUser(args.User), credential, args.Select.Filter, mode);
        var report = await preflight.CheckAsync(request, args.Select.Globals.Reach(), cancellationToken);
        if (args.Select.Globals.Format == "json")
        {
            output.Json(CheckRenderer.Json(report));
        }
        else
        {
            output.Show(CheckRenderer.Table(report));
            foreach (var line in CheckRenderer.Summary(report))
            {
                output.Line(line);
            }
        }

        return report.Failed ? ExitCodes.Failure : ExitCodes.Success;
    }
}
