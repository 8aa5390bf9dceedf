// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Topology;

namespace Tug.Core.Tests.Infrastructure;

/// <summary>The topologies the tests share: TiUP's fixtures and the project's own under Data/.</summary>
internal static class Topologies
{
    /// <summary>TiUP's integration-test topology (every TiDB component, hosts n1..n5), probed as linux/amd64.</summary>
    public static Topology.Topology Full { get; } = Probed(TopologyLoader.Load(Repo.Fixture("tests", "tiup-cluster", "topo", "full.yaml")));

    /// <summary>PD micro-services and TiDB Dashboard (Data/pdms.yaml), probed as linux/amd64.</summary>
    public static Topology.Topology PdMicroServices { get; } = Probed(TopologyLoader.Load(Data("pdms.yaml")));

    /// <summary>etcd ×3 + prometheus + alertmanager + grafana on 3 hosts (Data/etcd.yaml), probed as linux/amd64.</summary>
    public static Topology.Topology Etcd { get; } = Probed(TopologyLoader.Load(Data("etcd.yaml")));

    public static string Data(string name) => Path.Combine(Repo.TestProject, "Data", name);

    /// <summary>Every topology fixture of TiUP's that is a complete cluster on its own.</summary>
    public static IEnumerable<string> TiupFixtureFiles() =>
        Directory.GetFiles(Repo.Fixture("embed", "examples", "cluster"), "*.yaml")
            .Concat(Directory.GetFiles(Repo.Fixture("tests", "tiup-cluster", "topo"), "*.yaml"))
            .Order(StringComparer.Ordinal);

    private static Topology.Topology Probed(Topology.Topology topology) =>
        topology.ManageHosts.Aggregate(topology, (t, host) => t.WithPlatform(host, "Linux", "x86_64"));
}
