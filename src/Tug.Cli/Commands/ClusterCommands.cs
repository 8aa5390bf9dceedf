// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Spectre.Console;
using Tug.Cli.Rendering;
using Tug.Core.Cluster;
using Tug.Core.Execution;
using Tug.Core.Inspection;
using Tug.Core.Planning;
using Tug.Core.Remote;
using Tug.Mirror;
using Tug.Ssh;

namespace Tug.Cli.Commands;

/// <summary>Options every cluster verb shares (TiUP's global flags).</summary>
public sealed record ClusterGlobals(string Ssh, int SshTimeout, int WaitTimeout, int Concurrency, string Format)
{
    public Reach Reach() => new(
        Ssh == "system" ? new SystemSshConnector() : new SshNetConnector(),
        TimeSpan.FromSeconds(SshTimeout),
        TimeSpan.FromSeconds(WaitTimeout),
        Math.Max(1, Concurrency));
}

/// <summary>What every mutating verb takes: <c>-y</c>, <c>--dry-run</c>, <c>--force</c>.</summary>
/// <param name="Yes">Do not ask.</param>
/// <param name="DryRun">Print the plan and stop.</param>
/// <param name="Force">Start even though an earlier operation on the cluster was interrupted.</param>
public sealed record MutatingArguments(bool Yes, bool DryRun, bool Force);

public sealed record DeployArguments(string Name, string Version, string Topology, string? User, string? Identity, MutatingArguments Mutating, ClusterGlobals Globals)
{
    public bool Password { get; init; }
}

public sealed record ReplayArguments(string Name, string? Id, string? User, string? Identity, bool Password, bool DryRun, ClusterGlobals Globals);

public sealed record SelectArguments(string Name, string[] Roles, string[] Nodes, ClusterGlobals Globals)
{
    /// <summary>-y, --dry-run, --force (mutating verbs).</summary>
    public MutatingArguments Mutating { get; init; } = new(false, false, false);

    public InstanceFilter Filter => new([.. Roles.SelectMany(r => r.Split(',', StringSplitOptions.RemoveEmptyEntries))], [.. Nodes.SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries))]);
}

public sealed record UpgradeArguments(string Name, string? Version, string[] Components, string? NodeExporterVersion, string? BlackboxExporterVersion, string Batch, MutatingArguments Mutating, ClusterGlobals Globals);

public sealed record ExecArguments(SelectArguments Select, string Command, bool Sudo);

public sealed record TransferArguments(SelectArguments Select, string Source, string Destination);

/// <summary>The <c>tug cluster</c> verbs: thin adapters from arguments to a planner and the executor (or a read), and the renderer.</summary>
public sealed partial class ClusterCommands(
    Renderer output,
    ClusterInspector inspector,
    Executor executor,
    UpgradePlanner upgrades,
    PatchPlanner patches,
    ServicePlanner services,
    TopologyPlanner topologies,
    ProgressRenderer progress,
    ClusterStore store,
    IOContext io,
    IEnvironment environment,
    AuditLog audit,
    CommandLineArgs commandLine)
{
    public async Task<int> DeployAsync(DeployArguments args, CancellationToken cancellationToken)
    {
        var credential = ReadCredential(args.Password, args.Identity);
        var request = new DeployRequest(args.Name, args.Version, Resolve(args.Topology), PreparingUser(args.User), credential);
        var plan = await topologies.DeployAsync(request, args.Globals.Reach(), cancellationToken);
        return await RunPlanAsync(plan, args.Mutating, args.Globals, $"Deploy cluster '{args.Name}'?", cancellationToken, credential);
    }

    public async Task<int> ScaleOutAsync(DeployArguments args, CancellationToken cancellationToken)
    {
        var credential = ReadCredential(args.Password, args.Identity);
        var request = new ScaleOutRequest(args.Name, Resolve(args.Topology), PreparingUser(args.User), credential);
        var plan = await topologies.ScaleOutAsync(request, args.Globals.Reach(), cancellationToken);
        return await RunPlanAsync(plan, args.Mutating, args.Globals, $"Scale out cluster '{args.Name}'?", cancellationToken, credential);
    }

    public Task<int> ScaleInAsync(SelectArguments args, CancellationToken cancellationToken) =>
        RunPlanAsync(topologies.ScaleIn(args.Name, args.Filter.Nodes), args.Mutating, args.Globals, $"Scale in cluster '{args.Name}'?", cancellationToken);

    private string PreparingUser(string? user) => user ?? environment.GetVariable("USER") ?? "root";

    private Credential ReadCredential(bool password, string? identity)
    {
        if (!password)
        {
            return new KeyFileCredential(identity is null ? DefaultIdentity() : Resolve(identity));
        }

        var line = io.In.ReadLine();
        if (string.IsNullOrEmpty(line))
        {
            throw new ClusterException(ClusterException.BadInput, "-p/--password needs the password on the first line of standard input.", "Pipe it in, e.g. `tug cluster deploy ... -p < password-file`.");
        }

        return new PasswordCredential(new Secret(line));
    }

    public Task<int> StartAsync(SelectArguments args, CancellationToken cancellationToken) =>
        RunPlanAsync(services.Start(args.Name, args.Filter), args.Mutating with { Yes = true }, args.Globals, string.Empty, cancellationToken);

    public Task<int> StopAsync(SelectArguments args, CancellationToken cancellationToken) =>
        RunPlanAsync(services.Stop(args.Name, args.Filter), args.Mutating with { Yes = true }, args.Globals, string.Empty, cancellationToken);

    public Task<int> RestartAsync(SelectArguments args, CancellationToken cancellationToken) =>
        RunPlanAsync(services.Restart(args.Name, args.Filter), args.Mutating with { Yes = true }, args.Globals, string.Empty, cancellationToken);

    public Task<int> DestroyAsync(SelectArguments args, bool force, CancellationToken cancellationToken) =>
        RunPlanAsync(topologies.Destroy(args.Name, force), args.Mutating, args.Globals,
            $"Destroy cluster '{args.Name}': stop every instance and delete its units, deploy, data and log directories on every host?", cancellationToken);

    public async Task<int> UpgradeAsync(UpgradeArguments args, CancellationToken cancellationToken)
    {
        var components = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var pair in args.Components.SelectMany(c => c.Split(',', StringSplitOptions.RemoveEmptyEntries)))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == pair.Length - 1)
            {
                throw new ClusterException(ClusterException.BadInput, $"--component '{pair}' is not COMP=VERSION.", "For example: --component node_exporter=v1.9.0.");
            }

            components[pair[..eq]] = pair[(eq + 1)..];
        }

        if (args.NodeExporterVersion is not null)
        {
            components["node_exporter"] = args.NodeExporterVersion;
        }

        if (args.BlackboxExporterVersion is not null)
        {
            components["blackbox_exporter"] = args.BlackboxExporterVersion;
        }

        var request = new UpgradeRequest(args.Name, args.Version, components.ToImmutable(), args.Batch);
        var plan = await upgrades.PlanAsync(request, cancellationToken);
        return await RunPlanAsync(plan, args.Mutating, args.Globals, $"Upgrade {plan.Steps.Count(s => s.Key.Kind == StepKind.Switch)} instance(s) of {args.Name}?", cancellationToken);
    }

    public async Task<int> PatchAsync(SelectArguments args, string? package, string batch, bool rollback, CancellationToken cancellationToken)
    {
        if (args.Filter.Roles.IsEmpty && args.Filter.Nodes.IsEmpty)
        {
            throw new ClusterException(ClusterException.BadInput, "Select what to patch with -R ROLE or -N host:port.", "For example: `tug cluster patch NAME ./node_exporter -R node_exporter`.");
        }

        if (rollback)
        {
            if (package is not null)
            {
                throw new ClusterException(ClusterException.BadInput, "--rollback restores the build that ran before the patch; give no PACKAGE with it.");
            }

            return await RunPlanAsync(patches.Unpatch(args.Name, args.Filter), args.Mutating with { Yes = true }, args.Globals, string.Empty, cancellationToken);
        }

        if (package is null)
        {
            throw new ClusterException(ClusterException.BadInput, "Give the PACKAGE to patch with: a tarball holding the executable, or the executable itself.", "Or pass --rollback to restore the build before the last patch.");
        }

        if (!File.Exists(Resolve(package)))
        {
            throw ClusterException.PatchFileMissing(Resolve(package));
        }

        var request = new PatchRequest(args.Name, Resolve(package), args.Filter, batch);
        return await RunPlanAsync(patches.Patch(request), args.Mutating with { Yes = true }, args.Globals, string.Empty, cancellationToken);
    }

    public async Task<int> VerifyAsync(SelectArguments args, CancellationToken cancellationToken)
    {
        var results = await inspector.VerifyAsync(args.Name, args.Filter, args.Globals.Reach(), cancellationToken);
        if (args.Globals.Format == "json")
        {
            output.Json(new { Cluster = args.Name, Ok = results.All(r => r.Ok), Instances = results.Select(r => new { r.Id, r.Role, r.Host, r.Ok, r.Version, r.Problems }) });
        }
        else
        {
            foreach (var r in results)
            {
                output.Line($"{(r.Ok ? "ok  " : "FAIL")} {r.Id,-22} {r.Role,-18} {r.Version ?? "-"}{(r.Ok ? string.Empty : ": " + string.Join("; ", r.Problems))}");
            }

            output.Line(results.All(r => r.Ok) ? $"verified: all {results.Length} instance(s) agree" : $"NOT verified: {results.Count(r => !r.Ok)} of {results.Length} instance(s) disagree");
        }

        return results.All(r => r.Ok) ? ExitCodes.Success : ExitCodes.Failure;
    }

    public async Task<int> DisplayAsync(SelectArguments args, CancellationToken cancellationToken)
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

    public int List(ClusterGlobals globals)
    {
        var clusters = store.List().Select(n => (Name: n, Meta: store.Load(n))).ToList();
        if (globals.Format == "json")
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

    public async Task<int> ExecAsync(ExecArguments args, CancellationToken cancellationToken)
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

    public async Task<int> PushAsync(TransferArguments args, CancellationToken cancellationToken) =>
        Report(await inspector.PushAsync(args.Select.Name, Resolve(args.Source), args.Destination, args.Select.Filter, args.Select.Globals.Reach(), commandLine.Args, cancellationToken), args.Select.Globals.Format);

    public async Task<int> PullAsync(TransferArguments args, CancellationToken cancellationToken) =>
        Report(await inspector.PullAsync(args.Select.Name, args.Source, Resolve(args.Destination), args.Select.Filter, args.Select.Globals.Reach(), commandLine.Args, cancellationToken), args.Select.Globals.Format);

    public int AcceptHostKey(string name, string endpoint, string fingerprint)
    {
        var key = endpoint.Contains(':', StringComparison.Ordinal) ? endpoint : endpoint + ":22";
        inspector.AcceptHostKey(name, key, fingerprint);
        output.Line($"pinned {key} to {fingerprint} for cluster {name}");
        return ExitCodes.Success;
    }

    private int Report(OperationReport report, string format)
    {
        if (format == "json")
        {
            output.Json(new { report.Operation, report.Cluster, report.Id, report.Ok, Outcomes = report.Outcomes.Select(o => new { o.Id, o.Step, o.Role, o.Host, Status = o.Status.ToString().ToLowerInvariant(), o.Message }), report.Timings });
        }
        else
        {
            var table = new Table().AddColumns("Step", "Role", "Host", "Result", "Detail");
            foreach (var o in report.Outcomes)
            {
                table.AddRow(Markup.Escape(o.Step ?? o.Id), Markup.Escape(o.Role), Markup.Escape(o.Host), o.Status.ToString(), Markup.Escape(o.Message));
            }

            output.Show(table);
            var bad = report.Outcomes.Where(o => o.Status is OutcomeStatus.Failed or OutcomeStatus.Unreachable).ToList();
            output.Line(bad.Count == 0
                ? $"{report.Operation} {report.Cluster}: {report.Outcomes.Length} ok, verified on the hosts"
                : $"{report.Operation} {report.Cluster}: FAILED on {bad.Count} of {report.Outcomes.Length}: {string.Join(", ", bad.Select(b => $"{b.Id} ({b.Status})"))}");
        }

        return report.Ok ? ExitCodes.Success : ExitCodes.Failure;
    }

    private bool Ask(string question)
    {
        io.Error.Write($"{question} [y/N] ");
        var answer = io.In.ReadLine();
        if (answer is null)
        {
            io.Error.WriteLine();
            output.Note("no answer on standard input; pass -y to confirm non-interactively");
            return false;
        }

        return answer.Trim().Equals("y", StringComparison.OrdinalIgnoreCase) || answer.Trim().Equals("yes", StringComparison.OrdinalIgnoreCase);
    }

    private string DefaultIdentity()
    {
        var home = environment.GetVariable("HOME") ?? "/root";
        var rsa = Path.Combine(home, ".ssh", "id_rsa");
        var ed = Path.Combine(home, ".ssh", "id_ed25519");
        return File.Exists(rsa) || !File.Exists(ed) ? rsa : ed;
    }

    private string Resolve(string path) => Path.GetFullPath(path, environment.CurrentDirectory);

    private static string Indent(string text) => string.Join('\n', text.TrimEnd('\n').Split('\n').Select(l => "  " + l));
}

/// <summary>Packages for deploys come from the verified mirror and its cache, with the entry's hash read from the tarball.</summary>
public sealed class MirrorPackageSource(MirrorClient client) : IPackageSource
{
    private MirrorView? _view;

    public async Task<ResolvedPackage> GetAsync(string component, string? version, string platform, CancellationToken cancellationToken)
    {
        _view ??= await client.RefreshAsync(cancellationToken);
        CachedPackage package;
        try
        {
            package = await client.DownloadAsync(_view, component, version, platform, null, cancellationToken);
        }
        catch (MirrorException e) when (e.Code == MirrorErrors.NotFound)
        {
            throw new ClusterException(ClusterException.PackageMissing, e.Message, e.Hint, e);
        }

        return new ResolvedPackage(component, package.Version, platform, package.Path, package.Item.Entry, package.Item.Sha256 ?? string.Empty, EntryHash(package.Path, package.Item.Entry));
    }

    private static string EntryHash(string tarball, string entry)
    {
        using var file = File.OpenRead(tarball);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        while (reader.GetNextEntry() is { } item)
        {
            var name = item.Name.StartsWith("./", StringComparison.Ordinal) ? item.Name[2..] : item.Name;
            if (name == entry && item.DataStream is { } data)
            {
                return Convert.ToHexStringLower(SHA256.HashData(data));
            }
        }

        throw new ClusterException(ClusterException.PackageMissing, $"{Path.GetFileName(tarball)} has no entry '{entry}'.", "Publish the package again with the right ENTRY.");
    }
}
