// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Inspection;

namespace Tug.Cli.Commands.Cluster;

/// <summary><c>tug cluster pull</c>: the inspector copies a file from every selected host to <c>DST/&lt;host&gt;/</c>.</summary>
public sealed class PullCommand(ClusterInspector inspector, ClusterInput input, PlanRunner runner, CommandLineArgs commandLine)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<PullCommand>();
        var name = ClusterOptions.Name();
        var source = new Argument<string>("SRC") { Description = "Remote file." };
        var destination = new Argument<string>("DST") { Description = "Local directory." };
        var roles = ClusterOptions.Roles();
        var nodes = ClusterOptions.Nodes();
        var command = new Command(CliConstants.PullVerb, "Copy a file from every selected host to DST/<host>/<file name>.") { name, source, destination, roles, nodes };
        command.SetAction((p, ct) => handler.RunAsync(new TransferArguments(options.Select(p, name, roles, nodes), p.GetValue(source)!, p.GetValue(destination)!), ct));
        return command;
    }

    public async Task<int> RunAsync(TransferArguments args, CancellationToken cancellationToken) =>
        runner.Report(await inspector.PullAsync(args.Select.Name, args.Source, input.Resolve(args.Destination), args.Select.Filter, args.Select.Globals.Reach(), commandLine.Args, cancellationToken), args.Select.Globals.Format);
}
