// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Text;
using Tug.Core.Cluster;
using Tug.Core.Components;
using Tug.Core.Topology;

namespace Tug.Core.Remote;

/// <summary>
/// The root scripts Tug runs on hosts, one method per operation, rendered from the templates in
/// <c>Remote/Scripts/*.sh</c> with every value quoted once. Results come back as <c>TUG|...</c> lines; read them
/// with <see cref="HostReply.Parse"/>. Failures are exit codes with a message on stderr: 41 an upload changed in
/// transit, 42 a package's entry is not an executable, 43 an unpacked executable is not the signed package's,
/// 44 nothing staged to switch to, 45 a package holds a member Tug refuses (checked on the host before unpacking,
/// by the rules of <see cref="PackageMembers"/>).
/// </summary>
public static class HostScripts
{
    private static readonly ImmutableArray<string> DefaultVersionArguments = ["--version"];

    /// <summary>What a destroy deletes of a deploy directory it keeps because it holds retained data.</summary>
    private static readonly ImmutableArray<string> RetainedDeployParts = ["bin", "conf", "scripts"];

    /// <summary>Creates the deploy user and group (unless <paramref name="createUser"/> is false), its sudo rule and authorized key; prints nothing.</summary>
    public static string EnvInit(string user, string group, string publicKey, bool createUser) =>
        ScriptRenderer.Render("env-init.sh", new() { { "user", user }, { "group", group }, { "public_key", publicKey }, { "create_user", createUser } });

    /// <summary>Reads what <c>tug cluster check</c> judges (ports, <paramref name="dirs"/>, disks, kernel parameters, limits, THP, swap, services, OS); changes nothing; prints <c>TUG|pf|...</c> lines.</summary>
    public static string Preflight(string user, IReadOnlyList<string> dirs) =>
        ScriptRenderer.Render("preflight.sh", new() { { "user", user }, { "dirs", dirs } });

    /// <summary>Reads files and directories before <c>check --apply</c> replaces them; prints <c>TUG|pf|content|path_b64|file|dir|missing|content_b64</c>.</summary>
    public static string CheckRead(IReadOnlyList<string> paths) => ScriptRenderer.Render("check-read.sh", new() { { "paths", paths } });

    /// <summary><c>check --apply</c>: writes the record first, then the files, sets the kernel parameters now and enables the units.</summary>
    public static string CheckApply(string record, string recordJson, IReadOnlyList<(string Path, string Content)> files, IReadOnlyList<(string Name, string Value)> sysctls, IReadOnlyList<string> units) =>
        ScriptRenderer.Render("check-apply.sh", new()
        {
            { "record", record },
            { "record_content", Base64(recordJson) },
            { "paths", files.Select(f => f.Path) },
            { "contents", files.Select(f => Base64(f.Content)) },
            { "sysctl_names", sysctls.Select(s => s.Name) },
            { "sysctl_values", sysctls.Select(s => s.Value) },
            { "units", units },
        });

    /// <summary><c>check --revert</c>: units disabled, files put back or removed, kernel parameters set back, records and created directories removed.</summary>
    public static string CheckRevert(IReadOnlyList<string> records, IReadOnlyList<(string Path, string Content)> restore, IReadOnlyList<string> remove, IReadOnlyList<(string Name, string Value)> sysctls, IReadOnlyList<string> units, IReadOnlyList<string> dirs) =>
        ScriptRenderer.Render("check-revert.sh", new()
        {
            { "records", records },
            { "restore_paths", restore.Select(f => f.Path) },
            { "restore_contents", restore.Select(f => Base64(f.Content)) },
            { "remove_paths", remove },
            { "sysctl_names", sysctls.Select(s => s.Name) },
            { "sysctl_values", sysctls.Select(s => s.Value) },
            { "units", units },
            { "remove_dirs", dirs },
        });

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    /// <summary>Reads the host's OS and architecture; prints <c>TUG|platform|os|arch</c>.</summary>
    public static string Platform() => ScriptRenderer.Render("platform.sh", []);

    /// <summary>
    /// Stops and removes the instances (units, unit files, directories; never system directories) and, when
    /// <paramref name="publicKey"/> is not empty, the key from the user's authorized_keys; prints nothing, exits 1
    /// naming on stderr what is left.
    /// </summary>
    public static string Destroy(IReadOnlyList<InstanceSpec> instances, string user, string publicKey, IReadOnlyCollection<string>? retained = null) =>
        ScriptRenderer.Render("destroy.sh", new()
        {
            { "units", instances.Select(i => i.UnitName) },
            { "dirs", instances.SelectMany(i => RemovedDirs(i, retained ?? [])).Where(SafeToRemove) },
            { "user", user },
            { "public_key", publicKey },
        });

    /// <summary>
    /// Installs instances from their uploaded packages (at <see cref="PackageUploadPath"/>): checks each upload (41)
    /// and its member list (45), creates directories, unpacks into bin as the deploy user (42, 43), writes run script, config files and unit, enables the units,
    /// removes the uploads; prints nothing.
    /// </summary>
    public static string Install(IReadOnlyList<(InstanceContext Context, ResolvedPackage Package)> instances)
    {
        var uploads = instances.Select(i => i.Package).DistinctBy(p => p.TarballSha256).ToList();
        var s = new StringBuilder();
        foreach (var package in uploads)
        {
            s.Append(UploadCheck(package)).Append(PackageCheck(package));
        }

        foreach (var (context, package) in instances)
        {
            var instance = context.Instance;
            var bin = $"{instance.DeployDir}/bin";
            var unpackTo = package.Unpacked.Length > 0 ? $"{bin}/.tug-unpack" : bin;
            s.Append(ScriptRenderer.Render("install-instance.sh", new()
            {
                { "dirs", new[] { instance.DeployDir, bin, $"{instance.DeployDir}/conf", $"{instance.DeployDir}/scripts" }.Concat(instance.DataDirs).Append(instance.LogDir).Where(d => d.Length > 0).Distinct() },
                { "owner", context.DeployUser },
                { "tarball", PackageUploadPath(package) },
                { "bin", bin },
                { "unpack_to", unpackTo },
                { "entry", $"{bin}/{package.Entry}" },
                { "entry_name", package.Entry },
            }));
            if (package.Unpacked.Length > 0)
            {
                s.Append(Relayout(unpackTo, package, context.DeployUser, into: bin));
            }

            s.Append(EntryCheck(package, $"{bin}/{package.Entry}"));
            s.Append(Files(context));
        }

        s.Append(ScriptRenderer.Render("enable.sh", new() { { "units", instances.Select(i => i.Context.Instance.UnitName) } }));
        s.Append(ScriptRenderer.Render("remove.sh", new() { { "files", uploads.Select(PackageUploadPath) } }));
        return s.ToString();
    }

    /// <summary>Unpacks each instance's uploaded package beside its running build, checked (41, 45, 43), as and owned by <paramref name="user"/>; prints nothing.</summary>
    public static string Stage(string user, IReadOnlyList<(InstanceSpec Instance, ResolvedPackage Package)> instances) =>
        string.Concat(instances.Select(i =>
        {
            var stage = StageDirectory(i.Instance, i.Package);
            return UploadCheck(i.Package)
                + ScriptRenderer.Render("stage.sh", new() { { "stage", stage }, { "owner", user } })
                + PackageCheck(i.Package, into: stage, owner: user)
                + (i.Package.Unpacked.Length > 0 ? Relayout(stage, i.Package, user, into: string.Empty) : string.Empty)
                + EntryCheck(i.Package, $"{stage}/{i.Package.Entry}")
                + Own(user, stage);
        }));

    /// <summary>
    /// Moves a package unpacked in <paramref name="directory"/> from its own layout into TiUP's (its executable from
    /// <see cref="ResolvedPackage.Unpacked"/> to <see cref="ResolvedPackage.Entry"/>), as <paramref name="owner"/>;
    /// then, unless <paramref name="into"/> is empty, into that directory (42); prints nothing.
    /// </summary>
    private static string Relayout(string directory, ResolvedPackage package, string owner, string into) =>
        ScriptRenderer.Render("relayout.sh", new() { { "dir", directory }, { "unpacked", package.Unpacked }, { "entry", package.Entry }, { "owner", owner }, { "into", into } });

    /// <summary>Checks that what <see cref="Stage"/> staged is still the signed package's (43); prints nothing.</summary>
    public static string StageCheck(IReadOnlyList<(InstanceSpec Instance, ResolvedPackage Package)> instances) =>
        string.Concat(instances.Select(i => EntryCheck(i.Package, $"{StageDirectory(i.Instance, i.Package)}/{i.Package.Entry}")));

    /// <summary>
    /// Checks the uploaded patch executable at <paramref name="patchPath"/> (41), stages a copy of each instance's
    /// build with the patch at its entry, checked (43), owned by <paramref name="user"/>, and removes the upload; prints nothing.
    /// </summary>
    public static string StagePatch(string user, string patchPath, string patchSha256, IReadOnlyList<(InstanceSpec Instance, ResolvedPackage Package)> instances)
    {
        var s = new StringBuilder(Checksum(patchPath, patchSha256, "the patch changed in transit", 41));
        foreach (var (instance, package) in instances)
        {
            var stage = StageDirectory(instance, package);
            s.Append(ScriptRenderer.Render("stage-patch.sh", new()
            {
                { "stage", stage },
                { "bin", $"{instance.DeployDir}/bin" },
                { "top", package.Entry.Contains('/', StringComparison.Ordinal) ? package.Entry.Split('/')[0] : string.Empty },
                { "patch", patchPath },
                { "entry", $"{stage}/{package.Entry}" },
            }));
            s.Append(EntryCheck(package, $"{stage}/{package.Entry}")).Append(Own(user, stage));
        }

        s.Append(ScriptRenderer.Render("remove.sh", new() { { "files", new[] { patchPath } } }));
        return s.ToString();
    }

    /// <summary>
    /// Switches an instance to the build staged for <paramref name="package"/>: stop, move the staged files into bin
    /// (the replaced ones kept in <c>bin.old.FROM</c>; 44 when nothing is staged or installed), write the files
    /// rendered for <paramref name="next"/>, start; prints <c>TUG|time</c> marks stop, stopped, start, listening and
    /// one <c>TUG|wait</c> line. Running it again after it succeeded only restarts the instance.
    /// </summary>
    public static string Switch(InstanceContext next, ResolvedPackage package, string from, TimeSpan wait)
    {
        var instance = next.Instance;
        var bin = $"{instance.DeployDir}/bin";
        return ScriptRenderer.Render("switch.sh", new()
            {
                { "unit", instance.UnitName },
                { "stage", StageDirectory(instance, package) },
                { "bin", bin },
                { "old", $"{instance.DeployDir}/bin.old.{from}" },
                { "installed_list", InstalledList(instance, package) },
                { "id", instance.Id },
                { "version", package.Version },
            })
            + Files(next)
            + Mark("start")
            + Start([instance], wait)
            + Mark("listening");
    }

    /// <summary>
    /// Puts an instance back on its previous build after <paramref name="installed"/> failed: stop, remove what it
    /// added to bin and move back what it replaced (from <c>bin.old.FROM</c>), write the files rendered for
    /// <paramref name="previous"/>, start; prints one <c>TUG|wait</c> line.
    /// </summary>
    public static string Rollback(InstanceContext previous, ResolvedPackage installed, string from, TimeSpan wait)
    {
        var instance = previous.Instance;
        return ScriptRenderer.Render("rollback.sh", new()
            {
                { "unit", instance.UnitName },
                { "bin", $"{instance.DeployDir}/bin" },
                { "old", $"{instance.DeployDir}/bin.old.{from}" },
                { "installed_list", InstalledList(instance, installed) },
            })
            + Files(previous)
            + Start([instance], wait);
    }

    /// <summary>Starts the instances' units (after a daemon-reload) and waits for their ports; prints one <c>TUG|wait</c> line per instance.</summary>
    public static string Start(IReadOnlyList<InstanceSpec> instances, TimeSpan wait) =>
        Systemctl("start", instances) + Wait(instances, listening: true, wait);

    /// <summary>Stops the instances' units and waits for their ports to close; prints one <c>TUG|wait</c> line per instance.</summary>
    public static string Stop(IReadOnlyList<InstanceSpec> instances, TimeSpan wait) =>
        Systemctl("stop", instances) + Wait(instances, listening: false, wait);

    /// <summary>
    /// Rewrites the files rendered for each context and reloads systemd (exiting non-zero if that fails), then
    /// restarts <paramref name="restart"/> and waits for their ports; prints one <c>TUG|wait</c> line per restarted instance.
    /// </summary>
    public static string Refresh(IReadOnlyList<InstanceContext> contexts, IReadOnlyList<InstanceSpec> restart, TimeSpan wait) =>
        Files([.. contexts])
        + Systemctl("reload", [])
        + (restart.Count > 0 ? Systemctl("restart", restart) + Wait(restart, listening: true, wait) : string.Empty);

    /// <summary>
    /// Reads each instance's state (unit, PID, port, running executable and its hash, the deployed <c>bin/ENTRY</c>'s
    /// hash, the version it reports) and the running executable's identity; an instance whose identity equals its
    /// <c>Known</c> one (last verified) is not hashed. Prints one <c>TUG|probe</c> line per instance.
    /// </summary>
    public static string Probe(IReadOnlyList<(InstanceSpec Instance, string Entry)> instances) => Probe([.. instances.Select(i => (i.Instance, i.Entry, (string?)null))]);

    /// <summary>As <see cref="Probe(IReadOnlyList{ValueTuple{InstanceSpec, string}})"/>, each instance with the identity it was last verified with (null: always hash).</summary>
    public static string Probe(IReadOnlyList<(InstanceSpec Instance, string Entry, string? Known)> instances) =>
        ScriptRenderer.Render("probe-host.sh", new() { { "units", instances.Select(i => i.Instance.UnitName).Distinct(StringComparer.Ordinal).ToList() } })
        + string.Concat(instances.Select(i =>
        {
            var spec = ComponentSpecs.For(i.Instance);
            return ScriptRenderer.Render("probe.sh", new()
            {
                { "id", i.Instance.Id },
                { "unit", i.Instance.UnitName },
                { "port", spec.Health.PortOf(i.Instance) },
                { "bin", $"{i.Instance.DeployDir}/bin/{i.Entry}" },
                { "known", i.Known ?? "-" },
                { "version_args", spec.VersionProbe?.Arguments ?? DefaultVersionArguments },
            });
        }));

    /// <summary>Reads an instance's unit state, main PID and restart counter; prints one <c>TUG|unit</c> line.</summary>
    public static string UnitState(InstanceSpec instance) =>
        ScriptRenderer.Render("unit-state.sh", new() { { "id", instance.Id }, { "unit", instance.UnitName } });

    /// <summary>Reads how each instance's process runs (PID, seconds run, resident memory, the unit's limits); prints one <c>TUG|proc</c> line per instance.</summary>
    public static string ProcessInfo(IReadOnlyList<InstanceSpec> instances) =>
        string.Concat(instances.Select(i => ScriptRenderer.Render("process-info.sh", new() { { "id", i.Id }, { "unit", i.UnitName } })));

    /// <summary>
    /// Runs the component's cluster health check (<see cref="ComponentSpec.ClusterCheck"/>) once a second for up to
    /// <paramref name="within"/> until it passes; prints its output and exits 0, or prints it on stderr and exits 1.
    /// </summary>
    /// <exception cref="ArgumentException">The component has no cluster check.</exception>
    public static string ClusterCheck(InstanceContext context, TimeSpan within)
    {
        var check = ComponentSpecs.For(context.Instance).ClusterCheck?.Invoke(context)
            ?? throw new ArgumentException($"{context.Instance.Role} has no cluster check", nameof(context));
        return ScriptRenderer.Render("cluster-check.sh", new()
        {
            { "attempts", (int)within.TotalSeconds },
            { "executable", check.Executable },
            { "fallback", check.Fallback },
            { "component", context.Instance.Role },
            { "environment", check.Environment },
            { "arguments", check.Arguments },
        });
    }

    /// <summary>
    /// Adds <paramref name="member"/> to the running etcd cluster or removes it, through the etcdctl beside
    /// <paramref name="through"/> (whose package entry is <paramref name="throughEntry"/>), talking to
    /// <paramref name="endpoints"/>; idempotent. Prints <c>TUG|member|added|present|removed|absent</c>; exits 2 without etcdctl, 3 when the member list cannot be read.
    /// </summary>
    public static string Membership(InstanceSpec member, bool add, InstanceSpec through, string throughEntry, IEnumerable<InstanceSpec> endpoints) =>
        Membership(member, add ? "add" : "remove", through, throughEntry, endpoints);

    /// <summary>Reads whether <paramref name="member"/> is a member of the running etcd cluster, changing nothing; prints <c>TUG|member|present|ID</c> or <c>TUG|member|absent</c>; exits 2 without etcdctl, 3 when the member list cannot be read.</summary>
    public static string MembershipCheck(InstanceSpec member, InstanceSpec through, string throughEntry, IEnumerable<InstanceSpec> endpoints) =>
        Membership(member, "check", through, throughEntry, endpoints);

    /// <summary>
    /// Enables the units at boot (<paramref name="action"/> <c>enable</c>), disables them (<c>disable</c>) or only reads
    /// (<c>read</c>); starts and stops nothing; prints one <c>TUG|enabled|UNIT|STATE</c> line per unit; exits 1 when systemctl refused the change.
    /// </summary>
    public static string UnitEnable(string action, IEnumerable<string> units) =>
        ScriptRenderer.Render("unit-enable.sh", new() { { "action", action }, { "units", units } });

    /// <summary>
    /// Deletes the entries of each target directory that match its pattern (the directory stays), or with
    /// <paramref name="remove"/> false only counts them; refuses (exit 2, nothing deleted) a directory that is not
    /// absolute, is <c>/</c> or is a symbolic link; prints one <c>TUG|clean</c> line per target. Runs as the deploy user.
    /// </summary>
    public static string Clean(IReadOnlyList<(string Dir, string Pattern)> targets, bool remove) =>
        ScriptRenderer.Render("clean.sh", new() { { "remove", remove }, { "dirs", targets.Select(t => t.Dir) }, { "patterns", targets.Select(t => t.Pattern) } });

    private static string Membership(InstanceSpec member, string action, InstanceSpec through, string throughEntry, IEnumerable<InstanceSpec> endpoints) =>
        ScriptRenderer.Render("membership.sh", new()
        {
            { "ctl", $"{through.DeployDir}/bin/{(throughEntry.Contains('/', StringComparison.Ordinal) ? throughEntry[..(throughEntry.LastIndexOf('/') + 1)] : string.Empty)}etcdctl" },
            { "host", through.ManageHost },
            { "endpoints", string.Join(',', endpoints.Select(e => $"http://{HostPort.Join(e.Host, e.Port("client_port"))}")) },
            { "peer", $"http://{HostPort.Join(member.Host, member.Port("peer_port"))}" },
            { "action", action },
            { "name", member.Name ?? member.Id },
        });

    /// <summary>Reads files whole; prints one <c>TUG|content</c> line per path (its content as base64, <c>-</c> when it is missing).</summary>
    public static string FileRead(IEnumerable<string> paths) => ScriptRenderer.Render("file-read.sh", new() { { "paths", paths } });

    /// <summary>
    /// Reads an instance's unit state, main PID and when systemd started it, and the modification time of each path;
    /// prints one <c>TUG|started</c> line, then one <c>TUG|mtime</c> line per path.
    /// </summary>
    public static string RestartProof(InstanceSpec instance, IEnumerable<string> paths) =>
        ScriptRenderer.Render("restart-proof.sh", new() { { "id", instance.Id }, { "unit", instance.UnitName }, { "paths", paths } });

    /// <summary>
    /// Writes <paramref name="files"/> of the instance (a null content removes the file), each with the mode and owner
    /// Tug gives it (run script 0755 and unit 0644 root, configs 0644, as the deploy user); reloads systemd when
    /// <paramref name="daemonReload"/> (exiting non-zero if that fails); restarts the instance when
    /// <paramref name="restart"/> and waits for its port, printing one <c>TUG|wait</c> line.
    /// </summary>
    public static string Rewrite(InstanceContext context, IReadOnlyList<(string Path, string? Content)> files, bool daemonReload, bool restart, TimeSpan wait)
    {
        var instance = context.Instance;
        var spec = ComponentSpecs.For(instance);
        var unit = $"/etc/systemd/system/{instance.UnitName}";
        var written = files.Where(f => f.Content is not null).Select(f => new HostFile(f.Path, f.Content!, f.Path == spec.RunScriptPath(instance) ? "0755" : "0644", f.Path == unit ? "root" : context.DeployUser)).ToList();
        var removed = files.Where(f => f.Content is null).Select(f => f.Path).ToList();
        var s = new StringBuilder();
        if (written.Count > 0)
        {
            s.Append(Write(written));
        }

        if (removed.Count > 0)
        {
            s.Append(ScriptRenderer.Render("remove.sh", new() { { "files", removed } }));
        }

        if (daemonReload)
        {
            s.Append(Systemctl("reload", []));
        }

        if (restart)
        {
            s.Append(Systemctl("restart", [instance])).Append(Wait([instance], listening: true, wait));
        }

        return s.ToString();
    }

    /// <summary>Reads <paramref name="user"/>'s <c>~/.ssh/authorized_keys</c> whole; prints one <c>TUG|keys</c> line (<see cref="AuthorizedKeysLine"/>).</summary>
    public static string AuthorizedKeysRead(string user) => ScriptRenderer.Render("authorized-keys-read.sh", new() { { "user", user } });

    /// <summary>
    /// Replaces <paramref name="user"/>'s <c>~/.ssh/authorized_keys</c> with <paramref name="content"/> (written beside it,
    /// 0600, renamed over it) if it still has <paramref name="expectedSha256"/> (<c>-</c>: missing); exits 46 and writes
    /// nothing when it changed since it was read; prints nothing.
    /// </summary>
    public static string AuthorizedKeysWrite(string user, string expectedSha256, ReadOnlySpan<byte> content) =>
        ScriptRenderer.Render("authorized-keys-write.sh", new() { { "user", user }, { "expected_sha256", expectedSha256 }, { "content", Convert.ToBase64String(content) } });

    /// <summary>Hashes files on the host; prints one <c>TUG|file</c> line per path (an empty hash when it cannot be read).</summary>
    public static string FileHashes(IEnumerable<string> paths) => ScriptRenderer.Render("file-hashes.sh", new() { { "paths", paths } });

    /// <summary>
    /// Fetches a package over HTTP to <see cref="PackageUploadPath"/> as the deploy user, kept only when its sha256 is
    /// the signed manifest's (exit 41 otherwise, 46 when the address cannot be reached, 47 when the server lacks the
    /// file). An empty <paramref name="baseUrl"/> fetches from <paramref name="port"/> on the address the SSH
    /// connection comes from (the control machine's package server).
    /// </summary>
    public static string Fetch(ResolvedPackage package, string baseUrl, int port) => ScriptRenderer.Render("fetch.sh", new()
    {
        { "base", baseUrl },
        { "port", port },
        { "name", package.MirrorPath },
        { "path", PackageUploadPath(package) },
        { "sha256", package.TarballSha256 },
        { "package", $"{package.Component} {package.Version} ({package.Platform})" },
    });

    /// <summary>Where a package's tarball is uploaded on a host before <see cref="Install"/> or <see cref="Stage"/>.</summary>
    public static string PackageUploadPath(ResolvedPackage package) => $"/tmp/tug-pkg-{package.TarballSha256[..16]}.tar.gz";

    /// <summary>Where a build is staged beside the running one: <c>DEPLOY/bin/.tug-stage-ROLE-VERSION</c>.</summary>
    public static string StageDirectory(InstanceSpec instance, ResolvedPackage package) => $"{instance.DeployDir}/bin/.tug-stage-{instance.Role}-{package.Version}";

    private static string InstalledList(InstanceSpec instance, ResolvedPackage package) => $"{instance.DeployDir}/bin/.tug-installed-{instance.Role}-{package.Version}";

    private static string UploadCheck(ResolvedPackage package) => Checksum(PackageUploadPath(package), package.TarballSha256,
        $"package {Path.GetFileName(package.Path)} changed in transit: its sha256 on this host differs from the signed manifest", 41);

    /// <summary>Checks an uploaded package's members (45) and, when <paramref name="into"/> is given, unpacks that checked copy there as <paramref name="owner"/>.</summary>
    private static string PackageCheck(ResolvedPackage package, string into = "", string owner = "") =>
        ScriptRenderer.Render("package-check.sh", new()
        {
            { "tarball", PackageUploadPath(package) },
            { "package", $"{package.Component} {package.Version} ({package.Platform})" },
            { "into", into },
            { "owner", owner },
        });

    private static string EntryCheck(ResolvedPackage package, string path) => Checksum(path, package.EntrySha256, $"{path} differs from the signed package", 43);

    private static string Checksum(string path, string sha256, string message, int exitCode) =>
        ScriptRenderer.Render("checksum.sh", new() { { "path", path }, { "sha256", sha256 }, { "message", message }, { "exit_code", exitCode } });

    private static string Own(string user, string dir) => ScriptRenderer.Render("own.sh", new() { { "user", user }, { "dir", dir } });

    private static string Mark(string mark) => ScriptRenderer.Render("mark.sh", new() { { "mark", mark } });

    private static string Systemctl(string action, IReadOnlyList<InstanceSpec> instances) =>
        ScriptRenderer.Render("systemctl.sh", new() { { "action", action }, { "units", instances.Select(i => i.UnitName) } });

    private static string Wait(IReadOnlyList<InstanceSpec> instances, bool listening, TimeSpan timeout) =>
        ScriptRenderer.Render("wait.sh", new()
        {
            { "timeout_seconds", (int)timeout.TotalSeconds },
            { "listening", listening },
            { "ids", instances.Select(i => i.Id) },
            { "units", instances.Select(i => i.UnitName) },
            { "ports", instances.Select(i => ComponentSpecs.For(i).Health.PortOf(i)) },
        });

    /// <summary>The run script, config files and unit rendered for each context, written with their modes and owners.</summary>
    private static string Files(params InstanceContext[] contexts)
    {
        var files = contexts.SelectMany(context =>
        {
            var instance = context.Instance;
            var spec = ComponentSpecs.For(instance);
            return spec.RenderConfigFiles(context).Select(f => new HostFile(f.Path, f.Content, "0644", context.DeployUser))
                .Prepend(new HostFile(spec.RunScriptPath(instance), spec.RenderRunScript(context), "0755", context.DeployUser))
                .Append(new HostFile($"/etc/systemd/system/{instance.UnitName}", spec.RenderSystemdUnit(context), "0644", "root"));
        }).ToList();
        return Write(files);
    }

    private static string Write(IReadOnlyList<HostFile> files) =>
        ScriptRenderer.Render("files.sh", new()
        {
            { "paths", files.Select(f => f.Path) },
            { "modes", files.Select(f => f.Mode) },
            { "owners", files.Select(f => f.Owner) },
            { "contents", files.Select(f => Convert.ToBase64String(Encoding.UTF8.GetBytes(f.Content))) },
        });

    private sealed record HostFile(string Path, string Content, string Mode, string Owner);

    /// <summary>
    /// The directories a destroy deletes of an instance: its data, log and deploy directories, except those that are
    /// or hold a directory in <paramref name="retained"/>; a deploy directory that holds a retained data directory
    /// loses its bin, conf and scripts instead, as TiUP's destroy with <c>--retain-*-data</c> does.
    /// </summary>
    private static IEnumerable<string> RemovedDirs(InstanceSpec i, IReadOnlyCollection<string> retained)
    {
        bool Holds(string dir) => retained.Any(r => r == dir || r.StartsWith(dir.TrimEnd('/') + "/", StringComparison.Ordinal));
        var dirs = i.DataDirs.Append(i.LogDir).Where(d => d.Length > 0 && !Holds(d));
        return Holds(i.DeployDir)
            ? dirs.Concat(RetainedDeployParts.Select(d => $"{i.DeployDir}/{d}").Where(d => !Holds(d)))
            : dirs.Append(i.DeployDir);
    }

    /// <summary>Refuses to delete system directories even if a topology names them.</summary>
    private static bool SafeToRemove(string dir)
    {
        var clean = dir.TrimEnd('/');
        string[] forbidden = ["", "/", "/home", "/root", "/usr", "/etc", "/var", "/bin", "/sbin", "/lib", "/lib64", "/boot", "/opt", "/tmp", "/srv", "/data"];
        return clean.StartsWith('/') && !forbidden.Contains(clean) && clean.Count(c => c == '/') >= 2;
    }
}
