// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Core.Cluster;
using Tug.Core.Components;
using Tug.Core.Remote;
using Tug.Core.Tests.Infrastructure;
using Tug.Core.Topology;

namespace Tug.Core.Tests.Remote;

/// <summary>
/// Every operational script <see cref="HostScripts"/> renders, with representative inputs from the etcd topology
/// (Data/etcd.yaml), and again with hostile values: a deploy, data and log dir holding a quote, <c>$(id)</c>, a
/// backtick, a space and <c>;</c>.
/// </summary>
internal static class ScriptCases
{
    /// <summary>A directory name no shell may interpret: every value must reach the host as these exact bytes.</summary>
    public const string Hostile = "it's $(id) `id` a;b \"c\" $HOME";

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);

    public static Topology.Topology Topology { get; } = Topologies.Etcd;

    public static InstanceSpec Etcd => Topology.OfRole(Roles.Etcd).First(i => i.Host == "10.0.0.1");

    public static InstanceSpec Prometheus => Topology.OfRole(Roles.Prometheus).Single();

    public static InstanceSpec NodeExporter => Topology.Instances.First(i => i.Role == Roles.NodeExporter && i.ManageHost == "10.0.0.1");

    /// <summary>The etcd member on 10.0.0.1 with every directory under a hostile name.</summary>
    public static InstanceSpec HostileEtcd => Etcd with
    {
        DeployDir = $"/opt/tug/{Hostile}/etcd-2379",
        DataDirs = [$"/opt/tug/{Hostile}/data/etcd-2379"],
        LogDir = $"/opt/tug/{Hostile}/etcd-2379/log",
    };

    public static ResolvedPackage EtcdPackage { get; } = new("etcd", "v3.5.17", "linux/amd64", "/home/op/.tug/cache/etcd-v3.5.17-linux-amd64.tar.gz",
        "etcd-v3.5.17-linux-amd64/etcd", "1111111111111111111111111111111111111111111111111111111111111111", "2222222222222222222222222222222222222222222222222222222222222222");

    public static ResolvedPackage NodeExporterPackage { get; } = new("node_exporter", "v1.9.0", "linux/amd64", "/home/op/.tug/cache/node_exporter-v1.9.0-linux-amd64.tar.gz",
        "node_exporter-1.9.0.linux-amd64/node_exporter", "3333333333333333333333333333333333333333333333333333333333333333", "4444444444444444444444444444444444444444444444444444444444444444");

    public static ResolvedPackage PrometheusPackage { get; } = new("prometheus", "v8.5.0", "linux/amd64", "/home/op/.tug/cache/prometheus-v8.5.0-linux-amd64.tar.gz",
        "prometheus/prometheus", "5555555555555555555555555555555555555555555555555555555555555555", "6666666666666666666666666666666666666666666666666666666666666666");

    public static ResolvedPackage EtcdPatch { get; } = EtcdPackage with { Version = "v3.5.17+patch.aaaaaaaaaaaa", Path = "/tmp/tug-patch-local", TarballSha256 = "a".PadRight(64, 'a'), EntrySha256 = "a".PadRight(64, 'a') };

    public static InstanceContext Context(InstanceSpec instance, ResolvedPackage package) =>
        new(instance, Topology, "demo", Topology.Global.User, package.Version, package.Entry) { ClusterVersion = "v8.5.0" };

    /// <summary>Case name → rendered script; the names are the snapshot file names under Expectations/Scripts.</summary>
    public static ImmutableSortedDictionary<string, string> All { get; } = Build();

    public static TheoryData<string> Names() => [.. All.Keys];

    private static ImmutableSortedDictionary<string, string> Build()
    {
        const string key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB1tug tug-cluster-demo";
        var etcd = Etcd;
        var hostile = HostileEtcd;
        var members = Topology.OfRole(Roles.Etcd);
        return new Dictionary<string, string>
        {
            ["env-init"] = HostScripts.EnvInit("tidb", "tidb", key, createUser: true),
            ["env-init-login-user"] = HostScripts.EnvInit("tidb", "tidb", key, createUser: false),
            ["platform"] = HostScripts.Platform(),
            ["destroy"] = HostScripts.Destroy([etcd, NodeExporter], "tidb", key),
            ["destroy-keep-key"] = HostScripts.Destroy([etcd], "tidb", string.Empty),
            ["destroy-hostile"] = HostScripts.Destroy([hostile], "tidb", key),
            ["install"] = HostScripts.Install([(Context(etcd, EtcdPackage), EtcdPackage), (Context(NodeExporter, NodeExporterPackage), NodeExporterPackage)]),
            ["install-hostile"] = HostScripts.Install([(Context(hostile, EtcdPackage), EtcdPackage)]),
            ["stage"] = HostScripts.Stage("tidb", [(etcd, EtcdPackage), (NodeExporter, NodeExporterPackage)]),
            ["stage-hostile"] = HostScripts.Stage("tidb", [(hostile, EtcdPackage)]),
            ["stage-check"] = HostScripts.StageCheck([(etcd, EtcdPackage), (hostile, EtcdPackage)]),
            ["stage-patch"] = HostScripts.StagePatch("tidb", "/tmp/tug-patch-aaaaaaaaaaaaaaaa", EtcdPatch.EntrySha256, [(etcd, EtcdPatch), (hostile, EtcdPatch)]),
            ["switch"] = HostScripts.Switch(Context(etcd, EtcdPackage), EtcdPackage, "v3.5.16", Wait),
            ["switch-hostile"] = HostScripts.Switch(Context(hostile, EtcdPackage), EtcdPackage, "v3.5.16", Wait),
            ["rollback"] = HostScripts.Rollback(Context(etcd, EtcdPackage with { Version = "v3.5.16" }), EtcdPackage, "v3.5.16", Wait),
            ["start"] = HostScripts.Start([etcd, NodeExporter], Wait),
            ["stop"] = HostScripts.Stop([etcd, NodeExporter], Wait),
            ["refresh"] = HostScripts.Refresh([Context(Prometheus, PrometheusPackage), Context(etcd, EtcdPackage)], [Prometheus], Wait),
            ["refresh-no-restart"] = HostScripts.Refresh([Context(etcd, EtcdPackage)], [], Wait),
            ["probe"] = HostScripts.Probe([(etcd, EtcdPackage.Entry), (NodeExporter, NodeExporterPackage.Entry), (hostile, EtcdPackage.Entry)]),
            ["cluster-check"] = HostScripts.ClusterCheck(Context(etcd, EtcdPackage), TimeSpan.FromSeconds(60)),
            ["cluster-check-hostile"] = HostScripts.ClusterCheck(Context(hostile, EtcdPackage), TimeSpan.FromSeconds(60)),
            ["membership-add"] = HostScripts.Membership(members[2], add: true, etcd, EtcdPackage.Entry, members.Take(2)),
            ["membership-remove"] = HostScripts.Membership(members[2], add: false, hostile, EtcdPackage.Entry, members.Take(2)),
            ["unit-state"] = HostScripts.UnitState(NodeExporter),
            ["unit-state-hostile"] = HostScripts.UnitState(hostile),
            ["process-info"] = HostScripts.ProcessInfo([NodeExporter, hostile]),
            ["file-read"] = HostScripts.FileRead([$"{etcd.DeployDir}/scripts/run_etcd.sh", $"{hostile.DeployDir}/conf/x|y\nz"]),
            ["restart-proof"] = HostScripts.RestartProof(hostile, [$"{hostile.DeployDir}/scripts/run_etcd.sh", $"/etc/systemd/system/{hostile.UnitName}"]),
            ["rewrite"] = HostScripts.Rewrite(Context(Prometheus, PrometheusPackage), [($"{Prometheus.DeployDir}/scripts/run_prometheus.sh", "#!/bin/bash\nexec it's\n"), ($"/etc/systemd/system/{Prometheus.UnitName}", "[Unit]\n"), ($"{Prometheus.DeployDir}/conf/gone.yml", null)], daemonReload: true, restart: true, Wait),
            ["rewrite-hostile"] = HostScripts.Rewrite(Context(hostile, EtcdPackage), [($"{hostile.DeployDir}/scripts/run_etcd.sh", "$(touch /tmp/x)\n")], daemonReload: false, restart: false, Wait),
            ["unit-enable"] = HostScripts.UnitEnable("enable", [etcd.UnitName, NodeExporter.UnitName]),
            ["unit-disable-hostile"] = HostScripts.UnitEnable("disable", [hostile.UnitName, $"{Hostile}.service"]),
            ["clean"] = HostScripts.Clean([(etcd.DataDirs[0], "*"), (etcd.LogDir, "*.log"), (NodeExporter.LogDir, "tidb?[!audit]*.log")], remove: true),
            ["clean-hostile"] = HostScripts.Clean([(hostile.DataDirs[0], "*"), (hostile.LogDir, $"{Hostile}*.log")], remove: false),
            ["membership-check"] = HostScripts.MembershipCheck(members[2], hostile, EtcdPackage.Entry, members.Take(2)),
            ["destroy-retain"] = HostScripts.Destroy([etcd, NodeExporter], "tidb", key, [etcd.DataDirs[0]]),
            ["destroy-retain-deploy"] = HostScripts.Destroy([hostile], "tidb", key, [hostile.DataDirs[0], hostile.DeployDir]),
            ["authorized-keys-read"] = HostScripts.AuthorizedKeysRead("tidb"),
            ["authorized-keys-write"] = HostScripts.AuthorizedKeysWrite("tidb", "-", "ssh-rsa AAAAB3NzaC1yc2E it's $(id)\r\nssh-ed25519 AAAAC3 other\n"u8),
            ["file-hashes"] = HostScripts.FileHashes([$"{etcd.DeployDir}/scripts/run_etcd.sh", $"/etc/systemd/system/{etcd.UnitName}", $"{hostile.DeployDir}/conf/x|y\nz"]),
        }.ToImmutableSortedDictionary(StringComparer.Ordinal);
    }
}
