// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using System.CommandLine.Invocation;
using Microsoft.Extensions.DependencyInjection;
using Tug.Cli.Commands.Cluster;
using Tug.Core.Cluster;

namespace Tug.Cli.Commands;

/// <summary>Declares every verb and its options; the <c>tug cluster</c> verbs are declared by their own command classes (<c>Commands/Cluster</c>), added here.</summary>
public static class CommandTree
{
    public static RootCommand Build(IServiceProvider services)
    {
        var mirror = services.GetRequiredService<MirrorCommands>();
        var root = new RootCommand(
            "tug deploys and operates multi-host clusters over SSH and systemd from a TiUP-compatible signed mirror, offline-first.\n" +
            "Every operation ends by proving, on every host, what runs.\n\nState lives under $TUG_HOME (default ~/.tug); the mirror in use is $TUG_MIRRORS or `tug mirror set`.");

        var format = () => FormatOption();
        var os = () => new Option<string?>("--os") { Description = "Target operating system (linux or darwin); default: this machine's." };
        var arch = () => new Option<string?>("--arch") { Description = "Target architecture (amd64 or arm64); default: this machine's." };
        var key = (string description) => new Option<string?>("--key", "-k") { Description = description };

        var mirrorCommand = new Command("mirror", "Create, sign, verify, copy and serve TiUP v1 component mirrors.");
        root.Subcommands.Add(mirrorCommand);

        {
            var name = new Option<string>("--name", "-n") { Description = "Key file name under $TUG_HOME/keys (without .json).", DefaultValueFactory = _ => "private" };
            var showPublic = new Option<bool>("--public", "-p") { Description = "Print the key ID and the public key of the existing key instead of generating one." };
            var save = new Option<bool>("--save") { Description = "Also write the public key to the current directory as <id16>-public.json." };
            var command = new Command("genkey", "Generate an RSA-2048 signing key at $TUG_HOME/keys/<name>.json (mode 0600), as `tiup mirror genkey` does.") { name, showPublic, save };
            command.SetAction((p, ct) => mirror.GenKeyAsync(new GenKeyArguments(p.GetValue(name)!, p.GetValue(showPublic), p.GetValue(save)), ct));
            mirrorCommand.Subcommands.Add(command);
        }

        {
            var dir = new Argument<string>("DIR") { Description = "Directory for the new mirror; must be empty or missing." };
            var keyDir = new Option<string?>("--key-dir", "-k") { Description = "Where to write the role keys (default DIR/keys)." };
            var command = new Command("init", "Create an empty mirror with fresh root (3), index, snapshot and timestamp keys.") { dir, keyDir };
            command.SetAction((p, ct) => mirror.InitAsync(new InitArguments(p.GetValue(dir)!, p.GetValue(keyDir)), ct));
            mirrorCommand.Subcommands.Add(command);
        }

        {
            var address = new Argument<string>("DIR|URL") { Description = "A mirror directory or an http(s) URL." };
            var rootFile = new Option<string?>("--root", "-r") { Description = "Trust this root.json instead of the one the mirror serves." };
            var command = new Command("set", "Make a mirror this machine's mirror: verify and trust its root, forget cached manifests. $TUG_MIRRORS overrides it.") { address, rootFile };
            command.SetAction((p, ct) => mirror.SetAsync(new SetArguments(p.GetValue(address)!, p.GetValue(rootFile)), ct));
            mirrorCommand.Subcommands.Add(command);
        }

        {
            var fmt = format();
            var command = new Command("show", "Show the mirror in use, its roles' versions and expiries, and its components.") { fmt };
            command.SetAction((p, ct) => mirror.ShowAsync(new ShowArguments(p.GetValue(fmt)!), ct));
            mirrorCommand.Subcommands.Add(command);
        }

        {
            var component = new Argument<string>("COMPONENT") { Description = "Component name, e.g. node_exporter." };
            var version = new Argument<string>("VERSION") { Description = "Version, e.g. v1.9.0 (a missing 'v' is added)." };
            var tarball = new Argument<string>("TARBALL") { Description = "The package, any layout, e.g. an upstream release tarball as downloaded." };
            var entry = new Argument<string>("ENTRY") { Description = "Path of the executable inside the tarball, e.g. node_exporter-1.9.0.linux-amd64/node_exporter." };
            var keyOption = key("Owner's private key (default $TUG_HOME/keys/private.json).");
            var o = os();
            var a = arch();
            var desc = new Option<string?>("--desc") { Description = "Description of the component." };
            var standalone = new Option<bool>("--standalone") { Description = "Mark a new component as runnable on its own." };
            var hide = new Option<bool>("--hide") { Description = "Hide a new component from `tug list`." };
            var command = new Command("publish", "Publish a tarball as a component version into the current (local) mirror; older versions are kept. No repacking: ENTRY says where the executable is.")
            {
                component, version, tarball, entry, keyOption, o, a, desc, standalone, hide,
            };
            command.SetAction((p, ct) => mirror.PublishAsync(
                new PublishArguments(p.GetValue(component)!, p.GetValue(version)!, p.GetValue(tarball)!, p.GetValue(entry)!, p.GetValue(keyOption), p.GetValue(o), p.GetValue(a),
                    p.GetValue(desc), p.GetValue(standalone), p.GetValue(hide)), ct));
            mirrorCommand.Subcommands.Add(command);
        }

        {
            var address = new Argument<string?>("DIR|URL") { Description = "Mirror to check (default: the mirror in use, with this machine's trusted state).", Arity = ArgumentArity.ZeroOrOne };
            var at = new Option<string?>("--at") { Description = "Check as of this RFC 3339 time instead of now (audits, old fixtures)." };
            var rootFile = new Option<string?>("--root", "-r") { Description = "Trust anchor: a root.json file (default: the mirror's own root.json)." };
            var manifestsOnly = new Option<bool>("--manifests-only") { Description = "Check manifests only, not tarballs." };
            var fmt = format();
            var command = new Command("verify", "Check a mirror as a client would, in TiUP's order (timestamp → snapshot → index → components → tarballs); name every failure; exit 1 on any.")
            {
                address, at, rootFile, manifestsOnly, fmt,
            };
            command.SetAction((p, ct) => mirror.VerifyAsync(new VerifyArguments(p.GetValue(address), p.GetValue(at), p.GetValue(rootFile), p.GetValue(manifestsOnly), p.GetValue(fmt)!), ct));
            mirrorCommand.Subcommands.Add(command);
        }

        {
            var role = new Argument<string>("ROLE") { Description = "root, index, snapshot, timestamp, a component name, or all." };
            var days = new Option<int>("--days") { Description = "New expiry, in days from now.", Required = true };
            var keyOption = key("Owner's private key for component manifests (default: keys in $TUG_HOME/keys and the mirror's keys/).");
            var command = new Command("renew", "Re-sign a role with a new expiry (works after expiry); snapshot and timestamp are re-signed too.") { role, days, keyOption };
            command.SetAction((p, ct) => mirror.RenewAsync(new RenewArguments(p.GetValue(role)!, p.GetValue(days), p.GetValue(keyOption)), ct));
            mirrorCommand.Subcommands.Add(command);
        }

        {
            var dest = new Argument<string>("DEST") { Description = "New directory for the offline copy." };
            var components = new Argument<string[]>("COMPONENT[:VERSION]") { Description = "What to copy (default: every component, all versions).", Arity = ArgumentArity.ZeroOrMore };
            var o = new Option<string[]>("--os") { Description = "Operating systems to copy (default: this machine's).", AllowMultipleArgumentsPerToken = true };
            var a = new Option<string[]>("--arch") { Description = "Architectures to copy (default: this machine's).", AllowMultipleArgumentsPerToken = true };
            var command = new Command("clone", "Copy the current mirror (verified) into a new offline mirror with fresh keys, expiring in 50 years.") { dest, components, o, a };
            command.SetAction((p, ct) => mirror.CloneAsync(new CloneArguments(p.GetValue(dest)!, p.GetValue(components) ?? [], p.GetValue(o) ?? [], p.GetValue(a) ?? []), ct));
            mirrorCommand.Subcommands.Add(command);
        }

        {
            var sources = new Argument<string[]>("SRC") { Description = "Mirror directories to merge from.", Arity = ArgumentArity.OneOrMore };
            var keyOption = key("Owner's private key (default: keys in $TUG_HOME/keys and the mirror's keys/).");
            var command = new Command("merge", "Merge every version the sources have and the current mirror lacks (sources verified against their own roots).") { sources, keyOption };
            command.SetAction((p, ct) => mirror.MergeAsync(new MergeArguments(p.GetValue(sources)!, p.GetValue(keyOption)), ct));
            mirrorCommand.Subcommands.Add(command);
        }

        {
            var owner = new Argument<string>("OWNER") { Description = "Owner ID to add to the index." };
            var name = new Option<string?>("--name", "-n") { Description = "Owner's display name (default: the ID)." };
            var keyOption = key("The owner's key, private or public (default $TUG_HOME/keys/private.json).");
            var command = new Command("grant", "Add a component owner (who may publish) to the current local mirror.") { owner, name, keyOption };
            command.SetAction((p, ct) => mirror.GrantAsync(new GrantArguments(p.GetValue(owner)!, p.GetValue(name), p.GetValue(keyOption)), ct));
            mirrorCommand.Subcommands.Add(command);
        }

        {
            var keys = new Option<int?>("--keys") { Description = "Number of new root keys (default: as many as now)." };
            var threshold = new Option<int?>("--threshold") { Description = "Signatures a root needs (default: as now)." };
            var command = new Command("rotate", "Replace the root keys: the new root is signed by the old and the new keys; old key files move to keys/retired/.") { keys, threshold };
            command.SetAction((p, ct) => mirror.RotateAsync(new RotateArguments(p.GetValue(keys), p.GetValue(threshold)), ct));
            mirrorCommand.Subcommands.Add(command);
        }

        {
            var dir = new Argument<string>("DIR") { Description = "Mirror directory to serve." };
            var addr = new Option<string>("--addr") { Description = "HOST:PORT to listen on.", DefaultValueFactory = _ => "127.0.0.1:8080" };
            var command = new Command("serve", "Serve a mirror read-only over HTTP until Ctrl+C (keys/ and hidden files are never served).") { dir, addr };
            command.SetAction((p, ct) => mirror.ServeAsync(new ServeArguments(p.GetValue(dir)!, p.GetValue(addr)!), ct));
            mirrorCommand.Subcommands.Add(command);
        }

        {
            var component = new Argument<string>("COMPONENT[:VERSION]") { Description = "Component and optional version (default: latest)." };
            var o = os();
            var a = arch();
            var command = new Command("download", "Fetch a verified package into the cache ($TUG_HOME/packages) and print its path; cached files are re-hashed on every use.") { component, o, a };
            command.SetAction((p, ct) => mirror.DownloadAsync(new DownloadArguments(p.GetValue(component)!, p.GetValue(o), p.GetValue(a)), ct));
            mirrorCommand.Subcommands.Add(command);
        }

        {
            var component = new Argument<string?>("COMPONENT") { Description = "Show the versions of one component.", Arity = ArgumentArity.ZeroOrOne };
            var all = new Option<bool>("--all") { Description = "Include hidden components and yanked versions." };
            var fmt = format();
            var command = new Command("list", "List what the current mirror offers: components, or one component's versions and platforms.") { component, all, fmt };
            command.SetAction((p, ct) => mirror.ListAsync(new ListArguments(p.GetValue(component), p.GetValue(all), p.GetValue(fmt)!), ct));
            root.Subcommands.Add(command);
        }

        root.Subcommands.Add(BuildCluster(services));
        return root;
    }

    /// <summary>The <c>--format</c> option (text or json) that listing and reporting commands take.</summary>
    public static Option<string> FormatOption(bool recursive = false) =>
        new Option<string>(CliConstants.FormatOption) { Description = "Output format: text or json.", DefaultValueFactory = _ => "text", Recursive = recursive }.AcceptOnlyFromAmong("text", "json");

    private static Command BuildCluster(IServiceProvider services)
    {
        var options = new ClusterOptions();
        var command = new Command(CliConstants.ClusterVerb, "Deploy and operate clusters over SSH and systemd (TiUP's `tiup cluster` verbs and flags).");
        options.AddTo(command);
        foreach (var create in new Func<IServiceProvider, ClusterOptions, Command>[]
        {
            DeployCommand.Create,
            ScaleOutCommand.Create,
            ScaleInCommand.Create,
            StartCommand.Create,
            StopCommand.Create,
            RestartCommand.Create,
            DisplayCommand.Create,
            UpgradeCommand.Create,
            PatchCommand.Create,
            ReplayCommand.Create,
            AuditCommand.Create,
            VerifyCommand.Create,
            ListCommand.Create,
            ExecCommand.Create,
            PushCommand.Create,
            PullCommand.Create,
            DestroyCommand.Create,
            AcceptHostKeyCommand.Create,
            ReloadCommand.Create,
            EditConfigCommand.Create,
            ShowConfigCommand.Create,
            CheckCommand.Create,
            EnableCommand.Create,
            DisableCommand.Create,
            CleanCommand.Create,
            PruneCommand.Create,
            RenameCommand.Create,
            MetaCommand.Create,
            RotateSshCommand.Create,
            TemplateCommand.Create,
            ImportCommand.Create,
            ExportCommand.Create,
        })
        {
            command.Subcommands.Add(RefusingBadNames(create(services, options)));
        }

        return command;
    }

    /// <summary>
    /// Every verb taking NAME refuses a name that is not a cluster name (<c>..</c>, <c>a/b</c>, <c>x;y</c>) before its own
    /// action runs: nothing is read, written, logged or contacted (exit 2).
    /// </summary>
    private static Command RefusingBadNames(Command command)
    {
        if (command.Arguments.FirstOrDefault(a => a.Name == "NAME") is not Argument<string> name || command.Action is not { } inner)
        {
            return command;
        }

        command.SetAction(async (p, ct) =>
        {
            ClusterStore.RefuseBadName(p.GetValue(name) ?? string.Empty);
            return inner switch
            {
                AsynchronousCommandLineAction action => await action.InvokeAsync(p, ct),
                SynchronousCommandLineAction action => action.Invoke(p),
                _ => throw new InvalidOperationException($"unexpected action type {inner.GetType().Name}"),
            };
        });
        return command;
    }
}
