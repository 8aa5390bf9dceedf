// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using Tug.Core.Cluster;

namespace Tug.Cli.Commands.Cluster;

public sealed record ImportArguments(string Source, string? Name, ClusterGlobals Globals);

/// <summary><c>tug cluster import SOURCE [--name NAME]</c>: adopts a cluster TiUP deployed, reading the hosts and changing nothing on them.</summary>
public sealed class ImportCommand(ClusterImporter importer, Renderer output, ClusterInput input, CommandLineArgs commandLine)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<ImportCommand>();
        var source = new Argument<string>("SOURCE") { Description = "TiUP's cluster directory ($TIUP_HOME/storage/cluster/clusters/NAME: meta.yaml, ssh/id_rsa, tls/ when TLS is on), or a tarball `tiup cluster meta backup` wrote." };
        var name = new Option<string?>(CliConstants.ImportNameOption) { Description = "The name the cluster gets here (default: TiUP's: the directory's name, or the one in TiUP's default backup file name). Needed when TiUP's name is not a Tug cluster name." };
        var command = new Command(CliConstants.ImportVerb,
            "Adopt a cluster that TiUP deployed, changing nothing on any host (no file, unit, key or process). Tug logs in to every host as the deploy user with the cluster's key (host keys pinned on first contact) and reads, per instance: the unit's state, the running process and its executable (/proc/PID/exe), the executable's sha256 and --version, and the files TiUP renders (unit, run script, configs) by hash, compared with what Tug renders for them (TiUP's run scripts and units byte for byte; Tug's default alertmanager.yml is shorter than TiUP's, so that file shows as differing). What runs becomes the baseline: each instance's version and build (known: the signed package of that version in the mirror holds that executable; unknown: none does, shown as such), a version pin for each role whose instances all run one version; a role with mixed versions is shown as mixed and stays unpinned until a command names a version. The cluster keeps TiUP's layout on the hosts (bin/node_exporter/node_exporter, ...): upgrade, patch, scale-out and reload install any package into TiUP's paths, so TiUP can manage it again (`tug cluster export`). Exits 1, writing nothing here, when something blocks management (a host unreachable, the key refused, an instance that cannot be read); exits 2 for a SOURCE that is missing or not TiUP's, a meta.yaml that does not load (file:line:col), or a name that is taken.")
        {
            source, name,
        };
        command.SetAction((p, ct) => handler.RunAsync(new ImportArguments(p.GetValue(source)!, p.GetValue(name), options.Globals(p)), ct));
        return command;
    }

    public async Task<int> RunAsync(ImportArguments args, CancellationToken cancellationToken)
    {
        var source = importer.ReadSource(input.Resolve(args.Source), args.Name);
        var json = args.Globals.Format == "json";
        if (!json)
        {
            output.Note($"Importing cluster {source.Name} ({source.Meta.Topology.Instances.Length} instance(s) on {source.Meta.Topology.ManageHosts.Length} host(s)) from {args.Source}, reading only...");
        }

        var report = await importer.ImportAsync(source, args.Globals.Reach(), AuditLog.CommandText(AuditLog.Redact(commandLine.Args, AuditLog.TugSwitches)), null, cancellationToken);
        if (json)
        {
            output.Json(new
            {
                report.Cluster, report.Source, report.Imported, report.Blocking, report.Pinned, report.Mixed,
                Instances = report.Instances.Select(i => new { i.Id, i.Role, i.Host, i.Status, i.Version, i.Build, i.Executable, i.Sha256, i.Notes }),
            });
        }
        else
        {
            var table = new Table().AddColumns("ID", "Role", "Host", "Status", "Version", "Build", "Executable", "Found");
            foreach (var i in report.Instances)
            {
                table.AddRow(Markup.Escape(i.Id), i.Role, Markup.Escape(i.Host), i.Status, Markup.Escape(i.Version ?? "-"), i.Build,
                    Markup.Escape(i.Executable.Length == 0 ? "-" : i.Executable), Markup.Escape(i.Notes.IsEmpty ? "files as Tug renders them" : string.Join("; ", i.Notes)));
            }

            output.Show(table);
            foreach (var (role, version) in report.Pinned)
            {
                output.Line($"pinned: {role} {version}");
            }

            foreach (var (role, versions) in report.Mixed)
            {
                output.Warning($"{role} runs mixed versions ({string.Join(", ", versions)}); it stays unpinned until a command names a version");
            }

            foreach (var unknown in report.Instances.Where(i => i.Build == "unknown"))
            {
                output.Warning($"{unknown.Id} ({unknown.Role}) runs a build no signed package matches (sha256 {(unknown.Sha256.Length > 12 ? unknown.Sha256[..12] : unknown.Sha256)}); it is recorded as an unknown build");
            }
        }

        if (!report.Imported)
        {
            foreach (var problem in report.Blocking)
            {
                output.Error(ClusterException.ImportBlocked, $"cannot manage the cluster: {problem}", null, null);
            }

            output.Error(ClusterException.ImportBlocked, $"cluster {report.Cluster} was not imported; nothing was written here and nothing changed on the hosts.", null,
                "Fix what is named (a host down, the key not in the deploy user's authorized_keys), then import again.");
            return ExitCodes.Failure;
        }

        if (!json)
        {
            output.Note($"Imported cluster `{report.Cluster}`: nothing changed on the hosts; see it with `tug cluster display {report.Cluster}`.");
        }

        return ExitCodes.Success;
    }
}
