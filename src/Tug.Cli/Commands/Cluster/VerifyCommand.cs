// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Inspection;

namespace Tug.Cli.Commands.Cluster;

/// <summary><c>tug cluster verify</c>: the inspector's proof of what runs on every selected instance.</summary>
public sealed class VerifyCommand(ClusterInspector inspector, Renderer output)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<VerifyCommand>();
        var name = ClusterOptions.Name();
        var roles = ClusterOptions.Roles();
        var nodes = ClusterOptions.Nodes();
        var command = new Command(CliConstants.VerifyVerb, "Prove what runs: for every instance the running executable, the deployed file and the signed package agree, no deleted executable runs, and units and configs are as Tug renders them. Exit 0 only when all agree.")
        {
            name, roles, nodes,
        };
        command.SetAction((p, ct) => handler.RunAsync(options.Select(p, name, roles, nodes), ct));
        return command;
    }

    public async Task<int> RunAsync(SelectArguments args, CancellationToken cancellationToken)
    {
        var results = await inspector.VerifyAsync(args.Name, args.Filter, args.Globals.Reach(), cancellationToken);
        if (args.Globals.Format == "json")
        {
            output.Json(new { Cluster = args.Name, Ok = results.All(r => r.Ok), Instances = results.Select(r => new { r.Id, r.Role, r.Host, r.Ok, r.Version, r.Problems }) });
        }
        else
        {
            foreach (var r in results)
            {
                output.Line($"{(r.Ok ? "ok  " : "FAIL")} {r.Id,-22} {r.Role,-18} {r.Version ?? "-"}{(r.Ok ? string.Empty : ": " + string.Join("; ", r.Problems))}");
            }

            output.Line(results.All(r => r.Ok) ? $"verified: all {results.Length} instance(s) agree" : $"NOT verified: {results.Count(r => !r.Ok)} of {results.Length} instance(s) disagree");
        }

        return results.All(r => r.Ok) ? ExitCodes.Success : ExitCodes.Failure;
    }
}
