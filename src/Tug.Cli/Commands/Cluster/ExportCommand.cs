// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Cluster;

namespace Tug.Cli.Commands.Cluster;

public sealed record ExportArguments(string Name, string Directory, string Format);

/// <summary><c>tug cluster export NAME DIR</c>: writes the cluster as a TiUP cluster directory, so it can go back to TiUP.</summary>
public sealed class ExportCommand(ClusterExporter exporter, Renderer output, ClusterInput input)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<ExportCommand>();
        var name = ClusterOptions.Name();
        var directory = new Argument<string>("DIR") { Description = "The directory to write (new or empty); copy it to $TIUP_HOME/storage/cluster/clusters/NAME on the TiUP control machine." };
        var command = new Command(CliConstants.ExportVerb,
            "Write the cluster as a TiUP cluster directory: meta.yaml as TiUP writes it (Tug's own section and comments left out), with Tug's version pins where TiUP keeps versions (component_versions.*, monitored.node_exporter_version, monitored.blackbox_exporter_version) so TiUP's next upgrade does not move the agents back; ssh/id_rsa and id_rsa.pub; tls/ when the cluster has one. Nothing changes on the hosts or here: Tug keeps managing the cluster too. `tug cluster import DIR` of an export gives the same topology, versions and pins (host keys are pinned again on first contact). The directory holds the cluster's private key: it is written 0700, the key 0600.")
        {
            name, directory,
        };
        command.SetAction(p => handler.Run(new ExportArguments(p.GetValue(name)!, p.GetValue(directory)!, p.GetValue(options.Format)!)));
        return command;
    }

    public int Run(ExportArguments args)
    {
        var result = exporter.Export(args.Name, input.Resolve(args.Directory));
        if (args.Format == "json")
        {
            output.Json(new { Cluster = args.Name, result.Directory, result.Files, result.Versions, result.Warnings });
            return ExitCodes.Success;
        }

        foreach (var warning in result.Warnings)
        {
            output.Warning(warning);
        }

        foreach (var (key, version) in result.Versions)
        {
            output.Line($"{key}: {version}");
        }

        output.Line($"Exported cluster {args.Name} to {result.Directory} ({string.Join(", ", result.Files)}); for TiUP: copy it to $TIUP_HOME/storage/cluster/clusters/{args.Name}");
        return ExitCodes.Success;
    }
}
