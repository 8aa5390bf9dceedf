// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Cluster;
using Tug.Core.Planning;
using Tug.Core.Topology;

namespace Tug.Cli.Commands.Cluster;

/// <summary><c>tug cluster edit-config</c>'s arguments: the cluster, the replacing file (none: open <c>$EDITOR</c>), and -y/--dry-run/--force.</summary>
public sealed record EditConfigArguments(string Name, string? TopologyFile, MutatingArguments Mutating, ClusterGlobals Globals);

/// <summary>
/// <c>tug cluster edit-config</c>, as TiUP's: the topology goes to a private temporary file opened in <c>$EDITOR</c>
/// (default <c>vi</c>), or <c>--topology-file</c> replaces it; the text is read back strictly and validated as deploy
/// reads a topology, a change to a field TiUP does not let edit-config change is refused (nothing saved), the diff is
/// shown and, once confirmed, meta.yaml is saved through the executor (lock, journal, audit) with Tug's own section
/// kept. No host is touched; <c>tug cluster reload</c> brings the change to the instances.
/// </summary>
public sealed class EditConfigCommand(ConfigPlanner planner, PlanRunner runner, Renderer output, IOContext io, IEnvironment environment, ClusterInput input)
{
    private const string DefaultEditor = "vi";

    private static readonly JsonSerializerOptions DiffJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<EditConfigCommand>();
        var name = ClusterOptions.Name();
        var file = new Option<string?>(CliConstants.TopologyFileOption)
        {
            Description = "Use this topology file instead of editing the current one in $EDITOR (it replaces the topology as a whole; only the fields edit-config may change can differ).",
        };
        var dryRun = ClusterOptions.DryRun();
        dryRun.Description = "Show the diff and the plan, and save nothing.";
        var force = ClusterOptions.Force();
        var command = new Command(CliConstants.EditConfigVerb,
            "Edit the cluster's topology in $EDITOR (default vi), or replace it with --topology-file. The result is read strictly and validated as deploy reads a topology; only the fields TiUP lets edit-config change may differ (config, server_configs, resource_control, numa_node, ssh_port, the monitoring settings...; not hosts, ports, directories, users, versions or the instances themselves). The diff is shown, confirmed unless -y, and meta.yaml is saved with Tug's own state kept. No host is touched: run `tug cluster reload` to apply the change.")
        {
            name, file, dryRun, force,
        };
        command.SetAction((p, ct) => handler.RunAsync(new EditConfigArguments(p.GetValue(name)!, p.GetValue(file), options.Mutating(p, dryRun, force), options.Globals(p)), ct));
        return command;
    }

    public async Task<int> RunAsync(EditConfigArguments args, CancellationToken cancellationToken)
    {
        var current = planner.Current(args.Name);
        if (args.TopologyFile is { } given)
        {
            var edit = ConfigPlanner.EditConfig(current, TopologyEdit.Read(input.Resolve(given)), given);
            return await SaveAsync(edit, args, cancellationToken);
        }

        var directory = Path.Combine(Path.GetTempPath(), $"tug-edit-config-{Guid.NewGuid():N}");
        var path = Path.Combine(directory, $"{args.Name}.yaml");
        PrivateFiles.CreateDirectory(directory);
        var keep = false;
        try
        {
            PrivateFiles.WriteAllBytes(path, Encoding.UTF8.GetBytes(current.Yaml));
            while (true)
            {
                await EditAsync(path, cancellationToken);
                try
                {
                    var edit = ConfigPlanner.EditConfig(current, TopologyEdit.Read(path), path);
                    return await SaveAsync(edit, args, cancellationToken);
                }
                catch (TopologyException e)
                {
                    keep = true;
                    if (args.Mutating.Yes)
                    {
                        output.Note($"nothing was saved; the edited topology is kept in {path}");
                        throw;
                    }

                    output.Error(e);
                    if (!io.Ask("The edited topology cannot be saved. Edit it again?", hintYes: false))
                    {
                        output.Note($"nothing was saved; the edited topology is kept in {path}");
                        return e.ExitCode;
                    }
                }
            }
        }
        finally
        {
            if (!keep || !File.Exists(path))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    private async Task<int> SaveAsync(ConfigEdit edit, EditConfigArguments args, CancellationToken cancellationToken)
    {
        var json = args.Globals.Format == "json";
        if (edit.Plan is not { } plan)
        {
            if (json)
            {
                output.Json(new { Cluster = args.Name, Changed = false });
            }
            else
            {
                output.Line($"edit-config {args.Name}: nothing changed");
            }

            return ExitCodes.Success;
        }

        if (json)
        {
            // stdout keeps one JSON document (the plan, or the report); the diff goes with the progress lines.
            output.Note(JsonSerializer.Serialize(new Dictionary<string, string> { ["event"] = "diff", ["diff"] = edit.Diff }, DiffJson));
        }
        else
        {
            output.Line(edit.Diff.TrimEnd('\n'));
        }

        var exit = await runner.RunAsync(plan, args.Mutating, args.Globals, $"Save this change to the topology of cluster '{args.Name}'?", cancellationToken);
        if (exit == ExitCodes.Success && !args.Mutating.DryRun && !json)
        {
            output.Note($"saved; apply it to the instances with `tug cluster reload {args.Name} [-R role] [-N host:port]`");
        }

        return exit;
    }

    /// <summary>Opens the file in <c>$EDITOR</c> (a command line run by <c>/bin/sh</c>, so <c>EDITOR="code --wait"</c> works), waiting for it.</summary>
    /// <exception cref="ClusterException">The editor cannot be started, or exits with a failure (nothing is saved).</exception>
    private async Task EditAsync(string path, CancellationToken cancellationToken)
    {
        var editor = environment.GetVariable("EDITOR") is { Length: > 0 } set ? set : DefaultEditor;
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(editor + " \"$1\"");
        start.ArgumentList.Add("tug-edit-config");
        start.ArgumentList.Add(path);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new ClusterException(ClusterException.BadInput, $"The editor `{editor}` cannot be started: {e.Message}; nothing was saved.",
                "Set EDITOR to an editor installed here, or give the new topology with --topology-file.", e);
        }

        using (process)
        {
            await process.WaitForExitAsync(cancellationToken);
            if (process.ExitCode != 0)
            {
                throw new ClusterException(ClusterException.BadInput, $"The editor `{editor}` exited with status {process.ExitCode}; nothing was saved.",
                    "Set EDITOR to an editor installed here, or give the new topology with --topology-file.");
            }
        }
    }
}
