// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Tug.Core.Cluster;
using Tug.Core.Execution;
using Tug.Ssh;

namespace Tug.Cli.Commands.Cluster;

/// <summary>Options every cluster verb shares (TiUP's global flags).</summary>
public sealed record ClusterGlobals(string Ssh, int SshTimeout, int WaitTimeout, int Concurrency, string Format)
{
    public Reach Reach() => new(
        Ssh == "system" ? new SystemSshConnector() : new SshNetConnector(),
        TimeSpan.FromSeconds(SshTimeout),
        TimeSpan.FromSeconds(WaitTimeout),
        Math.Max(1, Concurrency));

    /// <summary>How packages reach the hosts (<c>--delivery</c>).</summary>
    public DeliveryMode Delivery { get; init; } = DeliveryMode.Auto;

    /// <summary>The HTTP address of the mirror's files as the hosts see it (<c>--host-mirror</c>), or null.</summary>
    public string? HostMirror { get; init; }
}

/// <summary>What every mutating verb takes: <c>-y</c>, <c>--dry-run</c>, <c>--force</c>.</summary>
/// <param name="Yes">Do not ask.</param>
/// <param name="DryRun">Print the plan and stop.</param>
/// <param name="Force">Start even though an earlier operation on the cluster was interrupted.</param>
public sealed record MutatingArguments(bool Yes, bool DryRun, bool Force);

/// <summary>A cluster and the instances a verb works on (start, stop, restart, display, verify, scale-in, destroy, and inside patch, exec, push, pull).</summary>
public sealed record SelectArguments(string Name, string[] Roles, string[] Nodes, ClusterGlobals Globals)
{
    /// <summary>-y, --dry-run, --force (mutating verbs).</summary>
    public MutatingArguments Mutating { get; init; } = new(false, false, false);

    public InstanceFilter Filter => new([.. Roles.SelectMany(r => r.Split(',', StringSplitOptions.RemoveEmptyEntries))], [.. Nodes.SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries))]);
}

/// <summary>
/// The options of <c>tug cluster</c> declared once: the global flags (recursive, so every verb takes them, before or after
/// its own arguments) and factories for the options several verbs declare alike.
/// </summary>
public sealed class ClusterOptions
{
    public Option<bool> Yes { get; } = new(CliConstants.YesOption, CliConstants.YesAlias) { Description = "Do not ask for confirmation (accepted by every cluster command, as TiUP's global flag).", Recursive = true };

    public Option<string> Ssh { get; } = new Option<string>(CliConstants.SshOption) { Description = "SSH transport: builtin (in-process) or system (the ssh client, honours ~/.ssh/config).", DefaultValueFactory = _ => "builtin", Recursive = true }.AcceptOnlyFromAmong("builtin", "system");

    public Option<int> SshTimeout { get; } = Ranged(new(CliConstants.SshTimeoutOption) { Description = "Seconds to wait for an SSH connection (1-3600).", DefaultValueFactory = _ => 5, Recursive = true }, 1, 3600);

    public Option<int> WaitTimeout { get; } = Ranged(new(CliConstants.WaitTimeoutOption) { Description = "Seconds to wait for a service to come up or go down (1-86400).", DefaultValueFactory = _ => 120, Recursive = true }, 1, 86400);

    public Option<int> Concurrency { get; } = Ranged(new(CliConstants.ConcurrencyOption, CliConstants.ConcurrencyAlias) { Description = "Hosts worked on at once (1-1024).", DefaultValueFactory = _ => Math.Max(8, Environment.ProcessorCount * 8), Recursive = true }, 1, 1024);

    /// <summary>
    /// Refuses a value outside [<paramref name="min"/>, <paramref name="max"/>] at parse time (exit 2, the flag and the
    /// range named), so a negative or huge timeout never reaches a TimeSpan or a socket as a bug.
    /// </summary>
    public static Option<int> Ranged(Option<int> option, int min, int max)
    {
        option.Validators.Add(result =>
        {
            // A token that is no number at all is reported by the converter; GetValueOrDefault would throw on it.
            if (result.Tokens.Count > 0
                && int.TryParse(result.Tokens[^1].Value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value)
                && (value < min || value > max))
            {
                result.AddError($"{option.Name} {value.ToString(System.Globalization.CultureInfo.InvariantCulture)} is out of range: give a whole number from {min.ToString(System.Globalization.CultureInfo.InvariantCulture)} to {max.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
            }
        });
        return option;
    }

    public Option<string> Format { get; } = CommandTree.FormatOption(recursive: true);

    public Option<string> Delivery { get; } = new Option<string>(CliConstants.DeliveryOption)
    {
        Description = "How packages reach the hosts: auto (pull over HTTP; where a host cannot reach the address, through a port forwarded over its SSH connection; else upload), pull, forward or upload. Every host checks the sha256 against the signed manifest before it keeps a byte.",
        DefaultValueFactory = _ => "auto",
        Recursive = true,
    }.AcceptOnlyFromAmong("auto", "pull", "forward", "upload");

    public Option<string?> HostMirror { get; } = HostMirrorOption();

    /// <summary>Adds the global flags to the <c>cluster</c> command, in the order help lists them.</summary>
    public void AddTo(Command cluster)
    {
        cluster.Options.Add(Yes);
        cluster.Options.Add(Ssh);
        cluster.Options.Add(SshTimeout);
        cluster.Options.Add(WaitTimeout);
        cluster.Options.Add(Concurrency);
        cluster.Options.Add(Format);
        cluster.Options.Add(Delivery);
        cluster.Options.Add(HostMirror);
    }

    public ClusterGlobals Globals(ParseResult p) => new(p.GetValue(Ssh)!, p.GetValue(SshTimeout), p.GetValue(WaitTimeout), p.GetValue(Concurrency), p.GetValue(Format)!)
    {
        Delivery = Enum.Parse<DeliveryMode>(p.GetValue(Delivery)!, ignoreCase: true),
        HostMirror = p.GetValue(HostMirror)?.TrimEnd('/'),
    };

    private static Option<string?> HostMirrorOption()
    {
        var option = new Option<string?>(CliConstants.HostMirrorOption)
        {
            Description = "The HTTP address (http:// or https://) of a static copy of the mirror's files as the hosts reach it (any web server or CDN); hosts pull packages from it. Default: the current mirror when it is an HTTP one the hosts can reach, else a package server this command runs on this machine.",
            Recursive = true,
        };
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && result.Tokens[^1].Value is var value
                && (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.UserInfo.Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0))
            {
                result.AddError($"{CliConstants.HostMirrorOption} '{value}' is not an http:// or https:// address (no user, query or fragment), for example http://10.0.0.5:8080/mirror.");
            }
        });
        return option;
    }

    public MutatingArguments Mutating(ParseResult p, Option<bool> dryRun, Option<bool>? force) => new(p.GetValue(Yes), p.GetValue(dryRun), force is not null && p.GetValue(force));

    /// <summary>The instances a verb selects with <c>-R</c> and <c>-N</c>, with the cluster name and the global flags.</summary>
    public SelectArguments Select(ParseResult p, Argument<string> name, Option<string[]>? roles, Option<string[]>? nodes) =>
        new(p.GetValue(name)!, roles is null ? [] : p.GetValue(roles) ?? [], nodes is null ? [] : p.GetValue(nodes) ?? [], Globals(p));

    public static Argument<string> Name() => new("NAME") { Description = "Cluster name." };

    /// <summary><c>--health-window SECONDS</c> of the verbs whose health gate can hold a window (upgrade, patch, restart).</summary>
    public static Option<int> HealthWindow() => new(CliConstants.HealthWindowOption)
    {
        Description = "Seconds each instance must stay healthy after its first healthy check: unit active with the same PID, no systemd restart (NRestarts), health check answering; otherwise its gate fails (an upgrade or patch rolls it back and stops). Default 0: no window (the gate passes at the first healthy check, as TiUP's).",
        DefaultValueFactory = _ => 0,
    };

    /// <summary>
    /// TiUP's <c>--transfer-timeout</c> of upgrade and patch, accepted so TiUP's runbook lines run: TiUP waits that long
    /// for PD and TiKV leaders to move off an instance before restarting it; no component Tug runs has such leaders, so
    /// the value changes nothing here (the help says so).
    /// </summary>
    public static Option<int> TransferTimeout() => Ranged(new Option<int>(CliConstants.TransferTimeoutOption)
    {
        Description = "TiUP's timeout in seconds for moving PD and TiKV store leaders off an instance before its restart (default 600). Accepted for TiUP's command lines; no component Tug runs has such leaders, so it changes nothing.",
        DefaultValueFactory = _ => 600,
    }, 1, 86400);

    public static Option<bool> DryRun() => new(CliConstants.DryRunOption) { Description = "Print the plan, step by step per host (text, or JSON with --format json), and change nothing." };

    public static Option<bool> Force() => new(CliConstants.ForceOption) { Description = "Start even though an earlier operation on this cluster was interrupted (it is marked failed; `tug cluster replay` can still resume it)." };

    public static Option<string[]> Roles() => new(CliConstants.RoleOption, CliConstants.RoleAlias) { Description = "Only instances of these roles (comma-separated or repeated).", AllowMultipleArgumentsPerToken = true };

    public static Option<string[]> Nodes() => new(CliConstants.NodeOption, CliConstants.NodeAlias) { Description = "Only these instances (host:port) or hosts.", AllowMultipleArgumentsPerToken = true };

    public static Option<string?> User(string description) => new(CliConstants.UserOption, CliConstants.UserAlias) { Description = description };

    public static Option<string?> Identity() => new(CliConstants.IdentityFileOption, CliConstants.IdentityFileAlias) { Description = "Its private key (default ~/.ssh/id_rsa)." };

    public static Option<bool> Password(string description) => new(CliConstants.PasswordOption, CliConstants.PasswordAlias) { Description = description };
}
