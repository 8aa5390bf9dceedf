// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using Tug.Core.Cluster;

namespace Tug.Cli.Commands.Cluster;

/// <summary>
/// <c>tug cluster list</c>: the clusters in the local store. It takes only the global flags (<see cref="ClusterGlobals"/>)
/// and reads local files only, so it runs synchronously, as before.
/// </summary>
public sealed class ListCommand(ClusterStore store, Renderer output)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<ListCommand>();
        var command = new Command(CliConstants.ListVerb, "List the clusters this control machine manages.");
        command.SetAction(p => handler.Run(options.Globals(p)));
        return command;
    }

    public int Run(ClusterGlobals args)
    {
        var clusters = store.List().Select(n => (Name: n, Meta: store.Load(n))).ToList();
        if (args.Format == "json")
        {
            output.Json(new { Clusters = clusters.Select(c => new { c.Name, User = c.Meta.User, Version = c.Meta.Version, Path = store.Directory(c.Name), PrivateKey = store.KeyFile(c.Name) }) });
            return ExitCodes.Success;
        }

        var table = new Table().AddColumns("Name", "User", "Version", "Path", "PrivateKey");
        foreach (var (name, meta) in clusters)
        {
            table.AddRow(Markup.Escape(name), Markup.Escape(meta.User), Markup.Escape(meta.Version), Markup.Escape(store.Directory(name)), Markup.Escape(store.KeyFile(name)));
        }

        output.Show(table);
        return ExitCodes.Success;
    }
}
