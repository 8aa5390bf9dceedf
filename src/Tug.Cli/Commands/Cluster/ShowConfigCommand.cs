// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Planning;
using Tug.Core.Topology;

namespace Tug.Cli.Commands.Cluster;

/// <summary>
/// <c>tug cluster show-config</c>: the cluster's topology as meta.yaml holds it (TiUP's shape, defaults filled, dirs
/// absolute; Tug's own <c>tug:</c> section left out), the text <c>edit-config</c> opens. Reads local files only.
/// </summary>
public sealed class ShowConfigCommand(ConfigPlanner planner, Renderer output)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<ShowConfigCommand>();
        var name = ClusterOptions.Name();
        var command = new Command(CliConstants.ShowConfigVerb,
            "Print the cluster's topology as stored on this control machine (YAML, or JSON with --format json): the part `edit-config` edits, with defaults filled and directories absolute. Contacts no host.")
        {
            name,
        };
        command.SetAction(p => handler.Run(p.GetValue(name)!, options.Globals(p)));
        return command;
    }

    public int Run(string name, ClusterGlobals globals)
    {
        var current = planner.Current(name);
        if (globals.Format == "json")
        {
            output.Json(new { Cluster = name, Topology = TopologyEdit.ToMap(current.Meta.Topology) });
        }
        else
        {
            output.Line(current.Yaml.TrimEnd('\n'));
        }

        return ExitCodes.Success;
    }
}
