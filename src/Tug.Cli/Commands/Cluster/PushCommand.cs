// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Inspection;

namespace Tug.Cli.Commands.Cluster;

/// <summary>What <c>push</c> and <c>pull</c> take: the selected hosts, the file to copy and where to.</summary>
public sealed record TransferArguments(SelectArguments Select, string Source, string Destination);

/// <summary><c>tug cluster push</c>: the inspector copies a local file to every selected host.</summary>
public sealed class PushCommand(ClusterInspector inspector, ClusterInput input, PlanRunner runner, CommandLineArgs commandLine)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<PushCommand>();
        var name = ClusterOptions.Name();
        var source = new Argument<string>("SRC") { Description = "Local file." };
        var destination = new Argument<string>("DST") { Description = "Remote path." };
        var roles = ClusterOptions.Roles();
        var nodes = ClusterOptions.Nodes();
        var command = new Command(CliConstants.PushVerb, "Copy a local file to a path on every selected host (sha256 checked there).") { name, source, destination, roles, nodes };
        command.SetAction((p, ct) => handler.RunAsync(new TransferArguments(options.Select(p, name, roles, nodes), p.GetValue(source)!, p.GetValue(destination)!), ct));
        return command;
    }

    public async Task<int> RunAsync(TransferArguments args, CancellationToken cancellationToken) =>
        runner.Report(await inspector.PushAsync(args.Select.Name, input.Resolve(args.Source), args.Destination, args.Select.Filter, args.Select.Globals.Reach(), commandLine.Args, cancellationToken), args.Select.Globals.Format);
}
