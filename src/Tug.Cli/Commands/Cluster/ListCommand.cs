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
        var command = new Command(CliConstants.ListVerb,
            "List the clusters this control machine manages. A cluster whose meta.yaml cannot be read is listed as broken (with why, on stderr) beside the others, and the exit status is then 1.");
        command.SetAction(p => handler.Run(options.Globals(p)));
        return command;
    }

    public int Run(ClusterGlobals args)
    {
        var good = new List<(string Name, Tug.Core.Topology.ClusterMeta Meta)>();
        var broken = new List<(string Name, TugException Error)>();
        foreach (var name in store.List())
        {
            try
            {
                good.Add((name, store.Load(name)));
            }
            catch (TugException e)
            {
                // One broken meta.yaml must not hide every other cluster: list it as broken and go on.
                broken.Add((name, e));
            }
        }

        foreach (var (name, error) in broken)
        {
            output.Warning($"cluster '{name}' is broken: [{error.Code}] {error.Message}", error.Hint);
        }

        if (args.Format == "json")
        {
            output.Json(new
            {
                Clusters = good.Select(c => new { c.Name, User = c.Meta.User, Version = c.Meta.Version, Path = store.Directory(c.Name), PrivateKey = store.KeyFile(c.Name) }),
                Broken = broken.Select(b => new { b.Name, Path = store.MetaFile(b.Name), b.Error.Code, Error = b.Error.Message }),
            });
            return broken.Count == 0 ? ExitCodes.Success : ExitCodes.Failure;
        }

        var table = new Table().AddColumns("Name", "User", "Version", "Path", "PrivateKey");
        foreach (var (name, meta) in good)
        {
            table.AddRow(Markup.Escape(name), Markup.Escape(meta.User), Markup.Escape(meta.Version), Markup.Escape(store.Directory(name)), Markup.Escape(store.KeyFile(name)));
        }

        foreach (var (name, error) in broken)
        {
            table.AddRow(Markup.Escape(name), "-", Markup.Escape($"BROKEN ({error.Code})"), Markup.Escape(store.Directory(name)), Markup.Escape(store.KeyFile(name)));
        }

        output.Show(table);
        return broken.Count == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }
}
