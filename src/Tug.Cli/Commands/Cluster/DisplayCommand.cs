// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using Tug.Core.Inspection;

namespace Tug.Cli.Commands.Cluster;

/// <summary><c>tug cluster display</c>: every selected instance as its host reports it, from the inspector.</summary>
public sealed class DisplayCommand(ClusterInspector inspector, Renderer output)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<DisplayCommand>();
        var name = ClusterOptions.Name();
        var roles = ClusterOptions.Roles();
        var nodes = ClusterOptions.Nodes();
        var command = new Command(CliConstants.DisplayVerb, "Show every instance as its host reports it: status, version running, verified.") { name, roles, nodes };
        command.SetAction((p, ct) => handler.RunAsync(options.Select(p, name, roles, nodes), ct));
        return command;
    }

    public async Task<int> RunAsync(SelectArguments args, CancellationToken cancellationToken)
    {
        var (meta, instances) = await inspector.DisplayAsync(args.Name, args.Filter, args.Globals.Reach(), cancellationToken);
        var osArch = meta.Topology.Instances.ToDictionary(i => i.Id, i => $"{i.Os}/{i.Arch}");
        bool Patched(string id) => meta.Tug.Instances.GetValueOrDefault(id)?.Patched == true;
        if (args.Globals.Format == "json")
        {
            output.Json(new
            {
                ClusterMeta = new { ClusterType = "tidb", ClusterName = args.Name, ClusterVersion = meta.Version, DeployUser = meta.User, SshType = meta.Topology.Global.SshType, Versions = meta.Tug.Versions },
                Instances = instances.Select(i => new { i.Id, i.Role, i.Host, i.Ports, OsArch = osArch.GetValueOrDefault(i.Id), i.Status, i.Version, Patched = Patched(i.Id), i.Verified, i.DeployDir, i.DataDir, i.Detail }),
            });
        }
        else
        {
            output.Line($"Cluster type:    tidb");
            output.Line($"Cluster name:    {args.Name}");
            output.Line($"Cluster version: {meta.Version}");
            output.Line($"Deploy user:     {meta.User}");
            var table = new Table().AddColumns("ID", "Role", "Host", "Ports", "OS/Arch", "Status", "Version", "Verified", "Data Dir", "Deploy Dir");
            foreach (var i in instances)
            {
                table.AddRow(Markup.Escape(i.Id), i.Role, i.Host, i.Ports, osArch.GetValueOrDefault(i.Id) ?? "-", i.Status, (i.Version ?? "-") + (Patched(i.Id) ? " (patched)" : string.Empty), i.Verified ? "yes" : "NO",
                    Markup.Escape(i.DataDir.Length == 0 ? "-" : i.DataDir), Markup.Escape(i.DeployDir));
            }

            output.Show(table);
            foreach (var i in instances.Where(i => !i.Verified))
            {
                output.Warning($"{i.Id} ({i.Role}) is not verified: {i.Detail}");
            }

            output.Line($"Total nodes: {instances.Length}");
        }

        return instances.Any(i => i.Status is "Unreachable" or "Error") ? ExitCodes.Failure : ExitCodes.Success;
    }
}
