// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Cluster;
using Tug.Core.Components;
using Tug.Core.Remote;
using Tug.Core.Topology;

namespace Tug.Testing;

/// <summary>
/// Every operational script Tug sends to a host (not the TiUP-identical run scripts and units), rendered for etcd and
/// node_exporter instances whose every string field holds <see cref="Hostile.Fragment"/>, built directly so the
/// validator is bypassed. Used by the unit test (bash -n, shellcheck) and the testbed test (run as root on a host).
/// </summary>
public static class HostileScripts
{
    /// <summary>The script name → text, for the etcd and node_exporter instances of <paramref name="topology"/> on <paramref name="host"/>.</summary>
    /// <param name="topology">A topology with at least two etcd members, one on <paramref name="host"/>, and node_exporter.</param>
    /// <param name="host">The manage host whose instances the scripts are for.</param>
    /// <param name="root">The directory the hostile directories are made under.</param>
    /// <param name="wait">How long the start, stop and switch scripts wait.</param>
    /// <param name="user">The deploy user; by default a hostile name too (which no host can create, so the scripts
    /// stop where they need the user: give a real one to have them write the hostile paths).</param>
    public static IReadOnlyDictionary<string, string> For(Topology topology, string host, string root, TimeSpan wait, string? user = null)
    {
        var etcd = Hostile.Instance(topology.OfRole(Roles.Etcd).First(i => i.ManageHost == host), root);
        var ne = Hostile.Instance(topology.Instances.First(i => i.Role == Roles.NodeExporter && i.ManageHost == host), root);
        var others = topology.OfRole(Roles.Etcd).Where(i => i.ManageHost != host).Select(i => Hostile.Instance(i, root)).ToList();
        user ??= "user " + Hostile.Fragment;
        var key = "ssh-ed25519 AAAA " + Hostile.Fragment;
        var cache = $"{root}/cache {Hostile.Fragment}";
        var package = new ResolvedPackage("etcd" + Hostile.Fragment, "v3.5.17" + Hostile.Fragment, "linux/amd64", $"{cache}/etcd.tar.gz",
            "etcd-v3.5.17-linux-amd64/etcd", new string('1', 64), new string('2', 64));
        var nePackage = new ResolvedPackage("node_exporter", "v1.9.0" + Hostile.Fragment, "linux/amd64", $"{cache}/ne.tar.gz",
            "node_exporter-1.9.0.linux-amd64/node_exporter", new string('3', 64), new string('4', 64));
        var cluster = "c" + Hostile.Fragment;
        InstanceContext Context(InstanceSpec instance, ResolvedPackage p) =>
            new(instance, topology, cluster, user, p.Version, p.Entry) { ClusterVersion = "v8.5.0" + Hostile.Fragment };
        var etcdContext = Context(etcd, package);
        var neContext = Context(ne, nePackage);
        var previous = "v3.5.16" + Hostile.Fragment;
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["env-init"] = HostScripts.EnvInit(user, "group " + Hostile.Fragment, key, createUser: true),
            ["platform"] = HostScripts.Platform(),
            ["install"] = HostScripts.Install([(etcdContext, package), (neContext, nePackage)]),
            ["stage"] = HostScripts.Stage(user, [(etcd, package), (ne, nePackage)]),
            ["stage-check"] = HostScripts.StageCheck([(etcd, package)]),
            ["stage-patch"] = HostScripts.StagePatch(user, $"{root}/patch {Hostile.Fragment}", new string('a', 64), [(etcd, package)]),
            ["switch"] = HostScripts.Switch(etcdContext, package, previous, wait),
            ["rollback"] = HostScripts.Rollback(etcdContext, package, previous, wait),
            ["start"] = HostScripts.Start([etcd, ne], wait),
            ["stop"] = HostScripts.Stop([etcd, ne], wait),
            ["refresh"] = HostScripts.Refresh([etcdContext, neContext], [etcd, ne], wait),
            ["probe"] = HostScripts.Probe([(etcd, package.Entry), (ne, nePackage.Entry)]),
            ["cluster-check"] = HostScripts.ClusterCheck(etcdContext, TimeSpan.FromSeconds(1)),
            ["membership-add"] = HostScripts.Membership(others[0], add: true, etcd, package.Entry, others),
            ["membership-remove"] = HostScripts.Membership(others[0], add: false, etcd, package.Entry, others),
            ["file-hashes"] = HostScripts.FileHashes([$"{etcd.DeployDir}/conf/x", Hostile.Marker]),
            ["destroy"] = HostScripts.Destroy([etcd, ne], user, key),
            ["file-read"] = HostScripts.FileRead([$"{etcd.DeployDir}/conf/x", Hostile.Marker]),
            ["restart-proof"] = HostScripts.RestartProof(etcd, [$"{etcd.DeployDir}/conf/x", Hostile.Marker]),
            ["unit-enable"] = HostScripts.UnitEnable("enable", [etcd.UnitName, ne.UnitName]),
            ["unit-disable"] = HostScripts.UnitEnable("disable", [etcd.UnitName, ne.UnitName]),
            ["unit-read"] = HostScripts.UnitEnable("read" + Hostile.Fragment, [etcd.UnitName]),
            ["clean"] = HostScripts.Clean([(etcd.DataDirs[0], "*"), (etcd.LogDir, "*.log" + Hostile.Fragment), (ne.LogDir, "*.log")], remove: true),
            ["clean-count"] = HostScripts.Clean([(etcd.DataDirs[0], "*")], remove: false),
            ["membership-check"] = HostScripts.MembershipCheck(others[0], etcd, package.Entry, others),
            ["destroy-retain"] = HostScripts.Destroy([etcd, ne], user, key, [etcd.DataDirs[0], etcd.DeployDir]),
            ["authorized-keys-read"] = HostScripts.AuthorizedKeysRead(user),
            ["authorized-keys-write"] = HostScripts.AuthorizedKeysWrite(user, Hostile.Fragment, System.Text.Encoding.UTF8.GetBytes(key + "\n")),
            ["rewrite"] = HostScripts.Rewrite(etcdContext, [($"{etcd.DeployDir}/conf/x", Hostile.Fragment), ($"{etcd.DeployDir}/conf/y", null)], daemonReload: true, restart: true, wait),
            ["process-info"] = HostScripts.ProcessInfo([etcd, ne]),
        };
    }
}
