// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Cluster;
using Tug.Core.Topology;

namespace Tug.Cli.Commands.Cluster;

/// <summary><c>tug cluster template</c>'s arguments: which variant, and the values <c>--local</c> renders.</summary>
public sealed record TemplateArguments(bool Full, bool MultiDc, bool Local, LocalTemplateValues Values, ClusterGlobals Globals);

/// <summary>
/// <c>tug cluster template [--full | --multi-dc | --local ...]</c>, as TiUP's: prints a topology file to start from
/// (at most one of the three flags; <c>--local</c> renders TiUP's local template from <c>--user</c>, <c>--group</c>,
/// <c>--systemd_mode</c>, <c>--ssh-port</c>, <c>--deploy-dir</c>, <c>--data-dir</c>, <c>--arch</c> and the
/// <c>--*-servers</c> host lists). Every printed template loads and validates as deploy reads it. Contacts no host.
/// </summary>
public sealed class TemplateCommand(Renderer output)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<TemplateCommand>();
        var defaults = new LocalTemplateValues();
        var full = new Option<bool>(CliConstants.FullOption) { Description = "Print the full topology template: every section, optional fields at their defaults." };
        var multiDc = new Option<bool>(CliConstants.MultiDcOption) { Description = "Print the template for a cluster spread over several data centres (location labels)." };
        var local = new Option<bool>(CliConstants.LocalOption) { Description = "Print the template rendered from the values below, for a simple cluster (by default all on 127.0.0.1)." };
        var user = Text(CliConstants.UserOption, "With --local: the OS user who runs the cluster.", defaults.User);
        var group = Text(CliConstants.GroupOption, "With --local: the user's group, when it is not the user's own.", defaults.Group);
        var systemdMode = Text(CliConstants.SystemdModeOption, "With --local: system (units managed with sudo) or user.", defaults.SystemdMode);
        var sshPort = ClusterOptions.Ranged(new Option<int>(CliConstants.SshPortOption) { Description = "With --local: the SSH port of the hosts.", DefaultValueFactory = _ => defaults.SshPort }, 1, 65535);
        var deployDir = Text(CliConstants.DeployDirOption, "With --local: where deployment files, run scripts and configuration go.", defaults.DeployDir);
        var dataDir = Text(CliConstants.DataDirOption, "With --local: where data goes.", defaults.DataDir);
        var arch = Text(CliConstants.ArchOption, "With --local: amd64 or arm64.", defaults.Arch);
        var pd = Hosts(CliConstants.PdServersOption, "PD", defaults.PdServers);
        var tidb = Hosts(CliConstants.TidbServersOption, "TiDB", defaults.TidbServers);
        var tikv = Hosts(CliConstants.TikvServersOption, "TiKV", defaults.TikvServers);
        var tiflash = Hosts(CliConstants.TiflashServersOption, "TiFlash", defaults.TiflashServers);
        var monitoring = Hosts(CliConstants.MonitoringServersOption, "Prometheus", defaults.MonitoringServers);
        var grafana = Hosts(CliConstants.GrafanaServersOption, "Grafana", defaults.GrafanaServers);
        var alertmanager = Hosts(CliConstants.AlertmanagerServersOption, "Alertmanager", defaults.AlertmanagerServers);
        var command = new Command(CliConstants.TemplateVerb,
            "Print a topology template to start a topology file from (`tug cluster template > topology.yaml`): a small cluster by default, or --full, --multi-dc, or --local rendered from the given hosts and settings. Every template printed loads and validates as deploy reads it. Contacts no host.")
        {
            full, multiDc, local, user, group, systemdMode, sshPort, deployDir, dataDir, arch, pd, tidb, tikv, tiflash, monitoring, grafana, alertmanager,
        };
        command.SetAction(p => handler.Run(new TemplateArguments(p.GetValue(full), p.GetValue(multiDc), p.GetValue(local), new LocalTemplateValues
        {
            User = p.GetValue(user)!,
            Group = p.GetValue(group)!,
            SystemdMode = p.GetValue(systemdMode)!,
            SshPort = p.GetValue(sshPort),
            DeployDir = p.GetValue(deployDir)!,
            DataDir = p.GetValue(dataDir)!,
            Arch = p.GetValue(arch)!,
            PdServers = Split(p.GetValue(pd)),
            TidbServers = Split(p.GetValue(tidb)),
            TikvServers = Split(p.GetValue(tikv)),
            TiflashServers = Split(p.GetValue(tiflash)),
            MonitoringServers = Split(p.GetValue(monitoring)),
            GrafanaServers = Split(p.GetValue(grafana)),
            AlertmanagerServers = Split(p.GetValue(alertmanager)),
        }, options.Globals(p))));
        return command;
    }

    public int Run(TemplateArguments args)
    {
        if (new[] { args.Full, args.MultiDc, args.Local }.Count(b => b) > 1)
        {
            throw new ClusterException(ClusterException.BadInput, "At most one of --full, --multi-dc or --local can be given.", "Pick one template (none: the small one).");
        }

        var (variant, text) = args switch
        {
            { Full: true } => (TemplateVariant.Full, TopologyTemplates.Text(TemplateVariant.Full)),
            { MultiDc: true } => (TemplateVariant.MultiDc, TopologyTemplates.Text(TemplateVariant.MultiDc)),
            { Local: true } => (TemplateVariant.Local, TopologyTemplates.Local(args.Values)),
            _ => (TemplateVariant.Minimal, TopologyTemplates.Text(TemplateVariant.Minimal)),
        };
        if (args.Globals.Format == "json")
        {
            output.Json(new { Template = Name(variant), Yaml = text });
        }
        else
        {
            output.Line(text.TrimEnd('\n'));
        }

        return ExitCodes.Success;
    }

    private static string Name(TemplateVariant variant) => variant switch
    {
        TemplateVariant.Full => "full",
        TemplateVariant.MultiDc => "multi-dc",
        TemplateVariant.Local => "local",
        _ => "minimal",
    };

    private static Option<string> Text(string name, string description, string @default) =>
        new(name) { Description = description, DefaultValueFactory = _ => @default };

    private static Option<string[]> Hosts(string name, string what, ImmutableArray<string> @default) => new(name)
    {
        Description = $"With --local: the hosts of the {what} instances, comma-separated or repeated (\"\": none).",
        DefaultValueFactory = _ => [.. @default],
        AllowMultipleArgumentsPerToken = true,
    };

    private static ImmutableArray<string> Split(string[]? values) =>
        [.. (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];
}
