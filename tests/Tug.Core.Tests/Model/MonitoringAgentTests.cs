// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Tests.Infrastructure;
using Tug.Core.Topology;

namespace Tug.Core.Tests.Model;

/// <summary>node_exporter and blackbox_exporter are instances like any other: one of each per managed host.</summary>
public sealed class MonitoringAgentTests
{
    [Fact]
    public void Should_Add_Both_Agents_On_Every_Host()
    {
        // Given
        var topology = Topologies.Full;

        // When
        var nodes = topology.OfRole(Roles.NodeExporter);
        var blackboxes = topology.OfRole(Roles.BlackboxExporter);

        // Then
        Assert.Equal(["n3", "n4", "n5", "n1", "n2"], nodes.Select(n => n.ManageHost));
        Assert.Equal(nodes.Select(n => n.ManageHost), blackboxes.Select(b => b.ManageHost));
        Assert.All(nodes, n => Assert.Equal((9100, "node_exporter-9100", "node_exporter"), (n.MainPort, n.ServiceName, n.Component)));
        Assert.All(blackboxes, b => Assert.Equal((9115, "blackbox_exporter-9115"), (b.MainPort, b.ServiceName)));
        Assert.All(nodes.Concat(blackboxes), a => Assert.Equal(
            ("/home/tidb/deploy/monitor-9100", "/home/tidb/deploy/monitor-9100/data/monitor-9100", "/home/tidb/deploy/monitor-9100/deploy/monitor-9100/log", "linux", "amd64"),
            (a.DeployDir, a.DataDir, a.LogDir, a.Os, a.Arch)));
        Assert.Equal([Roles.NodeExporter, Roles.BlackboxExporter], topology.Instances.TakeLast(10).Select(i => i.Role).Distinct());
    }

    [Fact]
    public void Should_Leave_Out_Hosts_That_Ignore_Exporters()
    {
        // Given
        const string Yaml = """
            monitored:
              node_exporter_port: 9200
              numa_node: "0"
            pd_servers:
              - host: 10.0.0.1
              - host: 10.0.0.2
                ignore_exporter: true
            tikv_servers:
              - host: 10.0.0.2
                ignore_exporter: true
              - host: 10.0.0.3
                manage_host: 192.168.0.3
                ssh_port: 2222
            """;

        // When
        var topology = TopologyLoader.Parse(Yaml, "topology.yaml");

        // Then
        Assert.Equal(["10.0.0.1:9200", "10.0.0.3:9200"], topology.OfRole(Roles.NodeExporter).Select(n => n.Id));
        Assert.Equal(["10.0.0.1:9115", "10.0.0.3:9115"], topology.OfRole(Roles.BlackboxExporter).Select(n => n.Id));
        var managed = topology.OfRole(Roles.NodeExporter)[1];
        Assert.Equal(("192.168.0.3", 2222, "0", "/home/tidb/deploy/monitor-9200"), (managed.ManageHost, managed.SshPort, managed.NumaNode, managed.DeployDir));
    }

    [Fact]
    public void Should_Follow_Scale_Out_And_Scale_In()
    {
        // Given
        var cluster = Topologies.Etcd;

        // When
        var scaledOut = TopologyLoader.ParseScaleOut("""
            global:
              user: ignored
            etcd_servers:
              - host: 10.0.0.4
            """, "scale-out.yaml", cluster);
        var scaledIn = scaledOut.Without(["10.0.0.4:2379"]);

        // Then
        Assert.Equal(["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"], scaledOut.OfRole(Roles.NodeExporter).Select(n => n.Host));
        Assert.Equal("tidb", scaledOut.Global.User);
        Assert.Equal("/opt/tug/deploy/etcd-2379", scaledOut.Find("10.0.0.4:2379")!.DeployDir);
        Assert.Equal(cluster.Instances.Select(i => i.Id), scaledIn.Instances.Select(i => i.Id));
    }

    [Fact]
    public void Should_Refuse_A_Scale_Out_That_Conflicts_With_The_Cluster()
    {
        var error = Assert.Throws<TopologyException>(() => TopologyLoader.ParseScaleOut("etcd_servers:\n  - host: 10.0.0.1\n", "scale-out.yaml", Topologies.Etcd));

        Assert.Equal(TopologyErrors.PortConflict, error.Code);
    }

    [Fact]
    public void Should_Pin_Versions_From_The_Topology()
    {
        var topology = TopologyLoader.Parse("""
            monitored:
              node_exporter_version: v1.9.0
            component_versions:
              prometheus: v2.53.0
              etcd: v3.5.17
            etcd_servers:
              - host: 10.0.0.1
            """, "topology.yaml");

        Assert.Equal("v1.9.0", topology.PinnedVersion(Roles.NodeExporter));
        Assert.Null(topology.PinnedVersion(Roles.BlackboxExporter));
        Assert.Equal("v2.53.0", topology.PinnedVersion(Roles.Prometheus));
        Assert.Equal("v3.5.17", topology.PinnedVersion(Roles.Etcd));
        Assert.Null(topology.PinnedVersion(Roles.TiDB));
    }
}
