// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;

namespace Tug.Cli.Commands;

/// <summary>Declares every verb and option in one place; actions build argument records and call the command classes.</summary>
public static class CommandTree
{
    public static RootCommand Build(IServiceProvider services)
    {
        var mirror = services.GetRequiredService<MirrorCommands>();
        var cluster = services.GetRequiredService<ClusterCommands>();
        var root = new RootCommand(
            "tug deploys and operates multi-host clusters over SSH and systemd from a TiUP-compatible signed mirror, offline-first.\n" +
            "Every operation ends by proving, on every host, what runs.\n\nState lives under $TUG_HOME (default ~/.tug); the mirror in use is $TUG_MIRRORS or `tug mirror set`.");

        var format = () => new Option<string>("--format") { Description = "Output format: text or json.", DefaultValueFactory = _ => "text" }.AcceptOnlyFromAmong("text", "json");
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

        root.Subcommands.Add(BuildCluster(cluster, format));
        return root;
    }

    private static Command BuildCluster(ClusterCommands cluster, Func<Option<string>> format)
    {
        var command = new Command("cluster", "Deploy and operate clusters over SSH and systemd (TiUP's `tiup cluster` verbs and flags).");
        var ssh = new Option<string>("--ssh") { Description = "SSH transport: builtin (in-process) or system (the ssh client, honours ~/.ssh/config).", DefaultValueFactory = _ => "builtin", Recursive = true }.AcceptOnlyFromAmong("builtin", "system");
        var sshTimeout = new Option<int>("--ssh-timeout") { Description = "Seconds to wait for an SSH connection.", DefaultValueFactory = _ => 5, Recursive = true };
        var waitTimeout = new Option<int>("--wait-timeout") { Description = "Seconds to wait for a service to come up or go down.", DefaultValueFactory = _ => 120, Recursive = true };
        var concurrency = new Option<int>("--concurrency", "-c") { Description = "Hosts worked on at once.", DefaultValueFactory = _ => Math.Max(8, Environment.ProcessorCount * 8), Recursive = true };
        var fmt = format();
        fmt.Recursive = true;
        var yesOption = new Option<bool>("--yes", "-y") { Description = "Do not ask for confirmation (accepted by every cluster command, as TiUP's global flag).", Recursive = true };
        command.Options.Add(yesOption);
        command.Options.Add(ssh);
        command.Options.Add(sshTimeout);
        command.Options.Add(waitTimeout);
        command.Options.Add(concurrency);
        command.Options.Add(fmt);
        ClusterGlobals Globals(ParseResult p) => new(p.GetValue(ssh)!, p.GetValue(sshTimeout), p.GetValue(waitTimeout), p.GetValue(concurrency), p.GetValue(fmt)!);
        var dryRunOption = () => new Option<bool>("--dry-run") { Description = "Print the plan, step by step per host (text, or JSON with --format json), and change nothing." };
        var roles = () => new Option<string[]>("--role", "-R") { Description = "Only instances of these roles (comma-separated or repeated).", AllowMultipleArgumentsPerToken = true };
        var nodes = () => new Option<string[]>("--node", "-N") { Description = "Only these instances (host:port) or hosts.", AllowMultipleArgumentsPerToken = true };
        var name = () => new Argument<string>("NAME") { Description = "Cluster name." };
        var forced = () => new Option<bool>("--force") { Description = "Start even though an earlier operation on this cluster was interrupted (it is marked failed; `tug cluster replay` can still resume it)." };
        MutatingArguments Mutating(ParseResult p, Option<bool> dry, Option<bool>? force) => new(p.GetValue(yesOption), p.GetValue(dry), force is not null && p.GetValue(force));

        {
            var n = name();
            var version = new Argument<string>("VERSION") { Description = "Cluster version: the version of the components that follow the cluster (others are pinned in the topology)." };
            var topology = new Argument<string>("TOPOLOGY") { Description = "TiUP topology file (YAML)." };
            var user = new Option<string?>("--user", "-u") { Description = "Login that prepares the hosts: root or a user with passwordless sudo (default: current user)." };
            var identity = new Option<string?>("--identity_file", "-i") { Description = "Its private key (default ~/.ssh/id_rsa)." };
            var password = new Option<bool>("--password", "-p") { Description = "Log in with a password instead of a key; it is read from the first line of standard input and never logged." };
            var y = dryRunOption();
            var f = forced();
            var deploy = new Command("deploy", "Deploy a cluster: prepare hosts, verify packages on them, install units, start, health-check, and verify what runs.") { n, version, topology, user, identity, password, y, f };
            deploy.SetAction((p, ct) => cluster.DeployAsync(new DeployArguments(p.GetValue(n)!, p.GetValue(version)!, p.GetValue(topology)!, p.GetValue(user), p.GetValue(identity), Mutating(p, y, f), Globals(p)) { Password = p.GetValue(password) }, ct));
            command.Subcommands.Add(deploy);

            var so = name();
            var file = new Argument<string>("TOPOLOGY") { Description = "A topology file with only the new instances (TiUP's scale-out format)." };
            var soUser = new Option<string?>("--user", "-u") { Description = "Login that prepares new hosts: root or a user with passwordless sudo (default: current user)." };
            var soIdentity = new Option<string?>("--identity_file", "-i") { Description = "Its private key (default ~/.ssh/id_rsa)." };
            var soPassword = new Option<bool>("--password", "-p") { Description = "Log in with a password read from the first line of standard input." };
            var soYes = dryRunOption();
            var soForce = forced();
            var scaleOut = new Command("scale-out", "Add instances at the versions pinned in the cluster (monitoring agents on new hosts too); new etcd members join the running cluster; Prometheus' targets follow; everything touched is verified.")
            {
                so, file, soUser, soIdentity, soPassword, soYes, soForce,
            };
            scaleOut.SetAction((p, ct) => cluster.ScaleOutAsync(new DeployArguments(p.GetValue(so)!, string.Empty, p.GetValue(file)!, p.GetValue(soUser), p.GetValue(soIdentity), Mutating(p, soYes, soForce), Globals(p)) { Password = p.GetValue(soPassword) }, ct));
            command.Subcommands.Add(scaleOut);

            var si = name();
            var siNodes = nodes();
            siNodes.Description = "Instances to remove (host:port), comma-separated or repeated.";
            siNodes.Required = true;
            var siYes = dryRunOption();
            var siForce = forced();
            var scaleIn = new Command("scale-in", "Remove instances: etcd members leave the cluster first, units and directories are removed and checked gone, agents leave with a host's last instance, Prometheus' targets follow.") { si, siNodes, siYes, siForce };
            scaleIn.SetAction((p, ct) => cluster.ScaleInAsync(new SelectArguments(p.GetValue(si)!, [], p.GetValue(siNodes) ?? [], Globals(p)) { Mutating = Mutating(p, siYes, siForce) }, ct));
            command.Subcommands.Add(scaleIn);
        }

        foreach (var (verb, description, run) in new (string, string, Func<SelectArguments, CancellationToken, Task<int>>)[]
        {
            ("start", "Start instances in order and wait until each is healthy, then verify what runs.", cluster.StartAsync),
            ("stop", "Stop instances in reverse order and check that their ports closed.", cluster.StopAsync),
            ("restart", "Stop, then start and verify, the selected instances.", cluster.RestartAsync),
            ("display", "Show every instance as its host reports it: status, version running, verified.", cluster.DisplayAsync),
        })
        {
            var n = name();
            var r = roles();
            var nd = nodes();
            var sub = new Command(verb, description) { n, r, nd };
            var f = forced();
            var dry = dryRunOption();
            if (verb != "display")
            {
                sub.Options.Add(dry);
                sub.Options.Add(f);
            }

            sub.SetAction((p, ct) => run(new SelectArguments(p.GetValue(n)!, p.GetValue(r) ?? [], p.GetValue(nd) ?? [], Globals(p)) { Mutating = verb == "display" ? new(false, false, false) : Mutating(p, dry, f) }, ct));
            command.Subcommands.Add(sub);
        }

        {
            var n = name();
            var version = new Argument<string?>("VERSION") { Description = "New cluster version for the components that follow the cluster (optional).", Arity = ArgumentArity.ZeroOrOne };
            var component = new Option<string[]>("--component") { Description = "Upgrade one component: COMP=VERSION (repeatable), e.g. node_exporter=v1.9.0.", AllowMultipleArgumentsPerToken = true };
            var nodeExporter = new Option<string?>("--node-exporter-version") { Description = "Same as --component node_exporter=VERSION." };
            var blackbox = new Option<string?>("--blackbox-exporter-version") { Description = "Same as --component blackbox_exporter=VERSION." };
            var batch = new Option<string>("--batch") { Description = "Instances per batch of a role: a count or a percentage (25%).", DefaultValueFactory = _ => "1" };
            var dryRun = dryRunOption();
            var f = forced();
            var upgrade = new Command("upgrade", "Upgrade rolling and verified: stage new packages on every host first, switch instance by instance, health-gate each, roll back an instance that fails and stop there.")
            {
                n, version, component, nodeExporter, blackbox, batch, dryRun, f,
            };
            upgrade.SetAction((p, ct) => cluster.UpgradeAsync(
                new UpgradeArguments(p.GetValue(n)!, p.GetValue(version), p.GetValue(component) ?? [], p.GetValue(nodeExporter), p.GetValue(blackbox), p.GetValue(batch)!, Mutating(p, dryRun, f), Globals(p)), ct));
            command.Subcommands.Add(upgrade);
        }

        {
            var n = name();
            var package = new Argument<string?>("PACKAGE") { Description = "A tarball holding the component's executable (found by its name), or the executable itself.", Arity = ArgumentArity.ZeroOrOne };
            var r = roles();
            var nd = nodes();
            var batch = new Option<string>("--batch") { Description = "Instances per batch: a count or a percentage (25%).", DefaultValueFactory = _ => "1" };
            var rollback = new Option<bool>("--rollback") { Description = "Restore the build the selected instances ran before their patch." };
            var f = forced();
            var dry = dryRunOption();
            var patch = new Command("patch", "Replace a component's executable with a hot-fix build, rolling, health-gated, verified and rolled back on failure; `--rollback` restores the previous build. Display marks patched instances.")
            {
                n, package, r, nd, batch, rollback, dry, f,
            };
            patch.SetAction((p, ct) => cluster.PatchAsync(new SelectArguments(p.GetValue(n)!, p.GetValue(r) ?? [], p.GetValue(nd) ?? [], Globals(p)) { Mutating = Mutating(p, dry, f) }, p.GetValue(package), p.GetValue(batch)!, p.GetValue(rollback), ct));
            command.Subcommands.Add(patch);
        }

        {
            var n = name();
            var id = new Argument<string?>("ID") { Description = "The operation to resume (see `tug cluster audit`); default: the cluster's last interrupted or failed one.", Arity = ArgumentArity.ZeroOrOne };
            var user = new Option<string?>("--user", "-u") { Description = "Login that prepares hosts, needed only when a host-preparing step of a deploy or scale-out is still to run." };
            var identity = new Option<string?>("--identity_file", "-i") { Description = "Its private key (default ~/.ssh/id_rsa)." };
            var password = new Option<bool>("--password", "-p") { Description = "Log in with a password read from the first line of standard input." };
            var dry = dryRunOption();
            var replay = new Command("replay", "Resume an interrupted or failed operation from the plan it stored: every step an earlier run recorded is probed on its host first, and a step whose effect is already there is recorded done, not run again.") { n, id, user, identity, password, dry };
            replay.SetAction((p, ct) => cluster.ReplayAsync(new ReplayArguments(p.GetValue(n)!, p.GetValue(id), p.GetValue(user), p.GetValue(identity), p.GetValue(password), p.GetValue(dry), Globals(p)), ct));
            command.Subcommands.Add(replay);
        }

        {
            var id = new Argument<string?>("ID") { Description = "Show one operation with its journal's steps.", Arity = ArgumentArity.ZeroOrOne };
            var verify = new Option<bool>("--verify") { Description = "Check the hash chain: exit 1, naming each record, when a record was edited, removed or reordered." };
            var auditCommand = new Command("audit", "List the operations run on this control machine with their outcome (hash-chained log under $TUG_HOME/audit; secrets are never recorded).") { id, verify };
            auditCommand.SetAction(p => cluster.Audit(p.GetValue(id), p.GetValue(verify), p.GetValue(fmt)!));
            command.Subcommands.Add(auditCommand);
        }

        {
            var n = name();
            var r = roles();
            var nd = nodes();
            var verify = new Command("verify", "Prove what runs: for every instance the running executable, the deployed file and the signed package agree, no deleted executable runs, and units and configs are as Tug renders them. Exit 0 only when all agree.") { n, r, nd };
            verify.SetAction((p, ct) => cluster.VerifyAsync(new SelectArguments(p.GetValue(n)!, p.GetValue(r) ?? [], p.GetValue(nd) ?? [], Globals(p)), ct));
            command.Subcommands.Add(verify);
        }

        {
            var list = new Command("list", "List the clusters this control machine manages.");
            list.SetAction(p => cluster.List(Globals(p)));
            command.Subcommands.Add(list);
        }

        {
            var n = name();
            var cmd = new Option<string>("--command") { Description = "Shell command to run on each host.", DefaultValueFactory = _ => "ls" };
            var sudo = new Option<bool>("--sudo") { Description = "Run it as root." };
            var r = roles();
            var nd = nodes();
            var exec = new Command("exec", "Run a command once on every selected host; output grouped by host; non-zero exit if any host failed.") { n, cmd, sudo, r, nd };
            exec.SetAction((p, ct) => cluster.ExecAsync(new ExecArguments(new SelectArguments(p.GetValue(n)!, p.GetValue(r) ?? [], p.GetValue(nd) ?? [], Globals(p)), p.GetValue(cmd)!, p.GetValue(sudo)), ct));
            command.Subcommands.Add(exec);
        }

        foreach (var (verb, description, src, dst, run) in new (string, string, string, string, Func<TransferArguments, CancellationToken, Task<int>>)[]
        {
            ("push", "Copy a local file to a path on every selected host (sha256 checked there).", "SRC", "DST", cluster.PushAsync),
            ("pull", "Copy a file from every selected host to DST/<host>/<file name>.", "SRC", "DST", cluster.PullAsync),
        })
        {
            var n = name();
            var s = new Argument<string>(src) { Description = verb == "push" ? "Local file." : "Remote file." };
            var d = new Argument<string>(dst) { Description = verb == "push" ? "Remote path." : "Local directory." };
            var r = roles();
            var nd = nodes();
            var sub = new Command(verb, description) { n, s, d, r, nd };
            sub.SetAction((p, ct) => run(new TransferArguments(new SelectArguments(p.GetValue(n)!, p.GetValue(r) ?? [], p.GetValue(nd) ?? [], Globals(p)), p.GetValue(s)!, p.GetValue(d)!), ct));
            command.Subcommands.Add(sub);
        }

        {
            var n = name();
            var dry = dryRunOption();
            var force = new Option<bool>("--force") { Description = "Forget the cluster locally even if some hosts could not be cleaned (and start even though an earlier operation was interrupted)." };
            var destroy = new Command("destroy", "Stop everything and remove units, directories and the cluster key from every host, then the cluster's local state.") { n, dry, force };
            destroy.SetAction((p, ct) => cluster.DestroyAsync(new SelectArguments(p.GetValue(n)!, [], [], Globals(p)) { Mutating = Mutating(p, dry, force) }, p.GetValue(force), ct));
            command.Subcommands.Add(destroy);
        }

        {
            var n = name();
            var endpoint = new Argument<string>("HOST[:PORT]") { Description = "The host whose new key to accept." };
            var fingerprint = new Argument<string>("FINGERPRINT") { Description = "The new key's SHA256 fingerprint, as checked on the host's console." };
            var accept = new Command("accept-host-key", "Deliberately replace a host's pinned SSH host key after checking it.") { n, endpoint, fingerprint };
            accept.SetAction(p => cluster.AcceptHostKey(p.GetValue(n)!, p.GetValue(endpoint)!, p.GetValue(fingerprint)!));
            command.Subcommands.Add(accept);
        }

        return command;
    }
}
