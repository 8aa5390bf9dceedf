// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Inspection;

namespace Tug.Cli.Commands.Cluster;

public sealed record ExecArguments(SelectArguments Select, string Command, bool Sudo);

/// <summary><c>tug cluster exec</c>: the inspector runs a command once on every selected host; output grouped by host.</summary>
public sealed class ExecCommand(ClusterInspector inspector, Renderer output, CommandLineArgs commandLine)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<ExecCommand>();
        var name = ClusterOptions.Name();
        var shell = new Option<string>(CliConstants.CommandOption) { Description = "Shell command to run on each host.", DefaultValueFactory = _ => "ls" };
        var sudo = new Option<bool>(CliConstants.SudoOption) { Description = "Run it as root." };
        var roles = ClusterOptions.Roles();
        var nodes = ClusterOptions.Nodes();
        var command = new Command(CliConstants.ExecVerb, "Run a command once on every selected host; output grouped by host; non-zero exit if any host failed.") { name, shell, sudo, roles, nodes };
        command.SetAction((p, ct) => handler.RunAsync(new ExecArguments(options.Select(p, name, roles, nodes), p.GetValue(shell)!, p.GetValue(sudo)), ct));
        return command;
    }

    public async Task<int> RunAsync(ExecArguments args, CancellationToken cancellationToken)
    {
        var results = await inspector.ExecAsync(args.Select.Name, args.Command, args.Sudo, args.Select.Filter, args.Select.Globals.Reach(), commandLine.Args, cancellationToken);
        if (args.Select.Globals.Format == "json")
        {
            output.Json(results.Select(r => new { r.Host, r.ExitCode, r.Stdout, r.Stderr, r.Error }));
        }
        else
        {
            foreach (var r in results)
            {
                output.Line(r.Error is null ? $"Outputs of {args.Command} on {r.Host} (exit {r.ExitCode}):" : $"{r.Host}: FAILED: {r.Error}");
                if (r.Stdout.Length > 0)
                {
                    output.Line("stdout:");
                    output.Line(Indent(r.Stdout));
                }

                if (r.Stderr.Length > 0)
                {
                    output.Line("stderr:");
                    output.Line(Indent(r.Stderr));
                }
            }
        }

        var failed = results.Count(r => r.ExitCode != 0);
        if (failed > 0)
        {
            output.Warning($"{failed} of {results.Length} host(s) failed: {string.Join(", ", results.Where(r => r.ExitCode != 0).Select(r => r.Host))}");
        }

        return failed == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }

    private static string Indent(string text) => string.Join('\n', text.TrimEnd('\n').Split('\n').Select(l => "  " + l));
}
