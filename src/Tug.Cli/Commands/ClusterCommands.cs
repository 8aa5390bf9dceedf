// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Spectre.Console;
using Tug.Core.Cluster;
using Tug.Core.Remote;
using Tug.Core.Topology;
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

public sealed record DeployArguments(string Name, string Version, string Topology, string? User, string? Identity, bool Yes, ClusterGlobals Globals)
{
    public bool Password { get; init; }

    /// <summary>Start even though an earlier operation on the cluster was interrupted.</summary>
    public bool Force { get; init; }
}

public sealed record SelectArguments(string Name, string[] Roles, string[] Nodes, ClusterGlobals Globals)
{
    /// <summary>Start even though an earlier operation on the cluster was interrupted.</summary>
    public bool Force { get; init; }

    public InstanceFilter Filter => new([.. Roles.SelectMany(r => r.Split(',', StringSplitOptions.RemoveEmptyEntries))], [.. Nodes.SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries))]);
}

public sealed record UpgradeArguments(string Name, string? Version, string[] Components, string? NodeExporterVersion, string? BlackboxExporterVersion, string Batch, bool DryRun, bool Yes, ClusterGlobals Globals)
{
    /// <summary>Start even though an earlier operation on the cluster was interrupted.</summary>
    public bool Force { get; init; }
}

public sealed record ExecArguments(SelectArguments Select, string Command, bool Sudo);

public sealed record TransferArguments(SelectArguments Select, string Source, string Destination);

/// <summary>The <c>tug cluster</c> verbs: thin adapters from arguments to <see cref="ClusterOperations"/> and the renderer.</summary>
public sealed partial class ClusterCommands(
    Renderer output,
    ClusterOperations operations,
    ClusterStore store,
    IOContext io,
    IEnvironment environment,
    AuditLog audit,
    CommandLineArgs commandLine,
    TimeProvider time)
{
    public async Task<int> DeployAsync(DeployArguments args, CancellationToken cancellationToken)
    {
        // Bad input changes nothing: the name and the topology are checked before the cluster's journal is started.
        ClusterName.Validate(args.Name);
        _ = TopologyLoader.Load(Resolve(args.Topology));
        var request = new DeployRequest(args.Name, args.Version, Resolve(args.Topology), PreparingUser(args.User), ReadCredential(args.Password, args.Identity));
        return await GuardedAsync(args.Name, "deploy", args.Force, async () =>
            Report(await operations.DeployAsync(request, args.Globals.Reach(), plan => Confirm(plan, args.Yes), Progress(), cancellationToken), args.Globals.Format));
    }

    public async Task<int> ScaleOutAsync(DeployArguments args, CancellationToken cancellationToken)
    {
        var request = new ScaleOutRequest(args.Name, Resolve(args.Topology), PreparingUser(args.User), ReadCredential(args.Password, args.Identity));
        return await Existing(args.Name, "scale-out", args.Force, async () =>
            Report(await operations.ScaleOutAsync(request, args.Globals.Reach(), plan => Confirm(plan, args.Yes), Progress(), cancellationToken), args.Globals.Format));
    }

    public async Task<int> ScaleInAsync(SelectArguments args, bool yes, CancellationToken cancellationToken)
    {
        return await Existing(args.Name, "scale-in", args.Force, async () =>
            Report(await operations.ScaleInAsync(args.Name, args.Filter.Nodes, args.Globals.Reach(), plan => Confirm(plan, yes), Progress(), cancellationToken), args.Globals.Format));
    }

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

    public async Task<int> StartAsync(SelectArguments args, CancellationToken cancellationToken) =>
        await Existing(args.Name, "start", args.Force, async () => Report(await operations.StartAsync(args.Name, args.Filter, args.Globals.Reach(), Progress(), cancellationToken), args.Globals.Format));

    public async Task<int> StopAsync(SelectArguments args, CancellationToken cancellationToken) =>
        await Existing(args.Name, "stop", args.Force, async () => Report(await operations.StopAsync(args.Name, args.Filter, args.Globals.Reach(), Progress(), cancellationToken), args.Globals.Format));

    public async Task<int> RestartAsync(SelectArguments args, CancellationToken cancellationToken) =>
        await Existing(args.Name, "restart", args.Force, async () => Report(await operations.RestartAsync(args.Name, args.Filter, args.Globals.Reach(), Progress(), cancellationToken), args.Globals.Format));

    /// <summary>A mutating verb on a cluster that must exist (checked before anything is written).</summary>
    private Task<int> Existing(string name, string operation, bool force, Func<Task<int>> body)
    {
        _ = store.Load(name);
        return GuardedAsync(name, operation, force, body);
    }

    public async Task<int> DestroyAsync(SelectArguments args, bool yes, bool force, CancellationToken cancellationToken)
    {
        _ = store.Load(args.Name);
        if (!yes && !Ask($"Destroy cluster '{args.Name}': stop every instance and delete its units, deploy, data and log directories on every host?"))
        {
            output.Note("destroy cancelled; nothing was changed");
            return ExitCodes.Failure;
        }

        return await GuardedAsync(args.Name, "destroy", force, async () => Report(await operations.DestroyAsync(args.Name, force, args.Globals.Reach(), Progress(), cancellationToken), args.Globals.Format));
    }

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
        if (args.DryRun)
        {
            return PrintUpgradePlan(operations.PlanUpgrade(request), args.Name, dryRun: true, args.Globals.Format) ?? ExitCodes.Success;
        }

        return await Existing(args.Name, "upgrade", args.Force, async () =>
        {
            var plan = operations.PlanUpgrade(request);
            if (PrintUpgradePlan(plan, args.Name, dryRun: false, args.Globals.Format) is { } early)
            {
                return early;
            }

            if (!args.Yes && !Ask($"Upgrade {plan.Steps.Length} instance(s) of {args.Name}?"))
            {
                output.Note("upgrade cancelled; nothing was changed");
                return ExitCodes.Failure;
            }

            return Report(await operations.UpgradeAsync(request, plan, args.Globals.Reach(), Progress(), cancellationToken), args.Globals.Format);
        });
    }

    /// <summary>Prints an upgrade plan; returns an exit code when there is nothing more to do.</summary>
    private int? PrintUpgradePlan(UpgradePlan plan, string name, bool dryRun, string format)
    {
        if (format == "json" && dryRun)
        {
            output.Json(new { Cluster = name, DryRun = true, Steps = plan.Steps, plan.Unchanged });
            return ExitCodes.Success;
        }

        // With --format json, stdout carries only the report: the plan goes to stderr.
        Action<string> say = format == "json" ? output.Note : output.Line;
        say($"Upgrade plan for {name}:");
        foreach (var step in plan.Steps)
        {
            say($"  batch {step.Batch}: {step.Role,-18} {step.Id,-22} {step.From} -> {step.To}");
        }

        foreach (var unchanged in plan.Unchanged)
        {
            say($"  unchanged: {unchanged}");
        }

        if (plan.Steps.IsEmpty)
        {
            say("nothing to do: every instance already runs the target version");
            return ExitCodes.Success;
        }

        if (dryRun)
        {
            say("dry run: nothing was changed");
            return ExitCodes.Success;
        }

        return null;
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

            return await Existing(args.Name, "patch", args.Force, async () => Report(await operations.UnpatchAsync(args.Name, args.Filter, args.Globals.Reach(), Progress(), cancellationToken), args.Globals.Format));
        }

        if (package is null)
        {
            throw new ClusterException(ClusterException.BadInput, "Give the PACKAGE to patch with: a tarball holding the executable, or the executable itself.", "Or pass --rollback to restore the build before the last patch.");
        }

        if (!File.Exists(Resolve(package)))
        {
            throw new ClusterException(ClusterException.BadInput, $"Patch file {Resolve(package)} does not exist.", "Give a tarball holding the executable, or the executable itself.");
        }

        var request = new PatchRequest(args.Name, Resolve(package), args.Filter, batch);
        return await Existing(args.Name, "patch", args.Force, async () => Report(await operations.PatchAsync(request, args.Globals.Reach(), Progress(), cancellationToken), args.Globals.Format));
    }

    public async Task<int> VerifyAsync(SelectArguments args, CancellationToken cancellationToken)
    {
        var results = await operations.VerifyAsync(args.Name, args.Filter, args.Globals.Reach(), cancellationToken);
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
        var (meta, instances) = await operations.DisplayAsync(args.Name, args.Filter, args.Globals.Reach(), cancellationToken);
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
        var results = await operations.ExecAsync(args.Select.Name, args.Command, args.Sudo, args.Select.Filter, args.Select.Globals.Reach(), cancellationToken);
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
        Report(await operations.PushAsync(args.Select.Name, Resolve(args.Source), args.Destination, args.Select.Filter, args.Select.Globals.Reach(), cancellationToken), args.Select.Globals.Format);

    public async Task<int> PullAsync(TransferArguments args, CancellationToken cancellationToken) =>
        Report(await operations.PullAsync(args.Select.Name, args.Source, Resolve(args.Destination), args.Select.Filter, args.Select.Globals.Reach(), cancellationToken), args.Select.Globals.Format);

    public int AcceptHostKey(string name, string endpoint, string fingerprint)
    {
        var key = endpoint.Contains(':', StringComparison.Ordinal) ? endpoint : endpoint + ":22";
        operations.AcceptHostKey(name, key, fingerprint);
        output.Line($"pinned {key} to {fingerprint} for cluster {name}");
        return ExitCodes.Success;
    }

    private int Report(OperationReport report, string format)
    {
        if (format == "json")
        {
            output.Json(new { report.Operation, report.Cluster, report.Ok, Outcomes = report.Outcomes.Select(o => new { o.Id, o.Role, o.Host, Status = o.Status.ToString().ToLowerInvariant(), o.Message }), report.Timings });
        }
        else
        {
            var table = new Table().AddColumns("ID", "Role", "Host", "Result", "Detail");
            foreach (var o in report.Outcomes)
            {
                table.AddRow(Markup.Escape(o.Id), Markup.Escape(o.Role), Markup.Escape(o.Host), o.Status.ToString(), Markup.Escape(o.Message));
            }

            output.Show(table);
            var bad = report.Outcomes.Where(o => o.Status is OutcomeStatus.Failed or OutcomeStatus.Unreachable).ToList();
            _summary = bad.Count == 0
                ? $"{report.Outcomes.Length} ok, verified"
                : $"failed on {bad.Count} of {report.Outcomes.Length}: {string.Join(", ", bad.Select(b => $"{b.Id} ({b.Status})"))}";
            output.Line(bad.Count == 0
                ? $"{report.Operation} {report.Cluster}: {report.Outcomes.Length} ok, verified on the hosts"
                : $"{report.Operation} {report.Cluster}: FAILED on {bad.Count} of {report.Outcomes.Length}: {string.Join(", ", bad.Select(b => $"{b.Id} ({b.Status})"))}");
        }

        return report.Ok ? ExitCodes.Success : ExitCodes.Failure;
    }

    private bool Confirm(DeployPlan plan, bool yes)
    {
        output.Note($"Deploying cluster '{plan.Name}':");
        foreach (var (instance, role, host, version) in plan.Instances)
        {
            output.Note($"  {role,-18} {instance,-24} on {host,-16} {version}");
        }

        return yes || Ask("Proceed?");
    }

    private bool Confirm(ScalePlan plan, bool yes)
    {
        output.Note($"{plan.Operation} of cluster '{plan.Name}':");
        foreach (var step in plan.Instances)
        {
            output.Note($"  {(plan.Operation == "scale-out" ? "add" : "remove")} {step.Role,-18} {step.Id,-24} on {step.Host,-16} {step.Version}");
        }

        foreach (var id in plan.Refreshed)
        {
            output.Note($"  configuration follows: {id}");
        }

        return yes || Ask("Proceed?");
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

    private EventProgress Progress() => new EventProgress(e => output.Note($"  [{e.Host}] {e.Step}{(e.Instance is null ? string.Empty : " " + e.Instance)}: {e.Message}"));

    private string DefaultIdentity()
    {
        var home = environment.GetVariable("HOME") ?? "/root";
        var rsa = Path.Combine(home, ".ssh", "id_rsa");
        var ed = Path.Combine(home, ".ssh", "id_ed25519");
        return File.Exists(rsa) || !File.Exists(ed) ? rsa : ed;
    }

    private string Resolve(string path) => Path.GetFullPath(path, environment.CurrentDirectory);

    private static string Indent(string text) => string.Join('\n', text.TrimEnd('\n').Split('\n').Select(l => "  " + l));

    private sealed class EventProgress(Action<OperationEvent> report) : IProgress<OperationEvent>
    {
        public void Report(OperationEvent value) => report(value);
    }
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
