// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using Tug.Core.Cluster;
using Tug.Core.Inspection;
using Tug.Core.Remote;

namespace Tug.Cli.Commands.Cluster;

/// <summary>What <c>tug cluster display</c> shows besides the instances' status (TiUP's display flags).</summary>
/// <param name="Uptime">A Since column: how long each instance's process has run, read on its host (<c>--uptime</c>).</param>
/// <param name="Versions">A Deployed column: the version each instance is deployed at, from the metadata (<c>--versions</c>).</param>
/// <param name="VersionOnly">Print only the cluster version and contact no host (<c>--version</c>).</param>
/// <param name="Process">Memory, Memory Limit and CPU Quota columns, read on the host (<c>--process</c>).</param>
/// <param name="ManageHost">A Manage Host column (also shown when any instance's differs from its host).</param>
/// <param name="Numa">Numa Node and Numa Cores columns, from the topology (<c>--numa</c>).</param>
/// <param name="StatusTimeout">Seconds each instance's status may take on its host (<c>--status-timeout</c>, TiUP's default 10).</param>
public sealed record DisplayFlags(bool Uptime, bool Versions, bool VersionOnly, bool Process, bool ManageHost, bool Numa, int StatusTimeout);

/// <summary><c>tug cluster display</c>: every selected instance as its host reports it, from the inspector.</summary>
public sealed class DisplayCommand(ClusterInspector inspector, ClusterStore store, Renderer output)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        var handler = services.GetRequiredService<DisplayCommand>();
        var name = ClusterOptions.Name();
        var roles = ClusterOptions.Roles();
        var nodes = ClusterOptions.Nodes();
        var uptime = new Option<bool>(CliConstants.UptimeOption) { Description = "Add a Since column: how long each instance's process has run (1d2h3m4s), read on its host." };
        var versions = new Option<bool>(CliConstants.VersionsOption) { Description = "Add a Deployed column: the version each instance is deployed at, as the cluster's metadata records it (Version is what the running process reports)." };
        var versionOnly = new Option<bool>(CliConstants.VersionOnlyOption) { Description = "Print only the cluster version; contacts no host." };
        var process = new Option<bool>(CliConstants.ProcessOption) { Description = "Add Memory (resident), Memory Limit and CPU Quota columns, read on each host from the process and its unit." };
        var manageHost = new Option<bool>(CliConstants.ManageHostOption) { Description = "Add a Manage Host column (the address Tug connects to; shown anyway when one differs from its host)." };
        var numa = new Option<bool>(CliConstants.NumaOption) { Description = "Add Numa Node and Numa Cores columns, from the topology." };
        var statusTimeout = ClusterOptions.Ranged(new Option<int>(CliConstants.StatusTimeoutOption)
        {
            Description = "Seconds to wait for each instance's status on its host (1-3600); a host that does not answer in time shows its instances as Error.",
            DefaultValueFactory = _ => 10,
        }, 1, 3600);
        var command = new Command(CliConstants.DisplayVerb, "Show every instance as its host reports it: status, version running, verified.")
        {
            name, roles, nodes, uptime, versions, versionOnly, process, manageHost, numa, statusTimeout,
        };
        command.SetAction((p, ct) => handler.RunAsync(options.Select(p, name, roles, nodes),
            new DisplayFlags(p.GetValue(uptime), p.GetValue(versions), p.GetValue(versionOnly), p.GetValue(process), p.GetValue(manageHost), p.GetValue(numa), p.GetValue(statusTimeout)), ct));
        return command;
    }

    public async Task<int> RunAsync(SelectArguments args, DisplayFlags flags, CancellationToken cancellationToken)
    {
        var json = args.Globals.Format == "json";
        if (flags.VersionOnly)
        {
            var only = store.Load(args.Name);
            if (json)
            {
                output.Json(new { ClusterName = args.Name, ClusterVersion = only.Version });
            }
            else
            {
                output.Line(only.Version);
            }

            return ExitCodes.Success;
        }

        var report = await inspector.DisplayAsync(args.Name, args.Filter, args.Globals.Reach(), new DisplayReading(TimeSpan.FromSeconds(flags.StatusTimeout), flags.Uptime || flags.Process), cancellationToken);
        var (meta, instances) = (report.Meta, report.Instances);
        var specs = meta.Topology.Instances.ToDictionary(i => i.Id);
        var osArch = specs.ToDictionary(i => i.Key, i => $"{i.Value.Os}/{i.Value.Arch}");
        bool Patched(string id) => meta.Tug.Instances.GetValueOrDefault(id)?.Patched == true;
        bool Unknown(string id) => meta.Tug.Instances.GetValueOrDefault(id)?.Build == Tug.Core.Topology.DeployedInstance.UnknownBuild;
        var mixed = meta.Topology.Instances.GroupBy(i => i.Role)
            .Where(g => !meta.Tug.Versions.ContainsKey(g.Key))
            .Select(g => (Role: g.Key, Versions: g.Select(i => meta.Tug.Instances.GetValueOrDefault(i.Id)?.Label).OfType<string>().Distinct().Order(StringComparer.Ordinal).ToList()))
            .Where(g => g.Versions.Count > 1).ToList();
        string? Deployed(string id) => meta.Tug.Instances.GetValueOrDefault(id)?.Label;
        ProcLine? Proc(string id) => report.Processes.GetValueOrDefault(id);
        var manageHost = flags.ManageHost || instances.Any(i => specs[i.Id].ManageHost != i.Host);
        if (json)
        {
            output.Json(new
            {
                ClusterMeta = new { ClusterType = "tidb", ClusterName = args.Name, ClusterVersion = meta.Version, DeployUser = meta.User, SshType = meta.Topology.Global.SshType, Versions = meta.Tug.Versions, Layout = meta.Tug.Layout.Length > 0 ? meta.Tug.Layout : "tug", Mixed = mixed.ToDictionary(m => m.Role, m => m.Versions) },
                Instances = instances.Select(i => new
                {
                    i.Id, i.Role, i.Host, ManageHost = specs[i.Id].ManageHost, i.Ports, OsArch = osArch.GetValueOrDefault(i.Id), i.Status,
                    i.Version, DeployedVersion = Deployed(i.Id), Patched = Patched(i.Id), Build = Unknown(i.Id) ? Tug.Core.Topology.DeployedInstance.UnknownBuild : "signed", i.Verified,
                    Since = Proc(i.Id) is { } since ? Since(since.Seconds) : null, UptimeSeconds = Proc(i.Id)?.Seconds,
                    Memory = Proc(i.Id) is { } memory ? Memory(memory.RssKib) : null, MemoryBytes = Proc(i.Id)?.RssKib * 1024,
                    MemoryLimit = Proc(i.Id) is { } limit ? Limit(limit.MemoryMax) : null, CpuQuota = Proc(i.Id) is { } quota ? Quota(quota.CpuQuota) : null,
                    NumaNode = specs[i.Id].NumaNode, NumaCores = specs[i.Id].NumaCores,
                    i.DeployDir, i.DataDir, i.Detail, i.VerifiedBy, i.VerifiedAt,
                }),
            });
        }
        else
        {
            output.Line($"Cluster type:    tidb");
            output.Line($"Cluster name:    {args.Name}");
            output.Line($"Cluster version: {meta.Version}");
            output.Line($"Deploy user:     {meta.User}");
            if (meta.Tug.Layout == Tug.Core.Planning.PackageLayouts.TiUP)
            {
                output.Line("Layout:          TiUP's (imported; executables at TiUP's paths)");
            }

            var columns = new List<string> { "ID", "Role", "Host" };
            columns.AddRange(manageHost ? ["Manage Host"] : []);
            columns.AddRange(["Ports", "OS/Arch", "Status"]);
            columns.AddRange(flags.Process ? ["Memory", "Memory Limit", "CPU Quota"] : []);
            columns.AddRange(flags.Uptime ? ["Since"] : []);
            columns.AddRange(flags.Numa ? ["Numa Node", "Numa Cores"] : []);
            columns.Add("Version");
            columns.AddRange(flags.Versions ? ["Deployed"] : []);
            columns.AddRange(["Verified", "Data Dir", "Deploy Dir"]);
            var table = new Table().AddColumns([.. columns]);
            foreach (var i in instances)
            {
                var spec = specs[i.Id];
                var proc = Proc(i.Id);
                var row = new List<string> { Markup.Escape(i.Id), i.Role, i.Host };
                row.AddRange(manageHost ? [spec.ManageHost] : []);
                row.AddRange([i.Ports, osArch.GetValueOrDefault(i.Id) ?? "-", i.Status]);
                row.AddRange(flags.Process ? [Memory(proc?.RssKib), Limit(proc?.MemoryMax), Quota(proc?.CpuQuota)] : []);
                row.AddRange(flags.Uptime ? [Since(proc?.Seconds)] : []);
                row.AddRange(flags.Numa ? [Dash(spec.NumaNode), Dash(spec.NumaCores)] : []);
                row.Add((i.Version ?? "-") + (Patched(i.Id) ? " (patched)" : string.Empty) + (Unknown(i.Id) ? " (unknown build)" : string.Empty));
                row.AddRange(flags.Versions ? [Deployed(i.Id) ?? "-"] : []);
                row.AddRange([Verified(i), Markup.Escape(i.DataDir.Length == 0 ? "-" : i.DataDir), Markup.Escape(i.DeployDir)]);
                table.AddRow([.. row.Select((cell, n) => n < 3 || columns[n] is "Version" or "Verified" or "Data Dir" or "Deploy Dir" ? cell : Markup.Escape(cell))]);
            }

            output.Show(table);
            foreach (var i in instances.Where(i => !i.Verified))
            {
                output.Warning($"{i.Id} ({i.Role}) is not verified: {i.Detail}");
            }

            foreach (var (role, versions) in mixed)
            {
                output.Warning($"{role} runs mixed versions ({string.Join(", ", versions)}) and is not pinned; a command that names a version (upgrade, scale-out with a pin) settles it");
            }

            output.Line($"Total nodes: {instances.Length}");
        }

        return instances.Any(i => i.Status is "Unreachable" or "Error") ? ExitCodes.Failure : ExitCodes.Success;
    }

    /// <summary>TiUP's <c>formatInstanceSince</c>: days, hours, minutes and seconds, zero parts left out (<c>1d2h3m4s</c>); <c>-</c> when nothing runs.</summary>
    public static string Since(long? seconds)
    {
        if (seconds is not > 0)
        {
            return "-";
        }

        var s = seconds.Value;
        var parts = new[] { (s / 86400, "d"), (s / 3600 % 24, "h"), (s / 60 % 60, "m"), (s % 60, "s") };
        return string.Concat(parts.Where(p => p.Item1 != 0).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Item1}{p.Item2}")));
    }

    /// <summary>The Verified cell: how the instance was verified (hashed now, or unchanged since it was last hashed), or <c>NO</c>.</summary>
    public static string Verified(InstanceStatus instance) => !instance.Verified ? "NO"
        : instance.VerifiedBy == InstanceStatus.ByIdentity && instance.VerifiedAt is { } at
            ? $"verified at {at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)}Z, unchanged since"
            : "verified, hashed now";

    private static string Dash(string value) => value.Length == 0 ? "-" : value;

    private static string Memory(long? kib) => kib is { } k ? Bytes(k * 1024) : "-";

    private static string Limit(string? memoryMax) =>
        memoryMax is null or "infinity" ? "-" : long.TryParse(memoryMax, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) ? Bytes(bytes) : memoryMax;

    /// <summary>systemd's <c>CPUQuotaPerSecUSec</c> (<c>2s</c>, <c>500ms</c>) as TiUP's percentage of one CPU (<c>200%</c>, <c>50%</c>).</summary>
    private static string Quota(string? perSecond)
    {
        if (perSecond is null or "infinity")
        {
            return "-";
        }

        var (number, scale) = perSecond.EndsWith("ms", StringComparison.Ordinal) ? (perSecond[..^2], 0.1) : perSecond.EndsWith("us", StringComparison.Ordinal) ? (perSecond[..^2], 0.0001) : perSecond.EndsWith('s') ? (perSecond[..^1], 100.0) : (perSecond, 0.0);
        return scale > 0 && double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? string.Create(CultureInfo.InvariantCulture, $"{Math.Round(value * scale)}%")
            : perSecond;
    }

    private static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.0} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.0} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 10):0.0} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
    };
}
